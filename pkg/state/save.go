package state

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/certplan/certplan/pkg/atomicfile"
)

// Marshal renders a snapshot deterministically: sorted map keys, two-space
// indentation, no HTML escaping, a trailing newline. The same state always
// gives the same bytes.
func Marshal(s *State) ([]byte, error) {
	out := *s
	if out.Certificates == nil {
		out.Certificates = map[string]*Certificate{}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(&out); err != nil {
		return nil, fmt.Errorf("encode state: %w", err)
	}
	return buf.Bytes(), nil
}

// Save writes s to statePath atomically and durably: the new snapshot goes to
// a temporary file (0600) in the same directory and is fsynced; the current
// snapshot, if any, is copied to BackupPath; the temporary file is renamed
// over statePath and the directory fsynced. A crash at any instant leaves
// either the old or the new snapshot at statePath, never a mix and never
// none. Save does not change s.Serial and checks nothing on disk: it writes
// a snapshot file as given, for tests and tools that make one. Commands go
// through a Backend, whose Commit takes care of serial, lineage and journal.
func Save(statePath string, s *State) error {
	data, err := Marshal(s)
	if err != nil {
		return fmt.Errorf("save state %s: %w", statePath, err)
	}
	if err := saveBytes(statePath, data); err != nil {
		return fmt.Errorf("save state %s: %w", statePath, err)
	}
	return nil
}

func saveBytes(statePath string, data []byte) error {
	if err := writeBackup(statePath); err != nil {
		return err
	}
	return replaceFile(statePath, data)
}

// writeBackup copies the current snapshot to BackupPath, atomically. A
// symbolic link at statePath is not followed: it is refused, so that no
// file elsewhere is copied into the backup.
func writeBackup(statePath string) error {
	old, found, err := readOwn(statePath)
	if err != nil {
		return fmt.Errorf("read the current snapshot for the backup: %w", err)
	}
	if !found {
		return nil
	}
	return replaceFile(BackupPath(statePath), old)
}

// replaceFile atomically replaces path with data (mode 0600): temporary file
// in the same directory, write, fsync, rename, fsync the directory.
func replaceFile(path string, data []byte) error {
	return atomicfile.WriteFile(path, data, atomicfile.Options{Perm: 0o600})
}

// removeStaleTemps deletes temporary files that killed writers of the state
// at statePath left behind. Only call it while holding the state lock.
func removeStaleTemps(statePath string) {
	dir, base := filepath.Split(statePath)
	if dir == "" {
		dir = "."
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	var prefixes []string
	for _, b := range []string{base, filepath.Base(BackupPath(statePath)), filepath.Base(JournalPath(statePath))} {
		prefixes = append(prefixes, atomicfile.TempPrefix(b))
	}
	for _, e := range entries {
		for _, p := range prefixes {
			if strings.HasPrefix(e.Name(), p) && e.Type().IsRegular() {
				os.Remove(filepath.Join(dir, e.Name()))
			}
		}
	}
}

// syncDir fsyncs a directory so that a rename or a new file in it is durable.
// Filesystems that cannot fsync a directory (EINVAL, ENOTSUP) are tolerated.
func syncDir(dir string) error { return atomicfile.SyncDir(dir) }

// readFileIfExists returns the contents of one of the state's own files,
// or nil and false when it does not exist; see readOwn.
func readFileIfExists(path string) ([]byte, bool, error) { return readOwn(path) }
