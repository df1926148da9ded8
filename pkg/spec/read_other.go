//go:build !unix

package spec

import (
	"io"
	"os"
)

func openRaw(path string) (io.ReadCloser, error) { return os.Open(path) }
