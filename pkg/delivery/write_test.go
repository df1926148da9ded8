package delivery

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// A write that fails after the temporary file exists (here: the rename onto
// a directory) removes the temporary file.
func TestAtomicWriteFailureRemovesTempFile(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "a.pem")
	if err := os.Mkdir(target, 0o755); err != nil {
		t.Fatal(err)
	}
	err := atomicWrite(target, []byte("data"), CertMode)
	if err == nil || !strings.Contains(err.Error(), "write "+target) {
		t.Fatalf("err = %v, want a write error naming %s", err, target)
	}
	if diff := cmp.Diff([]string{"a.pem"}, listDir(t, dir)); diff != "" {
		t.Errorf("dir (-want +got), a temp file was left behind:\n%s", diff)
	}
}

func TestAtomicWriteReplacesWithMode(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "a.pem")
	if err := os.WriteFile(target, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := atomicWrite(target, []byte("new"), CertMode); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(target)
	if err != nil || string(got) != "new" {
		t.Errorf("content = %q, %v", got, err)
	}
	fi, err := os.Stat(target)
	if err != nil || fi.Mode().Perm() != CertMode {
		t.Errorf("mode = %v, %v; want %v", fi.Mode().Perm(), err, CertMode)
	}
	if diff := cmp.Diff([]string{"a.pem"}, listDir(t, dir)); diff != "" {
		t.Errorf("dir (-want +got):\n%s", diff)
	}
}
