package apply

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

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
	if ch.Resuming && !ch.Product.IsLegacy() {
		return r.resume(ctx, ch, intent, res)
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
		// Nothing was sent for this intent: close it. Left open, the next
		// run would take it for an attempt that may have reached
		// CertCentral, wait ResubmitAfter for nothing, and resume a body
		// the manifest may no longer want; closed, the next run plans
		// afresh and looks the key up first.
		return r.nothingCreated(res, intent, fmt.Errorf("look up alternative_order_id %s: %w; nothing was sent", ch.AlternativeOrderID, err))
	}
	return r.submit(ctx, ch, intent, res)
}

// resume completes an interrupted order: an earlier run journaled its
// intent and may have sent it, the look-up perhaps not showing it yet. The
// intent is still open in the journal, so nothing is journaled before it is
// known that the order will be sent: a run that does not send must not make
// the earlier attempt look younger than it is.
//
//  1. Look the key up; an order found is adopted.
//  2. Finding none is believed only once the last attempt is older than
//     ResubmitAfter (CertCentral's look-up may lag its commit, and a request
//     a gateway gave up on may still be committing): a younger one stays
//     open, unsent, and the result says from when a run decides.
//  3. Then the intent is journaled again (a new attempt) and submitted once.
func (r *runner) resume(ctx context.Context, ch plan.Change, intent state.Record, res Result) Result {
	key := ch.AlternativeOrderID
	if facts, err := r.lookup(ctx, key); err == nil {
		return r.record(res, intent, facts, OutcomeAdopted)
	} else if !errors.Is(err, errNoOrder) {
		return r.unresolved(res, fmt.Errorf("look up alternative_order_id %s: %w", key, err))
	}
	first, ok := r.opts.Pending[ch.Name]
	if !ok || first.Type != state.RecordIntent || first.AlternativeOrderID != key {
		// Without the journaled intent the earlier attempt's time is unknown.
		return r.unresolved(res, errors.New("resuming an order needs its interrupted journal intent, which this run was not given; nothing was sent"))
	}
	last := lastAttempt(first)
	if decide := last.Add(r.resubmitAfter()); r.now().Before(decide) {
		then := "looks it up and decides"
		if ch.Replacement != nil {
			then = "looks it up and, finding nothing, closes it and applies the manifest as it is now"
		}
		return r.unresolved(res, fmt.Errorf("an earlier attempt (%s) may have created the order, and the look-up of alternative_order_id %s may not show it yet; "+
			"not sent again before %s: the first apply from then on %s",
			last.UTC().Format(time.RFC3339), key, decide.UTC().Format(time.RFC3339), then))
	}
	if ch.Replacement != nil {
		return r.replace(ch, intent, res, last)
	}
	if err := r.opts.Journal.Append(intent); err != nil {
		return r.unresolved(res, fmt.Errorf("journal intent: %w", err))
	}
	return r.submit(ctx, ch, intent, res)
}

// replace ends an interrupted order whose manifest changed since, once a
// look-up old enough to be believed found nothing: the order was never
// placed. Its intent is closed (a nothing_created failure saying why) and
// the manifest as it is now (ch.Replacement) is applied in its place, so
// that an obsolete body is never ordered and then renewed: one order for
// one wanted certificate.
func (r *runner) replace(ch plan.Change, intent state.Record, res Result, last time.Time) Result {
	rep := *ch.Replacement
	why := fmt.Sprintf("the manifest changed since the interrupted %s, and the look-up of alternative_order_id %s, %s after its last attempt, found no order: "+
		"it was never placed, so its intent is closed and the manifest as it is now is applied instead",
		ch.Action, ch.AlternativeOrderID, r.now().Sub(last).Round(time.Second))
	fail := intent
	fail.Type = state.RecordFailure
	fail.NothingCreated = true
	fail.Error = why
	fail.Request = nil
	if err := r.opts.Journal.Append(fail); err != nil {
		return r.unresolved(res, fmt.Errorf("closing the interrupted order: journal: %w", err))
	}
	r.opts.Logger.Info().Str("name", ch.Name).Str("alternative_order_id", ch.AlternativeOrderID).Msg(why)
	if rep.Replacement != nil || rep.Resuming || !rep.Applies() {
		// Closed; the manifest as it is now orders nothing (or is blocked:
		// the next plan says why).
		res.Outcome = OutcomeClosed
		res.Action = rep.Action
		res.Error = why
		if rep.Status != "" {
			res.Error += "; now: " + rep.Status
		}
		return res
	}
	out := r.place(rep)
	out.Error = scrub(rep.Request, out.Error)
	return out
}

// lastAttempt is when an interrupted intent's order may last have been sent:
// the end of its last attempt whose outcome is unknown, else (a killed run)
// the intent itself, which precedes its only submission by one look-up.
func lastAttempt(in state.Record) time.Time {
	t := in.Time
	if in.LastAttempt != nil && in.LastAttempt.After(t) {
		t = *in.LastAttempt
	}
	return t
}

func (r *runner) now() time.Time {
	if r.opts.Now != nil {
		return r.opts.Now()
	}
	return time.Now()
}

// resubmitAfter is the minimum age of an unknown outcome before a look-up
// that finds nothing is believed.
func (r *runner) resubmitAfter() time.Duration {
	switch d := r.opts.ResubmitAfter; {
	case d == 0:
		return DefaultResubmitAfter
	case d < 0:
		return 0
	default:
		return d
	}
}

// submit sends a journaled intent, once. After a failure that may have
// reached CertCentral it looks the key up once, a moment later (a response
// lost after the commit usually shows at once), and otherwise leaves the
// intent open: it is never sent again in the same run.
func (r *runner) submit(ctx context.Context, ch plan.Change, intent state.Record, res Result) Result {
	body, err := certcentral.BuildOrderBody(ch.Product, ch.Request, ch.AlternativeOrderID, ch.RenewalOfOrderID)
	if err != nil {
		return r.nothingCreated(res, intent, fmt.Errorf("build request: %w", err))
	}
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
		if ch.Resuming {
			// This attempt created nothing, but an earlier one may have:
			// keep the intent open so the next run looks it up again.
			return r.unresolved(res, fmt.Errorf("an earlier attempt's outcome is unknown and this one failed: %w", err))
		}
		return r.nothingCreated(res, intent, err)
	}
	r.opts.Logger.Warn().Str("name", ch.Name).Str("error", scrub(ch.Request, err.Error())).
		Msg("order submission outcome unknown; it is not sent again in this run")
	rec := r.opts.Recovery
	if serr := rec.Sleep(ctx, rec.Backoff(1)); serr == nil {
		if facts, lerr := r.lookup(ctx, ch.AlternativeOrderID); lerr == nil {
			return r.record(res, intent, facts, OutcomeAdopted)
		}
	}
	return r.outcomeUnknown(res, intent, err)
}

// outcomeUnknown leaves an intent open after a submission whose outcome is
// unknown, journaling when the attempt ended (the failure record's
// last_attempt): a later run believes a look-up that finds nothing only
// ResubmitAfter after it.
func (r *runner) outcomeUnknown(res Result, intent state.Record, cause error) Result {
	at := r.now().UTC()
	fail := intent
	fail.Type = state.RecordFailure
	fail.Error = scrub(intent.Request, cause.Error())
	fail.Request = nil
	fail.LastAttempt = &at
	decide := at.Add(r.resubmitAfter()).Format(time.RFC3339)
	if err := r.opts.Journal.Append(fail); err != nil {
		return r.unresolved(res, fmt.Errorf("submission outcome unknown (%v), not sent again in this run; journaling its time failed: %w", cause, err))
	}
	return r.unresolved(res, fmt.Errorf("submission outcome unknown, not sent again in this run; the first apply from %s looks the key up and decides: %w", decide, cause))
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
