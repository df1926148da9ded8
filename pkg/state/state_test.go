package state

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

func TestNew(t *testing.T) {
	a, b := New(), New()
	if a.Version != FormatVersion || a.Serial != 0 || a.Certificates == nil || len(a.Certificates) != 0 {
		t.Errorf("New() = %+v", a)
	}
	if !isUUID(a.Lineage) || a.Lineage[14] != '4' || !strings.ContainsRune("89ab", rune(a.Lineage[19])) {
		t.Errorf("lineage %q is not a version 4 UUID", a.Lineage)
	}
	if a.Lineage == b.Lineage {
		t.Errorf("two New() share lineage %s", a.Lineage)
	}
}

// The snapshot format, byte for byte. Run with -update after a deliberate change.
func TestMarshalGolden(t *testing.T) {
	got := mustMarshal(t, testState())
	golden := filepath.Join("testdata", "state.golden.json")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("Marshal differs from %s (-want +got):\n%s", golden, cmp.Diff(string(want), string(got)))
	}
}

func TestMarshalDeterministic(t *testing.T) {
	names := []string{"delta", "alpha", "charlie", "bravo", "echo"}
	build := func(order []string) *State {
		s := &State{Version: 1, Lineage: "0b6c1f7e-3a52-4d8e-9f11-2c4b5a6d7e80", Certificates: map[string]*Certificate{}}
		for _, n := range order {
			s.Certificates[n] = &Certificate{Product: "p", Status: StatusIssued, UpdatedAt: t0,
				Request: map[string]any{"z": 1, "a": map[string]any{"y": "<&>", "b": []any{"x"}}}}
		}
		return s
	}
	first := mustMarshal(t, build(names))
	for i := 0; i < 20; i++ {
		order := append([]string(nil), names...)
		for j := range order { // a different insertion order each time
			k := (j*7 + i) % len(order)
			order[j], order[k] = order[k], order[j]
		}
		if got := mustMarshal(t, build(order)); !bytes.Equal(first, got) {
			t.Fatalf("insertion order %v changed the bytes", order)
		}
	}
	if !bytes.HasSuffix(first, []byte("}\n")) || !bytes.Contains(first, []byte("\n  \"certificates\": {\n    \"alpha\": {\n      ")) {
		t.Errorf("not 2-space indented with a trailing newline:\n%s", first)
	}
	if !bytes.Contains(first, []byte(`"<&>"`)) {
		t.Errorf("HTML characters were escaped:\n%s", first)
	}
	if i, j := bytes.Index(first, []byte(`"alpha"`)), bytes.Index(first, []byte(`"echo"`)); i > j {
		t.Errorf("names not sorted")
	}
	nilMap := mustMarshal(t, &State{Version: 1, Lineage: "0b6c1f7e-3a52-4d8e-9f11-2c4b5a6d7e80"})
	if !bytes.Contains(nilMap, []byte(`"certificates": {}`)) {
		t.Errorf("nil certificates not written as {}:\n%s", nilMap)
	}
}

func TestParseRoundTrip(t *testing.T) {
	in := testState()
	in.Certificates["api"].Request = map[string]any{"order_validity": map[string]any{"years": 1}, "organization": map[string]any{"id": 123456789012}}
	data := mustMarshal(t, in)
	out, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	if again := mustMarshal(t, out); !bytes.Equal(data, again) {
		t.Errorf("round trip changed the bytes:\n%s", cmp.Diff(string(data), string(again)))
	}
	if !bytes.Contains(data, []byte(`"id": 123456789012`)) {
		t.Errorf("integer not kept exactly")
	}
}

func TestParseErrors(t *testing.T) {
	const lin = `"lineage": "0b6c1f7e-3a52-4d8e-9f11-2c4b5a6d7e80"`
	tests := []struct{ name, in, want string }{
		{"newer version", `{"version": 3, "future": true}`, "state has format version 3, this certplan understands up to 2: upgrade certplan"},
		{"not JSON", `{"version": 1,`, "not a certplan state"},
		{"array", `[]`, "not a certplan state"},
		{"no version", `{` + lin + `}`, `no "version"`},
		{"version zero", `{"version": 0, ` + lin + `}`, "format version 0"},
		{"version string", `{"version": "1", ` + lin + `}`, "must be an integer"},
		{"no lineage", `{"version": 1, "serial": 0, "certificates": {}}`, `no "lineage"`},
		{"bad lineage", `{"version": 1, "lineage": "abc"}`, "not a UUID"},
		{"negative serial", `{"version": 1, ` + lin + `, "serial": -1}`, "negative"},
		{"unknown field", `{"version": 1, ` + lin + `, "serail": 3}`, `unknown field "serail"`},
		{"unknown certificate field", `{"version": 1, ` + lin + `, "certificates": {"a": {"statuz": "x"}}}`, `unknown field "statuz"`},
		{"null certificate", `{"version": 1, ` + lin + `, "certificates": {"a": null}}`, `certificate "a" is null`},
		{"empty name", `{"version": 1, ` + lin + `, "certificates": {"": {}}}`, "empty name"},
		{"trailing data", `{"version": 1, ` + lin + `} {}`, "not a certplan state"},
		{"wrong type", `{"version": 1, ` + lin + `, "serial": "x"}`, "invalid state"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Parse([]byte(tt.in))
			if err == nil {
				t.Fatalf("Parse succeeded: %+v", s)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
		})
	}
	s, err := Parse([]byte(`{"version": 1, ` + lin + `}`))
	if err != nil || s.Certificates == nil {
		t.Errorf("minimal state: %v, %+v", err, s)
	}
}

func TestLoadRefusesNewerVersion(t *testing.T) {
	path := tempState(t)
	if err := os.WriteFile(path, []byte(`{"version": 3, "lineage": "x", "whatever": {}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := load(path)
	want := "state " + path + " has format version 3, this certplan understands up to 2: upgrade certplan"
	if err == nil || err.Error() != want {
		t.Fatalf("Load error = %v, want %q", err, want)
	}
	var ve *VersionError
	if !errors.As(err, &ve) || ve.Version != 3 {
		t.Errorf("not a *VersionError: %#v", err)
	}
}

func TestLoadCorruptSnapshotMentionsBackup(t *testing.T) {
	path := tempState(t)
	if err := Save(path, testState()); err != nil {
		t.Fatal(err)
	}
	if err := Save(path, testState()); err != nil { // now a backup exists
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(`{"version": 1, "linea`), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := load(path)
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), BackupPath(path)) {
		t.Errorf("Load error = %v, want it to name the file and the backup", err)
	}
}

func TestSave(t *testing.T) {
	path := tempState(t)
	dir := filepath.Dir(path)
	first := testState()
	if err := Save(path, first); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(BackupPath(path)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a first save made a backup: %v", err)
	}
	second := testState()
	second.Serial++
	second.Remove("api")
	if err := Save(path, second); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	if !bytes.Equal(got, mustMarshal(t, second)) {
		t.Errorf("state file is not the second snapshot")
	}
	backup, _ := os.ReadFile(BackupPath(path))
	if !bytes.Equal(backup, mustMarshal(t, first)) {
		t.Errorf("backup is not the first snapshot")
	}
	for _, p := range []string{path, BackupPath(path)} {
		if m := fileMode(t, p); m != 0o600 {
			t.Errorf("%s has mode %o, want 600", p, m)
		}
	}
	if second.Serial != 8 {
		t.Errorf("Save changed the serial to %d", second.Serial)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("directory holds %v, want only the state and its backup", names)
	}
}

// A state checked out from Git is typically 0644; what certplan writes is 0600.
func TestSaveOverLaxFileIs0600(t *testing.T) {
	path := tempState(t)
	if err := os.WriteFile(path, mustMarshal(t, testState()), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Save(path, testState()); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, BackupPath(path)} {
		if m := fileMode(t, p); m != 0o600 {
			t.Errorf("%s has mode %o, want 600", p, m)
		}
	}
}

func TestSaveErrorLeavesOldState(t *testing.T) {
	path := tempState(t)
	if err := Save(path, testState()); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(path)
	bad := testState()
	bad.Certificates["api"].Request = map[string]any{"f": func() {}}
	if err := Save(path, bad); err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("Save of an unencodable state: %v", err)
	}
	after, _ := os.ReadFile(path)
	if !bytes.Equal(before, after) {
		t.Errorf("a failed Save changed the state file")
	}
}

// A version 1 snapshot is read and upgraded: written again, it is the
// version 2 golden file, byte for byte (only the version differs).
func TestUpgradeV1Golden(t *testing.T) {
	v1, err := os.ReadFile(filepath.Join("testdata", "state.v1.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(v1, []byte(`"version": 1,`)) {
		t.Fatalf("testdata/state.v1.json is not a version 1 state")
	}
	s, err := Parse(v1)
	if err != nil {
		t.Fatal(err)
	}
	if s.Version != FormatVersion {
		t.Errorf("parsed version %d, want it upgraded to %d", s.Version, FormatVersion)
	}
	want, err := os.ReadFile(filepath.Join("testdata", "state.golden.json"))
	if err != nil {
		t.Fatal(err)
	}
	if got := mustMarshal(t, s); !bytes.Equal(got, want) {
		t.Errorf("upgraded v1 differs from the v2 golden file (-want +got):\n%s", cmp.Diff(string(want), string(got)))
	}
	if diff := cmp.Diff(strings.Replace(string(v1), `"version": 1,`, `"version": 2,`, 1), string(want)); diff != "" {
		t.Errorf("the v1 and v2 golden files differ in more than the version:\n%s", diff)
	}
}
