package plan

import (
	"slices"
	"time"

	"github.com/certplan/certplan/pkg/spec"
	"github.com/certplan/certplan/pkg/state"
)

// resumption is how an interrupted apply is completed: the intent's action
// with the intent's alternative_order_id, never a recomputed one. When the
// manifest's shaping fields changed since, the intent's body is resubmitted
// (with the manifest's secret references) so that the key and the order
// match; the change is planned once that order is recorded.
type resumption struct {
	action  Action
	product spec.Product
	key     string
	reasons []Reason
	// specDigest is the intent's when the manifest changed since, else "".
	specDigest string
	// body is the request to submit.
	body      map[string]any
	renewalOf int64
	// reissueOf and csrKeyDigest identify an interrupted reissue, which has
	// no key of its own.
	reissueOf    int64
	csrKeyDigest string
}

// resumeProblem says why an interrupted apply cannot be resumed safely.
type resumeProblem struct {
	status string
	why    Reason
	// keyKnown: found after the intent's product and key were taken, which
	// the blocked change then shows.
	keyKnown bool
}

// resumptionOf works out how to complete g.interrupted, or why only a
// person can (problem non-nil).
func resumptionOf(g given) (r resumption, problem *resumeProblem) {
	c, rec := g.manifest, g.interrupted.intent
	r = resumption{action: g.interrupted.action, product: c.Product, key: rec.AlternativeOrderID, body: c.Order, renewalOf: rec.RenewalOf,
		reissueOf: rec.ReissueOf, csrKeyDigest: rec.CSRKeyDigest}
	if rec.Product != "" {
		r.product = spec.Product(rec.Product)
	}
	if r.product.IsLegacy() {
		return r, &resumeProblem{
			status: "unknown outcome: an interrupted legacy apply may or may not have placed an order; check CertCentral, then run `certplan state set-order " + c.Name + " ID` or `certplan state rm " + c.Name + "`",
			why:    reason(ReasonInterruptedLegacy, "legacy v1 orders have no idempotency key, so an interrupted one cannot be resumed safely"),
		}
	}
	if r.action == ActionReissue {
		// A reissue is checked by its order and CSR key, not by a key: apply
		// reads the order's certificates before it sends anything.
		if rec.ReissueOf <= 0 || rec.CSRKeyDigest == "" {
			return r, &resumeProblem{
				status: "cannot resume: the journaled reissue names no order or CSR key; check the order's certificates in CertCentral, then run `certplan state set-order " + c.Name + " ID`",
				why:    reason(ReasonInterruptedWithoutKey, "an interrupted reissue cannot be checked without its order and CSR key"),
			}
		}
	} else if rec.AlternativeOrderID == "" {
		return r, &resumeProblem{
			status: "cannot resume: the journaled intent has no alternative_order_id; check CertCentral, then run `certplan state set-order " + c.Name + " ID`",
			why:    reason(ReasonInterruptedWithoutKey, "an interrupted apply cannot be resumed without its key"),
		}
	}
	r.reasons = []Reason{reason(ReasonResuming, "resuming an interrupted apply (intent journaled at %s)", rec.Time.UTC().Format(time.RFC3339))}
	if rec.LastAttempt != nil {
		// Apply believes a look-up that finds nothing only
		// --resubmit-after (10 minutes by default) after this.
		r.reasons[0].Message += sprintf("; its last attempt, at %s, ended with an unknown outcome: apply adopts the order if the look-up shows it, "+
			"and sends it again only once that attempt is --resubmit-after old", rec.LastAttempt.UTC().Format(time.RFC3339))
	}
	if rec.SpecDigest == "" || (rec.SpecDigest == g.specDigest && r.product == c.Product) {
		return r, nil
	}
	if rec.Request == nil {
		return r, &resumeProblem{keyKnown: true,
			status: "cannot resume: the manifest changed since the interrupted apply and the journal has no request body; restore the manifest to resume",
			why:    reason(ReasonInterruptedWithoutRequest, "an interrupted apply cannot be resumed with a different manifest"),
		}
	}
	body, missing := intentBody(rec.Request, spec.SecretRefs(c.Order))
	if missing != "" {
		return r, &resumeProblem{keyKnown: true,
			status: "cannot resume: the interrupted order needs the secret at " + missing + ", which the manifest no longer references; restore the reference to resume",
			why:    reason(ReasonInterruptedWithoutSecret, "an interrupted apply cannot be resumed without its secrets"),
		}
	}
	r.body = body
	r.specDigest = rec.SpecDigest
	r.reasons = append(r.reasons, reason(ReasonResumingChangedManifest, "%s", changedManifestNote))
	return r, nil
}

// changedManifestNote says what apply does with an interrupted order whose
// manifest changed since (resume or replace); replacementNote appends what
// the manifest as it is now gets.
const changedManifestNote = "the manifest changed since: apply looks the interrupted order up first; if it exists it is adopted (as journaled) and the change is planned after it; " +
	"if a look-up made at least --resubmit-after after its last attempt finds nothing, the interrupted order was never placed: its intent is closed and the manifest as it is now is applied instead"

// replacementNote describes the replacement of a resumed change.
func replacementNote(rep *Change) string {
	switch {
	case rep.Blocked:
		return " (which is blocked: " + rep.Status + ")"
	case rep.Action == ActionCreate:
		return " (create, alternative_order_id " + rep.AlternativeOrderID + ")"
	case rep.Action == ActionRenew:
		return sprintf(" (renew order %d, alternative_order_id %s)", rep.RenewalOfOrderID, rep.AlternativeOrderID)
	case rep.Action == ActionReissue:
		return sprintf(" (reissue on order %d)", rep.OrderID)
	}
	return " (which orders nothing: " + rep.Status + ")"
}

// withReplacement gives a resumed create or renew whose manifest changed
// since the change the manifest as it is now gets, planned as if nothing
// had been interrupted.
func (pl planner) withReplacement(ch Change, c *spec.Certificate, cur *state.Certificate) Change {
	if !ch.Resuming || ch.Blocked || (ch.Action != ActionCreate && ch.Action != ActionRenew) {
		return ch
	}
	i := slices.IndexFunc(ch.Reasons, func(r Reason) bool { return r.Code == ReasonResumingChangedManifest })
	if i < 0 {
		return ch
	}
	g, _ := pl.given(c, cur, nil)
	rep := change(g, planRules.decide(g))
	ch.Replacement = &rep
	ch.Reasons = slices.Clone(ch.Reasons)
	ch.Reasons[i].Message += replacementNote(&rep)
	return ch
}

// resumedChange completes ch for a decision that resumes r. A blocked one
// only shows the intent's product and key.
func resumedChange(ch Change, g given, r *resumption) Change {
	ch.Resuming = true
	ch.Product = r.product
	ch.AlternativeOrderID = r.key
	if ch.Blocked {
		return ch
	}
	if r.specDigest != "" {
		ch.SpecDigest = r.specDigest
	}
	cur := g.current
	setRequest(&ch, r.body, cur != nil || r.action == ActionRenew)
	switch r.action {
	case ActionReissue:
		// The same order, and the CSR key apply matches its certificates by;
		// a reissue has no key of its own.
		ch.AlternativeOrderID = ""
		ch.OrderID = r.reissueOf
		ch.CSRKeyDigest = r.csrKeyDigest
		if cur != nil {
			ch.Diff = diffBodies(cur.Request, r.body)
		} else {
			ch.Diff = diffBodies(nil, r.body)
		}
	case ActionRenew:
		ch.Predecessor = r.renewalOf
		ch.RenewalOfOrderID = r.renewalOf
		if cur != nil {
			ch.OrderID = cur.OrderID
			ch.Diff = diffBodies(cur.Request, r.body)
		} else {
			ch.Diff = diffBodies(nil, r.body)
		}
	default:
		if cur != nil && cur.Status.Dead() {
			ch.Predecessor = cur.OrderID
		}
		ch.Diff = diffBodies(nil, r.body)
	}
	return ch
}

// resumedAction is the plan action that completes an interrupted intent of
// the journal's kind a; create, renew and reissue intents are resumed.
func resumedAction(a state.Action) (Action, bool) {
	switch a {
	case state.ActionCreate:
		return ActionCreate, true
	case state.ActionRenew:
		return ActionRenew, true
	case state.ActionReissue:
		return ActionReissue, true
	}
	return "", false
}

// intentBody copies a journaled body and puts the manifest's secret
// references back where the journal has "(sensitive)". It returns the path of
// a secret the manifest no longer references, if any.
func intentBody(journaled map[string]any, refs map[string]spec.SecretRef) (map[string]any, string) {
	body, _ := deepCopy(journaled).(map[string]any)
	for k := range ownedFields {
		delete(body, k)
	}
	need := map[string]spec.SecretRef{}
	for path, v := range flatten(body) {
		if v != spec.Sensitive {
			continue
		}
		ref, ok := refs[path]
		if !ok {
			return nil, path
		}
		need[path] = ref
	}
	if err := spec.InjectSecrets(body, need); err != nil {
		return nil, err.Error()
	}
	return body, ""
}

// deepCopy copies the objects and lists of a JSON-shaped value.
func deepCopy(v any) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, c := range t {
			out[k] = deepCopy(c)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, c := range t {
			out[i] = deepCopy(c)
		}
		return out
	}
	return v
}
