// Package scaffold holds the files `certplan init` writes into a new
// repository: project defaults, one example manifest, the GitHub Actions
// workflow and a .gitignore for certplan's per-run files.
//
// The workflow is the same file as examples/ci/github-actions/certplan.yml; a
// test keeps the two identical.
package scaffold

import (
	_ "embed" // the scaffold files
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

var (
	//go:embed files/certplan.yaml
	defaultsYAML []byte
	//go:embed files/certs/example.yaml
	exampleYAML []byte
	//go:embed files/github-workflow.yml
	workflowYAML []byte
	//go:embed files/gitignore
	gitignore []byte
)

// File is one file init writes: Path is slash-separated, relative to the
// target directory.
type File struct {
	Path string
	Data []byte
}

// WorkflowPath is where the GitHub Actions workflow is written.
const WorkflowPath = ".github/workflows/certplan.yml"

// Files returns the files init writes, in a stable order. Callers must not
// modify Data.
func Files() []File {
	return []File{
		{Path: "certplan.yaml", Data: defaultsYAML},
		{Path: "certs/example.yaml", Data: exampleYAML},
		{Path: WorkflowPath, Data: workflowYAML},
		{Path: ".gitignore", Data: gitignore},
	}
}

// ExistsError lists the files that are already there when init is not
// allowed to overwrite them.
type ExistsError struct {
	Dir   string
	Paths []string // slash-separated, relative to Dir
}

func (e *ExistsError) Error() string {
	return fmt.Sprintf("%s already has %s; nothing was written (use --force to overwrite)",
		e.Dir, strings.Join(e.Paths, ", "))
}

// Existing returns the scaffold files already present in dir.
func Existing(dir string) ([]string, error) {
	var found []string
	for _, f := range Files() {
		_, err := os.Lstat(filepath.Join(dir, filepath.FromSlash(f.Path)))
		switch {
		case err == nil:
			found = append(found, f.Path)
		case !errors.Is(err, fs.ErrNotExist):
			return nil, fmt.Errorf("check %s: %w", filepath.Join(dir, f.Path), err)
		}
	}
	return found, nil
}

// Write creates the scaffold files in dir (created if missing) and returns
// their paths. Without force it writes nothing when any of them exists and
// returns an *ExistsError naming them.
func Write(dir string, force bool) ([]string, error) {
	if !force {
		existing, err := Existing(dir)
		if err != nil {
			return nil, err
		}
		if len(existing) > 0 {
			return nil, &ExistsError{Dir: dir, Paths: existing}
		}
	}
	flags := os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	if !force {
		flags = os.O_WRONLY | os.O_CREATE | os.O_EXCL // lose no race with another writer
	}
	var written []string
	for _, f := range Files() {
		path := filepath.Join(dir, filepath.FromSlash(f.Path))
		if err := writeFile(path, f.Data, flags); err != nil {
			return written, err
		}
		written = append(written, f.Path)
	}
	return written, nil
}

func writeFile(path string, data []byte, flags int) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("create directory %s: %w", filepath.Dir(path), err)
	}
	fh, err := os.OpenFile(path, flags, 0o644)
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	if _, err := fh.Write(data); err != nil {
		fh.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := fh.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
