package spec

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/certplan/certplan/pkg/secret"
)

// referenceRoots are the directories the file references of a run may point
// into: the root of each path's project (Project.Root: its Git work tree,
// else its project directory) and the directories the user allowed.
func referenceRoots(paths, allow []string) (fileRoots, error) {
	var dirs []string
	for _, p := range paths {
		pr, err := FindProject([]string{p})
		if err != nil {
			return fileRoots{}, err
		}
		dirs = append(dirs, pr.Root)
	}
	return newFileRoots(append(dirs, allow...)...), nil
}

// checkSecretFiles checks every {file: PATH} secret reference of a merged
// order (skipping the CSR at csrPtr, which checkOrderCSR reads): the file
// must be inside the roots and, if it exists here, a regular file of at most
// MaxSecretFileSize bytes. A missing file is no error: plans of pull
// requests run without secrets, and plan warns about them. Problems are
// reported at the path in the reference. It returns the resolved path of
// each existing file, by the absolute path the reference names.
func (l *loader) checkSecretFiles(order *tree, csrPtr string) (map[string]string, []Diagnostic) {
	resolved := map[string]string{}
	var diags []Diagnostic
	var walk func(t *tree, ptr string)
	check := func(t *tree, ptr string) {
		ref, ok := secretRef(t)
		if !ok || ref.File == "" {
			return
		}
		at := t.entries[0].val.pos()
		field := dottedPath("/spec/order" + ptr)
		real, err := l.roots.resolve(ref.File)
		var out *OutsideError
		switch {
		case errors.As(err, &out):
			diags = append(diags, errorAt(at, field, "secret file %v", err))
			return
		case errors.Is(err, fs.ErrNotExist), err != nil:
			return // read, and reported, when the secret is needed
		}
		fi, err := os.Lstat(real)
		switch {
		case err != nil:
			return
		case !fi.Mode().IsRegular():
			diags = append(diags, errorAt(at, field, "secret file %s is %s, not a regular file", ref.File, secret.FileKind(fi.Mode())))
			return
		case fi.Size() > MaxSecretFileSize:
			diags = append(diags, errorAt(at, field, "secret file %s is %v", ref.File, &secret.TooLargeError{Limit: MaxSecretFileSize}))
			return
		}
		resolved[ref.File] = real
	}
	walk = func(t *tree, ptr string) {
		if t == nil {
			return
		}
		switch t.kind {
		case kindMap:
			if ptr == csrPtr {
				return
			}
			if _, ok := secretRef(t); ok {
				check(t, ptr)
				return
			}
			for _, e := range t.entries {
				walk(e.val, joinPointer(ptr, e.key))
			}
		case kindList:
			for i, it := range t.items {
				walk(it, fmt.Sprintf("%s/%d", ptr, i))
			}
		}
	}
	if order != nil {
		for _, e := range order.entries {
			walk(e.val, joinPointer("", e.key))
		}
	}
	return resolved, diags
}

// useResolvedFiles makes the secret references of cert name the files
// checkSecretFiles resolved, so that apply reads the very file checked
// (without following a link at its path) even if the manifest named it
// through links inside the project.
func useResolvedFiles(cert *Certificate, resolved map[string]string) {
	if cert == nil || len(resolved) == 0 {
		return
	}
	var walk func(v any) any
	walk = func(v any) any {
		switch t := v.(type) {
		case Secret:
			if real, ok := resolved[t.Ref.File]; ok {
				t.Ref.File = real
			}
			return t
		case map[string]any:
			for k, c := range t {
				t[k] = walk(c)
			}
		case []any:
			for i, c := range t {
				t[i] = walk(c)
			}
		}
		return v
	}
	walk(cert.Order)
}

// CheckFileRefs checks the secret references of a saved plan as Load checks
// those of manifests: each file must be inside the project of one of the
// manifest paths, or in allowFilesIn. A plan file is data that apply acts
// on; this keeps one made by hand from sending any file of the host.
func CheckFileRefs(manifests, allowFilesIn []string, refs map[string]SecretRef) error {
	var dirs []string
	for _, p := range manifests {
		if pr, err := FindProject([]string{p}); err == nil {
			dirs = append(dirs, pr.Root)
		}
	}
	roots := newFileRoots(append(dirs, allowFilesIn...)...)
	for field, ref := range refs {
		if ref.File == "" {
			continue
		}
		var out *OutsideError
		if _, err := roots.resolve(filepath.Clean(ref.File)); errors.As(err, &out) {
			return fmt.Errorf("%s: secret file %v", field, err)
		}
	}
	return nil
}
