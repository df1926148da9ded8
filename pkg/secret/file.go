package secret

// Reading the files manifests reference, boundedly: secrets here, and CSRs
// in spec, which reads them with ReadFile too.

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
)

// MaxFileSize is the largest secret file read: a card number or CVV is a
// few bytes, so anything much larger is the wrong file, or /dev/zero.
const MaxFileSize = 4 << 10

// TooLargeError says a referenced file is larger than its limit.
type TooLargeError struct{ Limit int64 }

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("larger than %s: is it the right file?", sizeText(e.Limit))
}

func sizeText(n int64) string {
	if n >= 1<<10 && n%(1<<10) == 0 {
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// ReadFile reads the regular file at path, of at most limit bytes. A
// symbolic link at path is not followed, and anything but a regular file (a
// FIFO, /dev/zero, a directory) is refused before it is opened; no more
// than limit+1 bytes are ever read, even from a file that grows. Errors do
// not repeat the path: the caller names the file.
func ReadFile(path string, limit int64) ([]byte, error) {
	before, err := os.Lstat(path)
	if err != nil {
		return nil, pathless(err)
	}
	if !before.Mode().IsRegular() {
		return nil, fmt.Errorf("%s, not a regular file", FileKind(before.Mode()))
	}
	if before.Size() > limit {
		return nil, &TooLargeError{limit}
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
		return nil, &TooLargeError{limit}
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

// FileKind names what a file that is not regular is.
func FileKind(m fs.FileMode) string {
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

// errEmpty marks a secret whose value is empty: as unset as a missing one.
var errEmpty = errors.New("the file is empty, and an empty secret is an unset secret: write the value into it")

// resolveFile reads a secret from a file (at most MaxFileSize bytes,
// surrounding white space removed). Errors name the file, never the
// content; an empty file is an unset secret.
func resolveFile(path string) (string, error) {
	data, err := ReadFile(path, MaxFileSize)
	if err != nil {
		return "", fmt.Errorf("secret from file %s: %w", path, err)
	}
	v := strings.TrimSpace(string(data))
	if v == "" {
		return "", fmt.Errorf("secret from file %s: %w", path, errEmpty)
	}
	return v, nil
}
