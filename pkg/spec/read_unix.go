//go:build unix

package spec

import (
	"io"
	"io/fs"
	"syscall"
)

// rawFile reads a file with plain system calls. Loading thousands of small
// manifests is dominated by system calls, and os.File also tries to register
// every file with the network poller, which regular files refuse: one system
// call more per file.
type rawFile struct{ fd int }

func openRaw(path string) (io.ReadCloser, error) {
	for {
		fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return nil, &fs.PathError{Op: "open", Path: path, Err: err}
		}
		return rawFile{fd: fd}, nil
	}
}

func (f rawFile) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for {
		n, err := syscall.Read(f.fd, p)
		switch {
		case err == syscall.EINTR:
			continue
		case err != nil:
			return 0, err // e.g. EISDIR; the caller adds the path
		case n == 0:
			return 0, io.EOF
		}
		return n, nil
	}
}

func (f rawFile) Close() error { return syscall.Close(f.fd) }
