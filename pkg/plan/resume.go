package plan

import (
	"time"

	"github.com/certplan/certplan/pkg/spec"
	"github.com/certplan/certplan/pkg/state"
)

// resume plans the completion of an interrupted apply: the intent's action
// with the intent's alternative_order_id, never a recomputed one. When the
// manifest's shaping fields changed since, the intent's body is resubmitted
// (with the manifest's secret references) so that the key and the order match;
// the change is planned once that order is recorded.
func (pl planner) resume(ch Change, c *spec.Certificate, cur *state.Certificate, rec *state.Record, act Action) Change {
	journaled := reason(ReasonResuming, "resuming an interrupted apply (intent journaled at %s)", rec.Time.UTC().Format(time.RFC3339))
	product := c.Product
	if rec.Product != "" {
		product = spec.Product(rec.Product)
	}
	if product.IsLegacy() {
		return blocked(ch, "unknown outcome: an interrupted legacy apply may or may not have placed an order; check CertCentral, then run `certplan state set-order "+c.Name+" ID` or `certplan state rm "+c.Name+"`",
			reason(ReasonInterruptedLegacy, "legacy v1 orders have no idempotency key, so an interrupted one cannot be resumed safely"))
	}
	if rec.AlternativeOrderID == "" {
		return blocked(ch, "cannot resume: the journaled intent has no alternative_order_id; check CertCentral, then run `certplan state set-order "+c.Name+" ID`",
			reason(ReasonInterruptedWithoutKey, "an interrupted apply cannot be resumed without its key"))
	}

	ch.Action = act
	ch.Resuming = true
	ch.Product = product
	ch.AlternativeOrderID = rec.AlternativeOrderID
	ch.Reasons = append(ch.Reasons, journaled)
	body := c.Order
	if rec.SpecDigest != "" && (rec.SpecDigest != ch.SpecDigest || product != c.Product) {
		if rec.Request == nil {
			return blocked(ch, "cannot resume: the manifest changed since the interrupted apply and the journal has no request body; restore the manifest to resume", reason(ReasonInterruptedWithoutRequest, "an interrupted apply cannot be resumed with a different manifest"))
		}
		var missing string
		body, missing = intentBody(rec.Request, spec.SecretRefs(c.Order))
		if missing != "" {
			return blocked(ch, "cannot resume: the interrupted order needs the secret at "+missing+", which the manifest no longer references; restore the reference to resume",
				reason(ReasonInterruptedWithoutSecret, "an interrupted apply cannot be resumed without its secrets"))
		}
		ch.SpecDigest = rec.SpecDigest
		ch.RequestDigest = RequestDigest(body)
		ch.Reasons = append(ch.Reasons, reason(ReasonResumingChangedManifest, "the manifest changed since; the interrupted order is completed as journaled and the change is planned after it"))
	}
	setRequest(&ch, body, cur != nil || act == ActionRenew)

	switch act {
	case ActionRenew:
		ch.Predecessor = rec.RenewalOf
		ch.RenewalOfOrderID = rec.RenewalOf
		if cur != nil {
			ch.OrderID = cur.OrderID
			ch.Diff = diffBodies(cur.Request, body)
		} else {
			ch.Diff = diffBodies(nil, body)
		}
	default:
		if cur != nil && cur.Status.Dead() {
			ch.Predecessor = cur.OrderID
		}
		ch.Diff = diffBodies(nil, body)
	}
	return ch
}

// resumedAction is the plan action that completes an interrupted intent of
// the journal's kind a; only create and renew intents are resumed.
func resumedAction(a state.Action) (Action, bool) {
	switch a {
	case state.ActionCreate:
		return ActionCreate, true
	case state.ActionRenew:
		return ActionRenew, true
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
