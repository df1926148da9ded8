// Package dcv is certplan's side of domain control validation (DCV): which
// records an order awaiting validation needs published and where
// (RecordsFor), as a BIND zone fragment for DNS-as-code pipelines (WriteBIND),
// whether they are visible in DNS yet (Resolver), asking CertCentral to check
// once they are, with a bounded backoff while caches expire (Check), keeping
// the order's random value current (Refresh), and when a completed
// validation stops being reusable (LapsesAt).
//
// Nothing here publishes records: that is the DNS team's pipeline, or a DNS
// provider integration behind its own interface later.
package dcv

import (
	"strings"
	"time"

	"github.com/certplan/certplan/pkg/certcentral"
	"github.com/certplan/certplan/pkg/state"
)

// Record types as certplan shows them. HTTP is no DNS type: the record is a
// file at a URL (http-token).
const (
	TypeTXT   = "TXT"
	TypeCNAME = "CNAME"
	TypeHTTP  = "HTTP"
)

// Where DigiCert looks.
const (
	// AuthPrefix is the label the DNS methods use: _dnsauth.<domain>.
	// DigiCert also accepts the TXT record at the domain itself; certplan
	// shows _dnsauth, which leaves the domain's own records alone.
	AuthPrefix = "_dnsauth."
	// CNAMESuffix is appended to the random value to form a CNAME target.
	CNAMESuffix = ".dcv.digicert.com"
	// HTTPPath is where http-token expects the file.
	HTTPPath = "/.well-known/pki-validation/fileauth.txt"
)

// Record is one thing to publish for one validated domain.
type Record struct {
	// Domain is the name validated: an order name, or the base name a
	// wildcard stands for (*.example.com validates example.com).
	Domain string `json:"domain"`
	// Name is where: _dnsauth.<domain> for the DNS methods, the URL for
	// http-token.
	Name string `json:"name"`
	// Type is TXT, CNAME or HTTP.
	Type string `json:"type"`
	// Value is the TXT value, the CNAME target (without a trailing dot) or
	// the file's content.
	Value string `json:"value"`
	// Status is what CertCentral last said of the domain (pending,
	// approved); "" when it has not been checked.
	Status string `json:"status,omitempty"`
}

// Pending is what one order awaiting validation needs published.
type Pending struct {
	Certificate string `json:"certificate"`
	OrderID     int64  `json:"order_id"`
	// OrderStatus is the order's status: pending (a new order) or
	// reissue_pending (a reissue waits).
	OrderStatus string `json:"order_status"`
	Method      string `json:"method"`
	// Expires is when the random value expires (RFC 3339), "" when unknown.
	Expires string   `json:"expires,omitempty"`
	Records []Record `json:"records"`
}

// TokenMethod reports whether method validates with a published random
// value: the DNS TXT, DNS CNAME and HTTP methods.
func TokenMethod(method string) bool {
	switch method {
	case certcentral.DCVDNSTXT, certcentral.DCVDNSCNAME, certcentral.DCVHTTP:
		return true
	}
	return false
}

// DNSMethod reports whether method validates in DNS (TXT or CNAME).
func DNSMethod(method string) bool {
	return method == certcentral.DCVDNSTXT || method == certcentral.DCVDNSCNAME
}

// Awaiting reports whether an order in this status may wait for domain
// validation: a new order (pending) or a reissue (reissue_pending).
func Awaiting(s state.OrderStatus) bool {
	return s == state.StatusPending || s == state.StatusReissuePending
}

// BaseDomain is the domain validated for a name: lower case, without a
// trailing dot, a wildcard's "*." dropped.
func BaseDomain(name string) string {
	return strings.TrimSuffix(strings.TrimPrefix(strings.ToLower(strings.TrimSpace(name)), "*."), ".")
}

// RecordsFor lists what to publish for an order validating names with
// method and its random value: one record per domain (a wildcard and its
// base name share one), in the order of names. A name's status comes from
// the DCV names (pending wins when two names share a domain). Email and
// unknown methods, or an empty value, have nothing to publish.
func RecordsFor(method, value string, names []state.DCVName) []Record {
	if !TokenMethod(method) || value == "" {
		return nil
	}
	var out []Record
	index := map[string]int{}
	for _, n := range names {
		domain := BaseDomain(n.Name)
		if domain == "" {
			continue
		}
		if i, ok := index[domain]; ok {
			if out[i].Status != n.Status && n.Status != certcentral.DCVNameApproved {
				out[i].Status = n.Status
			}
			continue
		}
		r := Record{Domain: domain, Value: value, Status: n.Status}
		switch method {
		case certcentral.DCVDNSTXT:
			r.Name, r.Type = AuthPrefix+domain, TypeTXT
		case certcentral.DCVDNSCNAME:
			r.Name, r.Type, r.Value = AuthPrefix+domain, TypeCNAME, value+CNAMESuffix
		case certcentral.DCVHTTP:
			r.Name, r.Type = "http://"+domain+HTTPPath, TypeHTTP
		}
		index[domain] = len(out)
		out = append(out, r)
	}
	return out
}

// PendingOf is what the current order of a state entry needs published, if
// it awaits validation with a token method whose value is known. status is
// the order's status as last seen (refreshed facts win over the state), d
// its DCV facts.
func PendingOf(name string, orderID int64, status state.OrderStatus, d *state.DCV) (Pending, bool) {
	if !Awaiting(status) || d == nil || !TokenMethod(d.Method) || d.RandomValue == "" {
		return Pending{}, false
	}
	p := Pending{Certificate: name, OrderID: orderID, OrderStatus: string(status), Method: d.Method,
		Records: RecordsFor(d.Method, d.RandomValue, d.Names)}
	if d.ValueExpires != nil {
		p.Expires = d.ValueExpires.UTC().Format(time.RFC3339)
	}
	if p.Records == nil {
		p.Records = []Record{}
	}
	return p, true
}

// RequestNames are the names an order body asks for: certificate.common_name
// then certificate.dns_names, without duplicates (compared case-insensitively).
func RequestNames(body map[string]any) []string {
	cert, _ := body["certificate"].(map[string]any)
	if cert == nil {
		return nil
	}
	var names []string
	if cn, ok := cert["common_name"].(string); ok {
		names = append(names, cn)
	}
	switch l := cert["dns_names"].(type) {
	case []any:
		for _, v := range l {
			if s, ok := v.(string); ok {
				names = append(names, s)
			}
		}
	case []string:
		names = append(names, l...)
	}
	seen := map[string]bool{}
	out := make([]string, 0, len(names))
	for _, n := range names {
		n = strings.TrimSpace(n)
		if n == "" || seen[strings.ToLower(n)] {
			continue
		}
		seen[strings.ToLower(n)] = true
		out = append(out, n)
	}
	return out
}

// RequestMethod is the dcv_method an order body asks for ("" when none).
func RequestMethod(body map[string]any) string {
	m, _ := body["dcv_method"].(string)
	return m
}

// SafeValue reports whether a random value is safe to publish and print:
// 1 to 255 characters of letters, digits, '.', '_' and '-'. DigiCert's
// values are short alphanumeric strings; anything else is refused rather
// than written into a zone file or a terminal.
func SafeValue(v string) bool {
	if v == "" || len(v) > 255 {
		return false
	}
	for _, r := range v {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '_', r == '-':
		default:
			return false
		}
	}
	return true
}
