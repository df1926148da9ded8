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
func collectFiles(paths []string) ([]string, error) {
	seen := map[string]bool{} // by absolute path
	var files []string
	add := func(p string) {
		abs, err := filepath.Abs(p)
		if err != nil {
			abs = p
		}
		if !seen[abs] {
			seen[abs] = true
			files = append(files, filepath.Clean(p))
		}
	}
	for _, root := range paths {
		info, err := os.Stat(root)
		if err != nil {
			return nil, fmt.Errorf("read manifests: %w", err)
		}
		if !info.IsDir() {
			add(root)
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
				if isManifestName(d.Name()) && d.Type().IsRegular() {
					add(p)
				}
				return nil
			})
			if err != nil {
				return nil, fmt.Errorf("read manifests under %s: %w", root, err)
			}
		}
		if pf, ok := findProjectFile(root, info.IsDir()); ok {
			add(pf)
		}
	}
	sort.Strings(files)
	return files, nil
}

func isManifestName(name string) bool {
	ext := strings.ToLower(filepath.Ext(name))
	return ext == ".yaml" || ext == ".yml"
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
	f, err := os.Open(path)
	if err != nil {
		return nil, false, err
	}
	defer f.Close()
	data, err = io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, false, err
	}
	if len(data) > MaxFileSize {
		return nil, true, nil
	}
	return data, false, nil
}

// digest is the hex SHA-256 of data.
func digest(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// FileDigest returns the hex SHA-256 of a file, as recorded in Result.FileDigests.
// Plan files compare these to refuse a plan made from manifests that changed since.
func FileDigest(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("digest %s: %w", path, err)
	}
	return digest(data), nil
}

// loadedFile is one manifest file after reading and parsing.
type loadedFile struct {
	path   string
	digest string
	docs   []*rawDoc
	diags  []Diagnostic
	err    error // the file could not be read at all
}

// loadFile reads and parses one manifest file.
func loadFile(path string) loadedFile {
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
	lf.digest = digest(data)
	if d, bad := utf8Error(path, data); bad {
		lf.diags = append(lf.diags, d)
		return lf
	}
	lf.docs, lf.diags = parseYAML(path, data)
	if len(lf.docs) == 0 && len(lf.diags) == 0 {
		lf.diags = append(lf.diags, warningAt(Pos{File: path}, "", "no YAML documents in this file"))
	}
	return lf
}

var errNoPaths = errors.New("no manifest paths given")
