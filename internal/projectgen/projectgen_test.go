package projectgen

import (
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestCSRsAreDistinctAndValid(t *testing.T) {
	csrs, err := CSRs(5)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for i, text := range csrs {
		if seen[text] {
			t.Errorf("CSR %d repeats an earlier one", i)
		}
		seen[text] = true
		block, _ := pem.Decode([]byte(text))
		if block == nil {
			t.Fatalf("CSR %d: no PEM block", i)
		}
		csr, err := x509.ParseCertificateRequest(block.Bytes)
		if err != nil {
			t.Fatalf("CSR %d: %v", i, err)
		}
		if err := csr.CheckSignature(); err != nil {
			t.Errorf("CSR %d: %v", i, err)
		}
		if csr.Subject.CommonName != Host(i) || !slices.Equal(csr.DNSNames, []string{Host(i), "www." + Host(i)}) {
			t.Errorf("CSR %d names %s %v, want %s and www.%[4]s", i, csr.Subject.CommonName, csr.DNSNames, Host(i))
		}
	}
	again, err := CSRs(3)
	if err != nil || !slices.Equal(again, csrs[:3]) {
		t.Errorf("CSRs(3) after CSRs(5) is not a prefix of it (err %v)", err)
	}
}

func TestWriteLaysOutOneFilePerCertificate(t *testing.T) {
	dir := t.TempDir()
	if err := Write(dir, PerDir+1); err != nil {
		t.Fatal(err)
	}
	for _, rel := range []string{".git/HEAD", "certplan.yaml",
		"teams/d00/web-00000.yaml", "teams/d00/web-00000.csr",
		"teams/d01/web-00100.yaml", "teams/d01/web-00100.csr"} {
		if _, err := os.Stat(filepath.Join(dir, rel)); err != nil {
			t.Error(err)
		}
	}
}
