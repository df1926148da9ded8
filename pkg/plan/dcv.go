package plan

import (
	"sort"
	"strings"
	"time"

	dcvpkg "github.com/certplan/certplan/pkg/dcv"
	"github.com/certplan/certplan/pkg/lifecycle"
)

// DCV is what a change's order needs for domain control validation (JSON
// `dcv`, format 2): for an order awaiting validation the records to publish
// (for the DNS methods and http-token), and for an issued one the
// validations that lapse before its next certificate.
type DCV struct {
	// Method is the order's dcv_method.
	Method string `json:"method"`
	// Expires is when the random value expires (RFC 3339), "" when unknown.
	Expires string `json:"expires,omitempty"`
	// Records are what to publish, one per validated domain: {domain, name,
	// type (TXT, CNAME, HTTP), value, status}. Empty when nothing awaits
	// validation, or the value is not known (refresh off).
	Records []dcvpkg.Record `json:"records"`
	// Lapses are the completed validations that can no longer be reused by
	// the time the next certificate is due.
	Lapses []DCVLapse `json:"lapses,omitempty"`
}

// DCVLapse is a domain whose validation lapses before the next certificate.
type DCVLapse struct {
	Domain string `json:"domain"`
	// Validated is when certplan saw it validated (yyyy-MM-dd).
	Validated string `json:"validated"`
	// Lapses is the first day it can no longer be reused (yyyy-MM-dd).
	Lapses string `json:"lapses"`
	// NextCertificate is when the next certificate (a reissue or a new
	// order) is due (yyyy-MM-dd); today for a change that orders it now.
	NextCertificate string `json:"next_certificate"`
}

// autoReissueLead is how long before expiry CertCentral reissues a
// certificate whose order sets auto_reissue.
const autoReissueLead = 30 * day

// Awaiting reports whether the change's order waits for its DCV records.
func (d *DCV) Awaiting() bool { return d != nil && len(d.Records) > 0 }

// attachDCV sets the change's DCV: the records of an order awaiting
// validation, or the validations that lapse before the next certificate
// (the rules add a dcv_lapses reason for those). Only products with plans
// (public TLS) are validated; nothing is attached when the state knows
// nothing of the order's validation.
func (pl planner) attachDCV(g given, ch *Change) {
	if g.current == nil || g.interrupted != nil || !hasPlans(g) || g.order.dcv == nil {
		return
	}
	d := g.order.dcv
	out := &DCV{Method: d.Method, Records: []dcvpkg.Record{}}
	switch {
	case dcvpkg.Awaiting(g.order.status):
		if !dcvpkg.TokenMethod(d.Method) {
			return
		}
		if r := dcvpkg.RecordsFor(d.Method, d.RandomValue, d.Names); r != nil {
			out.Records = r
		}
		if d.ValueExpires != nil {
			out.Expires = d.ValueExpires.UTC().Format(time.RFC3339)
		}
	default:
		if out.Lapses = dcvLapses(g, ch.Action); len(out.Lapses) == 0 {
			return
		}
	}
	ch.DCV = out
}

// withLapseNote adds a dcv_lapses reason to a decision of action when a
// recorded domain validation can no longer be reused by the time its next
// certificate is due.
func withLapseNote(g given, action Action, reasons []Reason) ([]Reason, string) {
	ls := dcvLapses(g, action)
	if len(ls) == 0 {
		return reasons, ""
	}
	r := lapseReason(ls, action != ActionNoOp)
	return append(reasons, r), sprintf("domain validation lapses %s, before the next certificate (due %s)", ls[0].Lapses, ls[0].NextCertificate)
}

// dcvLapses lists the validations of an issued order of a product with
// plans that can no longer be reused when its next certificate is due.
func dcvLapses(g given, action Action) []DCVLapse {
	if g.current == nil || !hasPlans(g) || g.order.dcv == nil || !issuedOrExpired(g) {
		return nil
	}
	next, ok := nextCertificate(g, action)
	if !ok {
		return nil
	}
	reuse := g.dcvReuse
	if reuse == nil {
		reuse = lifecycle.DefaultDCVReuse()
	}
	return lapses(reuse, g, next)
}

// nextCertificate is when the next certificate of the order is due: now for
// a change that orders it, else renewBefore ahead of the certificate's
// expiry or of the order's end, whichever is first (CertCentral's 30 days
// with auto_reissue).
func nextCertificate(g given, action Action) (time.Time, bool) {
	if action == ActionReissue || action == ActionRenew {
		return g.now, true
	}
	exp, _, ok := certExpiry(g)
	if !ok {
		return time.Time{}, false
	}
	rb := g.manifest.RenewBefore
	if autoReissue(g.manifest.Order) {
		rb = max(rb, autoReissueLead)
	}
	next := exp.Add(-rb)
	if end, _, known := orderEnd(g); known && end.Add(-g.manifest.RenewBefore).Before(next) {
		next = end.Add(-g.manifest.RenewBefore)
	}
	if next.Before(g.now) {
		next = g.now
	}
	return next, true
}

// lapses lists the manifest's domains whose recorded validation can no
// longer be reused at next, in the manifest's order.
func lapses(reuse lifecycle.Caps, g given, next time.Time) []DCVLapse {
	validated := map[string]time.Time{}
	for _, n := range g.order.dcv.Names {
		if n.ValidatedAt != nil {
			validated[dcvpkg.BaseDomain(n.Name)] = *n.ValidatedAt
		}
	}
	var out []DCVLapse
	seen := map[string]bool{}
	for _, name := range dcvpkg.RequestNames(g.manifest.Order) {
		domain := dcvpkg.BaseDomain(name)
		at, ok := validated[domain]
		if !ok || seen[domain] {
			continue
		}
		seen[domain] = true
		if reuse.Reusable(at, next) {
			continue
		}
		out = append(out, DCVLapse{Domain: domain, Validated: dateOf(at),
			Lapses: dateOf(dcvpkg.LapsesAt(reuse, at)), NextCertificate: dateOf(next)})
	}
	return out
}

// lapseReason says which validations lapse, grouped by their dates.
func lapseReason(ls []DCVLapse, now bool) Reason {
	type key struct{ validated, lapses string }
	groups := map[key][]string{}
	var keys []key
	for _, l := range ls {
		k := key{l.Validated, l.Lapses}
		if _, ok := groups[k]; !ok {
			keys = append(keys, k)
		}
		groups[k] = append(groups[k], l.Domain)
	}
	sort.SliceStable(keys, func(i, j int) bool { return keys[i].lapses < keys[j].lapses })
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, sprintf("%s (validated %s) lapsed %s", listSome(groups[k], 3), k.validated, k.lapses))
	}
	if now {
		return reason(ReasonDCVLapses, "domain validation of %s: this certificate waits for fresh DCV; publish the records the plan shows once its order is pending",
			strings.Join(parts, "; "))
	}
	for i := range parts {
		parts[i] = strings.Replace(parts[i], " lapsed ", " lapses ", 1)
	}
	return reason(ReasonDCVLapses, "domain validation of %s, before the next certificate (due %s): it will wait for fresh DCV records",
		strings.Join(parts, "; "), ls[0].NextCertificate)
}
