//go:build long

package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeManifests writes a project of n Secure Site manifests into dir, perFile
// documents a file, sharing one CSR and a certplan.yaml with the organization,
// payment and signature hash, as the crash tests need. (Benchmarks use
// internal/projectgen: one file and one distinct CSR per certificate.)
func writeManifests(t testing.TB, dir string, n, perFile int) {
	t.Helper()
	csr, err := os.ReadFile("../../examples/csr/shop-frontend.csr")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(name, content string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("shop.csr", string(csr))
	write("certplan.yaml", `apiVersion: certplan/v1
kind: Defaults
metadata: {name: defaults}
spec:
  order:
    organization: {id: 123456}
    payment_method: balance
    certificate: {signature_hash: sha256}
`)
	for first := 0; first < n; first += perFile {
		var b strings.Builder
		for i := first; i < min(first+perFile, n); i++ {
			fmt.Fprintf(&b, `---
apiVersion: certplan/v1
kind: Certificate
metadata: {name: web-%05d}
spec:
  product: ssl_securesite_flex
  order:
    certificate:
      common_name: shop.example.com
      dns_names: [www.shop.example.com]
      csr: {file: shop.csr}
    order_validity: {years: 1}
`, i)
		}
		write(fmt.Sprintf("certs-%04d.yaml", first/perFile), b.String())
	}
}
