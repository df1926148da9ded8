package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// One run, one client: refresh, apply and --wait share its rate limiter.
func TestClientAndLoggerAreBuiltOnce(t *testing.T) {
	t.Setenv("DIGICERT_API_KEY", "k")
	t.Setenv("CERTPLAN_ENDPOINT", "http://127.0.0.1:1/services/v2")
	g := &globals{stdin: strings.NewReader(""), stdout: io.Discard, stderr: io.Discard, logFormat: "json", logLevel: "warn"}
	c1, err := g.client()
	if err != nil {
		t.Fatal(err)
	}
	c2, err := g.client()
	if err != nil {
		t.Fatal(err)
	}
	if c1 != c2 {
		t.Fatal("client() built a second client (and a second rate limiter) in one run")
	}
	if g.log == nil {
		t.Fatal("the logger was not kept for the run")
	}
}

// Item 5 of issue 11: the state's place must not depend on the order (or
// the choice) of the manifest paths. Before, it was beside the first PATH,
// so `apply certs/a certs/b` and `apply certs/b certs/a` used two states.
func TestStatePathIndependentOfArgumentOrder(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{
		"loose/a/x.yaml", "loose/b/y.yaml", "loose/a/z.yaml",
		"proj/certplan.yaml", "proj/certs/a/x.yaml", "proj/certs/b/y.yaml",
		"other/certplan.yaml", "other/certs/o.yaml",
	} {
		p := filepath.Join(dir, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("apiVersion: certplan/v1\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, ".git"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	t.Setenv("CERTPLAN_STATE", "")
	g := &globals{}
	tests := []struct {
		paths []string
		want  string // the state path, or with "error: " what the error says
	}{
		// With certplan.yaml: its directory, whatever the paths and their order.
		{[]string{"proj/certs/a", "proj/certs/b"}, "proj/certplan.state.json"},
		{[]string{"proj/certs/b", "proj/certs/a"}, "proj/certplan.state.json"},
		{[]string{"proj/certs/b/y.yaml"}, "proj/certplan.state.json"},
		{[]string{"proj"}, "proj/certplan.state.json"},
		// Without: one directory is the project directory ...
		{[]string{"loose/a"}, "loose/a/certplan.state.json"},
		{[]string{"loose/a/z.yaml", "loose/a/x.yaml"}, "loose/a/certplan.state.json"},
		// ... several are refused, in either order, saying how to fix it.
		{[]string{"loose/a", "loose/b"}, "error: the manifests are in several directories (loose/a, loose/b) and no certplan.yaml says where the state lives: create certplan.yaml in a directory that holds them all"},
		{[]string{"loose/b", "loose/a"}, "error: the manifests are in several directories (loose/a, loose/b)"},
		{[]string{"loose/b/y.yaml", "loose/a/x.yaml"}, "error: the manifests are in several directories (loose/a, loose/b)"},
		// Two projects, or a project and a loose path, are never mixed.
		{[]string{"proj/certs", "other/certs"}, "error: the paths belong to different projects (proj/certs (proj/certplan.yaml), other/certs (other/certplan.yaml))"},
		{[]string{"other/certs", "proj/certs"}, "error: the paths belong to different projects"},
		{[]string{"proj/certs", "loose/a"}, "error: the paths belong to different projects (proj/certs (proj/certplan.yaml), loose/a (no certplan.yaml))"},
		{[]string{"loose/a", "proj/certs"}, "error: the paths belong to different projects"},
	}
	for _, tt := range tests {
		got, err := g.statePath(tt.paths)
		want, wantErr := strings.CutPrefix(tt.want, "error: ")
		switch {
		case wantErr && (err == nil || !strings.Contains(err.Error(), want)):
			t.Errorf("statePath(%v) = %q, %v; want an error containing %q", tt.paths, got, err, want)
		case !wantErr && (err != nil || filepath.ToSlash(got) != want):
			t.Errorf("statePath(%v) = %q, %v; want %q", tt.paths, got, err, want)
		}
	}
	// --state wins, and then the paths need not agree.
	t.Setenv("CERTPLAN_STATE", "elsewhere.json")
	if got, err := g.statePath([]string{"loose/a", "loose/b"}); err != nil || got != "elsewhere.json" {
		t.Errorf("with CERTPLAN_STATE: %q, %v", got, err)
	}
}
