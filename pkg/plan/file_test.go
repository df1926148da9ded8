package plan

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/certplan/certplan/pkg/spec"
)

func TestPlanFileRoundTrip(t *testing.T) {
	p := Build(fixture(t))
	path := filepath.Join(t.TempDir(), "plan.json")
	if err := WriteFile(path, p); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("plan file mode = %v, want 0600", fi.Mode().Perm())
	}
	written, _ := os.ReadFile(path)
	for _, want := range []string{`"request":`, `"secret_refs":`, `"env": "CARD_NUMBER"`, `"lineage": "7f0c2b1e`, `"manifest_digests":`} {
		if !bytes.Contains(written, []byte(want)) {
			t.Errorf("plan file lacks %s", want)
		}
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("plan directory holds %d entries, want only the plan file (no temporary left)", len(entries))
	}

	got, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// Rewriting what was read gives the same bytes: nothing is lost.
	again := filepath.Join(t.TempDir(), "again.json")
	if err := WriteFile(again, got); err != nil {
		t.Fatal(err)
	}
	rewritten, _ := os.ReadFile(again)
	if !bytes.Equal(written, rewritten) {
		t.Error("a plan file read and written again differs")
	}

	var pay *Change
	for i := range got.Changes {
		if got.Changes[i].Name == "payments" {
			pay = &got.Changes[i]
		}
	}
	if pay == nil {
		t.Fatal("no payments change in the plan file")
	}
	number, _ := lookupPath(pay.Request, "credit_card.number")
	if number != (spec.Secret{Ref: spec.SecretRef{Env: "CARD_NUMBER"}}) {
		t.Errorf("card number read back as %#v, want the secret reference", number)
	}
	month, _ := lookupPath(pay.Request, "credit_card.expiration_month")
	if month != json.Number("12") {
		t.Errorf("expiration_month read back as %#v, want json.Number 12", month)
	}
	if pay.RequestDigest != RequestDigest(pay.Request) {
		t.Error("the request read back no longer matches its digest")
	}
	if !got.PlannedAt.Equal(p.PlannedAt) || got.Serial != p.Serial || got.Lineage != p.Lineage {
		t.Error("plan header changed in the round trip")
	}
}

func TestRenderJSONOmitsRequestsAndSecretRefs(t *testing.T) {
	p := Build(fixture(t))
	var b bytes.Buffer
	if err := RenderJSON(&b, p); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{`"request":`, `"secret_refs"`, "CARD_NUMBER"} {
		if strings.Contains(b.String(), bad) {
			t.Errorf("--format json output contains %s", bad)
		}
	}
	if p.Changes[0].Request == nil {
		t.Error("RenderJSON removed the request from the plan itself")
	}
	var decoded map[string]any
	if err := json.Unmarshal(b.Bytes(), &decoded); err != nil {
		t.Fatalf("output is not JSON: %v", err)
	}
	for _, k := range []string{"format_version", "summary", "changes", "orphaned", "drift", "lineage", "serial"} {
		if _, ok := decoded[k]; !ok {
			t.Errorf("JSON plan lacks %s", k)
		}
	}
}

func TestReadFileRejects(t *testing.T) {
	tests := []struct {
		name    string
		content string
		want    string
	}{
		{"newer format", `{"format_version": "3", "changes": []}`, `format_version "3" is not supported`},
		// Format 1 had no reissue action: a plan file written before it is
		// planned again rather than read with the new meaning.
		{"format 1", `{"format_version": "1", "changes": []}`, `format_version "1" is not supported by this certplan (it reads "2"); plan again`},
		{"no format", `{"changes": []}`, "no format_version"},
		{"not JSON", `plan: yes`, "not a certplan plan file"},
		{"bad secret path", `{"format_version": "2", "changes": [{"name": "a", "request": {"credit_card": "x"}, "secret_refs": {"credit_card.number": {"env": "N"}}}]}`, `change "a"`},
		{"secret refs without request", `{"format_version": "2", "changes": [{"name": "a", "secret_refs": {"x": {"env": "N"}}}]}`, "no request"},
		// A key given twice would let the last one win: renew another order,
		// send another body, read another secret.
		{"duplicate order id", `{"format_version": "2", "changes": [{"name": "a", "action": "renew", "renewal_of_order_id": 1, "renewal_of_order_id": 2}]}`,
			`duplicate key "renewal_of_order_id" at $.changes[0].renewal_of_order_id (line 1)`},
		{"duplicate in a request", `{"format_version": "2", "changes": [{"name": "a", "request": {"certificate": {"common_name": "a", "common_name": "b"}}}]}`,
			`duplicate key "common_name" at $.changes[0].request.certificate.common_name`},
		{"duplicate secret ref", `{"format_version": "2", "changes": [{"name": "a", "request": {"x": 1}, "secret_refs": {"x": {"env": "A", "env": "B"}}}]}`,
			`duplicate key "env"`},
		{"case variants of a field", `{"format_version": "2", "Format_Version": "2", "changes": []}`, "differ only in case"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "plan.json")
			if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := ReadFile(path)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), path) {
				t.Errorf("ReadFile error = %v, want one naming the file and %q", err, tt.want)
			}
		})
	}
	if _, err := ReadFile(filepath.Join(t.TempDir(), "missing.json")); err == nil || !strings.Contains(err.Error(), "missing.json") {
		t.Errorf("missing file: %v", err)
	}
}

func TestWriteFileErrorNamesThePath(t *testing.T) {
	path := filepath.Join(t.TempDir(), "no-such-dir", "plan.json")
	err := WriteFile(path, Build(Input{Now: testNow}))
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("error = %v, want one naming %s", err, path)
	}
}

// Whatever a plan file holds, reading it returns a plan or an error, never a panic.
func FuzzReadPlan(f *testing.F) {
	p := Build(fixture(f))
	b, err := encodeJSON(p)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte(`{"format_version": "2", "changes": [{"name": "a", "request": {"a": {"b": 1}}, "secret_refs": {"a.b.c": {"env": "X"}}}]}`))
	f.Add([]byte(`{"format_version": "2", "changes": [{"name": "a", "request": {}, "secret_refs": {"": {}}}]}`))
	f.Add([]byte(`{"format_version": 1}`))
	f.Add([]byte(`{"format_version": "2", "changes": [{"name": "a", "request": {"A": 1, "a": 2}}], "manifest_digests": {"a": "1", "A": "2"}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := decodePlan("fuzz.json", data)
		if err == nil && p.FormatVersion != FormatVersion {
			t.Fatalf("accepted format_version %q", p.FormatVersion)
		}
	})
}

// Request bodies and manifest file names are maps: keys that differ only in
// case are distinct there, and a plan file holding them is read.
func TestReadFileAllowsCaseVariantsInMaps(t *testing.T) {
	data := `{"format_version": "2", "changes": [{"name": "a", "request": {"X": 1, "x": {"Y": 1, "y": 2}},
		"diff": [{"path": "x", "before": {"Y": 1, "y": 2}, "after": null}], "secret_refs": {"X": {"env": "A"}, "x.y": {"env": "B"}}}],
		"manifest_digests": {"certs/a.yaml": "1", "Certs/a.yaml": "2"}}`
	if _, err := decodePlan("plan.json", []byte(data)); err != nil {
		t.Errorf("decodePlan: %v", err)
	}
}
