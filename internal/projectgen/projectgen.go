// Package projectgen writes certplan projects shaped like real repositories,
// for benchmarks: one manifest file and one distinct CSR (its own ECDSA P-256
// key) per certificate. Sharing a CSR across manifests would let pkg/spec
// verify each signature once and cache it, and packing many manifests into
// one file would hide the per-file cost, so neither measures what users see.
//
// Only tests import this package.
package projectgen

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
)

// PerDir is how many certificates share a directory (teams/dNN/).
const PerDir = 100

// Product is the product of every generated manifest.
const Product = "ssl_securesite_flex"

// Name is the metadata.name of certificate i.
func Name(i int) string { return fmt.Sprintf("web-%05d", i) }

// Host is the common name of certificate i; its CSR carries it and www.Host(i).
func Host(i int) string { return Name(i) + ".example.com" }

// Defaults is the project's certplan.yaml: the organization, payment and
// signature hash every Secure Site order shares.
const Defaults = `apiVersion: certplan/v1
kind: Defaults
metadata: {name: defaults}
spec:
  products: [ssl_securesite_flex]
  order:
    organization: {id: 123456}
    payment_method: balance
    certificate: {signature_hash: sha256}
`

// Manifest is the manifest file of certificate i; its CSR is Name(i)+".csr"
// in the same directory.
func Manifest(i int) string {
	return fmt.Sprintf(`apiVersion: certplan/v1
kind: Certificate
metadata:
  name: %[1]s
spec:
  product: %[3]s
  order:
    certificate:
      common_name: %[2]s
      dns_names: [www.%[2]s]
      csr: {file: %[1]s.csr}
    order_validity: {years: 1}
    dcv_method: dns-txt-token
    comments: benchmark manifest %[4]d
    additional_emails: [ops@example.com]
`, Name(i), Host(i), Product, i)
}

// Write writes a project of n certificates under dir: a repository root
// (.git/HEAD, so the certplan.yaml search stops there), certplan.yaml, and
// for each certificate i teams/dNN/Name(i).yaml beside Name(i).csr, with
// PerDir certificates a directory.
func Write(dir string, n int) error {
	csrs, err := CSRs(n)
	if err != nil {
		return err
	}
	write := func(rel, content string) error {
		return os.WriteFile(filepath.Join(dir, rel), []byte(content), 0o644)
	}
	if err := os.MkdirAll(filepath.Join(dir, ".git"), 0o755); err != nil {
		return err
	}
	if err := write(".git/HEAD", "ref: refs/heads/main\n"); err != nil {
		return err
	}
	if err := write("certplan.yaml", Defaults); err != nil {
		return err
	}
	for i := 0; i < n; i++ {
		sub := filepath.Join("teams", fmt.Sprintf("d%02d", i/PerDir))
		if i%PerDir == 0 {
			if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
				return err
			}
		}
		if err := write(filepath.Join(sub, Name(i)+".yaml"), Manifest(i)); err != nil {
			return err
		}
		if err := write(filepath.Join(sub, Name(i)+".csr"), csrs[i]); err != nil {
			return err
		}
	}
	return nil
}

// cache keeps the CSRs generated so far in this process: benchmark functions
// run more than once per process (-count, b.N probing), and key generation
// is the slow part of the setup. Nothing is kept across processes.
var cache struct {
	sync.Mutex
	csrs []string
}

// CSRs returns n PEM certificate signing requests, CSR i for Host(i) and
// www.Host(i), each with its own ECDSA P-256 key, so all are distinct.
func CSRs(n int) ([]string, error) {
	cache.Lock()
	defer cache.Unlock()
	have := len(cache.csrs)
	if have >= n {
		return cache.csrs[:n], nil
	}
	more := make([]string, n-have)
	errs := make([]error, len(more))
	var wg sync.WaitGroup
	workers := runtime.GOMAXPROCS(0)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := w; k < len(more); k += workers {
				more[k], errs[k] = newCSR(Host(have + k))
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	cache.csrs = append(cache.csrs, more...)
	return cache.csrs[:n], nil
}

func newCSR(host string) (string, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", err
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
		Subject:  pkix.Name{CommonName: host, Organization: []string{"Example Inc"}},
		DNSNames: []string{host, "www." + host},
	}, key)
	if err != nil {
		return "", err
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})), nil
}
