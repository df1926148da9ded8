package simulator

import (
	"crypto/x509"
	"fmt"
	"strings"
	"time"

	"github.com/certplan/certplan/pkg/product"
)

// admit applies the approval mode to a new order. Callers hold s.mu.
func (s *Server) admit(o *order, now time.Time) error {
	if s.holdForDCV(o, now) {
		return nil // pending until validated (dcv.go)
	}
	o.Status, o.RequestStatus = statusNeedsApproval, requestPending
	switch s.opts.Approval {
	case ApprovalManual:
		return nil
	case ApprovalDelay:
		o.AutoApproveAt = now.Add(s.opts.ApprovalDelay)
		return nil
	default:
		return s.issue(o, now)
	}
}

// issue approves the order's request and issues its certificate at the given
// time. A document signing order without a CSR (token provisioning) becomes
// waiting_pickup with no downloadable certificate. Callers hold s.mu.
func (s *Server) issue(o *order, at time.Time) error {
	if o.CSR == "" {
		o.Status, o.RequestStatus = statusWaitingPickup, requestApproved
		o.IssuedAt = at
		return nil
	}
	f, err := s.sign(o, o.CSR, o.CommonName, o.DNSNames, o.SignatureHash, at, s.certEnd(o, at, o.CertLifetime))
	if err != nil {
		return err
	}
	o.Cert, o.IssuedAt = f.Cert, at
	o.CertThumbprint, o.CertSerial = f.Thumbprint, f.Serial
	o.CertNotBefore, o.CertNotAfter = f.NotBefore, f.NotAfter
	o.Status, o.RequestStatus = statusIssued, requestApproved
	return nil
}

// capped reports whether the order's certificates fall under the dated public
// TLS caps: v2 Secure Site. Private SSL and document signing are not CA/B
// Forum certificates; v1 keeps its own 397-day rule.
func capped(o *order) bool { return !o.Legacy && o.family() == product.FamilySecureSite }

// certEnd is when a certificate of o issued at at ends: the order's end, the
// requested lifetime (0 = none) and, for Secure Site, the cap in force at at,
// whichever comes first. Longer requests are clamped, as CertCentral does.
func (s *Server) certEnd(o *order, at time.Time, lifetime time.Duration) time.Time {
	end := o.OrderValidTill
	if lifetime > 0 && at.Add(lifetime).Before(end) {
		end = at.Add(lifetime)
	}
	if capped(o) {
		if c := s.caps.ValidTill(at, end); !c.IsZero() {
			end = c
		}
	}
	return end
}

// leafFacts are what reads need to know of an issued certificate, kept so
// that reads never parse certificates.
type leafFacts struct {
	Cert       []byte    `json:"cert,omitempty"` // DER
	Thumbprint string    `json:"thumbprint,omitempty"`
	Serial     string    `json:"serial,omitempty"`
	NotBefore  time.Time `json:"not_before,omitzero"`
	NotAfter   time.Time `json:"not_after,omitzero"`
	IssuedAt   time.Time `json:"issued_at,omitzero"`
}

// sign issues a certificate of o's kind for the given key, names and hash.
// Callers hold s.mu.
func (s *Server) sign(o *order, csrPEM, cn string, dnsNames []string, sigHash string, notBefore, notAfter time.Time) (leafFacts, error) {
	csr, ok := parseCSR(csrPEM)
	if !ok {
		return leafFacts{}, fmt.Errorf("order %d: stored CSR no longer parses", o.ID)
	}
	req := leafRequest{
		kind:          kindTLS,
		publicKey:     csr.PublicKey,
		commonName:    cn,
		names:         sanNames(cn, dnsNames),
		organization:  o.Organization,
		signatureHash: sigHash,
		notBefore:     notBefore,
		notAfter:      notAfter,
	}
	if o.family() == product.FamilyDocumentSigning {
		req.kind, req.names, req.email = kindDocumentSigning, nil, o.SubjectEmail
	}
	der, err := s.ca.issue(req)
	if err != nil {
		return leafFacts{}, fmt.Errorf("order %d: %w", o.ID, err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return leafFacts{}, fmt.Errorf("order %d: parse issued certificate: %w", o.ID, err)
	}
	return leafFacts{
		Cert: der, Thumbprint: thumbprint(der), Serial: strings.ToUpper(leaf.SerialNumber.Text(16)),
		NotBefore: leaf.NotBefore, NotAfter: leaf.NotAfter, IssuedAt: notBefore,
	}, nil
}

// sanNames is the common name followed by the other names, without duplicates.
func sanNames(cn string, names []string) []string {
	out := []string{}
	seen := map[string]bool{}
	for _, n := range append([]string{cn}, names...) {
		if n == "" || seen[n] {
			continue
		}
		seen[n] = true
		out = append(out, n)
	}
	return out
}

// settle brings the store up to now: every time-driven event due (delayed
// approvals, auto-reissues) is processed, in time order. o is kept for the
// call sites that read one order. Callers hold s.mu.
func (s *Server) settle(_ *order, now time.Time) { s.advance(now) }

func (s *Server) settleAll(now time.Time) { s.advance(now) }
