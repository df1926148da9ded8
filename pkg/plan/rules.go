package plan

import (
	"slices"
	"strings"
	"time"

	"github.com/certplan/certplan/pkg/lifecycle"
	"github.com/certplan/certplan/pkg/spec"
	"github.com/certplan/certplan/pkg/state"
)

// This file is where every plan decision is made. Each certificate is
// decided by the rules below, in order: the first rule that decides wins, and
// the last one always decides.
//
//	resume               an interrupted apply that can be resumed: its action again, same key
//	blocked              nothing is ordered until a person acts
//	state behind         certplan renewed the current order from a newer state (main): no-op
//	first order guard    not in a state that is new or lost, and CertCentral lists a live
//	                     order of the product with its names: blocked (guard.go)
//	new certificate      not in the state: create
//	replace dead         the current order was rejected, canceled or revoked: create
//	wait in flight       the current order awaits approval, validation or issuance: no-op
//	renew                issued, and the product, a shaping field or the date says so: renew
//	                     (products with plans: the product, the organization or a field a
//	                     reissue cannot carry changed, or the order itself ends)
//	destructive reissue  products with plans: names removed or changed: reissue, marked
//	                     destructive; blocked unless spec.allowDestructiveReissue
//	reissue              products with plans: a new CSR, signature hash, ICA or added names,
//	                     or the certificate is due: reissue
//	up to date           issued otherwise: no-op, with notes
//	unhandled status     any other status: no-op
//
// Products with plans (spec.Product.HasPlans: Secure Site) are orders that
// carry several certificates; the rest (private SSL, document signing,
// legacy v1) renew as before and the two reissue rules pass for them.
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
	// caps are the certificate caps by issuance date (never nil).
	caps lifecycle.Caps
	// dcvReuse is the DCV reuse table by date (nil: the default).
	dcvReuse lifecycle.Caps
	// guard is the first-order guard while the state is new or lost, else
	// nil (guard.go).
	guard *guard
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
	// destructive marks a reissue (or a blocked one) that removes or
	// changes names.
	destructive bool
	// addedNames are names a reissue adds, billed pro rata.
	addedNames []string
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
		{"state behind", stateBehind},
		{"first order guard", firstOrderGuard},
		{"new certificate", newCertificate},
		{"replace dead", replaceDead},
		{"wait in flight", waitInFlight},
		{"renew", renewDue},
		{"destructive reissue", destructiveReissue},
		{"reissue", reissueDue},
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
// make apply exit non-zero. (The destructive reissue rule blocks too, for a
// reissue the manifest does not allow.)
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

// stateBehind orders nothing for a certificate whose current order certplan
// already renewed from another copy of the state: a pull-request branch
// planned against the state it forked from, while main's scheduled apply
// renewed the order since. The renewal is certplan's own (its
// alternative_order_id is the key this certificate's renewal derives), so
// nothing needs adopting and nothing blocks: the branch is behind, and a
// rebase (or merge of main) brings the state that knows the renewal.
func stateBehind(g given) (decision, bool) {
	by := g.order.renewedByCertplan
	if g.current == nil || by == 0 {
		return pass()
	}
	status := sprintf("renewed by certplan as order %d in a newer state: this branch's state is behind main; rebase (or merge main) to plan against it", by)
	return decision{action: ActionNoOp, status: status,
		reasons: []Reason{reason(ReasonStateBehind, "order %d was renewed by certplan as order %d (its alternative_order_id is this certificate's renewal key) in a state newer than this one: rebase onto main", g.current.OrderID, by)}}, true
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

// renewalTriggers give the reasons an issued order of a product without
// plans is renewed for; their reasons are reported in this order.
var renewalTriggers = []func(g given) []Reason{
	productChanged,
	shapingChanged,
	inRenewalWindow,
}

// planRenewalTriggers give the reasons an issued order of a product with
// plans is renewed for (a new, billed order): what a reissue cannot change,
// and the end of the plan. Everything else is reissued on the same order;
// but once a renewal is due, the changes a reissue would have carried are
// named among its reasons too (the new order carries them).
var planRenewalTriggers = []func(g given) []Reason{
	productChanged,
	newOrderShapingChanged,
	orderEnding,
}

// renewDue renews an issued (or expired) order when any renewal trigger fires.
func renewDue(g given) (decision, bool) {
	if !issuedOrExpired(g) {
		return pass()
	}
	triggers := renewalTriggers
	if hasPlans(g) {
		triggers = planRenewalTriggers
	}
	var reasons []Reason
	for _, trigger := range triggers {
		reasons = append(reasons, trigger(g)...)
	}
	if len(reasons) > 0 && hasPlans(g) {
		reasons = slices.Concat(productChanged(g), planShapingChanged(g, true), orderEnding(g))
		reasons, _ = withLapseNote(g, ActionRenew, reasons)
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

// newOrderShapingChanged names each changed shaping field of a product with
// plans that a reissue cannot carry: the organization (in the subject of an
// OV certificate), cert_validity, profile_option, disable_ct. Changes a
// reissue carries are left to the reissue rules. As for shapingChanged, an
// imported order is taken as described by the manifest, and without a
// recorded request certplan cannot tell what changed: it renews, as before.
func newOrderShapingChanged(g given) []Reason { return planShapingChanged(g, false) }

// planShapingChanged names the changed shaping fields of a product with
// plans: those a reissue cannot carry, and with all those it can too
// (shaping_changed).
func planShapingChanged(g given, all bool) []Reason {
	cur := g.current
	if imported(cur) || g.specDigest == cur.SpecDigest {
		return nil
	}
	if cur.Request == nil {
		return shapingChanged(g)
	}
	var out []Reason
	for _, f := range changedShaping(familyOf(g.manifest.Product), cur.Request, g.manifest.Order) {
		switch {
		case reissuableFields[f]:
			if all {
				out = append(out, reason(ReasonShapingChanged, "%s changed", f))
			}
		case strings.HasPrefix(f, "organization."):
			out = append(out, reason(ReasonOrganizationChanged, "%s changed: the organization is part of the order, so a new order", f))
		default:
			out = append(out, reason(ReasonNotReissuable, "%s changed: a reissue cannot carry it, so a new order", f))
		}
	}
	return out
}

// orderEnding fires once now >= order_valid_till - renewBefore: the plan
// ends, and a reissue would only last until then. Without a known order end
// the certificate's valid_till stands in for it, as before plans were known.
func orderEnding(g given) []Reason {
	end, date, known := orderEnd(g)
	if end.IsZero() {
		return nil
	}
	if !known {
		return inRenewalWindow(g)
	}
	if g.now.Before(end.Add(-g.manifest.RenewBefore)) {
		return nil
	}
	id := g.current.OrderID
	if !g.now.Before(end) {
		return []Reason{reason(ReasonOrderEnding, "order %d ended %s (%s): a new order", id, date, daysPhrase(g.now, end))}
	}
	return []Reason{reason(ReasonOrderEnding, "order %d ends %s (%s), inside renewBefore %s: a new order instead of a reissue that would end with it",
		id, date, daysPhrase(g.now, end), formatDuration(g.manifest.RenewBefore))}
}

// reissueCandidate is what the reissue rules share: an issued order of a
// product with plans whose manifest changed in a way a reissue carries.
// changes is nil when nothing is compared (imported, same spec digest, no
// recorded request).
func reissueCandidate(g given) (ok bool, changes []string) {
	if !hasPlans(g) || !issuedOrExpired(g) {
		return false, nil
	}
	cur := g.current
	if imported(cur) || g.specDigest == cur.SpecDigest || cur.Request == nil {
		return true, nil
	}
	return true, changedShaping(familyOf(g.manifest.Product), cur.Request, g.manifest.Order)
}

// destructiveReissue reissues a certificate whose names were removed or
// changed, marked destructive: DigiCert revokes every earlier certificate of
// the order 48–72 h after the new one issues. Unless the manifest sets
// spec.allowDestructiveReissue it blocks instead, saying what would be
// revoked and how to allow it.
func destructiveReissue(g given) (decision, bool) {
	ok, changes := reissueCandidate(g)
	if !ok || !slices.Contains(changes, "certificate.common_name") && !slices.Contains(changes, "certificate.dns_names") {
		return pass()
	}
	n := names(g.current.Request, g.manifest.Order)
	if !n.destructive() {
		return pass()
	}
	cur := g.current
	what := namesRemovedPhrase(n)
	victims := sprintf("every earlier certificate of order %d", cur.OrderID)
	if cur.CertificateID != 0 {
		victims += sprintf(" (the current one is certificate %d", cur.CertificateID)
		if t := validTill(g); t != "" {
			victims += ", valid till " + t
		}
		victims += ")"
	}
	why := reason(ReasonNamesRemoved, "%s: DigiCert revokes %s 48-72 h after the reissued certificate issues", what, victims)
	reasons := append([]Reason{why}, reissueReasons(g, changes, n)...)
	if !g.manifest.AllowDestructiveReissue {
		_, end, _ := orderEnd(g)
		status := sprintf("destructive reissue not allowed: %s, and DigiCert would then revoke %s within 48-72 h. "+
			"To reissue anyway set spec.allowDestructiveReissue: true in the manifest; or restore the names", what, victims)
		if end != "" {
			status += sprintf(" (the renewal when order %d ends on %s carries the new names without revoking anything)", cur.OrderID, end)
		}
		reasons = append(reasons, reason(ReasonDestructiveNotAllowed, "the manifest does not set spec.allowDestructiveReissue: nothing is reissued until it does, or the names are restored"))
		return decision{action: ActionNoOp, blocked: true, destructive: true, status: status, reasons: reasons}, true
	}
	return decision{action: ActionReissue, destructive: true, reasons: reasons, addedNames: n.added}, true
}

// namesRemovedPhrase: "removes www.a.example.com", "changes the common name
// a.example.com -> b.example.com and removes x.example.com".
func namesRemovedPhrase(n nameChange) string {
	var parts []string
	if n.commonName != "" {
		parts = append(parts, "changes the common name "+n.commonName)
	}
	if len(n.removed) > 0 {
		parts = append(parts, sprintf("removes %s %s", plural(int64(len(n.removed)), "name"), listSome(n.removed, 5)))
	}
	return "the reissue " + strings.Join(parts, " and ")
}

// reissueReasons names the changes a reissue carries besides removed names:
// a new CSR, another signature hash or ICA, added names (billed pro rata).
func reissueReasons(g given, changes []string, n nameChange) []Reason {
	var out []Reason
	for _, f := range changes {
		switch f {
		case "certificate.csr":
			msg := "certificate.csr changed"
			switch old, now := csrKeyDigest(g.current.Request), csrKeyDigest(g.manifest.Order); {
			case old != "" && now != "" && old != now:
				msg += ": a new key"
			case old != "" && old == now:
				msg += " (same key)"
			}
			out = append(out, reason(ReasonKeyRotated, "%s", msg))
		case "certificate.signature_hash", "certificate.ca_cert_id":
			out = append(out, reason(ReasonShapingChanged, "%s changed", f))
		}
	}
	if len(n.added) > 0 {
		out = append(out, reason(ReasonNamesAdded, "%s added (%s): billed pro rata for the rest of the plan; earlier certificates stay valid",
			plural(int64(len(n.added)), "name"), listSome(n.added, 5)))
	}
	return out
}

// reissueDue reissues on the same, paid order when the manifest changed in a
// way a reissue carries (a new CSR, signature hash, ICA, added names), or
// when the certificate is due (now >= valid_till - renewBefore) while the
// order runs on. With auto_reissue: 1 a due certificate is left to
// CertCentral unless it is within 7 days of expiry (a safety net for a
// reissue that never came).
func reissueDue(g given) (decision, bool) {
	ok, changes := reissueCandidate(g)
	if !ok {
		return pass()
	}
	var n nameChange
	if slices.Contains(changes, "certificate.common_name") || slices.Contains(changes, "certificate.dns_names") {
		n = names(g.current.Request, g.manifest.Order)
	}
	reasons := reissueReasons(g, changes, n)
	if due := certificateDue(g); due != nil {
		reasons = append(reasons, *due)
	}
	if len(reasons) == 0 {
		return pass()
	}
	reasons, _ = withLapseNote(g, ActionReissue, reasons)
	return decision{action: ActionReissue, reasons: reasons, addedNames: n.added}, true
}

// certificateDue is the reason a certificate of a running order is
// reissued by date, or nil: now >= valid_till - renewBefore; with
// auto_reissue: 1 only within 7 days of expiry.
func certificateDue(g given) *Reason {
	exp, date, ok := certExpiry(g)
	if !ok || g.now.Before(exp.Add(-g.manifest.RenewBefore)) {
		return nil
	}
	if autoReissue(g.manifest.Order) {
		if g.now.Before(exp.Add(-autoReissueSafetyNet)) {
			return nil
		}
		r := reason(ReasonAutoReissueOverdue, "certificate expires %s (%s) and CertCentral has not reissued it (auto_reissue): certplan reissues it",
			date, daysPhrase(g.now, exp))
		return &r
	}
	var r Reason
	if !g.now.Before(exp) {
		r = reason(ReasonReissueDue, "certificate expired %s (%s); the order runs on: a free reissue", date, daysPhrase(g.now, exp))
	} else {
		r = reason(ReasonReissueDue, "certificate expires %s (%s), inside renewBefore %s; the order runs on: a free reissue",
			date, daysPhrase(g.now, exp), formatDuration(g.manifest.RenewBefore))
	}
	return &r
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
	if hasPlans(g) {
		if _, end, known := orderEnd(g); known {
			d.status += ", paid through " + end
		}
		if r := g.order.reissued; r != nil && autoReissue(g.manifest.Order) {
			note := sprintf("reissued by CertCentral (auto_reissue): certificate %d replaces %d", r.to, r.from)
			if r.validTill != "" {
				note += ", valid till " + r.validTill
			}
			d.status += "; " + note
			d.reasons = append(d.reasons, reason(ReasonReissuedByCertCentral, "%s", note))
		}
		if exp, date, ok := certExpiry(g); ok && autoReissue(g.manifest.Order) && !g.now.Before(exp.Add(-g.manifest.RenewBefore)) {
			note := sprintf("certificate expires %s (%s): CertCentral reissues it (auto_reissue); certplan reissues it itself 7 days before expiry if it has not", date, daysPhrase(g.now, exp))
			d.status += "; " + note
			d.reasons = append(d.reasons, reason(ReasonAutoReissueExpected, "%s", note))
		}
		var note string
		if d.reasons, note = withLapseNote(g, ActionNoOp, d.reasons); note != "" {
			d.status += "; " + note
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
