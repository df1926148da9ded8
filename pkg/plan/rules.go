package plan

import (
	"time"

	"github.com/certplan/certplan/pkg/spec"
	"github.com/certplan/certplan/pkg/state"
)

// This file is where every plan decision is made. Each certificate is
// decided by the rules below, in order: the first rule that decides wins, and
// the last one always decides.
//
//	resume           an interrupted apply that can be resumed: its action again, same key
//	blocked          nothing is ordered until a person acts (the only rule that blocks)
//	new certificate  not in the state: create
//	replace dead     the current order was rejected, canceled or revoked: create
//	wait in flight   the current order awaits approval, validation or issuance: no-op
//	renew            issued, and the product, a shaping field or the date says so: renew
//	up to date       issued otherwise: no-op, with notes
//	unhandled status any other status: no-op
//
// A rule is a pure function of what it is given (manifest, state entry,
// refreshed facts, interrupted intent, clock): no I/O, no wall clock. It
// decides the action and its reasons; Build then derives the key, the
// request body and the diff from the decision (build.go).

// given is everything a rule may look at for one certificate.
type given struct {
	manifest *spec.Certificate
	// specDigest and requestDigest are the manifest's, computed once.
	specDigest    string
	requestDigest string // of the body as the next order would send it
	// current is the state's entry; nil when the name is not in the state.
	current *state.Certificate
	// order is the current order as last known: the state's record
	// overridden by refreshed facts (observe). Zero when current is nil or
	// interrupted is set.
	order observed
	// interrupted is an earlier apply's create or renew without an outcome.
	interrupted *interruption
	now         time.Time
}

// interruption is a journaled intent that never got an outcome.
type interruption struct {
	intent *state.Record
	action Action // the plan action that completes it
}

// decision is what a rule decides for one certificate.
type decision struct {
	action  Action
	reasons []Reason
	// status describes a no-op: issued till when, pending since when, what blocks it.
	status  string
	blocked bool
	// predecessor is the order a create replaces (0: the first order).
	predecessor int64
	// resume completes an interrupted apply. A blocked decision carries it
	// too when the interruption was found unresumable only after its key was
	// known, so that the plan still shows which order it is about.
	resume *resumption
	// rule names the rule that decided (for tests and debugging).
	rule string
}

// rule decides, or passes (ok false) to the next rule.
type rule struct {
	name   string
	decide func(g given) (d decision, ok bool)
}

// chain is an ordered list of rules and the decision taken when none decides.
type chain struct {
	rules     []rule
	otherwise rule
}

// decide runs the rules in order; the first that decides wins.
func (c chain) decide(g given) decision {
	for _, r := range c.rules {
		if d, ok := r.decide(g); ok {
			d.rule = r.name
			return d
		}
	}
	d, _ := c.otherwise.decide(g)
	d.rule = c.otherwise.name
	return d
}

// planRules is the rule list. Its order is part of the contract
// (docs/plan-format.md): change it only with the docs.
var planRules = chain{
	rules: []rule{
		{"resume", resumeInterrupted},
		{"blocked", blockedUntilResolved},
		{"new certificate", newCertificate},
		{"replace dead", replaceDead},
		{"wait in flight", waitInFlight},
		{"renew", renewDue},
		{"up to date", upToDate},
	},
	otherwise: rule{"unhandled status", unhandledStatus},
}

func pass() (decision, bool) { return decision{}, false }

// resumeInterrupted completes an interrupted apply with the intent's action
// and key (never a recomputed one). When it cannot be done safely it passes,
// and the blocked rule says why.
func resumeInterrupted(g given) (decision, bool) {
	if g.interrupted == nil {
		return pass()
	}
	r, problem := resumptionOf(g)
	if problem != nil {
		return pass()
	}
	return decision{action: r.action, reasons: r.reasons, resume: &r}, true
}

// blockedUntilResolved blocks what only a person can resolve: an interrupted
// apply that cannot be resumed safely, a legacy order whose outcome is
// unknown, a renewal placed outside certplan. Blocked changes are no-ops that
// make apply exit non-zero.
func blockedUntilResolved(g given) (decision, bool) {
	if g.interrupted != nil {
		r, problem := resumptionOf(g)
		if problem == nil {
			return pass() // resumable: the resume rule has decided
		}
		d := blocked(problem.status, problem.why)
		if problem.keyKnown {
			d.reasons = append(append([]Reason{}, r.reasons...), problem.why)
			d.resume = &r
		}
		return d, true
	}
	if g.current == nil {
		return pass()
	}
	name := g.manifest.Name
	switch {
	case g.order.status == state.StatusUnknownOutcome:
		return blocked("unknown outcome: run `certplan state set-order "+name+" ID` or `certplan state rm "+name+"`",
			reason(ReasonUnknownOutcome, "the outcome of an earlier legacy order is unknown; nothing is ordered until it is resolved")), true
	case g.order.renewedOutside:
		return blocked(renewedOutsideStatus(name, g.order.renewedBy),
			reason(ReasonRenewedOutside, "the current order was renewed outside certplan; nothing is ordered until the renewal is adopted")), true
	}
	return pass()
}

func blocked(status string, why Reason) decision {
	return decision{action: ActionNoOp, blocked: true, status: status, reasons: []Reason{why}}
}

// newCertificate creates the first order of a name the state does not know.
func newCertificate(g given) (decision, bool) {
	if g.current != nil {
		return pass()
	}
	return decision{action: ActionCreate, reasons: []Reason{reason(ReasonNewCertificate, "new certificate")}}, true
}

// replaceDead creates a new order replacing a rejected, canceled or revoked one.
func replaceDead(g given) (decision, bool) {
	if !g.order.status.Dead() {
		return pass()
	}
	id := g.current.OrderID
	return decision{action: ActionCreate, predecessor: id,
		reasons: []Reason{reason(ReasonPredecessorDead, "order %d was %s", id, g.order.status)}}, true
}

// waitInFlight orders nothing while the current order awaits approval,
// validation or issuance, even when the manifest changed.
func waitInFlight(g given) (decision, bool) {
	s := g.order.status
	if !s.InFlight() {
		return pass()
	}
	cur := g.current
	d := decision{action: ActionNoOp, status: string(s) + ": " + awaiting(s)}
	if g.order.since != nil {
		d.status += " since " + dateOf(*g.order.since)
	}
	d.reasons = []Reason{reason(ReasonInFlight, "order %d is %s; nothing is ordered until it is issued", cur.OrderID, s)}
	if cur.SpecDigest != "" && g.specDigest != cur.SpecDigest {
		const note = "manifest changes will be ordered once the current order is issued"
		d.status += "; " + note
		d.reasons = append(d.reasons, reason(ReasonDeferredChanges, note))
	}
	return d, true
}

// renewalTriggers give the reasons an issued order is renewed for; their
// reasons are reported in this order.
var renewalTriggers = []func(g given) []Reason{
	productChanged,
	shapingChanged,
	inRenewalWindow,
}

// renewDue renews an issued (or expired) order when any renewal trigger fires.
func renewDue(g given) (decision, bool) {
	if !issuedOrExpired(g) {
		return pass()
	}
	var reasons []Reason
	for _, trigger := range renewalTriggers {
		reasons = append(reasons, trigger(g)...)
	}
	if len(reasons) == 0 {
		return pass()
	}
	return decision{action: ActionRenew, reasons: reasons}, true
}

func productChanged(g given) []Reason {
	if string(g.manifest.Product) == g.current.Product {
		return nil
	}
	return []Reason{reason(ReasonProductChanged, "product changed from %s to %s", g.current.Product, g.manifest.Product)}
}

// shapingChanged names each changed certificate-shaping field. An imported
// order (no spec digest in state) is taken as described by the manifest.
func shapingChanged(g given) []Reason {
	cur := g.current
	if imported(cur) || g.specDigest == cur.SpecDigest {
		return nil
	}
	if cur.Request == nil {
		return []Reason{reason(ReasonShapingChanged, "certificate-shaping fields changed (state has no recorded request to compare)")}
	}
	var out []Reason
	for _, f := range changedShaping(familyOf(g.manifest.Product), cur.Request, g.manifest.Order) {
		out = append(out, reason(ReasonShapingChanged, "%s changed", f))
	}
	// No shaping field differs from the submitted request: the digest was
	// computed differently (an older certplan, before shaping values were
	// normalized), not for a different certificate. Never buy one for that.
	return out
}

// inRenewalWindow fires once now >= valid_till - renewBefore.
func inRenewalWindow(g given) []Reason {
	d, ok := parseDate(validTill(g))
	if !ok {
		return nil
	}
	exp := expiry(d)
	if g.now.Before(exp.Add(-g.manifest.RenewBefore)) {
		return nil
	}
	if !g.now.Before(exp) {
		return []Reason{reason(ReasonRenewalWindow, "certificate expired %s (%s)", dateOf(d), daysPhrase(g.now, exp))}
	}
	return []Reason{reason(ReasonRenewalWindow, "certificate expires %s (%s), inside renewBefore %s",
		dateOf(d), daysPhrase(g.now, exp), formatDuration(g.manifest.RenewBefore))}
}

// upToDate orders nothing for an issued order no trigger fired for, and
// notes what the next order will change.
func upToDate(g given) (decision, bool) {
	if !issuedOrExpired(g) {
		return pass()
	}
	cur := g.current
	till := validTill(g)
	d := decision{action: ActionNoOp, reasons: []Reason{}, status: "issued, valid till " + till}
	if _, ok := parseDate(till); !ok {
		if till == "" {
			d.status = "issued, validity unknown"
		} else {
			d.status = sprintf("issued, valid till %q (not a date; renewal by date is not planned)", till)
		}
	}
	if imported(cur) {
		// `certplan import` / `state set-order` adopted an order whose request
		// certplan never saw: the manifest is taken to describe it.
		const note = "imported order: the manifest is taken to describe it; shaping changes are detected from the next order on"
		d.status += "; " + note
		d.reasons = append(d.reasons, reason(ReasonImportedOrder, note))
	}
	if cur.Request != nil && g.requestDigest != cur.RequestDigest {
		if fields := changedTopLevel(cur.Request, g.manifest.Order); len(fields) > 0 {
			note := "non-shaping changes (" + listSome(fields, 4) + ") take effect with the next order"
			d.status += "; " + note
			d.reasons = append(d.reasons, reason(ReasonNonShapingChanged, "%s", note))
		}
	}
	return d, true
}

// unhandledStatus leaves alone an order in a status certplan does not act on.
func unhandledStatus(g given) (decision, bool) {
	var id int64
	if g.current != nil {
		id = g.current.OrderID
	}
	status := sprintf("order %d has status %q, which certplan does not act on", id, g.order.status)
	return decision{action: ActionNoOp, status: status, reasons: []Reason{reason(ReasonUnhandledStatus, "%s", status)}}, true
}

func issuedOrExpired(g given) bool {
	return g.order.status == state.StatusIssued || g.order.status == state.StatusExpired
}

// imported: `certplan import` / `state set-order` recorded the order without
// a spec digest, since certplan never saw its request.
func imported(cur *state.Certificate) bool { return cur.SpecDigest == "" }

// validTill is the certificate's valid_till, else the order's.
func validTill(g given) string { return pickValidTill(g.order.validTill, g.order.orderValidTill) }

// renewedOutsideStatus tells how to adopt a renewal placed outside certplan.
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
