package simulator

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"time"
)

// Names of the simulator's CA certificates.
const (
	rootCommonName         = "certplan simulator Root CA"
	intermediateCommonName = "certplan simulator Intermediate CA"
)

// ca is the local CA: an ECDSA P-256 root and an intermediate that signs
// every end-entity certificate.
type ca struct {
	root     *x509.Certificate
	rootKey  *ecdsa.PrivateKey
	inter    *x509.Certificate
	interKey *ecdsa.PrivateKey
}

// caState is the CA as stored in the state file (PEM).
type caState struct {
	RootCert         string `json:"root_cert"`
	RootKey          string `json:"root_key"`
	IntermediateCert string `json:"intermediate_cert"`
	IntermediateKey  string `json:"intermediate_key"`
}

func newCA(now time.Time) (*ca, error) {
	rootKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate root key: %w", err)
	}
	interKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate intermediate key: %w", err)
	}
	start := now.Add(-time.Hour)
	rootTmpl := &x509.Certificate{
		SerialNumber:          randomSerial(),
		Subject:               pkix.Name{CommonName: rootCommonName, Organization: []string{"certplan simulator"}},
		NotBefore:             start,
		NotAfter:              start.AddDate(25, 0, 0),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLen:            1,
	}
	rootDER, err := x509.CreateCertificate(rand.Reader, rootTmpl, rootTmpl, &rootKey.PublicKey, rootKey)
	if err != nil {
		return nil, fmt.Errorf("create root certificate: %w", err)
	}
	root, err := x509.ParseCertificate(rootDER)
	if err != nil {
		return nil, fmt.Errorf("parse root certificate: %w", err)
	}
	interTmpl := &x509.Certificate{
		SerialNumber:          randomSerial(),
		Subject:               pkix.Name{CommonName: intermediateCommonName, Organization: []string{"certplan simulator"}},
		NotBefore:             start,
		NotAfter:              start.AddDate(20, 0, 0),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLen:            0,
		MaxPathLenZero:        true,
	}
	interDER, err := x509.CreateCertificate(rand.Reader, interTmpl, root, &interKey.PublicKey, rootKey)
	if err != nil {
		return nil, fmt.Errorf("create intermediate certificate: %w", err)
	}
	inter, err := x509.ParseCertificate(interDER)
	if err != nil {
		return nil, fmt.Errorf("parse intermediate certificate: %w", err)
	}
	return &ca{root: root, rootKey: rootKey, inter: inter, interKey: interKey}, nil
}

// randomSerial returns a positive random 127-bit serial number.
func randomSerial() *big.Int {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	b[0] = b[0]&0x3f | 0x40
	return new(big.Int).SetBytes(b)
}

// certKind selects the end-entity profile.
type certKind int

const (
	kindTLS certKind = iota
	kindDocumentSigning
)

// oidDocumentSigning is Microsoft's document signing EKU (1.3.6.1.4.1.311.10.3.12).
var oidDocumentSigning = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 311, 10, 3, 12}

// leafRequest is what an end-entity certificate is made of.
type leafRequest struct {
	kind          certKind
	publicKey     any
	commonName    string
	names         []string // TLS: SANs (DNS names or IP addresses)
	email         string   // document signing: subject email
	organization  string
	signatureHash string // sha256|sha384|sha512
	notBefore     time.Time
	notAfter      time.Time
}

// issue signs an end-entity certificate with the intermediate and returns its DER.
func (c *ca) issue(r leafRequest) ([]byte, error) {
	tmpl := &x509.Certificate{
		SerialNumber:       randomSerial(),
		Subject:            pkix.Name{CommonName: r.commonName},
		NotBefore:          r.notBefore,
		NotAfter:           r.notAfter,
		SignatureAlgorithm: signatureAlgorithm(r.signatureHash),
	}
	if r.organization != "" {
		tmpl.Subject.Organization = []string{r.organization}
	}
	switch r.kind {
	case kindTLS:
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
		for _, n := range r.names {
			if ip := net.ParseIP(n); ip != nil {
				tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
			} else {
				tmpl.DNSNames = append(tmpl.DNSNames, n)
			}
		}
	case kindDocumentSigning:
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection}
		tmpl.UnknownExtKeyUsage = []asn1.ObjectIdentifier{oidDocumentSigning}
		if r.email != "" {
			tmpl.EmailAddresses = []string{r.email}
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, c.inter, r.publicKey, c.interKey)
	if err != nil {
		return nil, fmt.Errorf("sign certificate for %s: %w", r.commonName, err)
	}
	return der, nil
}

func signatureAlgorithm(hash string) x509.SignatureAlgorithm {
	switch hash {
	case "sha384":
		return x509.ECDSAWithSHA384
	case "sha512":
		return x509.ECDSAWithSHA512
	}
	return x509.ECDSAWithSHA256
}

func pemCert(der []byte) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

func (c *ca) state() (caState, error) {
	rk, err := x509.MarshalPKCS8PrivateKey(c.rootKey)
	if err != nil {
		return caState{}, fmt.Errorf("encode root key: %w", err)
	}
	ik, err := x509.MarshalPKCS8PrivateKey(c.interKey)
	if err != nil {
		return caState{}, fmt.Errorf("encode intermediate key: %w", err)
	}
	return caState{
		RootCert:         pemCert(c.root.Raw),
		RootKey:          string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: rk})),
		IntermediateCert: pemCert(c.inter.Raw),
		IntermediateKey:  string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: ik})),
	}, nil
}

func caFromState(st caState) (*ca, error) {
	root, err := parsePEMCert(st.RootCert)
	if err != nil {
		return nil, fmt.Errorf("root certificate: %w", err)
	}
	rootKey, err := parsePEMKey(st.RootKey)
	if err != nil {
		return nil, fmt.Errorf("root key: %w", err)
	}
	inter, err := parsePEMCert(st.IntermediateCert)
	if err != nil {
		return nil, fmt.Errorf("intermediate certificate: %w", err)
	}
	interKey, err := parsePEMKey(st.IntermediateKey)
	if err != nil {
		return nil, fmt.Errorf("intermediate key: %w", err)
	}
	return &ca{root: root, rootKey: rootKey, inter: inter, interKey: interKey}, nil
}

func parsePEMCert(s string) (*x509.Certificate, error) {
	b, _ := pem.Decode([]byte(s))
	if b == nil || b.Type != "CERTIFICATE" {
		return nil, errors.New("no CERTIFICATE PEM block")
	}
	return x509.ParseCertificate(b.Bytes)
}

func parsePEMKey(s string) (*ecdsa.PrivateKey, error) {
	b, _ := pem.Decode([]byte(s))
	if b == nil || b.Type != "PRIVATE KEY" {
		return nil, errors.New("no PRIVATE KEY PEM block")
	}
	k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
	if err != nil {
		return nil, err
	}
	ek, ok := k.(*ecdsa.PrivateKey)
	if !ok {
		return nil, errors.New("not an ECDSA key")
	}
	return ek, nil
}
