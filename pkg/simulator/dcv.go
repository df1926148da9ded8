package simulator

import (
	"context"
	"crypto/rand"
	"fmt"
	"net"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/certplan/certplan/pkg/certcentral"
)

// Domain control validation (DCV). With Options.DNS set, Secure Site orders
// and reissues whose dcv_method is dns-txt-token or dns-cname-token wait in
// pending (reissue_pending) until every name that has no reusable validation
// is validated: check-dcv finds the order's random value in DNS at the DNS
// server Options.DNS, or the admin API approves the order. A validation done
// at T is reusable until T + the reuse period in force (Options.DCVReuse, by
// date). Orders without a DNS method, and every order without Options.DNS,
// are admitted by the approval mode as before.

// dcvValueLife is how long a random value is accepted (30 days).
const dcvValueLife = certcentral.DCVRandomValueLife

// dcvLookupTimeout bounds one DNS question of check-dcv.
const dcvLookupTimeout = 2 * time.Second

// Error codes of check-dcv (documented: invalid_dns_txt).
const codeInvalidDNSTXT = "invalid_dns_txt"

// orderDCV is the validation state of an order. It is persisted.
type orderDCV struct {
	// Value is the order's random value; ValueExpires when it stops being accepted.
	Value        string    `json:"value,omitempty"`
	ValueExpires time.Time `json:"value_expires,omitzero"`
	// Method is the method of what waits (the order's, or the reissue's).
	Method string `json:"method,omitempty"`
	// Awaiting: the order (Reissue: its pending reissue) waits for Domains.
	Awaiting bool     `json:"awaiting,omitempty"`
	Reissue  bool     `json:"reissue,omitempty"`
	Domains  []string `json:"domains,omitempty"`
}

// dnsMethod reports whether the simulator checks method in DNS.
func dnsMethod(m string) bool { return m == certcentral.DCVDNSTXT || m == certcentral.DCVDNSCNAME }

// bodyMethod is the dcv_method of a request body ("" when none).
func bodyMethod(body map[string]any) string {
	m, _ := body["dcv_method"].(string)
	return m
}

// dcvDomains are the domains of names (a wildcard's base name), lower case,
// without duplicates, in order.
func dcvDomains(names []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, n := range names {
		d := baseDomain(n)
		if d != "" && !seen[d] {
			seen[d] = true
			out = append(out, d)
		}
	}
	return out
}

// unvalidated are the domains without a validation reusable at now.
// Callers hold s.mu.
func (s *Server) unvalidated(domains []string, now time.Time) []string {
	var out []string
	for _, d := range domains {
		at, ok := s.st.Validations[d]
		if !ok || !s.dcvReuse.Reusable(at, now) {
			out = append(out, d)
		}
	}
	return out
}

// ensureValue gives o a random value valid at now: the current one while it
// is, else a new one for 30 days. Callers hold s.mu.
func (s *Server) ensureValue(o *order, now time.Time) *orderDCV {
	if o.DCV == nil {
		o.DCV = &orderDCV{}
	}
	if o.DCV.Value == "" || !now.Before(o.DCV.ValueExpires) {
		o.DCV.Value, o.DCV.ValueExpires = randomValue(), now.Add(dcvValueLife)
	}
	return o.DCV
}

// randomValue is 32 lower-case letters and digits, as DigiCert's look.
func randomValue() string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// holdForDCV decides whether a new order waits for validation: a Secure
// Site order with a DNS method, the simulator told to check DNS, and a name
// without a reusable validation. It then leaves the order pending with a
// random value and returns true. Callers hold s.mu.
func (s *Server) holdForDCV(o *order, now time.Time) bool {
	method := bodyMethod(o.Body)
	if s.resolver == nil || !capped(o) || !dnsMethod(method) {
		return false
	}
	todo := s.unvalidated(dcvDomains(sanNames(o.CommonName, o.DNSNames)), now)
	if len(todo) == 0 {
		return false
	}
	d := s.ensureValue(o, now)
	d.Method, d.Awaiting, d.Reissue, d.Domains = method, true, false, todo
	o.Status, o.RequestStatus = statusPending, requestPending
	return true
}

// holdReissueForDCV is holdForDCV for a reissue: the reissue body's
// dcv_method, else the order's. The reissue stays pending (the order
// reissue_pending) until validated. Callers hold s.mu.
func (s *Server) holdReissueForDCV(o *order, rec *reissue, now time.Time) bool {
	method := bodyMethod(rec.Body)
	if method == "" {
		method = bodyMethod(o.Body)
	}
	if s.resolver == nil || !capped(o) || !dnsMethod(method) {
		return false
	}
	todo := s.unvalidated(dcvDomains(sanNames(rec.CommonName, rec.DNSNames)), now)
	if len(todo) == 0 {
		return false
	}
	d := s.ensureValue(o, now)
	d.Method, d.Awaiting, d.Reissue, d.Domains = method, true, true, todo
	return true
}

// awaitingValue is the random value a create or reissue reply carries: set
// while the order waits for validation.
func awaitingValue(o *order) string {
	if o.DCV != nil && o.DCV.Awaiting {
		return o.DCV.Value
	}
	return ""
}

// validated records the domains as validated at now. Callers hold s.mu.
func (s *Server) validated(domains []string, now time.Time) {
	for _, d := range domains {
		s.st.Validations[d] = now
	}
}

// completeDCV ends the wait of o: what waited goes on as the approval mode
// says (immediate: issued now; delay: after the delay; manual: until the
// admin API approves it). Callers hold s.mu.
func (s *Server) completeDCV(o *order, now time.Time) error {
	d := o.DCV
	reissueWaits := d.Reissue
	d.Awaiting, d.Reissue, d.Domains = false, false, nil
	if reissueWaits {
		p := o.pendingReissue()
		if p == nil {
			return nil
		}
		switch s.opts.Approval {
		case ApprovalManual:
			return nil
		case ApprovalDelay:
			p.AutoApproveAt = now.Add(s.opts.ApprovalDelay)
			return nil
		}
		return s.issueReissue(o, p, now)
	}
	if o.Status != statusPending {
		return nil
	}
	o.Status, o.RequestStatus = statusNeedsApproval, requestPending
	switch s.opts.Approval {
	case ApprovalManual:
		return nil
	case ApprovalDelay:
		o.AutoApproveAt = now.Add(s.opts.ApprovalDelay)
		return nil
	}
	return s.issue(o, now)
}

// endDCVWait forgets that o waits for validation: what waited was
// rejected, or its status set by the admin API. Callers hold s.mu.
func endDCVWait(o *order) {
	if o.DCV != nil {
		o.DCV.Awaiting, o.DCV.Reissue, o.DCV.Domains = false, false, nil
	}
}

// approveDCV is the admin API approving an order that waits for
// validation: its domains count as validated now. Callers hold s.mu.
func (s *Server) approveDCV(o *order, now time.Time) {
	if o.DCV == nil || !o.DCV.Awaiting {
		return
	}
	s.validated(o.DCV.Domains, now)
	o.DCV.Awaiting, o.DCV.Reissue, o.DCV.Domains = false, false, nil
}

// dcvView adds dcv_method and, while the order waits for validation with a
// value still valid, dcv_random_value to order info and list entries.
func dcvView(o *order, v *certcentral.Order, now time.Time) {
	v.DCVMethod = bodyMethod(o.Body)
	if o.DCV == nil {
		return
	}
	if o.DCV.Method != "" {
		v.DCVMethod = o.DCV.Method
	}
	if o.DCV.Awaiting && now.Before(o.DCV.ValueExpires) {
		v.DCVRandomValue = o.DCV.Value
	}
}

// dcvValueResponse is the reply of dcv-random-value.
type dcvValueResponse struct {
	Value          string `json:"dcv_random_value"`
	ExpirationDate string `json:"expiration_date"`
}

// dcvRandomValue is PUT /order/certificate/{id}/dcv-random-value: the
// order's random value, the same while it is valid, a new one (for 30 days)
// once it expired.
func (s *Server) dcvRandomValue(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r, "id")
	s.mu.Lock()
	now := s.clockLocked()
	o := s.st.get(id)
	if !ok || o == nil {
		s.mu.Unlock()
		writeNoOrder(w, r)
		return
	}
	d := s.ensureValue(o, now)
	resp := dcvValueResponse{Value: d.Value, ExpirationDate: d.ValueExpires.UTC().Format(dateTime)}
	s.changed()
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, contentJSON, resp)
}

// checkDCVResponse is the reply of check-dcv.
type checkDCVResponse struct {
	OrderStatus        string                          `json:"order_status"`
	CertificateID      int64                           `json:"certificate_id,omitempty"`
	DCVStatus          string                          `json:"dcv_status"`
	DNSNameValidations []certcentral.DNSNameValidation `json:"dns_name_validations"`
}

// checkDCV is PUT /order/certificate/{id}/check-dcv. For an order (or
// reissue) waiting for validation, every domain without a reusable
// validation is looked up at Options.DNS (TXT with the value at
// _dnsauth.<domain> or at the domain; for dns-cname-token a CNAME at
// _dnsauth.<domain> to <value>.dcv.digicert.com). Domains found count as
// validated now. Once none is left the wait ends (see completeDCV) and the
// reply is 200 with dcv_status "valid"; while any is missing the reply is
// 400 invalid_dns_txt. An expired value is never found. An order that waits
// for nothing answers 200, every name approved.
func (s *Server) checkDCV(w http.ResponseWriter, r *http.Request) {
	o, now, ok := s.lockOrder(w, r)
	if !ok {
		return
	}
	if o.DCV == nil || !o.DCV.Awaiting {
		resp := s.checkReply(o)
		s.mu.Unlock()
		writeJSON(w, http.StatusOK, contentJSON, resp)
		return
	}
	method, value, expires := o.DCV.Method, o.DCV.Value, o.DCV.ValueExpires
	todo := s.unvalidated(o.DCV.Domains, now)
	s.mu.Unlock()
	if !now.Before(expires) {
		writeErrors(w, apiV2, http.StatusBadRequest, apiError{Code: codeInvalidDNSTXT,
			Message: "the order's random value expired on " + dateOnly(expires) + "; get a new one (dcv-random-value) and publish it"})
		return
	}

	// Ask DNS without holding the lock. (A state file from a run with DNS,
	// loaded without it, has nothing to ask: every name is missing.)
	var found, missing []string
	for _, d := range todo {
		if s.resolver == nil {
			missing = append(missing, d)
			continue
		}
		ctx, cancel := context.WithTimeout(r.Context(), 2*dcvLookupTimeout)
		ok := s.resolver.found(ctx, method, d, value)
		cancel()
		if ok {
			found = append(found, d)
		} else {
			missing = append(missing, d)
		}
	}

	s.mu.Lock()
	now = s.clockLocked()
	var issueErr error
	if o.DCV != nil && o.DCV.Awaiting && o.DCV.Value == value {
		s.validated(found, now)
		if left := s.unvalidated(o.DCV.Domains, now); len(left) == 0 {
			issueErr = s.completeDCV(o, now)
		} else {
			missing = left
		}
		s.changed()
		s.advance(now)
	}
	waiting := o.DCV != nil && o.DCV.Awaiting
	var resp checkDCVResponse
	if !waiting {
		resp = s.checkReply(o)
	} else if len(missing) == 0 {
		missing = append(missing, o.DCV.Domains...)
	}
	s.mu.Unlock()
	switch {
	case issueErr != nil:
		writeErrors(w, apiV2, http.StatusInternalServerError, apiError{Code: codeServerError, Message: "validated, but the certificate could not be issued"})
	case waiting:
		sort.Strings(missing)
		what := "a TXT record with the order's random value"
		if method == certcentral.DCVDNSCNAME {
			what = "a CNAME to the order's random value under .dcv.digicert.com"
		}
		writeErrors(w, apiV2, http.StatusBadRequest, apiError{Code: codeInvalidDNSTXT,
			Message: fmt.Sprintf("%s was not found for %d of %d names: %s", what, len(missing), len(todo), strings.Join(missing, ", "))})
	default:
		writeJSON(w, http.StatusOK, contentJSON, resp)
	}
}

// checkReply is the 200 reply of check-dcv for an order that waits for no
// validation: every name approved. Callers hold s.mu.
func (s *Server) checkReply(o *order) checkDCVResponse {
	resp := checkDCVResponse{OrderStatus: o.Status, DCVStatus: certcentral.DCVStatusValid, DNSNameValidations: []certcentral.DNSNameValidation{}}
	cur := o.current()
	if p := o.pendingReissue(); p != nil {
		cur = p.view()
	}
	if cur.issued() {
		resp.CertificateID = cur.id
	}
	for _, n := range sanNames(cur.cn, cur.dnsNames) {
		resp.DNSNameValidations = append(resp.DNSNameValidations, certcentral.DNSNameValidation{DNSName: n, Status: certcentral.DCVNameApproved})
	}
	return resp
}

// DCVView is the admin view of an order's domain validation.
type DCVView struct {
	Method       string    `json:"method,omitempty"`
	RandomValue  string    `json:"random_value,omitempty"`
	ValueExpires time.Time `json:"value_expires,omitzero"`
	// Awaiting: the order (Reissue: its pending reissue) waits for Domains.
	Awaiting bool     `json:"awaiting,omitempty"`
	Reissue  bool     `json:"reissue,omitempty"`
	Domains  []string `json:"domains,omitempty"`
}

func (d *orderDCV) view() *DCVView {
	if d == nil {
		return nil
	}
	return &DCVView{Method: d.Method, RandomValue: d.Value, ValueExpires: d.ValueExpires, Awaiting: d.Awaiting,
		Reissue: d.Reissue, Domains: append([]string(nil), d.Domains...)}
}

// Validations returns when each domain was last validated, for tests and
// the admin API.
func (s *Server) Validations() map[string]time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]time.Time, len(s.st.Validations))
	for d, t := range s.st.Validations {
		out[d] = t
	}
	return out
}

// checkDNSOption validates Options.DNS.
func checkDNSOption(addr string) error {
	if addr == "" {
		return nil
	}
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return fmt.Errorf("DNS server %q: want HOST:PORT, e.g. 127.0.0.1:5353", addr)
	}
	return nil
}
