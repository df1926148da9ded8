package spec

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Project is the project a run's manifests belong to. Its directory holds
// the state file, and its root bounds the files manifests may reference.
type Project struct {
	// Dir is the project directory: the one holding certplan.yaml, or,
	// without a project file, the one directory that holds all the paths.
	Dir string
	// File is the certplan.yaml found ("" when there is none).
	File string
	// Root bounds {file: PATH} references: the Git work tree that holds
	// Dir (the nearest directory at or above it with a .git), else Dir.
	Root string
}

// ProjectError says the paths of one run do not name one project, and how
// to make them.
type ProjectError struct{ msg string }

func (e *ProjectError) Error() string { return e.msg }

// FindProject returns the project of manifest paths (files or directories;
// none means the current directory). Each path's project file is the
// nearest certplan.yaml at or above it, not looking above a Git work tree's
// root. All paths must have the same one: a run never mixes projects, so
// the state's place cannot depend on the order or choice of paths. Without
// a project file, all paths must be in one directory (a directory path
// counts as itself, a file as its directory), which is then the project
// directory: paths spread over several directories need a certplan.yaml
// that holds them all, since with none the state's place would depend on
// which paths a run names.
func FindProject(paths []string) (Project, error) {
	if len(paths) == 0 {
		paths = []string{"."}
	}
	type found struct {
		path, dir, file string
	}
	var all []found
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			return Project{}, fmt.Errorf("read manifests: %w", err)
		}
		f := found{path: p, dir: filepath.Clean(p)}
		if !fi.IsDir() {
			f.dir = filepath.Dir(f.dir)
		}
		if pf, ok := findProjectFile(p, fi.IsDir()); ok {
			f.file = filepath.Clean(pf)
		}
		all = append(all, f)
	}
	first := all[0]
	anyFile := false
	for _, f := range all {
		anyFile = anyFile || f.file != ""
	}
	var mismatch []string
	for _, f := range all[1:] {
		switch {
		case anyFile:
			if !sameFile(first.file, f.file) {
				mismatch = append(mismatch, describeProject(f.path, f.file))
			}
		case !sameFile(first.dir, f.dir):
			mismatch = append(mismatch, f.dir)
		}
	}
	if len(mismatch) > 0 {
		if !anyFile {
			dirs := []string{first.dir}
			for _, f := range all[1:] {
				dirs = append(dirs, f.dir)
			}
			return Project{}, &ProjectError{fmt.Sprintf(
				"the manifests are in several directories (%s) and no %s says where the state lives: "+
					"create %s in a directory that holds them all (`certplan init` writes one), run certplan once per directory, or pass --state",
				strings.Join(uniqueSorted(dirs), ", "), ProjectFile, ProjectFile)}
		}
		return Project{}, &ProjectError{fmt.Sprintf(
			"the paths belong to different projects (%s, %s): the state of a project lives beside its %s, so run certplan once per project (or pass --state)",
			describeProject(first.path, first.file), strings.Join(mismatch, ", "), ProjectFile)}
	}
	pr := Project{Dir: first.dir, File: first.file}
	if first.file != "" {
		pr.Dir = filepath.Dir(first.file)
	}
	pr.Root = pr.Dir
	if root, ok := gitRoot(pr.Dir); ok {
		pr.Root = root
	}
	return pr, nil
}

func describeProject(path, file string) string {
	if file == "" {
		return path + " (no " + ProjectFile + ")"
	}
	return path + " (" + file + ")"
}

// sameFile reports whether a and b name the same file or directory ("" only
// equals "").
func sameFile(a, b string) bool {
	if a == "" || b == "" {
		return a == b
	}
	if a == b {
		return true
	}
	fa, err1 := os.Stat(a)
	fb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(fa, fb)
}

func uniqueSorted(s []string) []string {
	s = append([]string(nil), s...)
	sort.Strings(s)
	return uniqueStrings(s)
}

// gitRoot returns the nearest directory at or above dir that holds .git (a
// Git work tree's root; .git is a file in a linked work tree).
func gitRoot(dir string) (string, bool) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", false
	}
	for d := abs; ; d = filepath.Dir(d) {
		if _, err := os.Lstat(filepath.Join(d, ".git")); err == nil {
			if rel, err := filepath.Rel(abs, d); err == nil && !filepath.IsAbs(dir) {
				return filepath.Join(dir, rel), true
			}
			return d, true
		}
		if filepath.Dir(d) == d {
			return "", false
		}
	}
}
