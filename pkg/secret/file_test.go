package secret_test

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/certplan/certplan/pkg/secret"
)

// A secret file is read only if it is a regular file, not through a link at
// its path, of at most MaxFileSize bytes; {file: /dev/zero} used to exhaust
// memory during plan. An empty one is an unset secret.
func TestResolveFileBounded(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	card := write("card", " 4111111111111111\n")
	big := write("big", strings.Repeat("1", secret.MaxFileSize+1))
	empty := write("empty", " \n")
	link := filepath.Join(dir, "link")
	if err := os.Symlink(card, link); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	for path, want := range map[string]string{
		big:         "larger than 4 KiB",
		empty:       "an empty secret is an unset secret",
		link:        "a symbolic link, not a regular file",
		fifo:        "a named pipe, not a regular file",
		"/dev/zero": "a device, not a regular file",
		dir:         "a directory, not a regular file",
	} {
		v, err := secret.Ref{File: path}.Resolve()
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "secret from file "+path+": ") {
			t.Errorf("Resolve(%s) = %q, %v; want an error naming the file and saying %q", path, v, err, want)
		}
	}
	if v, err := (secret.Ref{File: card}).Resolve(); err != nil || v != "4111111111111111" {
		t.Errorf("Resolve(card) = %q, %v", v, err)
	}
	if _, err := secret.ReadFile(card, 4); err == nil || !strings.Contains(err.Error(), "larger than 4 bytes") {
		t.Errorf("ReadFile over its limit: %v", err)
	}
}
