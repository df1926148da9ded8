package certcentral

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
)

// CSRKeyDigest is the hex sha256 of the DER SubjectPublicKeyInfo of a PEM
// CSR: what identifies a reissue, which has no client key. Two CSRs for the
// same key have the same digest whatever else differs (names, signature
// hash, attributes), and CertCentral's rewrapping of the PEM (line breaks,
// escaped "\n", a missing armour) does not change it. It is the one place
// certplan computes the digest: the planner fills plan.Change.CSRKeyDigest
// with it, apply journals it and matches it against the certificates of the
// order after an ambiguous failure.
func CSRKeyDigest(csrPEM string) (string, error) {
	body := csrBody(csrPEM)
	if body == "" {
		return "", errors.New("no CSR")
	}
	der, err := base64.StdEncoding.DecodeString(body)
	if err != nil {
		return "", fmt.Errorf("CSR is not base64 PEM: %w", err)
	}
	csr, err := x509.ParseCertificateRequest(der)
	if err != nil {
		return "", fmt.Errorf("CSR cannot be parsed: %w", err)
	}
	sum := sha256.Sum256(csr.RawSubjectPublicKeyInfo)
	return hex.EncodeToString(sum[:]), nil
}
