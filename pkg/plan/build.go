package plan

import (
	"sort"
	"time"

	"github.com/certplan/certplan/pkg/spec"
	"github.com/certplan/certplan/pkg/state"
)

// Build plans every manifest certificate against the state, in name order.
// It is pure: no I/O, no wall clock, and the same input gives the same plan.
func Build(in Input) *Plan {
	st := in.State
	if st == nil {
		st = &state.State{}
	}
	p := &Plan{
		FormatVersion:   FormatVersion,
		CertplanVersion: in.Version,
		Lineage:         st.Lineage,
		Serial:          st.Serial,
		StatePath:       in.StatePath,
		PlannedAt:       in.Now.UTC(),
		Changes:         make([]Change, 0, len(in.Certificates)),
		Orphaned:        []string{},
		Drift:           []Drift{},
		ManifestDigests: copyStrings(in.ManifestDigests),
	}

	certs := make([]*spec.Certificate, 0, len(in.Certificates))
	for _, c := range in.Certificates {
		if c != nil {
			certs = append(certs, c)
		}
	}
	sort.SliceStable(certs, func(i, j int) bool { return certs[i].Name < certs[j].Name })

	pl := planner{now: in.Now.UTC(), facts: in.Facts}
	if len(in.Facts) > 0 {
		pl.known = knownOrderIDs(st)
	}
	declared := make(map[string]bool, len(certs))
	for _, c := range certs {
		declared[c.Name] = true
		var pending *state.Record
		if r, ok := in.Pending[c.Name]; ok {
			pending = &r
		}
		ch, drift := pl.plan(c, st.Certificates[c.Name], pending)
		p.Changes = append(p.Changes, ch)
		p.Drift = append(p.Drift, drift...)
		p.Summary.add(&ch)
	}
	for name := range st.Certificates {
		if !declared[name] {
			p.Orphaned = append(p.Orphaned, name)
		}
	}
	sort.Strings(p.Orphaned)
	p.Summary.Orphaned = len(p.Orphaned)
	p.Drift = append(p.Drift, interruptedWithoutManifest(in.Pending, declared)...)
	return p
}

// interruptedWithoutManifest reports interrupted orders whose manifest is
// gone (deleted or renamed): they are never resumed automatically, since the
// order may exist; a person decides.
func interruptedWithoutManifest(pending map[string]state.Record, declared map[string]bool) []Drift {
	var out []Drift
	for name, rec := range pending {
		if declared[name] {
			continue
		}
		out = append(out, Drift{
			Name: name, Field: "interrupted_order", API: rec.AlternativeOrderID,
			Message: sprintf("an interrupted %s of %s (alternative_order_id %s) has no manifest any more; the order may exist in CertCentral. "+
				"Restore the manifest and run apply to finish it (it looks the key up first), or find the order and `certplan import %s ORDER_ID`",
				rec.Action, name, rec.AlternativeOrderID, name),
		})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// planner holds what every certificate's decision shares.
type planner struct {
	now   time.Time
	facts map[int64]state.OrderFacts
	known map[int64]bool // every order id the state knows, for drift
}

// plan decides one certificate.
func (pl planner) plan(c *spec.Certificate, cur *state.Certificate, pending *state.Record) (Change, []Drift) {
	ch := Change{
		Name:          c.Name,
		Product:       c.Product,
		Reasons:       []Reason{},
		Diff:          []DiffEntry{},
		SpecDigest:    SpecDigest(c),
		RequestDigest: RequestDigest(orderBody(c.Order, cur != nil)),
	}
	if pending != nil {
		if act, ok := resumedAction(pending.Action); ok {
			return pl.resume(ch, c, cur, pending, act), nil
		}
	}
	if cur == nil {
		return pl.create(ch, c, 0, reason(ReasonNewCertificate, "new certificate")), nil
	}
	ch.OrderID = cur.OrderID
	obs, drift := pl.observe(c.Name, cur)
	switch {
	case obs.status == state.StatusUnknownOutcome:
		return blocked(ch, "unknown outcome: run `certplan state set-order "+c.Name+" ID` or `certplan state rm "+c.Name+"`",
			reason(ReasonUnknownOutcome, "the outcome of an earlier legacy order is unknown; nothing is ordered until it is resolved")), drift
	case obs.renewedOutside:
		return blocked(ch, renewedOutsideStatus(c.Name, obs.renewedBy),
			reason(ReasonRenewedOutside, "the current order was renewed outside certplan; nothing is ordered until the renewal is adopted")), drift
	case obs.status.Dead():
		ch.OrderID = 0
		return pl.create(ch, c, cur.OrderID, reason(ReasonPredecessorDead, "order %d was %s", cur.OrderID, obs.status)), drift
	case obs.status.InFlight():
		return pl.inFlight(ch, cur, obs), drift
	case obs.status == state.StatusIssued || obs.status == state.StatusExpired:
		return pl.issued(ch, c, cur, obs), drift
	}
	ch.Action = ActionNoOp
	ch.Status = sprintf("order %d has status %q, which certplan does not act on", cur.OrderID, obs.status)
	ch.Reasons = append(ch.Reasons, reason(ReasonUnhandledStatus, "%s", ch.Status))
	return ch, drift
}

// create plans a new order replacing predecessor (0: the first order).
func (pl planner) create(ch Change, c *spec.Certificate, predecessor int64, why Reason) Change {
	ch.Action = ActionCreate
	ch.Reasons = append(ch.Reasons, why)
	ch.Predecessor = predecessor
	ch.AlternativeOrderID = key(c.Name, c.Product, ch.SpecDigest, predecessor)
	setRequest(&ch, c.Order, predecessor != 0)
	ch.Diff = diffBodies(nil, ch.Request)
	return ch
}

// renew plans a renewal of the current order.
func (pl planner) renew(ch Change, c *spec.Certificate, cur *state.Certificate, reasons []Reason) Change {
	ch.Action = ActionRenew
	ch.Reasons = append(ch.Reasons, reasons...)
	ch.Predecessor = cur.OrderID
	ch.RenewalOfOrderID = cur.OrderID
	ch.AlternativeOrderID = key(c.Name, c.Product, ch.SpecDigest, cur.OrderID)
	setRequest(&ch, c.Order, true)
	ch.Diff = diffBodies(cur.Request, ch.Request)
	return ch
}

// inFlight reports an order still awaiting approval, validation or issuance:
// nothing is ordered meanwhile, even when the manifest changed.
func (pl planner) inFlight(ch Change, cur *state.Certificate, obs observed) Change {
	ch.Action = ActionNoOp
	ch.Status = string(obs.status) + ": " + awaiting(obs.status)
	if obs.since != nil {
		ch.Status += " since " + dateOf(*obs.since)
	}
	ch.Reasons = append(ch.Reasons, reason(ReasonInFlight, "order %d is %s; nothing is ordered until it is issued", cur.OrderID, obs.status))
	if cur.SpecDigest != "" && ch.SpecDigest != cur.SpecDigest {
		const note = "manifest changes will be ordered once the current order is issued"
		ch.Status += "; " + note
		ch.Reasons = append(ch.Reasons, reason(ReasonDeferredChanges, note))
	}
	return ch
}

// issued renews when the renewal window has opened or the certificate-shaping
// fields changed; otherwise nothing is ordered.
func (pl planner) issued(ch Change, c *spec.Certificate, cur *state.Certificate, obs observed) Change {
	var reasons []Reason
	if string(c.Product) != cur.Product {
		reasons = append(reasons, reason(ReasonProductChanged, "product changed from %s to %s", cur.Product, c.Product))
	}
	imported := cur.SpecDigest == ""
	if !imported && ch.SpecDigest != cur.SpecDigest {
		reasons = append(reasons, shapingReasons(c, cur)...)
	}
	till := pickValidTill(obs.validTill, obs.orderValidTill)
	status := "issued, valid till " + till
	if d, ok := parseDate(till); ok {
		exp := expiry(d)
		if !pl.now.Before(exp.Add(-c.RenewBefore)) {
			reasons = append(reasons, windowReason(pl.now, d, exp, c.RenewBefore))
		}
	} else if till == "" {
		status = "issued, validity unknown"
	} else {
		status = sprintf("issued, valid till %q (not a date; renewal by date is not planned)", till)
	}
	if len(reasons) > 0 {
		return pl.renew(ch, c, cur, reasons)
	}
	ch.Action = ActionNoOp
	ch.Status = status
	if imported {
		// `certplan import` / `state set-order` adopted an order whose request
		// certplan never saw: the manifest is taken to describe it.
		const note = "imported order: the manifest is taken to describe it; shaping changes are detected from the next order on"
		ch.Status += "; " + note
		ch.Reasons = append(ch.Reasons, reason(ReasonImportedOrder, note))
	}
	if cur.Request != nil && ch.RequestDigest != cur.RequestDigest {
		if fields := changedTopLevel(cur.Request, c.Order); len(fields) > 0 {
			note := "non-shaping changes (" + listSome(fields, 4) + ") take effect with the next order"
			ch.Status += "; " + note
			ch.Reasons = append(ch.Reasons, reason(ReasonNonShapingChanged, "%s", note))
		}
	}
	return ch
}

// shapingReasons names each changed shaping field.
func shapingReasons(c *spec.Certificate, cur *state.Certificate) []Reason {
	if cur.Request == nil {
		return []Reason{reason(ReasonShapingChanged, "certificate-shaping fields changed (state has no recorded request to compare)")}
	}
	var out []Reason
	for _, f := range changedShaping(familyOf(c.Product), cur.Request, c.Order) {
		out = append(out, reason(ReasonShapingChanged, "%s changed", f))
	}
	// No shaping field differs from the submitted request: the digest was
	// computed differently (an older certplan, before shaping values were
	// normalized), not for a different certificate. Never buy one for that.
	return out
}

// windowReason explains a renewal due to expiry.
func windowReason(now, validTill, exp time.Time, renewBefore time.Duration) Reason {
	if !now.Before(exp) {
		return reason(ReasonRenewalWindow, "certificate expired %s (%s)", dateOf(validTill), daysPhrase(now, exp))
	}
	return reason(ReasonRenewalWindow, "certificate expires %s (%s), inside renewBefore %s", dateOf(validTill), daysPhrase(now, exp), formatDuration(renewBefore))
}

func blocked(ch Change, status string, why Reason) Change {
	ch.Action = ActionNoOp
	ch.Blocked = true
	ch.Status = status
	ch.Reasons = append(ch.Reasons, why)
	return ch
}

func renewedOutsideStatus(name string, by int64) string {
	if by == 0 {
		return "renewed outside certplan: find the new order in CertCentral and run `certplan state set-order " + name + " ORDER_ID`"
	}
	return sprintf("renewed outside certplan as order %d: run `certplan state set-order %s %d` to adopt it", by, name, by)
}

// awaiting describes what an in-flight order waits for.
func awaiting(s state.OrderStatus) string {
	switch s {
	case state.StatusPending:
		return "awaiting validation"
	case state.StatusNeedsApproval:
		return "awaiting approval"
	case state.StatusWaitingPickup:
		return "awaiting pickup"
	case state.StatusReissuePending:
		return "awaiting reissue"
	}
	return "awaiting issuance"
}

// key derives the alternative_order_id; legacy v1 orders have none.
func key(name string, product spec.Product, specDigest string, predecessor int64) string {
	if product.IsLegacy() {
		return ""
	}
	return AlternativeOrderID(name, product, specDigest, predecessorKey(predecessor))
}

// setRequest attaches the body to submit and its secret references.
func setRequest(ch *Change, body map[string]any, later bool) {
	body = orderBody(body, later)
	ch.RequestDigest = RequestDigest(body)
	ch.Request = body
	if refs := spec.SecretRefs(body); len(refs) > 0 {
		ch.SecretRefs = refs
	}
}

// knownOrderIDs is every order id the state has seen, current or historic.
func knownOrderIDs(st *state.State) map[int64]bool {
	out := map[int64]bool{}
	for _, c := range st.Certificates {
		if c == nil {
			continue
		}
		out[c.OrderID] = true
		for _, h := range c.History {
			out[h.OrderID] = true
		}
	}
	return out
}

func copyStrings(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// withoutKeys is a shallow copy of body without keys.
func withoutKeys(body map[string]any, keys ...string) map[string]any {
	out := make(map[string]any, len(body))
	for k, v := range body {
		out[k] = v
	}
	for _, k := range keys {
		delete(out, k)
	}
	return out
}

// orderBody is the body to send for a certificate's first order, or (later)
// for any order after it. A manifest's renewal_of_order_id and
// renewed_thumbprint link the first order to one placed outside certplan;
// every later order is linked by the plan (or, after a rejection, not at all),
// so they must not be sent again.
func orderBody(body map[string]any, later bool) map[string]any {
	if !later {
		return body
	}
	_, a := body["renewal_of_order_id"]
	_, b := body["renewed_thumbprint"]
	if !a && !b {
		return body
	}
	return withoutKeys(body, "renewal_of_order_id", "renewed_thumbprint")
}
