package delivery

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/certplan/certplan/pkg/atomicfile"
)

// CertMode is the mode of written certificate files. Certificates and their
// chains are public: every TLS client receives them in the handshake. They
// hold no order data (no request body, no payment details) and no private
// key, and the web server or proxy that serves them often runs as another
// user, so they are world-readable, unlike certplan's state and plan files
// (0600).
const CertMode fs.FileMode = 0o644

// tempPrefix starts the names of temporary files. Certificate names never
// start with a dot (checkName), so a temporary file cannot collide with a
// certificate file, and leftovers of a killed run are easy to recognise.
const tempPrefix = ".certplan-fetch-"

// writeOutcome is what writeIfChanged did.
type writeOutcome int

const (
	wroteFile writeOutcome = iota
	sameContent
)

// writeIfChanged writes data to path unless the file already holds exactly
// these bytes. The write is atomic: a temporary file in the same directory
// is written, synced and renamed over path, then the directory is synced, so
// a reader (or a crash) sees the old file or the new one, never a torn one.
func writeIfChanged(path string, data []byte) (writeOutcome, error) {
	old, err := os.ReadFile(path)
	switch {
	case err == nil && bytes.Equal(old, data):
		return sameContent, nil
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return 0, fmt.Errorf("read existing %s: %w", path, err)
	}
	if err := atomicWrite(path, data, CertMode); err != nil {
		return 0, err
	}
	return wroteFile, nil
}

// atomicWrite replaces path with data, with mode set explicitly (not subject
// to the umask), through a temporary file named by tempPrefix.
func atomicWrite(path string, data []byte, mode fs.FileMode) error {
	return atomicfile.WriteFile(path, data, atomicfile.Options{
		Perm: mode, TempPattern: tempPrefix + filepath.Base(path) + ".*",
	})
}

// checkName refuses state names that are not a plain file name: a state
// file edited by hand must not make fetch write outside DIR.
func checkName(name string) error {
	switch {
	case name == "":
		return errors.New("empty certificate name")
	case strings.HasPrefix(name, "."):
		return fmt.Errorf("certificate name %q starts with a dot: not usable as a file name", name)
	case strings.ContainsAny(name, "/\\\x00:"):
		return fmt.Errorf("certificate name %q contains a path separator or reserved character: not usable as a file name", name)
	case len(name) > 200:
		return fmt.Errorf("certificate name %q is too long for a file name", name)
	}
	return nil
}
