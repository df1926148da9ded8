package state

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// The file backend's own files (snapshot, backup, journal, lock) sit in the
// repository, where a pull request can put anything in their place: a
// symbolic link to ~/.bashrc, a FIFO, a hard link. certplan opens them
// without following a link at the last path element (O_NOFOLLOW), refuses
// anything that is not a regular file, and writes only to files with one
// link. The journal and the lock file, which it writes in place, get mode
// 0600 when they had a looser one (a Git checkout of a committed journal
// gives 0644); the snapshot and its backup are replaced whole, each time
// with a new 0600 file. Links in the directories above are the user's own
// layout and are followed.

// NotRegularError says one of the state's own files is a symbolic link or
// something else that is not a regular file.
type NotRegularError struct {
	Path string
	What string // "a symbolic link", "a directory", "a named pipe", "a file with 2 hard links", ...
}

func (e *NotRegularError) Error() string {
	return fmt.Sprintf("%s is %s, not a regular file: certplan does not follow links or open special files for its state, journal, backup and lock "+
		"(a repository could point them at any file on this host); remove it (rm %s) and run again, or pass --state with the real path",
		e.Path, e.What, e.Path)
}

// describeMode names what a non-regular file is.
func describeMode(m fs.FileMode) string {
	switch {
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0:
		return "a device"
	}
	return "not a regular file (" + m.Type().String() + ")"
}

// openOwn opens one of the state's own files. A symbolic link at path, or
// anything but a regular file, is a *NotRegularError; a missing file is an
// error satisfying errors.Is(err, fs.ErrNotExist) unless flag creates it.
// With write access, a file with other hard links is refused too, and a
// mode looser than 0600 is tightened to 0600.
func openOwn(path string, flag int, perm os.FileMode) (*os.File, error) {
	// O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused
	// below, and regular files ignore the flag.
	f, err := os.OpenFile(path, flag|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, perm)
	if err != nil {
		if errors.Is(err, unix.ELOOP) || errors.Is(err, unix.EMLINK) {
			return nil, &NotRegularError{Path: path, What: "a symbolic link"}
		}
		if fi, lerr := os.Lstat(path); lerr == nil && !fi.Mode().IsRegular() && !errors.Is(err, fs.ErrNotExist) {
			return nil, &NotRegularError{Path: path, What: describeMode(fi.Mode())}
		}
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, &NotRegularError{Path: path, What: describeMode(fi.Mode())}
	}
	if flag&(os.O_WRONLY|os.O_RDWR) != 0 {
		if st, ok := fi.Sys().(*syscall.Stat_t); ok && st.Nlink > 1 {
			f.Close()
			return nil, &NotRegularError{Path: path, What: fmt.Sprintf("a file with %d hard links", st.Nlink)}
		}
		if fi.Mode().Perm()&0o077 != 0 {
			if err := f.Chmod(0o600); err != nil {
				f.Close()
				return nil, fmt.Errorf("make %s private (mode 0600): %w", path, err)
			}
		}
	}
	return f, nil
}

// readOwn returns the contents of one of the state's own files, or nil and
// false when it does not exist. It does not follow a symbolic link.
func readOwn(path string) ([]byte, bool, error) {
	f, err := openOwn(path, os.O_RDONLY, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	defer f.Close()
	data, err := io.ReadAll(f)
	if err != nil {
		return nil, false, fmt.Errorf("read %s: %w", path, err)
	}
	return data, true, nil
}

// statOwn is os.Lstat for the state's own files: what is at path, not what
// a link there points to; anything but a regular file is a
// *NotRegularError.
func statOwn(path string) (fs.FileInfo, error) {
	fi, err := os.Lstat(path)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, &NotRegularError{Path: path, What: describeMode(fi.Mode())}
	}
	return fi, nil
}

// fileID tells one file from another at the same path: a file replaced by
// a rename has another inode (and the zero fileID means "no file").
type fileID struct {
	dev, ino uint64
	size     int64
	mtime    int64
}

func idOf(fi fs.FileInfo) fileID {
	id := fileID{size: fi.Size(), mtime: fi.ModTime().UnixNano()}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		id.dev, id.ino = uint64(st.Dev), uint64(st.Ino)
	}
	return id
}

// idAt is the fileID of what is at path now (zero when nothing is).
func idAt(path string) (fileID, error) {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return fileID{}, nil
	}
	if err != nil {
		return fileID{}, err
	}
	return idOf(fi), nil
}

// readOwnID is readOwn that also returns the fileID of the file it read
// (zero when there was none).
func readOwnID(path string) (data []byte, found bool, id fileID, err error) {
	f, err := openOwn(path, os.O_RDONLY, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, fileID{}, nil
	}
	if err != nil {
		return nil, false, fileID{}, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, false, fileID{}, err
	}
	data, err = io.ReadAll(f)
	if err != nil {
		return nil, false, fileID{}, fmt.Errorf("read %s: %w", path, err)
	}
	return data, true, idOf(fi), nil
}
