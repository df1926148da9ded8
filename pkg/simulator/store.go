package simulator

import (
	"crypto/sha1" //nolint:gosec // CertCentral thumbprints are SHA-1 by definition
	"encoding/hex"
	"strings"
	"time"

	"github.com/certplan/certplan/pkg/product"
)

// Order statuses the simulator uses (the API facts list them).
const (
	statusPending       = "pending"
	statusNeedsApproval = "needs_approval"
	statusIssued        = "issued"
	statusRejected      = "rejected"
	statusRevoked       = "revoked"
	statusCanceled      = "canceled"
	statusWaitingPickup = "waiting_pickup"
	statusReissue       = "reissue_pending"
	statusExpired       = "expired"
	statusProcessing    = "processing"
)

// knownStatuses are the values SetStatus accepts.
var knownStatuses = []string{
	statusPending, statusNeedsApproval, statusIssued, statusRejected, statusRevoked,
	statusCanceled, statusWaitingPickup, statusReissue, statusExpired, statusProcessing,
}

// Request statuses.
const (
	requestPending  = "pending"
	requestApproved = "approved"
	requestRejected = "rejected"
)

// order is one stored order. It is persisted as JSON in the state file.
type order struct {
	ID                 int64           `json:"id"`
	Product            product.Product `json:"product"`
	Legacy             bool            `json:"legacy,omitempty"`
	AlternativeOrderID string          `json:"alternative_order_id,omitempty"`
	Body               map[string]any  `json:"body"` // redacted
	Status             string          `json:"status"`
	RequestID          int64           `json:"request_id"`
	RequestStatus      string          `json:"request_status"`
	CertificateID      int64           `json:"certificate_id"`
	CreatedAt          time.Time       `json:"created_at"`
	OrderValidFrom     time.Time       `json:"order_valid_from"`
	OrderValidTill     time.Time       `json:"order_valid_till"`
	// CertLifetime is the lifetime the first certificate gets from its issuance,
	// already capped; the certificate never outlives the order.
	CertLifetime     time.Duration `json:"cert_lifetime"`
	CapCertToOrder   bool          `json:"cap_cert_to_order,omitempty"`
	RenewalOfOrderID int64         `json:"renewal_of_order_id,omitempty"`
	RenewedOrderID   int64         `json:"renewed_order_id,omitempty"`
	AutoApproveAt    time.Time     `json:"auto_approve_at,omitzero"`
	CommonName       string        `json:"common_name,omitempty"`
	DNSNames         []string      `json:"dns_names,omitempty"`
	SignatureHash    string        `json:"signature_hash,omitempty"`
	CSR              string        `json:"csr,omitempty"` // PEM; public data
	Organization     string        `json:"organization,omitempty"`
	SubjectEmail     string        `json:"subject_email,omitempty"`
	Cert             []byte        `json:"cert,omitempty"` // end-entity DER once issued
	// Facts of Cert, kept so that reads never parse certificates.
	CertThumbprint  string    `json:"cert_thumbprint,omitempty"`
	CertSerial      string    `json:"cert_serial,omitempty"`
	CertNotBefore   time.Time `json:"cert_not_before,omitzero"`
	CertNotAfter    time.Time `json:"cert_not_after,omitzero"`
	IssuedAt        time.Time `json:"issued_at,omitzero"`
	ResponseDropped bool      `json:"response_dropped,omitempty"`

	// Plans: the fields above describe the first (primary) certificate; later
	// certificates of the order are Reissues, in request order.
	AutoReissue bool       `json:"auto_reissue,omitempty"`
	AutoRenew   bool       `json:"auto_renew,omitempty"`
	Reissues    []*reissue `json:"reissues,omitempty"`
	// RevokeAt is when the primary certificate is revoked because a later
	// reissue removed or changed names (zero: never).
	RevokeAt time.Time `json:"revoke_at,omitzero"`
	// PurchasedNames are the names paid for: the order's, then names added by
	// reissues (billed pro rata). Nil in state files from before reissues.
	PurchasedNames []string `json:"purchased_names,omitempty"`
	// DCV is the order's domain validation (nil until it has a random value).
	DCV *orderDCV `json:"dcv,omitempty"`
}

func (o *order) family() product.Family {
	f, _ := o.Product.Family()
	return f
}

func (o *order) tls() bool { return o.Product.IssuesTLS() }

// thumbprint is the SHA-1 of the certificate DER in upper-case hex, as CertCentral shows it.
func thumbprint(der []byte) string {
	sum := sha1.Sum(der) //nolint:gosec // by definition
	return strings.ToUpper(hex.EncodeToString(sum[:]))
}

// ReceivedOrder is the admin view of one placed order. Card number and CVV in
// Body read "(redacted)"; numbers in Body are json.Number.
type ReceivedOrder struct {
	ID                 int64          `json:"id"`
	Product            string         `json:"product"`
	AlternativeOrderID string         `json:"alternative_order_id,omitempty"`
	Legacy             bool           `json:"legacy"`
	Body               map[string]any `json:"body"`
	Status             string         `json:"status"`
	RequestStatus      string         `json:"request_status"`
	CertificateID      int64          `json:"certificate_id"`
	RenewalOfOrderID   int64          `json:"renewal_of_order_id,omitempty"`
	RenewedOrderID     int64          `json:"renewed_order_id,omitempty"`
	CreatedAt          time.Time      `json:"created_at"`
	// ResponseDropped is true when DropAfterCommit swallowed the response.
	ResponseDropped bool `json:"response_dropped,omitempty"`

	// CurrentCertificateID is the certificate order info shows: the newest
	// issued reissue, else CertificateID (the first certificate).
	CurrentCertificateID int64     `json:"current_certificate_id"`
	OrderValidTill       time.Time `json:"order_valid_till"`
	AutoReissue          bool      `json:"auto_reissue,omitempty"`
	AutoRenew            bool      `json:"auto_renew,omitempty"`
	// RevokeAt is when the first certificate gets revoked after a reissue
	// that removed or changed names.
	RevokeAt time.Time         `json:"revoke_at,omitzero"`
	Reissues []ReceivedReissue `json:"reissues,omitempty"`
	// DCV is the order's domain validation, once it has a random value.
	DCV *DCVView `json:"dcv,omitempty"`
}

// ReceivedReissue is the admin view of one reissue of an order: requested
// through the API (Body as received) or by auto-reissue (Auto).
type ReceivedReissue struct {
	CertificateID   int64          `json:"certificate_id"`
	RequestID       int64          `json:"request_id"`
	Status          string         `json:"status"` // pending, issued, rejected
	RequestStatus   string         `json:"request_status"`
	Auto            bool           `json:"auto,omitempty"`
	Body            map[string]any `json:"body,omitempty"`
	CommonName      string         `json:"common_name"`
	DNSNames        []string       `json:"dns_names,omitempty"`
	CSR             string         `json:"csr"`
	CreatedAt       time.Time      `json:"created_at"`
	IssuedAt        time.Time      `json:"issued_at,omitzero"`
	NotAfter        time.Time      `json:"not_after,omitzero"`
	RevokeAt        time.Time      `json:"revoke_at,omitzero"`
	ReceiptID       string         `json:"receipt_id"`
	ResponseDropped bool           `json:"response_dropped,omitempty"`
}

func (o *order) received() ReceivedOrder {
	out := ReceivedOrder{
		ID: o.ID, Product: string(o.Product), AlternativeOrderID: o.AlternativeOrderID,
		Legacy: o.Legacy, Body: deepCopy(o.Body).(map[string]any), Status: o.Status,
		RequestStatus: o.RequestStatus, CertificateID: o.CertificateID,
		RenewalOfOrderID: o.RenewalOfOrderID, RenewedOrderID: o.RenewedOrderID,
		CreatedAt: o.CreatedAt, ResponseDropped: o.ResponseDropped,
		CurrentCertificateID: o.current().id, OrderValidTill: o.OrderValidTill,
		AutoReissue: o.AutoReissue, AutoRenew: o.AutoRenew, RevokeAt: o.RevokeAt,
		DCV: o.DCV.view(),
	}
	for _, r := range o.Reissues {
		rr := ReceivedReissue{
			CertificateID: r.CertificateID, RequestID: r.RequestID, Status: r.Status, RequestStatus: r.RequestStatus,
			Auto: r.Auto, CommonName: r.CommonName, DNSNames: append([]string(nil), r.DNSNames...), CSR: r.CSR,
			CreatedAt: r.CreatedAt, IssuedAt: r.IssuedAt, NotAfter: r.NotAfter, RevokeAt: r.RevokeAt,
			ReceiptID: r.ReceiptID, ResponseDropped: r.ResponseDropped,
		}
		if r.Body != nil {
			rr.Body = deepCopy(r.Body).(map[string]any)
		}
		out.Reissues = append(out.Reissues, rr)
	}
	return out
}

// redacted is what card numbers and CVVs become in stored bodies.
const redacted = "(redacted)"

// redactBody returns a copy of body with credit_card.number and .cvv replaced.
func redactBody(body map[string]any) map[string]any {
	out := deepCopy(body).(map[string]any)
	if cc, ok := out["credit_card"].(map[string]any); ok {
		for _, k := range []string{"number", "cvv"} {
			if _, present := cc[k]; present {
				cc[k] = redacted
			}
		}
	}
	return out
}

// deepCopy copies JSON-shaped values.
func deepCopy(v any) any {
	switch t := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(t))
		for k, c := range t {
			m[k] = deepCopy(c)
		}
		return m
	case []any:
		s := make([]any, len(t))
		for i, c := range t {
			s[i] = deepCopy(c)
		}
		return s
	case nil:
		return nil
	default:
		return t
	}
}

// store holds every order and the id counters. Callers hold Server.mu.
type store struct {
	Orders    []*order         `json:"orders"`
	NextID    int64            `json:"next_id"` // shared by orders, requests, certificates, domains, orgs
	Domains   map[string]int64 `json:"domains"`
	Orgs      map[string]int64 `json:"orgs"`
	ClockSkew time.Duration    `json:"clock_offset"`
	// Validations: when each domain was last validated (DCV).
	Validations map[string]time.Time `json:"validations,omitempty"`

	byID   map[int64]*order
	byCert map[int64]*order
}

func newStore() *store {
	return &store{NextID: 1000001, Domains: map[string]int64{}, Orgs: map[string]int64{}, Validations: map[string]time.Time{},
		byID: map[int64]*order{}, byCert: map[int64]*order{}}
}

func (s *store) index() {
	s.byID = make(map[int64]*order, len(s.Orders))
	s.byCert = make(map[int64]*order, len(s.Orders))
	for _, o := range s.Orders {
		s.byID[o.ID] = o
		s.byCert[o.CertificateID] = o
		for _, r := range o.Reissues {
			s.byCert[r.CertificateID] = o
		}
	}
	if s.Domains == nil {
		s.Domains = map[string]int64{}
	}
	if s.Orgs == nil {
		s.Orgs = map[string]int64{}
	}
	if s.Validations == nil {
		s.Validations = map[string]time.Time{}
	}
}

func (s *store) nextID() int64 {
	id := s.NextID
	s.NextID++
	return id
}

func (s *store) add(o *order) {
	s.Orders = append(s.Orders, o)
	s.byID[o.ID] = o
	s.byCert[o.CertificateID] = o
}

func (s *store) get(id int64) *order { return s.byID[id] }

func (s *store) getByCertificate(id int64) *order { return s.byCert[id] }

// domainID returns the stable id of a domain name (a leading "*." is dropped).
func (s *store) domainID(name string) (string, int64) {
	name = strings.ToLower(strings.TrimPrefix(name, "*."))
	if id, ok := s.Domains[name]; ok {
		return name, id
	}
	id := s.nextID()
	s.Domains[name] = id
	return name, id
}

// orgID returns the id for a new organization; an organization with the same
// name is reused unless forceNew (skip_duplicate_org_check) is set.
func (s *store) orgID(name string, forceNew bool) int64 {
	key := strings.ToLower(strings.TrimSpace(name))
	if id, ok := s.Orgs[key]; ok && !forceNew {
		return id
	}
	id := s.nextID()
	if _, ok := s.Orgs[key]; !ok {
		s.Orgs[key] = id
	}
	return id
}

// byAlternativeID returns the orders carrying altID, in id order.
func (s *store) byAlternativeID(altID string) []*order {
	var out []*order
	for _, o := range s.Orders {
		if o.AlternativeOrderID != "" && o.AlternativeOrderID == altID {
			out = append(out, o)
		}
	}
	return out
}

// byThumbprint returns the order with a certificate (primary or reissued)
// that has this SHA-1 thumbprint.
func (s *store) byThumbprint(tp string) *order {
	tp = strings.ToUpper(strings.ReplaceAll(tp, ":", ""))
	for _, o := range s.Orders {
		if o.CertThumbprint != "" && o.CertThumbprint == tp {
			return o
		}
		for _, r := range o.Reissues {
			if r.Thumbprint != "" && r.Thumbprint == tp {
				return o
			}
		}
	}
	return nil
}
