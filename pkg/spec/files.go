package spec

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"

	"github.com/certplan/certplan/pkg/secret"
)

// MaxFileSize is the largest manifest (or CSR) file certplan reads.
const MaxFileSize = 1 << 20

// ProjectFile is the name of the project file holding Defaults documents. The
// nearest one at or above each given path is loaded too (see findProjectFile).
const ProjectFile = "certplan.yaml"

// collectFiles expands paths into the sorted, de-duplicated list of manifest
// files: directories are walked recursively for *.yaml and *.yml (skipping
// hidden directories such as .git), files are taken as given, and the nearest
// certplan.yaml above each path is added. The error is for a path that cannot
// be read at all.
func collectFiles(paths []string) ([]candidate, error) {
	seen := map[string]int{} // absolute path -> index in files
	var files []candidate
	wd, _ := os.Getwd()
	add := func(p string, named bool) {
		abs := p
		if !filepath.IsAbs(p) {
			abs = filepath.Join(wd, p)
		}
		if i, ok := seen[abs]; ok {
			files[i].named = files[i].named || named
			return
		}
		seen[abs] = len(files)
		files = append(files, candidate{path: filepath.Clean(p), named: named})
	}
	for _, root := range paths {
		info, err := os.Stat(root)
		if err != nil {
			return nil, fmt.Errorf("read manifests: %w", err)
		}
		if !info.IsDir() {
			add(root, true)
		} else {
			err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
				if err != nil {
					return err
				}
				if d.IsDir() {
					if p != root && strings.HasPrefix(d.Name(), ".") {
						return filepath.SkipDir
					}
					return nil
				}
				if isManifestName(d.Name()) && isRegularFile(p, d) {
					add(p, false)
				}
				return nil
			})
			if err != nil {
				return nil, fmt.Errorf("read manifests under %s: %w", root, err)
			}
		}
		if pf, ok := findProjectFile(root, info.IsDir()); ok {
			add(pf, true)
		}
	}
	sort.Slice(files, func(i, j int) bool { return files[i].path < files[j].path })
	return files, nil
}

// candidate is a file that may hold manifests.
type candidate struct {
	path string
	// named is true for a file given by name (or the project file): it is
	// always a manifest file. A file found by walking a directory none of
	// whose documents is certplan's (isCertplanDocument) is some other YAML
	// (a CI pipeline, a compose file, a cert-manager resource) and is skipped.
	named bool
}

// isRegularFile reports whether a walked entry is a regular file, following
// a symbolic link to one.
func isRegularFile(path string, d fs.DirEntry) bool {
	if d.Type()&fs.ModeSymlink != 0 {
		info, err := os.Stat(path)
		return err == nil && info.Mode().IsRegular()
	}
	return d.Type().IsRegular()
}

func isManifestName(name string) bool {
	ext := strings.ToLower(filepath.Ext(name))
	return ext == ".yaml" || ext == ".yml"
}

// ProjectDir is the project directory of a manifest path (file or
// directory): the nearest directory at or above it that holds certplan.yaml,
// not looking above a Git work tree's root. The state file lives there.
func ProjectDir(path string) (string, bool) {
	fi, err := os.Stat(path)
	if err != nil {
		return "", false
	}
	pf, ok := findProjectFile(path, fi.IsDir())
	if !ok {
		return "", false
	}
	return filepath.Dir(pf), true
}

// findProjectFile looks for certplan.yaml in the directory of path and its
// parents, stopping at the first one found or at a directory that holds .git
// (the repository root) or at the file system root.
func findProjectFile(path string, isDir bool) (string, bool) {
	dir := path
	if !isDir {
		dir = filepath.Dir(path)
	}
	for i := 0; i < 64; i++ {
		pf := filepath.Join(dir, ProjectFile)
		if info, err := os.Stat(pf); err == nil && info.Mode().IsRegular() {
			return pf, true
		}
		if _, err := os.Stat(filepath.Join(dir, ".git")); err == nil {
			return "", false
		}
		abs, err := filepath.Abs(dir)
		if err != nil || filepath.Dir(abs) == abs {
			return "", false
		}
		dir = filepath.Join(dir, "..")
	}
	return "", false
}

// readLimited reads a file of at most MaxFileSize bytes. tooBig reports a file
// that is larger (its content is then not returned).
func readLimited(path string) (data []byte, tooBig bool, err error) {
	r, err := openRaw(path)
	if err != nil {
		return nil, false, err
	}
	defer r.Close()
	data = make([]byte, 0, 2048) // most manifests fit: one read, then EOF
	for {
		if len(data) == cap(data) {
			data = append(data, 0)[:len(data)]
		}
		n, err := r.Read(data[len(data):cap(data)])
		data = data[:len(data)+n]
		if len(data) > MaxFileSize {
			return nil, true, nil
		}
		if err == io.EOF {
			return data, false, nil
		}
		if err != nil {
			return nil, false, &fs.PathError{Op: "read", Path: path, Err: err}
		}
	}
}

// digest is the hex SHA-256 of data.
func digest(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// FileDigest returns the hex SHA-256 of a file, as recorded in Result.FileDigests.
// Plan files compare these to refuse a plan made from manifests that changed since.
// Like Load, it reads only a regular file (a link to one is followed, as
// when a directory is walked) of at most MaxFileSize bytes: a plan file
// names the manifests, and could name /dev/zero.
func FileDigest(path string) (string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("digest %s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		return "", fmt.Errorf("digest %s: %s, not a regular file", path, secret.FileKind(fi.Mode()))
	}
	data, tooBig, err := readLimited(path)
	switch {
	case err != nil:
		return "", fmt.Errorf("digest %s: %w", path, err)
	case tooBig:
		return "", fmt.Errorf("digest %s: file is larger than 1 MiB", path)
	}
	return digest(data), nil
}

// loadedFile is one manifest file after reading and parsing.
type loadedFile struct {
	path    string
	digest  string
	docs    []*rawDoc
	diags   []Diagnostic
	err     error // the file could not be read at all
	foreign bool  // not a manifest file: skipped
}

// loadFile reads and parses one manifest file, within the run's alias
// budget.
func loadFile(c candidate, aliases *atomic.Int64) loadedFile {
	lf := readManifestFile(c.path, aliases)
	if !c.named && lf.err == nil && isForeign(lf) {
		return loadedFile{path: c.path, foreign: true}
	}
	return lf
}

// isForeign reports whether a file parsed cleanly and none of its documents
// is certplan's (see isCertplanDocument): YAML that is not meant for certplan.
func isForeign(lf loadedFile) bool {
	if hasErrors(lf.diags) {
		return false
	}
	for _, d := range lf.docs {
		if isCertplanDocument(d.root) {
			return false
		}
	}
	return true
}

// isCertplanDocument tells a certplan document from another tool's:
//
//   - one with spec.product or spec.order is a manifest, whatever its
//     apiVersion and kind say or however they are spelled: skipping it
//     would orphan its certificate;
//   - else one with an apiVersion is certplan's when that starts with
//     "certplan" (cert-manager.io/v1, v1, apps/v1 are other tools');
//   - else one with a kind is certplan's when it is Certificate or Defaults
//     (Drone's "kind: pipeline" has no apiVersion);
//   - YAML with neither (CI pipelines, compose files) is not.
func isCertplanDocument(root *tree) bool {
	spec := root.field("spec")
	if spec.field("product") != nil || spec.field("order") != nil {
		return true
	}
	if av := root.field("apiVersion"); av != nil {
		s, _ := av.str()
		return strings.HasPrefix(strings.ToLower(strings.TrimSpace(s)), "certplan")
	}
	if k := root.field("kind"); k != nil {
		s, _ := k.str()
		return s == kindCertificate || s == kindDefaults
	}
	return false
}

func readManifestFile(path string, aliases *atomic.Int64) loadedFile {
	lf := loadedFile{path: path}
	data, tooBig, err := readLimited(path)
	switch {
	case err != nil:
		lf.err = fmt.Errorf("read manifest %s: %w", path, err)
		return lf
	case tooBig:
		lf.diags = append(lf.diags, errorAt(Pos{File: path}, "", "file is larger than 1 MiB; split it into one manifest per certificate"))
		return lf
	}
	return parseManifest(path, data, aliases)
}

// parseManifest parses the content of a manifest file read from path.
func parseManifest(path string, data []byte, aliases *atomic.Int64) loadedFile {
	lf := loadedFile{path: path}
	lf.digest = digest(data)
	if d, bad := utf8Error(path, data); bad {
		lf.diags = append(lf.diags, d)
		return lf
	}
	lf.docs, lf.diags = parseYAMLBudget(path, data, aliases)
	if len(lf.docs) == 0 && len(lf.diags) == 0 {
		lf.diags = append(lf.diags, warningAt(Pos{File: path}, "", "no YAML documents in this file"))
	}
	return lf
}

var errNoPaths = errors.New("no manifest paths given")
