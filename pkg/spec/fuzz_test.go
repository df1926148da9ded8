package spec

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzLoad loads arbitrary bytes as a manifest (beside a valid CSR and a
// Defaults file): no input may panic, and a readable file never makes Load
// fail; every problem must be a diagnostic with a position in a file of the
// run. Run: go test -run '^$' -fuzz FuzzLoad ./pkg/spec
//
// The input is parsed in memory and goes through what Load does after
// reading files (assemble); only the CSR, written once, is read from disk.
// Writing a directory of files per input made each execution cost
// milliseconds, and the fuzzer then spent its time minimizing (each
// minimization runs the target thousands of times) instead of exploring.
func FuzzLoad(f *testing.F) {
	seeds := []string{
		certYAML("shop", "ssl_securesite_flex", validSecureSite),
		certYAML("www", "legacy_ssl", "csr: {file: csr.pem}\nvalidity: 1\n"),
		defaultsYAML("[private_ssl_flex]", "comments: x\n"),
		"a: &a [1, *a]\n",
		"- [[[[[]]]]]\n",
		"apiVersion: certplan/v1\nkind: Certificate\n---\n---\n- x\n",
		"k: !!binary aGVsbG8=\nv: !foo bar\n<<: {x: 1}\n",
		"a: 1\na: 2\n",
		"\xff\xfe",
	}
	for _, pattern := range []string{"testdata/golden/*/*.yaml", "testdata/golden/*/*/*.yaml", "testdata/golden/*/*/*/*.yml", "../../examples/certs/*.yaml", "../../examples/*.yaml"} {
		files, _ := filepath.Glob(pattern)
		for _, name := range files {
			if data, err := os.ReadFile(name); err == nil {
				seeds = append(seeds, string(data))
			}
		}
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	csr, err := os.ReadFile("testdata/csr/rsa2048.csr")
	if err != nil {
		f.Fatal(err)
	}
	dir := f.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "csr.pem"), csr, 0o644); err != nil {
		f.Fatal(err)
	}
	v, err := embeddedValidator()
	if err != nil {
		f.Fatal(err)
	}
	roots := newFileRoots(dir)
	project := []byte(defaultsYAML("", "organization: {id: 1}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		aliases := newRunBudget()
		// As Load finds them: certplan.yaml (named) and fuzz.yaml (found by
		// walking the directory: skipped when it is not a manifest at all).
		pf := parseManifest(filepath.Join(dir, ProjectFile), project, aliases)
		lf := parseManifest(filepath.Join(dir, "fuzz.yaml"), data, aliases)
		if isForeign(lf) {
			lf = loadedFile{path: lf.path, foreign: true}
		}
		res, err := assemble([]loadedFile{pf, lf}, v, LoadOptions{}, roots)
		if err != nil {
			t.Fatalf("Load: %v", err)
		}
		for _, d := range res.Diagnostics {
			if !strings.HasPrefix(d.Pos.File, dir) || d.Message == "" {
				t.Errorf("diagnostic without a place or message: %q", d)
			}
		}
		if !res.HasErrors() && len(res.Certificates) != res.Manifests {
			t.Errorf("no errors, but %d of %d certificates", len(res.Certificates), res.Manifests)
		}
	})
}

// The in-memory FuzzLoad must see what Load sees: the same diagnostics for
// the same files on disk.
func TestFuzzLoadMatchesLoad(t *testing.T) {
	dir := t.TempDir()
	csr, err := os.ReadFile("testdata/csr/rsa2048.csr")
	if err != nil {
		t.Fatal(err)
	}
	project := defaultsYAML("", "organization: {id: 1}\n")
	v, err := embeddedValidator()
	if err != nil {
		t.Fatal(err)
	}
	for _, manifest := range []string{
		certYAML("shop", "ssl_securesite_flex", validSecureSite),
		certYAML("www", "legacy_ssl", "csr: {file: csr.pem}\nvalidity: 1\n"),
		"a: 1\na: 2\n",
		"just: yaml\n",
	} {
		writeTree(t, dir, map[string]string{"csr.pem": string(csr), ProjectFile: project, "fuzz.yaml": manifest})
		want, err := Load([]string{dir})
		if err != nil {
			t.Fatal(err)
		}
		aliases := newRunBudget()
		lf := parseManifest(filepath.Join(dir, "fuzz.yaml"), []byte(manifest), aliases)
		if isForeign(lf) {
			lf = loadedFile{path: lf.path, foreign: true}
		}
		got, err := assemble([]loadedFile{parseManifest(filepath.Join(dir, ProjectFile), []byte(project), aliases), lf}, v, LoadOptions{}, newFileRoots(dir))
		if err != nil {
			t.Fatal(err)
		}
		if g, w := strings.Join(diagStrings(got.Diagnostics), "\n"), strings.Join(diagStrings(want.Diagnostics), "\n"); g != w || len(got.Certificates) != len(want.Certificates) {
			t.Errorf("in memory:\n%s\n%d certificates\nLoad:\n%s\n%d certificates", g, len(got.Certificates), w, len(want.Certificates))
		}
	}
}
