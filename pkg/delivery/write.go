package delivery

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
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

func atomicWrite(path string, data []byte, mode fs.FileMode) (err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, tempPrefix+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	// CreateTemp makes 0600 files; set the mode explicitly (not subject to umask).
	if err = tmp.Chmod(mode); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if _, err = tmp.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = tmp.Sync(); err != nil {
		return fmt.Errorf("write %s: sync: %w", path, err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return syncDir(dir)
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return nil
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
