package plan

import (
	"encoding/json"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/certplan/certplan/pkg/lifecycle"
	"github.com/certplan/certplan/pkg/spec"
)

// This file holds what the rules of products with plans (Secure Site) need
// beyond the certificate's expiry: which shaping fields a reissue carries,
// which names a change adds or removes, the order's end, the manifest's
// auto_reissue, and the cost and expected validity of what a change buys.
// docs/lifecycle.md explains the choices.

// reissuableFields are the shaping fields of a Secure Site order that a
// reissue carries (certcentral.BuildReissueBody sends them, with
// server_platform and skip_approval, which do not shape the certificate).
// Every other shaping field (organization, cert_validity, profile_option,
// disable_ct) needs a new order.
var reissuableFields = map[string]bool{
	"certificate.common_name":    true,
	"certificate.dns_names":      true,
	"certificate.csr":            true,
	"certificate.signature_hash": true,
	"certificate.ca_cert_id":     true,
}

// reissueBodyFields are the request paths a reissue sends: a reissue's diff
// shows only them.
var reissueBodyFields = []string{
	"certificate.common_name", "certificate.dns_names", "certificate.csr", "certificate.signature_hash",
	"certificate.server_platform", "certificate.ca_cert_id", "skip_approval",
}

// autoReissueSafetyNet: with auto_reissue: 1, certplan leaves a due
// certificate to CertCentral (which reissues 30 days before expiry) until it
// is this close to expiry.
const autoReissueSafetyNet = 7 * day

// hasPlans reports whether the manifest's product is ordered as a paid plan
// that carries several certificates.
func hasPlans(g given) bool { return g.manifest.Product.HasPlans() }

// autoReissue reports whether the manifest sets auto_reissue: 1.
func autoReissue(order map[string]any) bool {
	switch v := order["auto_reissue"].(type) {
	case int:
		return v == 1
	case int64:
		return v == 1
	case float64:
		return v == 1
	case json.Number:
		return v.String() == "1"
	case string:
		return v == "1"
	case bool:
		return v
	}
	return false
}

// nameChange is how the names of a certificate change from the current
// order's request to the manifest's.
type nameChange struct {
	added, removed []string
	// commonName is set when the common name changes: "old -> new".
	commonName string
}

// destructive: DigiCert revokes every earlier certificate of the order
// 48–72 h after a reissue that removes or changes names. A changed common
// name counts as changed even when the old one stays a SAN (the safe
// reading of DigiCert's "remove or change").
func (n nameChange) destructive() bool { return len(n.removed) > 0 || n.commonName != "" }

// names compares the common name and dns_names of two Secure Site bodies,
// case-insensitively and as sets.
func names(before, after map[string]any) nameChange {
	bcn, bset := certNames(before)
	acn, aset := certNames(after)
	var n nameChange
	for name := range aset {
		if !bset[name] {
			n.added = append(n.added, name)
		}
	}
	for name := range bset {
		if !aset[name] {
			n.removed = append(n.removed, name)
		}
	}
	sort.Strings(n.added)
	sort.Strings(n.removed)
	if bcn != acn {
		n.commonName = orNone(bcn) + " -> " + orNone(acn)
	}
	return n
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// certNames is a body's common name and the set of all its names (common
// name included), lower-cased.
func certNames(body map[string]any) (string, map[string]bool) {
	set := map[string]bool{}
	cn, _ := lookupPath(body, "certificate.common_name")
	s, _ := cn.(string)
	s = strings.ToLower(strings.TrimSpace(s))
	if s != "" {
		set[s] = true
	}
	if v, ok := lookupPath(body, "certificate.dns_names"); ok {
		if list, ok := nameSet(v).([]any); ok {
			for _, e := range list {
				if n, ok := e.(string); ok {
					set[n] = true
				}
			}
		}
	}
	return s, set
}

// csrOf is the PEM CSR of a Secure Site body ("" when absent).
func csrOf(body map[string]any) string {
	v, _ := lookupPath(body, "certificate.csr")
	s, _ := v.(string)
	return s
}

// csrKeyDigest is spec.CSRKeyDigest, or "" for a CSR that cannot be read.
func csrKeyDigest(body map[string]any) string {
	d, err := spec.CSRKeyDigest(csrOf(body))
	if err != nil {
		return ""
	}
	return d
}

// orderEnd is when the current order (the paid plan) ends: the end of its
// order_valid_till day. known is false when refresh and state do not say;
// the rules then take the certificate's valid_till as the order's end.
func orderEnd(g given) (end time.Time, date string, known bool) {
	if d, ok := parseDate(g.order.orderValidTill); ok {
		return expiry(d), dateOf(d), true
	}
	if d, ok := parseDate(g.order.validTill); ok {
		return expiry(d), dateOf(d), false
	}
	return time.Time{}, "", false
}

// certExpiry is when the current certificate stops being valid.
func certExpiry(g given) (time.Time, string, bool) {
	d, ok := parseDate(validTill(g))
	if !ok {
		return time.Time{}, "", false
	}
	return expiry(d), dateOf(d), true
}

// planLength describes the plan an order body buys ("1 year", "400 days",
// "until 2027-05-01") and how long it runs from now (0 when unknown).
func planLength(p spec.Product, body map[string]any, now time.Time) (string, time.Duration) {
	if p.IsLegacy() {
		if y, ok := intOf(body["validity"]); ok && y > 0 {
			return years(y), addYears(now, y)
		}
		return "", 0
	}
	if ov, ok := body["order_validity"].(map[string]any); ok {
		if s, d := validityOf(ov, now); s != "" {
			return s, d
		}
	}
	if d, ok := intOf(body["validity_days"]); ok && d > 0 {
		return sprintf("%d days", d), time.Duration(d) * day
	}
	if y, ok := intOf(body["validity_years"]); ok && y > 0 {
		return years(y), addYears(now, y)
	}
	if s, ok := body["custom_expiration_date"].(string); ok {
		if t, ok := parseDate(s); ok {
			return "until " + dateOf(t), expiry(t).Sub(now)
		}
	}
	return "", 0
}

// validityOf reads {custom_expiration_date} (which wins), {days} (which wins
// over years) or {years}.
func validityOf(v map[string]any, now time.Time) (string, time.Duration) {
	if s, ok := v["custom_expiration_date"].(string); ok {
		if t, ok := parseDate(s); ok {
			return "until " + dateOf(t), expiry(t).Sub(now)
		}
	}
	if d, ok := intOf(v["days"]); ok && d > 0 {
		return sprintf("%d days", d), time.Duration(d) * day
	}
	if y, ok := intOf(v["years"]); ok && y > 0 {
		return years(y), addYears(now, y)
	}
	return "", 0
}

func years(n int) string {
	if n == 1 {
		return "1 year"
	}
	return sprintf("%d years", n)
}

func addYears(now time.Time, n int) time.Duration { return now.AddDate(n, 0, 0).Sub(now) }

// intOf reads an integer as manifests and state files carry it.
func intOf(v any) (int, bool) {
	switch t := v.(type) {
	case int:
		return t, true
	case int64:
		return int(t), true
	case float64:
		return int(t), t == float64(int(t))
	case json.Number:
		n, err := t.Int64()
		return int(n), err == nil
	case string:
		n, err := strconv.Atoi(t)
		return n, err == nil
	}
	return 0, false
}

// validity is the expected validity of a certificate issued at from that
// ends at end (exclusive): dates as CertCentral writes them, days counted
// the Baseline Requirements' way.
func validity(from, end time.Time) *Validity {
	if !end.After(from) {
		return nil
	}
	last := end.Add(-time.Second)
	return &Validity{ValidFrom: dateOf(from), ValidTill: dateOf(last), Days: lifecycle.BRDays(from, last)}
}

// firstCertificate is the expected validity of the first certificate of a
// new order placed now: min(now + cap, now + plan, now + cert_validity) for
// products with plans; the plan's length for the others. nil when unknown.
func firstCertificate(c *spec.Certificate, caps lifecycle.Caps, now time.Time) *Validity {
	_, length := planLength(c.Product, c.Order, now)
	if length <= 0 {
		return nil
	}
	end := now.Add(length)
	if c.Product.HasPlans() {
		if cert, ok := lookupPath(c.Order, "certificate.cert_validity"); ok {
			if m, ok := cert.(map[string]any); ok {
				if _, d := validityOf(m, now); d > 0 && now.Add(d).Before(end) {
					end = now.Add(d)
				}
			}
		}
		end = caps.ValidTill(now, end)
	}
	return validity(now, end)
}

// reissuedCertificate is the expected validity of a certificate reissued now
// on an order ending at end: min(now + cap, end).
func reissuedCertificate(caps lifecycle.Caps, now, end time.Time) *Validity {
	return validity(now, caps.ValidTill(now, end))
}

// planPhrase renders a Billing.Plan for people: "1-year plan", "400-day
// plan", "plan until 2027-05-01".
func planPhrase(plan string) string {
	switch {
	case plan == "":
		return ""
	case strings.HasPrefix(plan, "until "):
		return "plan " + plan
	}
	n, unit, _ := strings.Cut(plan, " ")
	return n + "-" + strings.TrimSuffix(unit, "s") + " plan"
}

// BillingPhrase says what a change costs, for people: "new order, 1-year
// plan, paid by balance", "new order renewing order 8, 1-year plan, paid by
// card", "reissue on order 9, paid through 2027-06-30", "reissue on order 9,
// paid through 2027-06-30; 1 added name billed pro rata (v2.example.com)",
// and for a no-op "order 9, paid through 2027-06-30".
// "" when the change has no billing.
func BillingPhrase(c *Change) string {
	b := c.Billing
	if b == nil {
		return ""
	}
	switch b.Kind {
	case BillingNewOrder:
		s := "new order"
		if b.OrderID != 0 {
			s += sprintf(" renewing order %d", b.OrderID)
		}
		if p := planPhrase(b.Plan); p != "" {
			s += ", " + p
		}
		if b.PaymentMethod != "" {
			s += ", paid by " + b.PaymentMethod
		}
		return s
	case BillingFree, BillingProRata:
		s := sprintf("reissue on order %d", b.OrderID)
		if c.Action != ActionReissue {
			s = sprintf("order %d", b.OrderID)
		}
		if b.PaidThrough != "" {
			s += ", paid through " + b.PaidThrough
		}
		if b.Kind == BillingProRata {
			s += sprintf("; %d added %s billed pro rata (%s)", len(b.AddedNames), plural(int64(len(b.AddedNames)), "name"), listSome(b.AddedNames, 5))
		}
		return s
	}
	return string(b.Kind)
}
