// Package atomicfile replaces files so that a reader, or a crash at any
// instant, sees the old content or the new one, never a mix and never none.
// State snapshots, plan files and delivered certificates all go through it.
//
// It imports nothing of certplan's.
package atomicfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// Options tune WriteFile.
type Options struct {
	// Perm is the mode of the new file, set explicitly (not subject to the
	// umask). Zero means 0600: what certplan writes about orders is private.
	Perm fs.FileMode
	// TempPattern names the temporary file in os.CreateTemp's form (a "*"
	// is replaced by random characters). Empty means ".<base>.tmp-*":
	// hidden, and recognisable by TempPrefix so that leftovers of a killed
	// writer can be cleared.
	TempPattern string
}

// TempPrefix is how the temporary files of path start by default.
func TempPrefix(path string) string { return "." + filepath.Base(path) + ".tmp-" }

// WriteFile atomically and durably replaces path with data: a temporary
// file in the same directory is created, given its mode, written, fsynced
// and renamed over path, then the directory is fsynced so that the rename
// survives a power loss. On error the temporary file is removed and path is
// untouched. Errors name path.
func WriteFile(path string, data []byte, opts Options) (err error) {
	perm := opts.Perm
	if perm == 0 {
		perm = 0o600
	}
	pattern := opts.TempPattern
	if pattern == "" {
		pattern = TempPrefix(path) + "*"
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, pattern)
	if err != nil {
		return fmt.Errorf("write %s: create a temporary file beside it: %w", path, err)
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	if err = tmp.Chmod(perm); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if _, err = tmp.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = tmp.Sync(); err != nil {
		return fmt.Errorf("write %s: fsync %s: %w", path, tmp.Name(), err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := SyncDir(dir); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// SyncDir fsyncs a directory so that a rename, a new file or a removal in
// it is durable. A filesystem that cannot fsync a directory (EINVAL or
// ENOTSUP: some network and FUSE filesystems) is tolerated: there is
// nothing more a program can do there, and refusing would make certplan
// unusable on it.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open directory %s to fsync it: %w", dir, err)
	}
	defer d.Close()
	if err := syncDirFile(d); err != nil && !Unsupported(err) {
		return fmt.Errorf("fsync directory %s: %w", dir, err)
	}
	return nil
}

// Unsupported reports whether err is a filesystem's refusal to fsync a
// directory at all (as opposed to a failure to do so).
func Unsupported(err error) bool {
	return errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.ENOTSUP)
}

// syncDirFile is the directory fsync; tests replace it to play a filesystem
// that refuses or fails.
var syncDirFile = func(d *os.File) error { return d.Sync() }
