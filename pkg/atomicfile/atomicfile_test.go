package atomicfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
)

func listDir(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return names
}

func mode(t *testing.T, path string) fs.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

// withDirSync plays a filesystem whose directory fsync returns err.
func withDirSync(t *testing.T, err error) *int {
	t.Helper()
	calls := 0
	old := syncDirFile
	syncDirFile = func(*os.File) error { calls++; return err }
	t.Cleanup(func() { syncDirFile = old })
	return &calls
}

func TestWriteFile(t *testing.T) {
	tests := []struct {
		name     string
		existing *fs.FileMode // mode of a file already at the path, if any
		opts     Options
		wantMode fs.FileMode
	}{
		{name: "new file defaults to 0600", wantMode: 0o600},
		{name: "replaces a lax file with 0600", existing: ptr(0o644), wantMode: 0o600},
		{name: "explicit mode is not subject to the umask", opts: Options{Perm: 0o644}, wantMode: 0o644},
		{name: "own temp pattern", existing: ptr(0o600), opts: Options{Perm: 0o644, TempPattern: ".x-*"}, wantMode: 0o644},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := withDirSync(t, nil)
			dir := t.TempDir()
			path := filepath.Join(dir, "f.json")
			if tt.existing != nil {
				if err := os.WriteFile(path, []byte("old"), *tt.existing); err != nil {
					t.Fatal(err)
				}
				if err := os.Chmod(path, *tt.existing); err != nil {
					t.Fatal(err)
				}
			}
			if err := WriteFile(path, []byte("new"), tt.opts); err != nil {
				t.Fatal(err)
			}
			if got, err := os.ReadFile(path); err != nil || string(got) != "new" {
				t.Errorf("content = %q, %v", got, err)
			}
			if m := mode(t, path); m != tt.wantMode {
				t.Errorf("mode = %o, want %o", m, tt.wantMode)
			}
			if got := listDir(t, dir); len(got) != 1 || got[0] != "f.json" {
				t.Errorf("directory holds %v, want only f.json", got)
			}
			if *calls != 1 {
				t.Errorf("directory fsynced %d times, want 1", *calls)
			}
		})
	}
}

func ptr(m fs.FileMode) *fs.FileMode { return &m }

// Some filesystems refuse to fsync a directory at all: that is no reason to
// fail a write whose data and rename are done. Any other fsync error is.
func TestWriteFileDirectorySync(t *testing.T) {
	tests := []struct {
		name    string
		syncErr error
		wantErr string
	}{
		{"works", nil, ""},
		{"EINVAL is tolerated", &os.PathError{Op: "sync", Path: "d", Err: syscall.EINVAL}, ""},
		{"ENOTSUP is tolerated", fmt.Errorf("wrapped: %w", syscall.ENOTSUP), ""},
		{"EIO is an error", &os.PathError{Op: "sync", Path: "d", Err: syscall.EIO}, "fsync directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := withDirSync(t, tt.syncErr)
			dir := t.TempDir()
			path := filepath.Join(dir, "plan.json")
			err := WriteFile(path, []byte("data"), Options{})
			if *calls != 1 {
				t.Errorf("directory fsync called %d times", *calls)
			}
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("WriteFile: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), path)):
				t.Fatalf("WriteFile = %v, want an error naming %s and %q", err, path, tt.wantErr)
			case tt.wantErr != "" && !errors.Is(err, syscall.EIO):
				t.Errorf("error %v does not wrap EIO", err)
			}
			if err := SyncDir(dir); (err == nil) != (tt.wantErr == "") {
				t.Errorf("SyncDir = %v", err)
			}
		})
	}
}

// A write that fails after the temporary file exists (here: the rename onto
// a directory) removes the temporary file and leaves the target alone.
func TestWriteFileFailureRemovesTemp(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "a.pem")
	if err := os.Mkdir(target, 0o755); err != nil {
		t.Fatal(err)
	}
	err := WriteFile(target, []byte("data"), Options{Perm: 0o644})
	if err == nil || !strings.Contains(err.Error(), "write "+target) {
		t.Fatalf("err = %v, want a write error naming %s", err, target)
	}
	if got := listDir(t, dir); len(got) != 1 || got[0] != "a.pem" {
		t.Errorf("directory holds %v: a temporary file was left behind", got)
	}
	if err := WriteFile(filepath.Join(dir, "missing", "x"), nil, Options{}); err == nil || !strings.Contains(err.Error(), "temporary file") {
		t.Errorf("write into a missing directory: %v", err)
	}
}

// A symbolic link at the destination is replaced by the new file: the file
// it pointed at is neither written nor re-moded.
func TestWriteFileReplacesALinkNotItsTarget(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(t.TempDir(), "elsewhere")
	if err := os.WriteFile(target, []byte("keep"), 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "state.json")
	if err := os.Symlink(target, path); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(path, []byte("new"), Options{}); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Lstat(path)
	if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm() != 0o600 {
		t.Errorf("destination is %v (%v), want a regular 0600 file", fi.Mode(), err)
	}
	if b, _ := os.ReadFile(target); string(b) != "keep" || mode(t, target) != 0o644 {
		t.Errorf("the link's target became %q, mode %v", b, mode(t, target))
	}
}
