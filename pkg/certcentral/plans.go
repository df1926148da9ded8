package certcentral

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"time"
)

// Order statuses CertCentral is known to send (order info, lists, reports).
// Other words occur: compare against these and treat the rest as unknown
// rather than failing (KnownStatus).
const (
	StatusPending        = "pending"
	StatusNeedsApproval  = "needs_approval"
	StatusIssued         = "issued" // also covers expired certificates
	StatusReissuePending = "reissue_pending"
	StatusWaitingPickup  = "waiting_pickup"
	StatusProcessing     = "processing"
	StatusApproved       = "approved"
	StatusRejected       = "rejected"
	StatusDenied         = "denied"
	StatusCanceled       = "canceled"
	StatusRevoked        = "revoked"
	StatusExpired        = "expired"
	StatusNeedsCSR       = "needs_csr"
)

var knownStatuses = map[string]bool{
	StatusPending: true, StatusNeedsApproval: true, StatusIssued: true, StatusReissuePending: true,
	StatusWaitingPickup: true, StatusProcessing: true, StatusApproved: true, StatusRejected: true,
	StatusDenied: true, StatusCanceled: true, StatusRevoked: true, StatusExpired: true, StatusNeedsCSR: true,
}

// KnownStatus reports whether s is an order status word certplan knows.
func KnownStatus(s string) bool { return knownStatuses[s] }

// Request types and request statuses (order info requests[]).
const (
	RequestTypeNewRequest = "new_request"
	RequestTypeReissue    = "reissue"
	RequestTypeRevoke     = "revoke"
	RequestTypeDuplicate  = "duplicate"

	RequestSubmitted = "submitted"
	RequestPending   = "pending"
	RequestApproved  = "approved"
	RequestRejected  = "rejected"
)

// PendingReissue reports whether a reissue is under way on the order: status
// reissue_pending, or a request of type reissue that is neither approved nor
// rejected (pending, submitted, or a status word certplan does not know: an
// unknown word is taken as still pending, so no second reissue is sent).
func (o Order) PendingReissue() bool {
	if o.Status == StatusReissuePending {
		return true
	}
	for _, r := range o.Requests {
		if r.Type == RequestTypeReissue && r.Status != RequestApproved && r.Status != RequestRejected {
			return true
		}
	}
	return false
}

// OrderEnd is when the order (the paid plan) ends: order_valid_till, a bare
// date meaning the end of that day UTC. ok is false when absent or unreadable.
func (o Order) OrderEnd() (time.Time, bool) { return ParseValidTill(o.OrderValidTill) }

// Expiry is when the certificate stops being valid: valid_till, a bare date
// meaning the end of that day UTC.
func (c OrderCertificate) Expiry() (time.Time, bool) { return ParseValidTill(c.ValidTill) }

// dateLayouts are the date-time forms CertCentral uses ("2018-10-16T20:05:28+00:00",
// "2018-10-16 20:05:28" in list and report views).
var dateLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05-0700", "2006-01-02T15:04:05", "2006-01-02 15:04:05"}

// ParseDate reads a CertCentral date or date-time. A bare yyyy-MM-dd is
// midnight UTC and dateOnly is true; a date-time without a zone is UTC.
func ParseDate(s string) (t time.Time, dateOnly, ok bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, false, false
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, true, true
	}
	for _, l := range dateLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), false, true
		}
	}
	return time.Time{}, false, false
}

// ParseValidTill reads a valid_till or order_valid_till as the instant the
// validity ends: a bare date (the usual form) runs to the end of that day,
// the next midnight UTC; a date-time is taken as is.
func ParseValidTill(s string) (time.Time, bool) {
	t, dateOnly, ok := ParseDate(s)
	if ok && dateOnly {
		t = t.Add(24 * time.Hour)
	}
	return t, ok
}

// Flag is a 0/1 setting or marker (auto_reissue, auto_renew,
// is_multi_year_plan). CertCentral sends 1, "1", true or "true" for set and 0,
// "0", false, "" or null for unset; any other value reads as unset rather than
// failing the whole response. It is sent as 1 or 0.
type Flag bool

// UnmarshalJSON reads a flag leniently.
func (f *Flag) UnmarshalJSON(b []byte) error {
	s := strings.ToLower(strings.Trim(string(bytes.TrimSpace(b)), `"`))
	switch s {
	case "1", "true", "yes", "on":
		*f = true
	default:
		if n, err := strconv.ParseFloat(s, 64); err == nil && n != 0 {
			*f = true
			return nil
		}
		*f = false
	}
	return nil
}

// MarshalJSON writes 1 or 0.
func (f Flag) MarshalJSON() ([]byte, error) {
	if f {
		return []byte("1"), nil
	}
	return []byte("0"), nil
}

// Count is a number of names that CertCentral may send as a number, a
// numeric string, or a list of the names themselves (counted). Anything else
// reads as 0.
type Count int

// UnmarshalJSON reads a count leniently.
func (c *Count) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	*c = 0
	if len(b) > 0 && b[0] == '[' {
		var list []json.RawMessage
		if json.Unmarshal(b, &list) == nil {
			*c = Count(len(list))
		}
		return nil
	}
	if n, err := strconv.Atoi(strings.Trim(string(b), `"`)); err == nil && n > 0 {
		*c = Count(n)
	}
	return nil
}

// LooseString is a value CertCentral may send as a string or a number
// (receipt_id: "0" when nothing was billed). null reads as "".
type LooseString string

// UnmarshalJSON reads a string or the text of any other scalar.
func (s *LooseString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	var str string
	if json.Unmarshal(b, &str) == nil {
		*s = LooseString(str)
		return nil
	}
	if string(b) == "null" || len(b) == 0 || b[0] == '{' || b[0] == '[' {
		*s = ""
		return nil
	}
	*s = LooseString(b)
	return nil
}

// Billed reports a receipt for an actual charge: not empty and not "0".
func (s LooseString) Billed() bool { return s != "" && s != "0" }

// ReissueResponse is the body of a successful
// POST /order/certificate/{order_id}/reissue. The request id does not lead to
// the new certificate: poll order info (the certificate moves to the reissue)
// or ListReissues.
type ReissueResponse struct {
	ID               int64       `json:"id"` // the order id
	Requests         []Request   `json:"requests,omitempty"`
	CertificateID    int64       `json:"certificate_id,omitempty"`    // issued at once only
	CertificateChain []ChainCert `json:"certificate_chain,omitempty"` // issued at once only
	DCVRandomValue   string      `json:"dcv_random_value,omitempty"`  // domain validation needed
}

// ReissueCertificate is one certificate of an order as
// GET /order/certificate/{order_id}/reissue lists it: a reissue, and possibly
// the primary certificate too. Status is issued, pending, rejected or revoked
// in practice; compare, do not enumerate.
type ReissueCertificate struct {
	ID            int64    `json:"id"`
	Thumbprint    string   `json:"thumbprint,omitempty"`
	SerialNumber  string   `json:"serial_number,omitempty"`
	CommonName    string   `json:"common_name,omitempty"`
	DNSNames      []string `json:"dns_names,omitempty"`
	Status        string   `json:"status,omitempty"`
	DateCreated   string   `json:"date_created,omitempty"`
	DateIssued    string   `json:"date_issued,omitempty"` // only once issued
	ValidFrom     string   `json:"valid_from,omitempty"`
	ValidTill     string   `json:"valid_till,omitempty"`
	DaysRemaining int      `json:"days_remaining,omitempty"`
	CSR           string   `json:"csr,omitempty"`
	KeySize       int      `json:"key_size,omitempty"`
	SignatureHash string   `json:"signature_hash,omitempty"`
	Archived      Flag     `json:"archived,omitempty"`
	// ReceiptID is "0" unless the reissue was billed (added names, pro rata).
	ReceiptID              LooseString `json:"receipt_id,omitempty"`
	PurchasedDNSNames      Count       `json:"purchased_dns_names,omitempty"`
	PurchasedWildcardNames Count       `json:"purchased_wildcard_names,omitempty"`
}

// Expiry is when the certificate stops being valid (see ParseValidTill).
func (r ReissueCertificate) Expiry() (time.Time, bool) { return ParseValidTill(r.ValidTill) }
