package spec

import (
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func readTestCSR(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile("testdata/csr/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func TestCheckCSR(t *testing.T) {
	tests := []struct {
		file    string
		text    string // used when file is empty
		problem string // substring; "" means acceptable
		names   []string
	}{
		{file: "rsa2048.csr", names: []string{"shop.example.com", "www.shop.example.com"}},
		{file: "ecp256.csr", names: []string{"api.example.com"}},
		{file: "ecp384.csr", names: []string{"api.example.com"}},
		{file: "rsa1024.csr", problem: "CSR key is RSA 1024 bits; use RSA with 2048 bits or more"},
		{file: "ecp521.csr", problem: "CSR key is ECDSA P-521"},
		{file: "ed25519.csr", problem: "CSR key is Ed25519"},
		{file: "badsig.csr", problem: "CSR self-signature is invalid"},
		{file: "certificate.pem", problem: `PEM block is "CERTIFICATE", want a CERTIFICATE REQUEST`},
		{text: "hello", problem: "not a PEM certificate signing request"},
		{text: "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n", problem: "CSR cannot be parsed"},
	}
	for _, tt := range tests {
		name := tt.file
		if name == "" {
			name = tt.text
		}
		t.Run(name, func(t *testing.T) {
			text := tt.text
			if tt.file != "" {
				text = readTestCSR(t, tt.file)
			}
			got := checkCSR(text)
			if tt.problem == "" {
				if got.problem != "" {
					t.Fatalf("problem %q, want none", got.problem)
				}
				if diff := cmp.Diff(tt.names, got.names); diff != "" {
					t.Errorf("names (-want +got):\n%s", diff)
				}
				return
			}
			if !strings.Contains(got.problem, tt.problem) {
				t.Errorf("problem %q, want it to contain %q", got.problem, tt.problem)
			}
		})
	}
}

func TestCSRCacheChecksEachContentOnce(t *testing.T) {
	c := newCSRCache()
	text := readTestCSR(t, "ecp256.csr")
	first := c.check(text)
	if len(c.checks) != 1 {
		t.Fatalf("cache has %d entries, want 1", len(c.checks))
	}
	if again := c.check(text); !cmp.Equal(first, again, cmp.AllowUnexported(csrReport{})) {
		t.Errorf("cached report %+v differs from first %+v", again, first)
	}
	c.check(readTestCSR(t, "ecp384.csr"))
	if len(c.checks) != 2 {
		t.Errorf("cache has %d entries, want 2", len(c.checks))
	}
}
