package scaffold

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The workflow init writes and the documented example are one file: edit
// files/github-workflow.yml and copy it over examples/ci/github-actions/certplan.yml.
func TestWorkflowMatchesExample(t *testing.T) {
	example, err := os.ReadFile(filepath.Join("..", "..", "examples", "ci", "github-actions", "certplan.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(example, workflowYAML) {
		t.Errorf("pkg/scaffold/files/github-workflow.yml and examples/ci/github-actions/certplan.yml differ (-example +embedded):\n%s",
			cmp.Diff(string(example), string(workflowYAML)))
	}
}

func TestFilesNotEmpty(t *testing.T) {
	want := []string{"certplan.yaml", "certs/example.yaml", ".github/workflows/certplan.yml", ".gitignore", "certplan.schema.json"}
	var got []string
	for _, f := range Files() {
		got = append(got, f.Path)
		if len(f.Data) == 0 {
			t.Errorf("%s is empty", f.Path)
		}
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("paths (-want +got):\n%s", d)
	}
}

func TestGitignoreCoversPerRunFiles(t *testing.T) {
	for _, pattern := range []string{"*.journal", "*.lock", "*.backup", ".*.tmp-*", "*.key"} {
		if !bytes.Contains(gitignore, []byte("\n"+pattern+"\n")) {
			t.Errorf(".gitignore lacks the line %q", pattern)
		}
	}
}

func TestWrite(t *testing.T) {
	tests := []struct {
		name        string
		existing    map[string]string // path -> content before Write
		force       bool
		wantErrList []string // paths an *ExistsError must name; nil means success
	}{
		{name: "empty dir"},
		{name: "unrelated files are fine", existing: map[string]string{"README.md": "hi", "certs/other.yaml": "x"}},
		{
			name:        "refuses to overwrite",
			existing:    map[string]string{"certplan.yaml": "mine", ".gitignore": "node_modules/\n"},
			wantErrList: []string{"certplan.yaml"}, // .gitignore is merged, never in the way
		},
		{name: "force overwrites", existing: map[string]string{"certplan.yaml": "mine"}, force: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "repo")
			for p, c := range tt.existing {
				full := filepath.Join(dir, filepath.FromSlash(p))
				if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			written, err := Write(dir, tt.force)
			if tt.wantErrList != nil {
				var ee *ExistsError
				if !errors.As(err, &ee) {
					t.Fatalf("Write = %v, want *ExistsError", err)
				}
				if d := cmp.Diff(tt.wantErrList, ee.Paths); d != "" {
					t.Errorf("ExistsError.Paths (-want +got):\n%s", d)
				}
				if len(written) != 0 {
					t.Errorf("wrote %v despite the error", written)
				}
				// Nothing was written, nothing was touched.
				if _, err := os.Stat(filepath.Join(dir, "certs", "example.yaml")); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("certs/example.yaml was written: %v", err)
				}
				for p, c := range tt.existing {
					got, _ := os.ReadFile(filepath.Join(dir, filepath.FromSlash(p)))
					if string(got) != c {
						t.Errorf("%s changed to %q", p, got)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("Write: %v", err)
			}
			if len(written) != len(Files()) {
				t.Errorf("wrote %v, want all %d files", written, len(Files()))
			}
			for _, f := range Files() {
				got, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(f.Path)))
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, f.Data) {
					t.Errorf("%s does not hold the scaffold content", f.Path)
				}
			}
		})
	}
}

func TestWriteMergesAnExistingGitignore(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, ".gitignore"), []byte("node_modules/\n*.lock\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Write(dir, false); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(dir, ".gitignore"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(got)
	if !strings.HasPrefix(text, "node_modules/\n*.lock\n") {
		t.Errorf("the user's lines were not kept first:\n%s", text)
	}
	if strings.Count(text, "*.lock") != 1 || !strings.Contains(text, "*.journal") {
		t.Errorf("want the missing lines added once and *.lock not repeated:\n%s", text)
	}
	// A second init adds nothing.
	if _, err := Write(dir, true); err != nil {
		t.Fatal(err)
	}
	again, _ := os.ReadFile(filepath.Join(dir, ".gitignore"))
	if string(again) != text {
		t.Errorf("a second init changed .gitignore:\n%s", again)
	}
}

// The PostgreSQL workflow init writes is the documented example too, and it
// commits nothing back.
func TestPostgresWorkflowMatchesExample(t *testing.T) {
	example, err := os.ReadFile(filepath.Join("..", "..", "examples", "ci", "github-actions", "certplan-postgres.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(example, workflowPostgresYAML) {
		t.Errorf("pkg/scaffold/files/github-workflow-postgres.yml and examples/ci/github-actions/certplan-postgres.yml differ (-example +embedded):\n%s",
			cmp.Diff(string(example), string(workflowPostgresYAML)))
	}
}

func TestWriteForPostgres(t *testing.T) {
	tests := []struct {
		state       string
		wantErr     bool
		wantPush    bool
		wantPGState bool
	}{
		{state: "", wantPush: true},
		{state: "file", wantPush: true},
		{state: "postgres", wantPGState: true},
		{state: "mysql", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.state, func(t *testing.T) {
			dir := t.TempDir()
			_, err := WriteFor(dir, false, Options{State: tt.state})
			if (err != nil) != tt.wantErr {
				t.Fatalf("WriteFor = %v, want error %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			wf, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(WorkflowPath)))
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Contains(string(wf), "git push"); got != tt.wantPush {
				t.Errorf("workflow pushes: %v, want %v", got, tt.wantPush)
			}
			if got := strings.Contains(string(wf), "CERTPLAN_STATE: ${{ secrets.CERTPLAN_STATE_URL }}") &&
				strings.Contains(string(wf), "PGPASSWORD: ${{ secrets.CERTPLAN_PG_PASSWORD }}"); got != tt.wantPGState {
				t.Errorf("workflow takes the state URL and password from secrets: %v, want %v", got, tt.wantPGState)
			}
		})
	}
}
