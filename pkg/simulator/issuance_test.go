package simulator

import (
	"crypto"
	"crypto/sha1" //nolint:gosec // thumbprints are SHA-1
	"crypto/x509"
	"encoding/asn1"
	"encoding/hex"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// verifyChain checks leaf against the simulator's root with the intermediate.
func verifyChain(t *testing.T, s *sim, leaf *x509.Certificate, inter *x509.Certificate, usage x509.ExtKeyUsage) {
	t.Helper()
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(s.s.CACertPEM()) {
		t.Fatal("CACertPEM is not PEM")
	}
	inters := x509.NewCertPool()
	inters.AddCert(inter)
	if _, err := leaf.Verify(x509.VerifyOptions{
		Roots: roots, Intermediates: inters, CurrentTime: s.clock.Now().Add(time.Hour),
		KeyUsages: []x509.ExtKeyUsage{usage},
	}); err != nil {
		t.Fatalf("chain does not verify: %v", err)
	}
}

func TestIssuanceTLS(t *testing.T) {
	_, key := testCSR(t)
	rsaPEM, rsaKey := rsaCSR(t)
	tests := []struct {
		name     string
		product  string
		body     map[string]any
		pub      any
		names    []string
		notAfter time.Time
		sigAlg   x509.SignatureAlgorithm
	}{
		{
			name: "secure site 1-year order: certificate as long as the order", product: "ssl_securesite_flex",
			body: secureSiteBody(t), pub: &key.PublicKey,
			names:    []string{"www.example.com", "example.com", "api.example.com"},
			notAfter: testNow.AddDate(1, 0, 0), sigAlg: x509.ECDSAWithSHA256,
		},
		{
			name: "secure site 3-year plan: certificate capped at 397 days", product: "ssl_securesite_flex",
			body: edit(secureSiteBody(t), "order_validity.years", 3), pub: &key.PublicKey,
			names:    []string{"www.example.com", "example.com", "api.example.com"},
			notAfter: testNow.Add(397 * 24 * time.Hour), sigAlg: x509.ECDSAWithSHA256,
		},
		{
			name: "secure site cert_validity days 90, RSA key, sha512", product: "ssl_securesite_flex",
			body: edit(edit(edit(edit(secureSiteBody(t), "certificate.cert_validity", map[string]any{"days": 90}),
				"certificate.csr", rsaPEM), "certificate.signature_hash", "sha512"), "certificate.dns_names", nil),
			pub: &rsaKey.PublicKey, names: []string{"www.example.com"},
			notAfter: testNow.AddDate(0, 0, 90), sigAlg: x509.ECDSAWithSHA512,
		},
		{
			name: "private SSL 2-year order: certificate as long as the order", product: "private_ssl_plus",
			body: privateSSLBody(t), pub: &key.PublicKey,
			names:    []string{"intranet.example.local", "wiki.example.local"},
			notAfter: testNow.AddDate(2, 0, 0), sigAlg: x509.ECDSAWithSHA384,
		},
		{
			name: "private wildcard with an IP address", product: "private_ssl_wildcard",
			body: edit(edit(privateSSLBody(t), "certificate.common_name", "*.example.local"), "certificate.dns_names", []any{"10.0.0.1", "*.example.local"}),
			pub:  &key.PublicKey, names: []string{"*.example.local", "10.0.0.1"},
			notAfter: testNow.AddDate(2, 0, 0), sigAlg: x509.ECDSAWithSHA384,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// The order pages' rules without the 2026 date caps
			// (TestSecureSiteDateCaps covers those).
			s := newSim(t, Options{Caps: noDateCaps})
			resp := s.place(tc.product, tc.body)
			if resp.Requests[0].Status != "approved" || resp.CertificateID == 0 {
				t.Fatalf("immediate issuance: request %+v certificate_id %d", resp.Requests, resp.CertificateID)
			}
			if len(resp.CertificateChain) != 3 {
				t.Fatalf("certificate_chain has %d entries, want leaf, intermediate, root", len(resp.CertificateChain))
			}
			leaf := parsePEMChain(t, resp.CertificateChain[0].PEM)[0]
			inter := parsePEMChain(t, resp.CertificateChain[1].PEM)[0]
			root := parsePEMChain(t, resp.CertificateChain[2].PEM)[0]
			if root.Subject.CommonName != rootCommonName || inter.Subject.CommonName != intermediateCommonName {
				t.Errorf("chain subjects %q, %q", inter.Subject.CommonName, root.Subject.CommonName)
			}
			if resp.CertificateChain[0].SubjectCommonName != leaf.Subject.CommonName {
				t.Errorf("subject_common_name %q, certificate CN %q", resp.CertificateChain[0].SubjectCommonName, leaf.Subject.CommonName)
			}

			// Names, key, validity and signature come from the request.
			if leaf.Subject.CommonName != tc.names[0] {
				t.Errorf("CN %q, want %q", leaf.Subject.CommonName, tc.names[0])
			}
			var sans []string
			sans = append(sans, leaf.DNSNames...)
			for _, ip := range leaf.IPAddresses {
				sans = append(sans, ip.String())
			}
			if !slices.Equal(slices.Sorted(slices.Values(sans)), slices.Sorted(slices.Values(tc.names))) {
				t.Errorf("SANs %q, want %q", sans, tc.names)
			}
			if !publicKeyEqual(leaf.PublicKey, tc.pub) {
				t.Error("certificate key is not the CSR's key")
			}
			if !leaf.NotBefore.Equal(testNow) || !leaf.NotAfter.Equal(tc.notAfter) {
				t.Errorf("validity %s .. %s, want %s .. %s", leaf.NotBefore, leaf.NotAfter, testNow, tc.notAfter)
			}
			if leaf.SignatureAlgorithm != tc.sigAlg {
				t.Errorf("signature algorithm %s, want %s", leaf.SignatureAlgorithm, tc.sigAlg)
			}
			verifyChain(t, s, leaf, inter, x509.ExtKeyUsageServerAuth)

			// Order info describes the same certificate.
			info := s.info(resp.ID)
			sum := sha1.Sum(leaf.Raw) //nolint:gosec // thumbprint
			if !strings.EqualFold(info.Certificate.Thumbprint, hex.EncodeToString(sum[:])) {
				t.Errorf("thumbprint %s, want sha1 %x", info.Certificate.Thumbprint, sum)
			}
			if !strings.EqualFold(info.Certificate.SerialNumber, leaf.SerialNumber.Text(16)) {
				t.Errorf("serial %s, want %x", info.Certificate.SerialNumber, leaf.SerialNumber)
			}
			if info.Status != "issued" || info.Certificate.ID != resp.CertificateID || info.Product.NameID != tc.product {
				t.Errorf("order info status %q certificate id %d product %q", info.Status, info.Certificate.ID, info.Product.NameID)
			}
			if info.Certificate.ValidFrom != "2026-03-01" || info.Certificate.ValidTill != tc.notAfter.Format("2006-01-02") {
				t.Errorf("valid %s .. %s", info.Certificate.ValidFrom, info.Certificate.ValidTill)
			}
			if want := int(tc.notAfter.Sub(testNow).Hours() / 24); info.Certificate.DaysRemaining != want {
				t.Errorf("days_remaining %d, want %d", info.Certificate.DaysRemaining, want)
			}
			if info.DateCreated != "2026-03-01T12:00:00+00:00" || info.OrderValidFrom != "2026-03-01" {
				t.Errorf("date_created %q order_valid_from %q", info.DateCreated, info.OrderValidFrom)
			}
			checkDownloads(t, s, resp.ID, resp.CertificateID, leaf)
		})
	}
}

func publicKeyEqual(a, b any) bool {
	type equaler interface{ Equal(x crypto.PublicKey) bool }
	e, ok := a.(equaler)
	return ok && e.Equal(b)
}

// checkDownloads fetches every format by certificate id and by order id.
func checkDownloads(t *testing.T, s *sim, orderID, certID int64, leaf *x509.Certificate) {
	t.Helper()
	want := map[string][]string{
		"pem_all":            {leaf.Subject.CommonName, intermediateCommonName, rootCommonName},
		"pem_noroot":         {leaf.Subject.CommonName, intermediateCommonName},
		"pem_nointermediate": {leaf.Subject.CommonName, rootCommonName},
	}
	for format, cns := range want {
		for _, path := range []string{
			"/services/v2/certificate/" + itoa(certID) + "/download/format/" + format,
			"/services/v2/certificate/download/order/" + itoa(orderID) + "/format/" + format,
		} {
			r := s.do("GET", path, nil)
			if r.status != http.StatusOK {
				t.Fatalf("GET %s: %d %s", path, r.status, r.body)
			}
			certs := parsePEMChain(t, string(r.body))
			var got []string
			for _, c := range certs {
				got = append(got, c.Subject.CommonName)
			}
			if !slices.Equal(got, cns) || !certs[0].Equal(leaf) {
				t.Errorf("GET %s: subjects %q, want %q", path, got, cns)
			}
		}
	}

	r := s.do("GET", "/services/v2/certificate/"+itoa(certID)+"/download/format/p7b", nil)
	if r.status != http.StatusOK {
		t.Fatalf("p7b: %d %s", r.status, r.body)
	}
	certs := parsePKCS7(t, r.body)
	if len(certs) != 3 || !certs[0].Equal(leaf) || certs[2].Subject.CommonName != rootCommonName {
		t.Errorf("p7b holds %d certificates, want leaf, intermediate, root", len(certs))
	}

	r = s.do("GET", "/services/v2/certificate/"+itoa(certID)+"/chain", nil)
	var chain chainResponse
	r.decode(t, &chain)
	if r.status != http.StatusOK || len(chain.Intermediates) != 2 ||
		chain.Intermediates[0].SubjectCommonName != intermediateCommonName ||
		parsePEMChain(t, chain.Intermediates[1].PEM)[0].Subject.CommonName != rootCommonName {
		t.Errorf("chain: %d %s", r.status, r.body)
	}

	r = s.do("GET", "/services/v2/certificate/"+itoa(certID)+"/download/format/der", nil)
	if got := r.codes(t); r.status != http.StatusBadRequest || !slices.Equal(got, []string{"invalid_value:format"}) {
		t.Errorf("unknown format: %d %q", r.status, got)
	}
}

// parsePKCS7 decodes a degenerate PKCS#7 SignedData independently of the encoder.
func parsePKCS7(t *testing.T, der []byte) []*x509.Certificate {
	t.Helper()
	var ci struct {
		ContentType asn1.ObjectIdentifier
		Content     asn1.RawValue `asn1:"explicit,tag:0"`
	}
	if rest, err := asn1.Unmarshal(der, &ci); err != nil || len(rest) != 0 {
		t.Fatalf("p7b ContentInfo: %v", err)
	}
	if !ci.ContentType.Equal(asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}) {
		t.Fatalf("p7b content type %v, want signedData", ci.ContentType)
	}
	var sd struct {
		Version          int
		DigestAlgorithms asn1.RawValue
		ContentInfo      asn1.RawValue
		Certificates     asn1.RawValue `asn1:"optional,tag:0"`
		SignerInfos      asn1.RawValue
	}
	if _, err := asn1.Unmarshal(ci.Content.Bytes, &sd); err != nil {
		t.Fatalf("p7b SignedData: %v", err)
	}
	certs, err := x509.ParseCertificates(sd.Certificates.Bytes)
	if err != nil {
		t.Fatalf("p7b certificates: %v", err)
	}
	return certs
}

func TestIssuanceDocumentSigning(t *testing.T) {
	_, key := testCSR(t)
	s := newSim(t, Options{})

	t.Run("with a CSR: issued, no chain in the response", func(t *testing.T) {
		resp := s.place("document_signing_org_1", edit(documentSigningBody(t), "organization", map[string]any{
			"name": "Example Inc", "address": "1 Main St", "city": "Lehi", "country": "us",
		}))
		if resp.CertificateID == 0 || len(resp.CertificateChain) != 0 || resp.Organization == nil || resp.Organization.ID == 0 {
			t.Fatalf("response: %+v", resp)
		}
		r := s.do("GET", "/services/v2/certificate/"+itoa(resp.CertificateID)+"/download/format/pem_noroot", nil)
		certs := parsePEMChain(t, string(r.body))
		if len(certs) != 2 {
			t.Fatalf("pem_noroot: %d %s", r.status, r.body)
		}
		leaf := certs[0]
		if leaf.Subject.CommonName != "Example Inc" || !slices.Equal(leaf.EmailAddresses, []string{"jane@example.com"}) {
			t.Errorf("subject %q emails %q", leaf.Subject.CommonName, leaf.EmailAddresses)
		}
		if !publicKeyEqual(leaf.PublicKey, &key.PublicKey) || len(leaf.DNSNames) != 0 {
			t.Error("document signing certificate: wrong key or has DNS names")
		}
		if !leaf.NotAfter.Equal(testNow.AddDate(1, 0, 0)) {
			t.Errorf("not after %s", leaf.NotAfter)
		}
		verifyChain(t, s, leaf, certs[1], x509.ExtKeyUsageEmailProtection)
	})

	t.Run("subject name as common name", func(t *testing.T) {
		resp := s.place("document_signing_org_2", edit(documentSigningBody(t), "use_org_as_common_name", false))
		if info := s.info(resp.ID); info.Certificate.CommonName != "Jane Doe" {
			t.Errorf("common name %q, want the subject name", info.Certificate.CommonName)
		}
	})

	t.Run("token provisioning without CSR: waiting_pickup, nothing to download", func(t *testing.T) {
		body := edit(edit(documentSigningBody(t), "certificate.csr", nil), "cs_provisioning_method", "ship_token")
		resp := s.place("document_signing_org_2", body)
		if resp.Requests[0].Status != "approved" || resp.CertificateID == 0 {
			t.Fatalf("response: %+v", resp)
		}
		if info := s.info(resp.ID); info.Status != "waiting_pickup" || info.Certificate.Thumbprint != "" {
			t.Errorf("status %q thumbprint %q", info.Status, info.Certificate.Thumbprint)
		}
		r := s.do("GET", "/services/v2/certificate/download/order/"+itoa(resp.ID)+"/format/pem_all", nil)
		if got := r.codes(t); r.status != http.StatusNotFound || !slices.Equal(got, []string{"not_found|certificate"}) {
			t.Errorf("download: %d %q", r.status, got)
		}
	})
}

func TestNotFound(t *testing.T) {
	s := newSim(t, Options{})
	tests := []struct {
		path string
		code string
	}{
		{"/services/v2/order/certificate/424242", "not_found|order"},
		{"/services/v2/order/certificate/abc", "not_found|order"},
		{"/services/v2/certificate/424242/download/format/pem_all", "not_found|certificate"},
		{"/services/v2/certificate/download/order/424242/format/pem_all", "not_found|certificate"},
		{"/services/v2/certificate/424242/chain", "not_found|certificate"},
		{"/services/v2/no/such/endpoint", "not_found"},
	}
	for _, tc := range tests {
		r := s.do("GET", tc.path, nil)
		if got := r.codes(t); r.status != http.StatusNotFound || !slices.Equal(got, []string{tc.code}) {
			t.Errorf("GET %s: %d %q, want 404 %s", tc.path, r.status, got, tc.code)
		}
	}
}
