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
	csr, ok := parseCSR(o.CSR)
	if !ok {
		return fmt.Errorf("order %d: stored CSR no longer parses", o.ID)
	}
	notAfter := at.Add(o.CertLifetime)
	if notAfter.After(o.OrderValidTill) {
		notAfter = o.OrderValidTill
	}
	req := leafRequest{
		kind:          kindTLS,
		publicKey:     csr.PublicKey,
		commonName:    o.CommonName,
		names:         sanNames(o.CommonName, o.DNSNames),
		organization:  o.Organization,
		signatureHash: o.SignatureHash,
		notBefore:     at,
		notAfter:      notAfter,
	}
	if o.family() == product.FamilyDocumentSigning {
		req.kind, req.names, req.email = kindDocumentSigning, nil, o.SubjectEmail
	}
	der, err := s.ca.issue(req)
	if err != nil {
		return fmt.Errorf("order %d: %w", o.ID, err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return fmt.Errorf("order %d: parse issued certificate: %w", o.ID, err)
	}
	o.Cert, o.IssuedAt = der, at
	o.CertThumbprint = thumbprint(der)
	o.CertSerial = strings.ToUpper(leaf.SerialNumber.Text(16))
	o.CertNotBefore, o.CertNotAfter = leaf.NotBefore, leaf.NotAfter
	o.Status, o.RequestStatus = statusIssued, requestApproved
	return nil
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

// settle issues a delay-mode order whose approval time has come. Callers hold s.mu.
func (s *Server) settle(o *order, now time.Time) {
	if o.Status != statusNeedsApproval || o.AutoApproveAt.IsZero() || now.Before(o.AutoApproveAt) {
		return
	}
	if err := s.issue(o, o.AutoApproveAt); err == nil {
		s.changed()
	}
}

func (s *Server) settleAll(now time.Time) {
	for _, o := range s.st.Orders {
		s.settle(o, now)
	}
}
