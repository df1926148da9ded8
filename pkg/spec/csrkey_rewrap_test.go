package spec_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"strings"
	"testing"

	"github.com/certplan/certplan/pkg/spec"
)

func newCSR(t *testing.T, key *ecdsa.PrivateKey, cn string) string {
	t.Helper()
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
		Subject: pkix.Name{CommonName: cn}, DNSNames: []string{cn},
	}, key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}))
}

// The digest identifies the key, not the request: the same key under other
// names digests the same, another key differently, and CertCentral's
// rewrapping of the PEM (as list-reissues returns it) changes nothing.
func TestCSRKeyDigestOfRewrappedCSRs(t *testing.T) {
	k1, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	k2, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	a := newCSR(t, k1, "a.example.com")
	spki, err := x509.MarshalPKIXPublicKey(&k1.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(spki)
	want := hex.EncodeToString(sum[:])

	got, err := spec.CSRKeyDigest(a)
	if err != nil || got != want {
		t.Fatalf("CSRKeyDigest = %q, %v; want the sha256 of the SPKI %q", got, err, want)
	}
	for name, other := range map[string]string{
		"same key, other names":    newCSR(t, k1, "b.example.com"),
		"escaped newlines":         strings.ReplaceAll(a, "\n", `\n`),
		"CRLF":                     strings.ReplaceAll(a, "\n", "\r\n"),
		"without armour, one line": strings.Join(strings.Split(a, "\n")[1:len(strings.Split(a, "\n"))-2], ""),
	} {
		if d, err := spec.CSRKeyDigest(other); err != nil || d != want {
			t.Errorf("%s: %q, %v; want %q", name, d, err, want)
		}
	}
	if d, _ := spec.CSRKeyDigest(newCSR(t, k2, "a.example.com")); d == want {
		t.Error("another key has the same digest")
	}
	for _, bad := range []string{"", "-----BEGIN CERTIFICATE REQUEST-----\n!!!\n-----END CERTIFICATE REQUEST-----", "TUlJQg=="} {
		if d, err := spec.CSRKeyDigest(bad); err == nil {
			t.Errorf("CSRKeyDigest(%q) = %q, want an error", bad, d)
		}
	}
}
