package state

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestFileBackendDescribe(t *testing.T) {
	b := NewFileBackend("certs/certplan.state.json")
	if got := b.Describe(); got != (BackendInfo{Kind: "file", Name: "certs/certplan.state.json"}) {
		t.Errorf("Describe() = %+v", got)
	}
}

// Commit is guarded by what the state was loaded from: the snapshot's
// lineage and serial, and the journal.
func TestCommitGuards(t *testing.T) {
	tests := []struct {
		name    string
		between func(t *testing.T, path string, l *Loaded) // after Load, before Commit
		want    string
		as      any
	}{
		{
			name: "serial moved on",
			between: func(t *testing.T, path string, _ *Loaded) {
				other := mustLoad(t, path)
				other.State.Remove("api")
				if err := commit(path, other); err != nil {
					t.Fatal(err)
				}
			},
			want: "its serial moved from 7 to 8 since the state was loaded",
			as:   new(*ConflictError),
		},
		{
			name: "snapshot replaced by another lineage",
			between: func(t *testing.T, path string, _ *Loaded) {
				s := testState()
				s.Lineage = "11111111-2222-4333-8444-555555555555"
				if err := Save(path, s); err != nil {
					t.Fatal(err)
				}
			},
			want: "it now holds lineage 11111111-2222-4333-8444-555555555555, not 0b6c1f7e-3a52-4d8e-9f11-2c4b5a6d7e80",
			as:   new(*LineageError),
		},
		{
			name: "state to commit has another lineage",
			between: func(t *testing.T, _ string, l *Loaded) {
				l.State.Lineage = "11111111-2222-4333-8444-555555555555"
			},
			want: "refusing to replace lineage 0b6c1f7e-3a52-4d8e-9f11-2c4b5a6d7e80 with lineage 11111111",
			as:   new(*LineageError),
		},
		{
			name:    "snapshot removed",
			between: func(t *testing.T, path string, _ *Loaded) { os.Remove(path) },
			want:    "the snapshot was removed",
			as:      new(*ConflictError),
		},
		{
			name: "journal appended",
			between: func(t *testing.T, path string, _ *Loaded) {
				j := openTestJournal(t, path)
				j.Append(intent("x", ActionCreate, "kx", 0))
				j.Close()
			},
			want: "the journal " + "JOURNAL" + " changed since the state was loaded",
			as:   new(*ConflictError),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := tempState(t)
			if err := Save(path, testState()); err != nil {
				t.Fatal(err)
			}
			l := mustLoad(t, path)
			l.State.Remove("shop")
			tt.between(t, path, l)
			before, _ := os.ReadFile(path)
			err := commit(path, l)
			want := strings.ReplaceAll(tt.want, "JOURNAL", JournalPath(path))
			if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), path) {
				t.Fatalf("Commit = %v, want an error naming %s and saying %q", err, path, want)
			}
			if !errors.As(err, tt.as) {
				t.Errorf("error is a %T, want %T", err, tt.as)
			}
			if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
				t.Errorf("a refused Commit changed the snapshot")
			}
		})
	}
}

// A committed Loaded describes what is stored: it can be changed and
// committed again without loading.
func TestCommitTwice(t *testing.T) {
	path := tempState(t)
	if err := Save(path, testState()); err != nil {
		t.Fatal(err)
	}
	l := mustLoad(t, path)
	l.State.Remove("api")
	if err := commit(path, l); err != nil {
		t.Fatal(err)
	}
	l.State.Remove("shop")
	if err := commit(path, l); err != nil {
		t.Fatal(err)
	}
	if got := mustLoad(t, path).State; got.Serial != 9 || len(got.Certificates) != 0 || l.Base.Serial != 9 {
		t.Errorf("after two commits: serial %d (base %d), %d certificates", got.Serial, l.Base.Serial, len(got.Certificates))
	}
}

// Loading a version 1 file and committing it writes version 2 with the
// serial bumped, byte for byte as the golden file says.
func TestCommitUpgradesVersion1(t *testing.T) {
	v1, err := os.ReadFile(filepath.Join("testdata", "state.v1.json"))
	if err != nil {
		t.Fatal(err)
	}
	path := tempState(t)
	if err := os.WriteFile(path, v1, 0o600); err != nil {
		t.Fatal(err)
	}
	l := mustLoad(t, path)
	if l.State.Version != 2 || l.Base.Serial != 7 {
		t.Fatalf("loaded version %d serial %d", l.State.Version, l.Base.Serial)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(after, v1) {
		t.Fatal("Load rewrote the version 1 file")
	}
	if err := commit(path, l); err != nil {
		t.Fatal(err)
	}
	golden, err := os.ReadFile(filepath.Join("testdata", "state.golden.json"))
	if err != nil {
		t.Fatal(err)
	}
	want := bytes.Replace(golden, []byte(`"serial": 7,`), []byte(`"serial": 8,`), 1)
	got, _ := os.ReadFile(path)
	if !bytes.Equal(got, want) {
		t.Errorf("upgraded file (-want +got):\n%s", cmp.Diff(string(want), string(got)))
	}
	if backup, _ := os.ReadFile(BackupPath(path)); !bytes.Equal(backup, v1) {
		t.Errorf("the backup is not the version 1 file")
	}
}

func TestReadHead(t *testing.T) {
	tests := []struct {
		name, in, lineage string
		serial            int64
		err               bool
	}{
		{"canonical", string(mustMarshal(t, testState())), "0b6c1f7e-3a52-4d8e-9f11-2c4b5a6d7e80", 7, false},
		{"hand-edited order", `{"certificates": {"a": {"x": [1, {"serial": 99}]}}, "serial": 3, "version": 2, "lineage": "L"}`, "L", 3, false},
		{"no serial", `{"version": 2, "lineage": "L"}`, "L", 0, false},
		{"not an object", `[1]`, "", 0, true},
		{"truncated", `{"version": 2, "lin`, "", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lineage, serial, err := readHead(strings.NewReader(tt.in))
			if (err != nil) != tt.err || lineage != tt.lineage || serial != tt.serial {
				t.Errorf("readHead = %q, %d, %v; want %q, %d, error %v", lineage, serial, err, tt.lineage, tt.serial, tt.err)
			}
		})
	}
}
