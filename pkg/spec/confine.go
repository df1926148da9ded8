package spec

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Files a manifest names ({file: PATH} for CSRs and secrets) must be inside
// the project (Project.Root) or a directory the user allowed
// (--allow-files-in). Otherwise a pull request could name
// /proc/self/environ or ~/.ssh/id_rsa: `plan` would tell whether it exists,
// and `apply` would send its content to CertCentral.
//
// fileRoots checks a path without ever touching a file outside them: the
// path is first checked as written, then resolved one element at a time,
// and each symbolic link's destination is checked as written before it is
// followed. So "is outside the project" never depends on whether the file
// exists, and a link in the repository cannot be used to probe the host.

// fileRoots are the directories file references may point into.
type fileRoots struct {
	dirs []rootDir
}

// rootDir is one allowed directory, absolute, as given and as resolved.
type rootDir struct {
	abs  string // cleaned absolute path as given
	real string // with symbolic links resolved (abs when that failed)
}

func newFileRoots(dirs ...string) fileRoots {
	var r fileRoots
	seen := map[string]bool{}
	for _, d := range dirs {
		if d == "" {
			continue
		}
		abs, err := filepath.Abs(d)
		if err != nil || seen[abs] {
			continue
		}
		seen[abs] = true
		real, err := filepath.EvalSymlinks(abs)
		if err != nil {
			real = abs
		}
		r.dirs = append(r.dirs, rootDir{abs: abs, real: real})
	}
	return r
}

// OutsideError says a file reference points outside the project.
type OutsideError struct {
	Path  string   // the path as referenced (absolute)
	Via   string   // the symbolic link whose destination is outside, if that is why
	Roots []string // the allowed directories
}

func (e *OutsideError) Error() string {
	where := "the project directory " + e.Roots[0]
	if len(e.Roots) > 1 {
		where = "the allowed directories (" + strings.Join(e.Roots, ", ") + ")"
	}
	if len(e.Roots) == 0 {
		where = "the project"
	}
	what := e.Path + " is outside " + where
	if e.Via != "" {
		what = e.Path + " leads outside " + where + " through the symbolic link " + e.Via
	}
	return what + ": certplan reads only files inside the project (a manifest could otherwise name any file on this host); " +
		"move the file into the project, or allow its directory with --allow-files-in DIR"
}

func (r fileRoots) outside(path, via string) error {
	roots := make([]string, len(r.dirs))
	for i, d := range r.dirs {
		roots[i] = d.abs
	}
	return &OutsideError{Path: path, Via: via, Roots: roots}
}

// within reports whether path (absolute, clean) is dir or below it.
func within(dir, path string) bool {
	if path == dir {
		return true
	}
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}

// root finds the allowed directory that holds path (as given or resolved)
// and returns its resolved form and the path relative to it.
func (r fileRoots) root(path string) (real, rel string, ok bool) {
	for _, d := range r.dirs {
		for _, base := range []string{d.real, d.abs} {
			if within(base, path) {
				rel, _ := filepath.Rel(base, path)
				return d.real, rel, true
			}
		}
	}
	return "", "", false
}

// maxLinkHops bounds the symbolic links followed for one path (as Linux does).
const maxLinkHops = 40

// resolve returns the path of the file that path names, with every
// symbolic link resolved, once it is sure that the file and every link on
// the way are inside the roots; an *OutsideError otherwise. An error from
// the file system (a missing file) is about a path inside the roots.
func (r fileRoots) resolve(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	cur, rel, ok := r.root(abs)
	if !ok {
		return "", r.outside(abs, "")
	}
	rest := splitPath(rel)
	for hops := 0; len(rest) > 0; {
		next := filepath.Join(cur, rest[0])
		rest = rest[1:]
		fi, err := os.Lstat(next)
		if err != nil {
			return "", err
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			cur = next
			continue
		}
		if hops++; hops > maxLinkHops {
			return "", &fs.PathError{Op: "resolve", Path: abs, Err: errors.New("too many symbolic links")}
		}
		target, err := os.Readlink(next)
		if err != nil {
			return "", err
		}
		if !filepath.IsAbs(target) {
			target = filepath.Join(cur, target)
		}
		target = filepath.Clean(target)
		root, trel, ok := r.root(target)
		if !ok {
			return "", r.outside(abs, next)
		}
		cur, rest = root, append(splitPath(trel), rest...)
	}
	return cur, nil
}

func splitPath(rel string) []string {
	if rel == "." || rel == "" {
		return nil
	}
	return strings.Split(rel, string(filepath.Separator))
}
