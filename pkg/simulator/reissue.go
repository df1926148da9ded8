package simulator

import (
	"crypto/ecdsa"
	"crypto/rsa"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/certplan/certplan/pkg/certcentral"
	"github.com/certplan/certplan/pkg/product"
)

// Reissue error codes: all the simulator's choice (the real codes are not
// documented); one code with a detail after the pipe, as CertCentral does
// for not_found|order.
const (
	codeReissueNotAllowed = "reissue_not_allowed"
	detailPending         = "reissue_pending"
	detailOrderStatus     = "order_status"
	detailOrderEnded      = "order_expired"
	detailProduct         = "product"
)

// Auto-reissue and revocation timing.
const (
	// autoReissueBefore: with auto_reissue, CertCentral requests a reissue of
	// the newest certificate this long before it expires.
	autoReissueBefore = 30 * day
	// A reissue that removes or changes names gets every earlier certificate
	// of the order revoked 48 to 72 hours after it issues.
	revokeAfterMin  = 48 * time.Hour
	revokeAfterSpan = 24 // hours on top of the minimum, picked by certificate id
)

// Request types (order info requests[].type).
const (
	requestTypeNew     = "new_request"
	requestTypeReissue = "reissue"
)

// reissue is one certificate of an order after the first, from a reissue
// request (the client's, or CertCentral's own with auto_reissue).
type reissue struct {
	CertificateID int64          `json:"certificate_id"`
	RequestID     int64          `json:"request_id"`
	RequestStatus string         `json:"request_status"` // pending, approved, rejected
	Status        string         `json:"status"`         // pending, issued, rejected
	Auto          bool           `json:"auto,omitempty"` // requested by auto-reissue
	Body          map[string]any `json:"body,omitempty"` // as received; nil for auto-reissues
	CreatedAt     time.Time      `json:"created_at"`
	AutoApproveAt time.Time      `json:"auto_approve_at,omitzero"`
	CommonName    string         `json:"common_name"`
	DNSNames      []string       `json:"dns_names,omitempty"`
	SignatureHash string         `json:"signature_hash"`
	CSR           string         `json:"csr"`
	// Billing of added names: receipt "0" when nothing was added.
	ReceiptID         string `json:"receipt_id"`
	PurchasedDNS      int    `json:"purchased_dns_names,omitempty"`
	PurchasedWildcard int    `json:"purchased_wildcard_names,omitempty"`
	leafFacts
	// RevokeAt is when a later reissue that removed or changed names gets
	// this certificate revoked (zero: never).
	RevokeAt        time.Time `json:"revoke_at,omitzero"`
	ResponseDropped bool      `json:"response_dropped,omitempty"`
}

// certView is one certificate of an order, primary or reissued, for reads.
type certView struct {
	id, requestID int64
	requestStatus string
	kind          string // new_request or reissue
	cn            string
	dnsNames      []string
	sigHash, csr  string
	createdAt     time.Time
	revokeAt      time.Time
	pending       bool // not issued yet
	rejected      bool
	leafFacts
	r *reissue // nil for the primary
}

func (c certView) issued() bool { return len(c.Cert) > 0 }

// status is the certificate's status in the reissue list at now.
func (c certView) status(o *order, now time.Time) string {
	switch {
	case c.rejected:
		return statusRejected
	case !c.issued():
		return statusPending
	case !c.revokeAt.IsZero() && !now.Before(c.revokeAt):
		return statusRevoked
	case c.r == nil && o.Status == statusRevoked:
		return statusRevoked
	}
	return statusIssued
}

func (o *order) primaryView() certView {
	return certView{
		id: o.CertificateID, requestID: o.RequestID, requestStatus: o.RequestStatus, kind: requestTypeNew,
		cn: o.CommonName, dnsNames: o.DNSNames, sigHash: o.SignatureHash, csr: o.CSR,
		createdAt: o.CreatedAt, revokeAt: o.RevokeAt,
		pending: len(o.Cert) == 0 && o.RequestStatus != requestRejected, rejected: o.RequestStatus == requestRejected,
		leafFacts: leafFacts{
			Cert: o.Cert, Thumbprint: o.CertThumbprint, Serial: o.CertSerial,
			NotBefore: o.CertNotBefore, NotAfter: o.CertNotAfter, IssuedAt: o.IssuedAt,
		},
	}
}

func (r *reissue) view() certView {
	return certView{
		id: r.CertificateID, requestID: r.RequestID, requestStatus: r.RequestStatus, kind: requestTypeReissue,
		cn: r.CommonName, dnsNames: r.DNSNames, sigHash: r.SignatureHash, csr: r.CSR,
		createdAt: r.CreatedAt, revokeAt: r.RevokeAt,
		pending: r.Status == statusPending, rejected: r.Status == statusRejected,
		leafFacts: r.leafFacts, r: r,
	}
}

// certs returns every certificate of o: the primary, then the reissues in
// request order.
func (o *order) certs() []certView {
	out := make([]certView, 0, 1+len(o.Reissues))
	out = append(out, o.primaryView())
	for _, r := range o.Reissues {
		out = append(out, r.view())
	}
	return out
}

// current is the order's certificate as order info shows it: the newest
// issued reissue, else the primary (issued or not). A pending reissue does not
// move it.
func (o *order) current() certView {
	for i := len(o.Reissues) - 1; i >= 0; i-- {
		if r := o.Reissues[i]; r.Status == statusIssued {
			return r.view()
		}
	}
	return o.primaryView()
}

// cert returns the certificate of o with this id.
func (o *order) cert(id int64) (certView, bool) {
	if id == o.CertificateID {
		return o.primaryView(), true
	}
	for _, r := range o.Reissues {
		if r.CertificateID == id {
			return r.view(), true
		}
	}
	return certView{}, false
}

// pendingReissue returns the reissue awaiting approval, if any.
func (o *order) pendingReissue() *reissue {
	for _, r := range o.Reissues {
		if r.Status == statusPending {
			return r
		}
	}
	return nil
}

// lastReissued is when the newest reissue was issued (zero: never).
func (o *order) lastReissued() time.Time {
	for i := len(o.Reissues) - 1; i >= 0; i-- {
		if r := o.Reissues[i]; r.Status == statusIssued {
			return r.IssuedAt
		}
	}
	return time.Time{}
}

// reissuable reports whether the product has reissues in the simulator: v2
// TLS products (Secure Site and Private SSL).
func reissuable(o *order) bool {
	f := o.family()
	return !o.Legacy && (f == product.FamilySecureSite || f == product.FamilyPrivateSSL)
}

// reissueRefusal says why o cannot be reissued at now, or nil.
func reissueRefusal(o *order, now time.Time) *apiError {
	refuse := func(detail, msg string) *apiError {
		return &apiError{Code: codeReissueNotAllowed + "|" + detail, Message: msg}
	}
	switch {
	case !reissuable(o):
		return refuse(detailProduct, "orders for "+string(o.Product)+" cannot be reissued through this endpoint")
	case o.Status == statusReissue || o.pendingReissue() != nil:
		return refuse(detailPending, "the order already has a reissue request awaiting approval")
	case o.Status != statusIssued:
		return refuse(detailOrderStatus, "only issued orders can be reissued; this order is "+o.Status)
	case !now.Before(o.OrderValidTill):
		return refuse(detailOrderEnded, "the order ended on "+dateOnly(o.OrderValidTill)+"; renew it instead")
	}
	return nil
}

// reissueRequest is a validated reissue body.
type reissueRequest struct {
	commonName string
	dnsNames   []string
	csrPEM     string
	sigHash    string
}

// validateReissue checks a reissue body the way order bodies are checked:
// certificate.csr (parses, signature verifies) and common_name are
// required; dns_names are names; signature_hash defaults to the order's.
// Unknown fields (cert_validity, for instance) are ignored.
func validateReissue(o *order, m map[string]any) (reissueRequest, []apiError) {
	c := &checker{}
	body := obj{m: m, c: c}
	rq := reissueRequest{sigHash: o.SignatureHash}
	if cert, ok := body.object("certificate", true); ok {
		if cn, ok := cert.str("common_name", true); ok && hostname(cert, "common_name", cn) {
			rq.commonName = cn
		}
		if names, ok := cert.strings("dns_names"); ok {
			for i, n := range names {
				if hostname(cert, "dns_names["+strconv.Itoa(i)+"]", n) {
					rq.dnsNames = append(rq.dnsNames, n)
				}
			}
		}
		_, rq.csrPEM, _ = csrField(cert, true)
		if h, ok := cert.oneOf("signature_hash", false, "sha256", "sha384", "sha512"); ok {
			rq.sigHash = h
		}
		if sp, ok := cert.object("server_platform", false); ok {
			sp.integer("id", true)
		}
		cert.str("ca_cert_id", false)
		cert.strings("organization_units")
	}
	body.boolean("skip_approval")
	body.str("comments", false)
	body.oneOf("dcv_method", false, "email", "dns-txt-token", "dns-cname-token", "http-token")
	return rq, c.errs
}

// reissueOrder is POST /order/certificate/{id}/reissue.
func (s *Server) reissueOrder(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r, "id")
	if !ok {
		writeNoOrder(w, r)
		return
	}
	body, err := decodeObject(w, r)
	if err != nil {
		writeErrors(w, apiV2, http.StatusBadRequest, apiError{Code: codeBadRequestFormat, Message: "the request body is not a valid JSON object"})
		return
	}
	s.mu.Lock()
	now := s.clockLocked()
	s.advance(now)
	o := s.st.get(id)
	if o == nil {
		s.mu.Unlock()
		writeNoOrder(w, r)
		return
	}
	if e := reissueRefusal(o, now); e != nil {
		s.mu.Unlock()
		writeErrors(w, apiV2, http.StatusBadRequest, *e)
		return
	}
	rq, errs := validateReissue(o, body)
	if len(errs) > 0 {
		s.mu.Unlock()
		writeErrors(w, apiV2, http.StatusBadRequest, errs...)
		return
	}
	rec, issueErr := s.commitReissue(o, rq, body, now, false)
	resp := certcentral.ReissueResponse{ID: o.ID, Requests: []certcentral.Request{{ID: rec.RequestID, Status: rec.RequestStatus}},
		DCVRandomValue: awaitingValue(o)}
	if rec.Status == statusIssued {
		resp.CertificateID = rec.CertificateID
		resp.CertificateChain = s.chainOf(rec.CommonName, rec.Cert)
	}
	drop := s.faults.takeDrop()
	rec.ResponseDropped = drop
	s.changed()
	s.mu.Unlock()

	s.stats.update(func(st *Stats) { st.ReissuesPlaced++ })
	if drop {
		s.dropConnection(w)
		return
	}
	if issueErr != nil {
		writeErrors(w, apiV2, http.StatusInternalServerError, apiError{Code: codeServerError, Message: "reissue committed but the certificate could not be issued"})
		return
	}
	writeJSON(w, http.StatusCreated, contentJSON, resp)
}

// commitReissue records a reissue request on o and applies the approval mode
// (auto-reissues are issued at once). The order is reissue_pending until the
// reissue issues. Names not paid for yet are billed: a receipt and the
// purchased counts. Callers hold s.mu.
func (s *Server) commitReissue(o *order, rq reissueRequest, body map[string]any, now time.Time, auto bool) (*reissue, error) {
	rec := &reissue{
		CertificateID: s.st.nextID(),
		RequestID:     s.st.nextID(),
		RequestStatus: requestPending,
		Status:        statusPending,
		Auto:          auto,
		CreatedAt:     now,
		CommonName:    rq.commonName,
		DNSNames:      rq.dnsNames,
		SignatureHash: rq.sigHash,
		CSR:           rq.csrPEM,
		ReceiptID:     "0",
	}
	if body != nil {
		rec.Body = redactBody(body)
	}
	if o.PurchasedNames == nil {
		o.PurchasedNames = sanNames(o.CommonName, o.DNSNames)
	}
	paid := nameSet(o.PurchasedNames)
	for _, n := range sanNames(rq.commonName, rq.dnsNames) {
		if paid[strings.ToLower(n)] {
			continue
		}
		paid[strings.ToLower(n)] = true
		o.PurchasedNames = append(o.PurchasedNames, n)
		if strings.HasPrefix(n, "*.") {
			rec.PurchasedWildcard++
		} else {
			rec.PurchasedDNS++
		}
	}
	if rec.PurchasedDNS+rec.PurchasedWildcard > 0 {
		rec.ReceiptID = strconv.FormatInt(s.st.nextID(), 10)
	}
	o.Reissues = append(o.Reissues, rec)
	s.st.byCert[rec.CertificateID] = o
	o.Status = statusReissue
	if !auto && s.holdReissueForDCV(o, rec, now) {
		return rec, nil // pending until validated (dcv.go)
	}
	switch {
	case auto || s.opts.Approval == ApprovalImmediate || s.opts.Approval == "":
		return rec, s.issueReissue(o, rec, now)
	case s.opts.Approval == ApprovalDelay:
		rec.AutoApproveAt = now.Add(s.opts.ApprovalDelay)
	}
	return rec, nil
}

func nameSet(names []string) map[string]bool {
	out := make(map[string]bool, len(names))
	for _, n := range names {
		out[strings.ToLower(n)] = true
	}
	return out
}

// issueReissue issues a pending reissue at at: the certificate runs to the
// cap in force at at or the order's end, whichever is first, and becomes the
// order's certificate. If it lacks a name the previous certificate had, every
// earlier certificate of the order is scheduled for revocation 48–72 hours
// later. Callers hold s.mu.
func (s *Server) issueReissue(o *order, rec *reissue, at time.Time) error {
	prev := o.current()
	f, err := s.sign(o, rec.CSR, rec.CommonName, rec.DNSNames, rec.SignatureHash, at, s.certEnd(o, at, 0))
	if err != nil {
		return err
	}
	rec.leafFacts = f
	rec.Status, rec.RequestStatus, rec.AutoApproveAt = statusIssued, requestApproved, time.Time{}
	o.Status = statusIssued
	if removesNames(sanNames(prev.cn, prev.dnsNames), sanNames(rec.CommonName, rec.DNSNames)) {
		revokeAt := at.Add(revokeAfterMin + time.Duration(rec.CertificateID%(revokeAfterSpan+1))*time.Hour)
		if len(o.Cert) > 0 && o.RevokeAt.IsZero() {
			o.RevokeAt = revokeAt
		}
		for _, r := range o.Reissues {
			if r != rec && r.Status == statusIssued && r.RevokeAt.IsZero() {
				r.RevokeAt = revokeAt
			}
		}
	}
	return nil
}

// removesNames reports whether a name of before is missing from after
// (removed, or changed into another name).
func removesNames(before, after []string) bool {
	keep := nameSet(after)
	for _, n := range before {
		if !keep[strings.ToLower(n)] {
			return true
		}
	}
	return false
}

// rejectReissue rejects the pending reissue; the order goes back to issued
// with its current certificate. Callers hold s.mu.
func rejectReissue(o *order, rec *reissue) {
	rec.Status, rec.RequestStatus, rec.AutoApproveAt = statusRejected, requestRejected, time.Time{}
	if o.Status == statusReissue {
		o.Status = statusIssued
	}
}

type reissueListResponse struct {
	Certificates []certcentral.ReissueCertificate `json:"certificates"`
}

// listReissues is GET /order/certificate/{id}/reissue: every certificate of
// the order, the primary first, pending and rejected reissues included.
// show_archived is accepted and changes nothing (nothing is archived).
func (s *Server) listReissues(w http.ResponseWriter, r *http.Request) {
	o, now, ok := s.lockOrder(w, r)
	if !ok {
		return
	}
	out := reissueListResponse{Certificates: []certcentral.ReissueCertificate{}}
	for _, c := range o.certs() {
		out.Certificates = append(out.Certificates, s.listEntry(o, c, now))
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, contentJSON, out)
}

func (s *Server) listEntry(o *order, c certView, now time.Time) certcentral.ReissueCertificate {
	e := certcentral.ReissueCertificate{
		ID:            c.id,
		CommonName:    c.cn,
		DNSNames:      sanNames(c.cn, c.dnsNames),
		Status:        c.status(o, now),
		DateCreated:   c.createdAt.UTC().Format(dateTime),
		CSR:           c.csr,
		KeySize:       keySize(c.csr),
		SignatureHash: c.sigHash,
	}
	if !o.tls() {
		e.DNSNames = nil
	}
	if c.r != nil {
		e.ReceiptID = certcentral.LooseString(c.r.ReceiptID)
		e.PurchasedDNSNames = certcentral.Count(c.r.PurchasedDNS)
		e.PurchasedWildcardNames = certcentral.Count(c.r.PurchasedWildcard)
	}
	if c.issued() {
		e.Thumbprint, e.SerialNumber = c.Thumbprint, c.Serial
		e.DateIssued = c.IssuedAt.UTC().Format(dateTime)
		e.ValidFrom, e.ValidTill = dateOnly(c.NotBefore), dateOnly(c.NotAfter)
		e.DaysRemaining = daysRemaining(c.NotAfter, now)
	}
	return e
}

func daysRemaining(notAfter, now time.Time) int {
	if left := notAfter.Sub(now); left > 0 {
		return int(left / day)
	}
	return 0
}

// keySize is the CSR key's size in bits (RSA modulus, ECDSA curve), 0 if unknown.
func keySize(csrPEM string) int {
	csr, ok := parseCSR(csrPEM)
	if !ok {
		return 0
	}
	switch k := csr.PublicKey.(type) {
	case *rsa.PublicKey:
		return k.N.BitLen()
	case *ecdsa.PublicKey:
		return k.Curve.Params().BitSize
	}
	return 0
}

// setAutoReissue is PUT /order/certificate/{id}/auto-reissue
// {"auto_reissue": 0|1}: 204. As the order page says CertCentral does, the
// setting is ignored (accepted, not stored) for products without plans.
func (s *Server) setAutoReissue(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r, "id")
	if !ok {
		writeNoOrder(w, r)
		return
	}
	m, err := decodeObject(w, r)
	if err != nil {
		writeErrors(w, apiV2, http.StatusBadRequest, apiError{Code: codeBadRequestFormat, Message: "the request body is not a valid JSON object"})
		return
	}
	c := &checker{}
	v, set := obj{m: m, c: c}.intRange("auto_reissue", true, 0, 1, "allowed values: 0 or 1")
	s.mu.Lock()
	o := s.st.get(id)
	if o == nil {
		s.mu.Unlock()
		writeNoOrder(w, r)
		return
	}
	if len(c.errs) > 0 || !set {
		s.mu.Unlock()
		writeErrors(w, apiV2, http.StatusBadRequest, c.errs...)
		return
	}
	if capped(o) {
		o.AutoReissue = v == 1
		s.changed()
		s.advance(s.clockLocked())
	}
	s.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}
