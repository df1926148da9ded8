// Package scaffold holds the files `certplan init` writes into a new
// repository: project defaults, one example manifest, the GitHub Actions
// workflow and a .gitignore for certplan's per-run files.
//
// The workflow is the same file as examples/ci/github-actions/certplan.yml
// (with the certplan version init writes in place of VersionPlaceholder); a
// test keeps the two identical.
package scaffold

import (
	"bytes"
	_ "embed" // the scaffold files
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/certplan/certplan/pkg/spec"
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
	//go:embed files/github-workflow-postgres.yml
	workflowPostgresYAML []byte
)

// Options choose among the scaffolds.
type Options struct {
	// State is where the pipelines keep the state: "file" (or "") for
	// certplan.state.json committed back to Git, "postgres" for a
	// PostgreSQL database named by CI secrets, with nothing committed back.
	State string
	// Version is the certplan release the workflow installs (e.g.
	// "v1.2.0"): init passes the version that runs it, so that the plan and
	// the apply come from the release the user has. "" (a development
	// build) keeps VersionPlaceholder, which the workflow refuses to
	// install until the user sets a release.
	Version string
}

// VersionPlaceholder is the certplan version the shipped workflows name
// until `certplan init` (or the user) writes a release.
const VersionPlaceholder = "vX.Y.Z"

// versionLine is the workflow line that pins the version.
const versionLine = "  CERTPLAN_VERSION: " + VersionPlaceholder + "\n"

// ValidVersion reports whether v can be installed with `go install
// ...@v`: a module version such as v1.2.0 or a pseudo-version.
func ValidVersion(v string) bool {
	if len(v) < 2 || v[0] != 'v' || v[1] < '0' || v[1] > '9' {
		return false
	}
	for _, r := range v {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '.' || r == '-' || r == '+') {
			return false
		}
	}
	return true
}

// Check refuses unknown options.
func (o Options) Check() error {
	switch o.State {
	case "", "file", "postgres":
	default:
		return fmt.Errorf("state %q: want file or postgres", o.State)
	}
	if o.Version != "" && !ValidVersion(o.Version) {
		return fmt.Errorf("version %q: want a module version such as v1.2.0", o.Version)
	}
	return nil
}

// File is one file init writes: Path is slash-separated, relative to the
// target directory.
type File struct {
	Path string
	Data []byte
}

// WorkflowPath is where the GitHub Actions workflow is written.
const WorkflowPath = ".github/workflows/certplan.yml"

// SchemaPath is where init writes the editor schema the manifests point at.
const SchemaPath = "certplan.schema.json"

// gitignorePath is merged into rather than overwritten: a repository's
// .gitignore has lines of its own.
const gitignorePath = ".gitignore"

// Files returns the files init writes, in a stable order. Callers must not
// modify Data.
func Files() []File { return FilesFor(Options{}) }

// FilesFor returns the files init writes with o: the same files, with the
// workflow for o.State.
func FilesFor(o Options) []File {
	workflow := workflowYAML
	if o.State == "postgres" {
		workflow = workflowPostgresYAML
	}
	if ValidVersion(o.Version) {
		workflow = bytes.Replace(workflow, []byte(versionLine), []byte("  CERTPLAN_VERSION: "+o.Version+"\n"), 1)
	}
	files := []File{
		{Path: "certplan.yaml", Data: defaultsYAML},
		{Path: "certs/example.yaml", Data: exampleYAML},
		{Path: WorkflowPath, Data: workflow},
		{Path: gitignorePath, Data: gitignore},
	}
	// The editor schema the manifests' yaml-language-server lines point at
	// (regenerate with `certplan schema > certplan.schema.json`).
	if schema, err := spec.BundledSchema(); err == nil {
		files = append(files, File{Path: SchemaPath, Data: schema})
	}
	return files
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
		if f.Path == gitignorePath {
			continue // merged, never in the way
		}
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
func Write(dir string, force bool) ([]string, error) { return WriteFor(dir, force, Options{}) }

// WriteFor is Write with the scaffold o chooses.
func WriteFor(dir string, force bool, o Options) ([]string, error) {
	if err := o.Check(); err != nil {
		return nil, err
	}
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
	for _, f := range FilesFor(o) {
		path := filepath.Join(dir, filepath.FromSlash(f.Path))
		if f.Path == gitignorePath {
			if err := mergeLines(path, f.Data); err != nil {
				return written, err
			}
			written = append(written, f.Path)
			continue
		}
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

// mergeLines appends to path the lines of data it lacks (creating it if
// missing), keeping every line the file already has.
func mergeLines(path string, data []byte) error {
	old, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("read %s: %w", path, err)
	}
	have := map[string]bool{}
	for _, l := range strings.Split(string(old), "\n") {
		have[strings.TrimSpace(l)] = true
	}
	var add []string
	for _, l := range strings.Split(string(data), "\n") {
		if t := strings.TrimSpace(l); t != "" && !strings.HasPrefix(t, "#") && !have[t] {
			add = append(add, t)
		}
	}
	if len(old) > 0 && len(add) == 0 {
		return nil
	}
	out := string(old)
	if len(old) == 0 {
		out = string(data)
	} else {
		if !strings.HasSuffix(out, "\n") {
			out += "\n"
		}
		out += "\n# certplan: per-run files\n" + strings.Join(add, "\n") + "\n"
	}
	return writeFile(path, []byte(out), os.O_WRONLY|os.O_CREATE|os.O_TRUNC)
}
