package spec

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzLoad writes arbitrary bytes as a manifest (beside a valid CSR and a
// Defaults file) and loads it: no input may panic, and a readable file never
// makes Load fail; every problem must be a diagnostic with a position in a
// file of the run. Run: go test -fuzz FuzzLoad ./pkg/spec
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
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		writeFile := func(name string, content []byte) {
			if err := os.WriteFile(filepath.Join(dir, name), content, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		writeFile("csr.pem", csr)
		writeFile("fuzz.yaml", data)
		writeFile("certplan.yaml", []byte(defaultsYAML("", "organization: {id: 1}\n")))
		res, err := Load([]string{dir})
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
