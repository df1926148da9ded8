package spec

// Reading the files manifests reference, boundedly. This file imports only
// the standard library, so that it can move as it is to pkg/secret, where
// secret references live on another branch.

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
)

// Size limits of referenced files. A CSR is one or two KiB, a card number
// or CVV a few bytes: anything much larger is the wrong file, or /dev/zero.
const (
	MaxCSRFileSize    = 64 << 10
	MaxSecretFileSize = 4 << 10
)

// errTooLarge says a referenced file is larger than its limit.
type errTooLarge struct{ limit int64 }

func (e errTooLarge) Error() string {
	return fmt.Sprintf("larger than %s: is it the right file?", sizeText(e.limit))
}

func sizeText(n int64) string {
	if n >= 1<<10 && n%(1<<10) == 0 {
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// readRegular reads the regular file at path, of at most limit bytes. A
// symbolic link at path is not followed, and anything but a regular file
// (a FIFO, /dev/zero, a directory) is refused before it is opened; no more
// than limit+1 bytes are ever read, even from a file that grows. Errors do
// not repeat the path: the caller names the file.
func readRegular(path string, limit int64) ([]byte, error) {
	before, err := os.Lstat(path)
	if err != nil {
		return nil, pathless(err)
	}
	if !before.Mode().IsRegular() {
		return nil, fmt.Errorf("%s, not a regular file", fileKind(before.Mode()))
	}
	if before.Size() > limit {
		return nil, errTooLarge{limit}
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, pathless(err)
	}
	defer f.Close()
	after, err := f.Stat()
	if err != nil {
		return nil, pathless(err)
	}
	if !os.SameFile(before, after) {
		return nil, errors.New("replaced while being read")
	}
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, pathless(err)
	}
	if int64(len(data)) > limit {
		return nil, errTooLarge{limit}
	}
	return data, nil
}

// pathless drops the path from an *fs.PathError (the caller names it).
func pathless(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// fileKind names what a file that is not regular is.
func fileKind(m fs.FileMode) string {
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
	return "a special file"
}

// errEmptySecret marks a secret whose value is empty: as unset as a missing one.
var errEmptySecret = errors.New("the file is empty, and an empty secret is an unset secret: write the value into it")

// resolveSecretFile reads a secret from a file (at most MaxSecretFileSize
// bytes, surrounding white space removed). Errors name the file, never the
// content; an empty file is an unset secret.
func resolveSecretFile(path string) (string, error) {
	data, err := readRegular(path, MaxSecretFileSize)
	if err != nil {
		return "", fmt.Errorf("secret from file %s: %w", path, err)
	}
	v := strings.TrimSpace(string(data))
	if v == "" {
		return "", fmt.Errorf("secret from file %s: %w", path, errEmptySecret)
	}
	return v, nil
}
