package spec

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// csrFromTestdata marks a file whose content is copied from testdata/csr.
const csrFromTestdata = "@csr:"

// writeTree writes files (relative path -> content) under dir. A content of
// "@csr:NAME" copies testdata/csr/NAME.
func writeTree(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		if src, ok := strings.CutPrefix(content, csrFromTestdata); ok {
			data, err := os.ReadFile(filepath.Join("testdata", "csr", src))
			if err != nil {
				t.Fatal(err)
			}
			content = string(data)
		}
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// loadIn writes files into a fresh directory (a repository root, so the
// certplan.yaml search stops there), changes into it and loads paths.
func loadIn(t *testing.T, files map[string]string, paths ...string) *Result {
	t.Helper()
	dir := t.TempDir()
	files[".git/HEAD"] = "ref: refs/heads/main\n"
	writeTree(t, dir, files)
	if len(paths) == 0 {
		paths = []string{"."}
	}
	t.Chdir(dir)
	res, err := Load(paths)
	if err != nil {
		t.Fatalf("Load(%v): %v", paths, err)
	}
	return res
}

// certYAML is a Certificate manifest. order is spec.order, un-indented; its
// first line is line 8 of the file.
func certYAML(name, product, order string) string {
	var b strings.Builder
	b.WriteString("apiVersion: certplan/v1\nkind: Certificate\nmetadata:\n  name: " + name + "\nspec:\n  product: " + product + "\n  order:\n")
	for _, line := range strings.Split(strings.TrimRight(order, "\n"), "\n") {
		b.WriteString("    " + line + "\n")
	}
	return b.String()
}

// validSecureSite is a complete ssl_securesite_flex order (lines 8-14) whose
// names match testdata/csr/rsa2048.csr, given as csr.pem.
const validSecureSite = `certificate:
  common_name: shop.example.com
  dns_names: [www.shop.example.com]
  csr: {file: csr.pem}
  signature_hash: sha256
order_validity: {years: 1}
organization: {id: 1}
`

func diagStrings(ds []Diagnostic) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.String()
	}
	return out
}
