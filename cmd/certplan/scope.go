package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/certplan/certplan/pkg/spec"
)

// partialPlan reports whether paths load only some of the project's
// manifests, so that the plan must not call the state's other certificates
// orphaned (#12 item 7: `certplan plan certs/shop.yaml`, the kubectl habit,
// listed every other certificate as orphaned and advised `state rm`).
//
// The whole project is loaded when no path is given, when a path is the
// project directory (where certplan.yaml is; without one, the directory of
// the first path, where the state then lives) or a directory above it, or
// when the directories given hold every manifest file of the project
// (`certplan plan certs/` in the layout `certplan init` makes, where
// certplan.yaml sits beside certs/). Anything else is partial: the project
// directory is walked (hidden directories and the directories given are
// skipped) for a YAML file that holds certplan documents and was not loaded.
func partialPlan(paths []string, res *spec.Result) bool {
	if len(paths) == 0 {
		return false
	}
	root := paths[0]
	if fi, err := os.Stat(root); err != nil || !fi.IsDir() {
		root = filepath.Dir(root)
	}
	if project, ok := spec.ProjectDir(root); ok {
		root = project
	}
	rootAbs, err := filepath.Abs(root)
	if err != nil {
		return true
	}
	var dirs []string
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil || !fi.IsDir() {
			continue
		}
		abs, err := filepath.Abs(p)
		if err != nil {
			continue
		}
		if abs == rootAbs || within(rootAbs, abs) {
			return false // the project directory, or one above it
		}
		dirs = append(dirs, abs)
	}
	loaded := map[string]bool{}
	for _, f := range append(append([]string{}, res.Files...), res.Skipped...) {
		if abs, err := filepath.Abs(f); err == nil {
			loaded[abs] = true
		}
	}
	partial := false
	_ = filepath.WalkDir(rootAbs, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if d != nil && d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			if p != rootAbs && (strings.HasPrefix(d.Name(), ".") || containsPath(dirs, p)) {
				return filepath.SkipDir
			}
			return nil
		}
		if !spec.IsManifestName(d.Name()) || loaded[p] || !d.Type().IsRegular() {
			return nil
		}
		if spec.IsManifestFile(p) {
			partial = true
			return filepath.SkipAll
		}
		return nil
	})
	return partial
}

// within reports whether dir (absolute) is inside parent (absolute).
func within(dir, parent string) bool {
	rel, err := filepath.Rel(parent, dir)
	return err == nil && rel != "." && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

func containsPath(list []string, p string) bool {
	for _, x := range list {
		if x == p {
			return true
		}
	}
	return false
}
