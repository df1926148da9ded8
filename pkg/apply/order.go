package apply

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/certplan/certplan/pkg/certcentral"
	"github.com/certplan/certplan/pkg/plan"
	"github.com/certplan/certplan/pkg/state"
)

type runner struct {
	opts Options
}

// errNoOrder says a look-up found no order with the key.
var errNoOrder = errors.New("no order with this alternative_order_id")

// order carries one change through intent, look-up, submission and outcome.
func (r *runner) order(ch plan.Change) Result {
	res := r.place(ch)
	res.Error = scrub(ch.Request, res.Error)
	return res
}

func (r *runner) place(ch plan.Change) Result {
	ctx := r.opts.Abort
	res := Result{Name: ch.Name, Action: ch.Action, key: ch.AlternativeOrderID}
	action, err := journalAction(ch.Action)
	if err != nil {
		// Nothing was sent: an action the journal cannot record is never submitted.
		return r.fail(res, fmt.Errorf("journal intent: %w", err))
	}
	if action == state.ActionReissue {
		res.key = ""
		return r.reissue(ctx, ch, res)
	}
	// An interrupted order is found again by its alternative_order_id;
	// legacy v1 orders have none, so nothing can find them.
	check := state.DupCheckAlternateID
	if ch.Product.IsLegacy() {
		check = state.DupCheckNone
	}
	intent := state.Record{
		Type:               state.RecordIntent,
		Name:               ch.Name,
		Action:             action,
		AlternativeOrderID: ch.AlternativeOrderID,
		DupCheck:           check,
		RequestDigest:      ch.RequestDigest,
		Product:            string(ch.Product),
		SpecDigest:         ch.SpecDigest,
		RenewalOf:          ch.RenewalOfOrderID,
		Request:            ch.Request,
	}
	if err := r.opts.Journal.Append(intent); err != nil {
		// Nothing was sent: without a journaled intent we never submit.
		return r.fail(res, fmt.Errorf("journal intent: %w", err))
	}
	if ch.Product.IsLegacy() {
		return r.legacy(ctx, ch, intent, res)
	}

	// 1. Look the key up: an earlier run (or a lost state file) may have ordered it.
	if facts, err := r.lookup(ctx, ch.AlternativeOrderID); err == nil {
		return r.record(res, intent, facts, OutcomeAdopted)
	} else if !errors.Is(err, errNoOrder) {
		return r.unresolved(res, fmt.Errorf("look up alternative_order_id %s: %w", ch.AlternativeOrderID, err))
	}

	body, err := certcentral.BuildOrderBody(ch.Product, ch.Request, ch.AlternativeOrderID, ch.RenewalOfOrderID)
	if err != nil {
		return r.nothingCreated(res, intent, fmt.Errorf("build request: %w", err))
	}

	// 2. Submit; after any failure that may have reached the server, look up
	//    again before submitting again.
	rec := r.opts.Recovery
	// An earlier attempt may have created the order: in this run after an
	// ambiguous failure, and always when resuming an interrupted apply.
	ambiguous := ch.Resuming
	for attempt := 1; ; attempt++ {
		resp, err := r.opts.API.PlaceOrder(ctx, ch.Product, body)
		if err == nil {
			facts := factsFromPlacement(ch.AlternativeOrderID, ch.RenewalOfOrderID, resp)
			facts.DCV = placedDCV(ch.Request, resp.DCVRandomValue)
			return r.record(res, intent, facts, OutcomeCreated)
		}
		if certcentral.IsDuplicateAlternativeID(err) {
			// The account requires unique ids and one exists: it is ours.
			facts, lerr := r.lookup(ctx, ch.AlternativeOrderID)
			if lerr == nil {
				return r.record(res, intent, facts, OutcomeAdopted)
			}
			// CertCentral says an order with this key exists, yet the look-up
			// does not show it (yet): keep the intent open for the next run.
			return r.unresolved(res, fmt.Errorf("CertCentral says the order exists (%v) but the look-up did not find it: %w", err, lerr))
		}
		if certcentral.NothingCreated(err) {
			if ambiguous {
				// This attempt created nothing, but an earlier one may have:
				// keep the intent open so the next run looks it up again.
				return r.unresolved(res, fmt.Errorf("an earlier attempt's outcome is unknown and the retry failed: %w", err))
			}
			return r.nothingCreated(res, intent, err)
		}
		ambiguous = true
		r.opts.Logger.Warn().Str("name", ch.Name).Int("attempt", attempt).Str("error", scrub(ch.Request, err.Error())).
			Msg("order submission outcome unknown; looking the key up before any retry")
		if certcentral.IsTimeout(err) {
			// A request that timed out may still be committing inside
			// CertCentral, where a look-up cannot see it yet. Never re-submit
			// in this run: the next run looks the key up minutes later.
			return r.unresolved(res, fmt.Errorf("submission timed out; not re-submitted in this run: %w", err))
		}
		if attempt >= rec.Attempts {
			return r.unresolved(res, fmt.Errorf("submission outcome unknown after %d attempts: %w", attempt, err))
		}
		if serr := rec.Sleep(ctx, rec.Backoff(attempt)); serr != nil {
			return r.unresolved(res, fmt.Errorf("interrupted while recovering: %w", err))
		}
		facts, lerr := r.lookup(ctx, ch.AlternativeOrderID)
		switch {
		case lerr == nil:
			return r.record(res, intent, facts, OutcomeAdopted)
		case !errors.Is(lerr, errNoOrder):
			return r.unresolved(res, fmt.Errorf("submission outcome unknown (%v) and look-up failed: %w", err, lerr))
		}
		// Provably not there: safe to submit again with the same key.
	}
}

// journalAction is the journal's record kind for a planned action: the one
// place where plan actions become state actions. Only actions that touch
// CertCentral are journaled.
func journalAction(a plan.Action) (state.Action, error) {
	switch a {
	case plan.ActionCreate:
		return state.ActionCreate, nil
	case plan.ActionRenew:
		return state.ActionRenew, nil
	case plan.ActionReissue:
		return state.ActionReissue, nil
	}
	return "", fmt.Errorf("plan action %q has no journal record kind", a)
}

// lookup finds the order carrying altID. With several (an account without
// unique ids and a tool that retried blindly), it adopts the oldest live one.
func (r *runner) lookup(ctx context.Context, altID string) (state.OrderFacts, error) {
	found, err := r.opts.API.OrdersByAlternateID(ctx, altID)
	if err != nil {
		return state.OrderFacts{}, err
	}
	if len(found) == 0 {
		return state.OrderFacts{}, errNoOrder
	}
	sort.Slice(found, func(i, j int) bool {
		di, dj := state.OrderStatus(found[i].Status).Dead(), state.OrderStatus(found[j].Status).Dead()
		if di != dj {
			return !di
		}
		return found[i].OrderID < found[j].OrderID
	})
	if len(found) > 1 {
		r.opts.Logger.Warn().Str("alternative_order_id", altID).Int("orders", len(found)).
			Int64("adopted", found[0].OrderID).Msg("several orders carry this key; adopting the oldest live one")
	}
	facts := factsFromAlternate(altID, found[0])
	info, err := r.opts.API.OrderInfo(ctx, found[0].OrderID)
	if err != nil {
		return facts, nil
	}
	// The order carrying the key may have been renewed since (the state that
	// knew it was lost): the certificate's current order is the last of the
	// renewal chain, so adopt that one.
	for hops := 0; info.IsRenewed && info.RenewedOrderID != 0 && hops < 20; hops++ {
		next, err := r.opts.API.OrderInfo(ctx, info.RenewedOrderID)
		if err != nil || state.OrderStatus(next.Status).Dead() {
			break // a rejected or canceled renewal never replaced the live order
		}
		r.opts.Logger.Info().Int64("order", info.ID).Int64("renewed_as", next.ID).
			Msg("the order with this key was renewed; adopting the renewal")
		info = next
	}
	facts = FactsFromOrder(info)
	if facts.AlternativeOrderID == "" && info.ID == found[0].OrderID {
		facts.AlternativeOrderID = altID
	}
	return facts, nil
}

// legacy submits a REST v1 order once. v1 has no idempotency key, so an
// ambiguous failure cannot be recovered automatically.
func (r *runner) legacy(ctx context.Context, ch plan.Change, intent state.Record, res Result) Result {
	body, err := certcentral.BuildLegacyBody(ch.Request)
	if err != nil {
		return r.nothingCreated(res, intent, fmt.Errorf("build request: %w", err))
	}
	id, err := r.opts.API.PlaceLegacyOrder(ctx, body)
	if err != nil {
		if certcentral.NothingCreated(err) {
			return r.nothingCreated(res, intent, err)
		}
		fail := intent
		fail.Type = state.RecordFailure
		fail.Unknown = true
		fail.Error = scrub(intent.Request, err.Error())
		if jerr := r.opts.Journal.Append(fail); jerr != nil {
			return r.unresolved(res, fmt.Errorf("%v; journal: %w", err, jerr))
		}
		res.Outcome = OutcomeUnknown
		res.Status = string(state.StatusUnknownOutcome)
		res.Error = err.Error() + " (legacy v1 has no idempotency key: check CertCentral, then run `certplan state set-order " + ch.Name + " ORDER_ID` or `certplan state rm " + ch.Name + "`)"
		return res
	}
	facts := state.OrderFacts{OrderID: id, Status: state.StatusPending}
	if info, err := r.opts.API.OrderInfo(ctx, id); err == nil {
		facts = FactsFromOrder(info)
	}
	return r.record(res, intent, facts, OutcomeCreated)
}

// record journals the outcome; until it is on disk the intent stays open.
func (r *runner) record(res Result, intent state.Record, facts state.OrderFacts, how Outcome) Result {
	out := intent
	out.Type = state.RecordOutcome
	out.Order = &facts
	res.OrderID = facts.OrderID
	res.Status = string(facts.Status)
	if err := r.opts.Journal.Append(out); err != nil {
		// The order exists; the next run's look-up adopts it by key.
		return r.unresolved(res, fmt.Errorf("order %d placed but journaling the outcome failed: %w", facts.OrderID, err))
	}
	res.Outcome = how
	return res
}

// nothingCreated journals a failure that provably created no order.
func (r *runner) nothingCreated(res Result, intent state.Record, cause error) Result {
	fail := intent
	fail.Type = state.RecordFailure
	fail.NothingCreated = true
	fail.Error = scrub(intent.Request, cause.Error())
	fail.Request = nil
	if err := r.opts.Journal.Append(fail); err != nil {
		return r.unresolved(res, fmt.Errorf("%v; journal: %w", cause, err))
	}
	return r.fail(res, cause)
}

func (r *runner) fail(res Result, err error) Result {
	res.Outcome = OutcomeFailed
	res.Error = err.Error()
	res.fatal = certcentral.IsAuthRejected(err)
	return res
}

func (r *runner) unresolved(res Result, err error) Result {
	res.Outcome = OutcomeUnresolved
	res.Error = err.Error() + " (the intent stays journaled; the next apply resumes it with the same alternative_order_id)"
	res.fatal = certcentral.IsAuthRejected(err)
	return res
}
