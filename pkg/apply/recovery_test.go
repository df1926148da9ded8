package apply

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/certplan/certplan/pkg/certcentral"
	"github.com/certplan/certplan/pkg/plan"
	"github.com/certplan/certplan/pkg/spec"
	"github.com/certplan/certplan/pkg/state"
)

// once ctx is cancelled (Ctrl-C) Run must not start another order.
// Run's dispatch loop selects between <-ctx.Done() and next <- i; when both
// are ready Go picks one at random, so an order can start after Ctrl-C.
func TestCancelledRunStartsNothing(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	f := newFake()
	changes := make([]plan.Change, 0, 50)
	for i := range 50 {
		changes = append(changes, change(string(rune('a'+i%26))+string(rune('a'+i/26)), spec.SecureSiteFlex))
	}
	for trial := range 2000 {
		rep := Run(ctx, &plan.Plan{Changes: changes}, Options{API: f, Journal: &memJournal{}, Parallelism: 4, Recovery: noWait()})
		if !rep.Interrupted {
			t.Errorf("trial %d: Interrupted = false with a cancelled context", trial)
		}
		if n := f.totalPlaced(); n != 0 {
			t.Fatalf("trial %d: %d orders placed after the run was cancelled, want 0", trial, n)
		}
	}
}

// lateCommitAPI models the window docs/idempotency.md names: the first POST
// times out on our side but commits inside CertCentral after the look-up ran;
// the second POST is refused with a 429 (or any 4xx).
type lateCommitAPI struct {
	mu    sync.Mutex
	posts int
}

func (a *lateCommitAPI) OrdersByAlternateID(context.Context, string) ([]certcentral.AlternateOrder, error) {
	return nil, nil // the late commit is not visible yet
}

func (a *lateCommitAPI) PlaceOrder(context.Context, spec.Product, []byte) (*certcentral.PlaceOrderResponse, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.posts++
	if a.posts == 1 {
		return nil, errLost // may have been committed
	}
	return nil, &certcentral.APIError{StatusCode: 429, Errors: []certcentral.ErrorDetail{{Code: "request_limit_exceeded"}}}
}

func (a *lateCommitAPI) OrderInfo(context.Context, int64) (*certcentral.Order, error) {
	return nil, &certcentral.APIError{StatusCode: 404}
}

func (a *lateCommitAPI) PlaceLegacyOrder(context.Context, map[string]string) (int64, error) {
	return 0, nil
}

func (a *lateCommitAPI) Reissue(context.Context, int64, []byte) (*certcentral.ReissueResponse, error) {
	return nil, errLost
}

func (a *lateCommitAPI) ListReissues(context.Context, int64) ([]certcentral.ReissueCertificate, error) {
	return nil, nil
}

// after an attempt whose outcome is unknown, a later attempt that
// "provably created nothing" proves nothing about the earlier one. The run
// must not journal nothing_created (which closes the intent, so a manifest
// edit before the next run orders under a new key: a duplicate) and must not
// tell the user "failed" (= nothing was ordered).
func TestNothingCreatedAfterAmbiguousAttempt(t *testing.T) {
	api := &lateCommitAPI{}
	j := &memJournal{}
	rep := Run(context.Background(), &plan.Plan{Changes: []plan.Change{change("shop", spec.SecureSiteFlex)}},
		Options{API: api, Journal: j, Recovery: noWait()})
	if got := rep.Results[0].Outcome; got != OutcomeUnresolved {
		t.Errorf("outcome = %s, want %s (the first POST may have committed)", got, OutcomeUnresolved)
	}
	for _, r := range j.recs {
		if r.Type == state.RecordFailure && r.NothingCreated {
			t.Errorf("journaled nothing_created after an outcome-unknown attempt: %+v", r)
		}
	}
}

// TestResumeBelievesOnlyAnOldLookup (issue 11, item 1): a run resuming an
// order whose earlier attempt may have reached CertCentral used to look the
// key up and, finding nothing, submit at once, although the look-up may lag
// the commit. It now keeps the intent open without sending (nor journaling
// anything, which would make the attempt look younger) until the last
// attempt is ResubmitAfter old, and says from when a run decides.
func TestResumeBelievesOnlyAnOldLookup(t *testing.T) {
	t0 := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	ch := change("shop", spec.SecureSiteFlex)
	ch.Resuming = true
	intent := state.Record{Type: state.RecordIntent, Time: t0, Name: "shop", Action: state.ActionCreate,
		AlternativeOrderID: ch.AlternativeOrderID, DupCheck: state.DupCheckAlternateID}
	afterFailure := intent
	failedAt := t0.Add(5 * time.Minute)
	afterFailure.LastAttempt = &failedAt

	tests := []struct {
		name    string
		pending map[string]state.Record
		now     time.Time
		sent    bool
		decide  string // when the result says a run decides
	}{
		{name: "killed run, a minute later: kept open", pending: map[string]state.Record{"shop": intent},
			now: t0.Add(time.Minute), decide: "2026-11-30T12:10:00Z"},
		{name: "killed run, eleven minutes later: sent", pending: map[string]state.Record{"shop": intent},
			now: t0.Add(11 * time.Minute), sent: true},
		{name: "failed attempt at +5m, eleven minutes after the intent: kept open", pending: map[string]state.Record{"shop": afterFailure},
			now: t0.Add(11 * time.Minute), decide: "2026-11-30T12:15:00Z"},
		{name: "failed attempt at +5m, sixteen minutes after the intent: sent", pending: map[string]state.Record{"shop": afterFailure},
			now: t0.Add(16 * time.Minute), sent: true},
		{name: "no journaled intent given: kept open", now: t0.Add(time.Hour)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake()
			j := &memJournal{}
			rep := Run(context.Background(), &plan.Plan{Changes: []plan.Change{ch}}, Options{API: f, Journal: j, Recovery: noWait(),
				Pending: tt.pending, Now: func() time.Time { return tt.now }})
			res := rep.Results[0]
			if f.lookupCalls[ch.AlternativeOrderID] == 0 {
				t.Error("the key was not looked up")
			}
			if !tt.sent {
				if res.Outcome != OutcomeUnresolved || f.placeCalls[ch.AlternativeOrderID] != 0 || len(j.recs) != 0 {
					t.Fatalf("%s (%s), %d submissions, journal %v: want unresolved, nothing sent, nothing journaled",
						res.Outcome, res.Error, f.placeCalls[ch.AlternativeOrderID], j.types())
				}
				if !strings.Contains(res.Error, tt.decide) {
					t.Errorf("%q does not say a run decides from %s", res.Error, tt.decide)
				}
				return
			}
			if res.Outcome != OutcomeCreated || f.placeCalls[ch.AlternativeOrderID] != 1 || strings.Join(j.types(), ",") != "intent,outcome" {
				t.Fatalf("%s (%s), %d submissions, journal %v: want created once, intent then outcome",
					res.Outcome, res.Error, f.placeCalls[ch.AlternativeOrderID], j.types())
			}
		})
	}
}

// TestResumeOrReplace (issue 11, item 4): a resumed order whose manifest
// changed since carries the change the manifest as it is now gets. The
// interrupted order found is adopted and nothing else is sent; proven never
// placed (a look-up old enough to be believed finds nothing), its intent is
// closed as having created nothing and the replacement is applied instead;
// a replacement that orders nothing just closes it.
func TestResumeOrReplace(t *testing.T) {
	t0 := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	old := change("shop", spec.SecureSiteFlex)
	old.Resuming = true
	intent := state.Record{Type: state.RecordIntent, Time: t0, Name: "shop", Action: state.ActionCreate,
		AlternativeOrderID: old.AlternativeOrderID, DupCheck: state.DupCheckAlternateID}
	rep := change("shop", spec.SecureSiteFlex)
	rep.AlternativeOrderID = plan.AlternativeOrderID("shop", spec.SecureSiteFlex, "sha256:now", "initial")
	rep.Request["certificate"].(map[string]any)["dns_names"] = []any{"www.shop.example.com"}
	noop := plan.Change{Name: "shop", Product: spec.SecureSiteFlex, Action: plan.ActionNoOp, Status: "issued, valid till 2027-06-01"}

	tests := []struct {
		name        string
		replacement plan.Change
		existing    bool // the interrupted order exists
		want        Outcome
		wantKey     string // the key of the order placed, "" none
		wantRecords string
	}{
		{name: "the interrupted order exists: adopted, nothing sent", replacement: rep, existing: true,
			want: OutcomeAdopted, wantRecords: "outcome"},
		{name: "never placed: closed, the manifest as it is now ordered", replacement: rep,
			want: OutcomeCreated, wantKey: rep.AlternativeOrderID, wantRecords: "failure,intent,outcome"},
		{name: "never placed, and the manifest now orders nothing: closed", replacement: noop,
			want: OutcomeClosed, wantRecords: "failure"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake()
			if tt.existing {
				f.orders[old.AlternativeOrderID] = []certcentral.AlternateOrder{{OrderID: 77, Status: "issued"}}
			}
			ch := old
			r := tt.replacement
			ch.Replacement = &r
			j := &memJournal{}
			res := Run(context.Background(), &plan.Plan{Changes: []plan.Change{ch}}, Options{API: f, Journal: j, Recovery: noWait(),
				Pending: map[string]state.Record{"shop": intent}, Now: func() time.Time { return t0.Add(time.Hour) }}).Results[0]
			if res.Outcome != tt.want {
				t.Fatalf("outcome %s (%s), want %s", res.Outcome, res.Error, tt.want)
			}
			if got := strings.Join(j.types(), ","); got != tt.wantRecords {
				t.Errorf("journal %s, want %s", got, tt.wantRecords)
			}
			if n := f.placeCalls[old.AlternativeOrderID]; n != 0 {
				t.Errorf("the interrupted body was sent %d times", n)
			}
			placed := 0
			for k, n := range f.placeCalls {
				placed += n
				if k != tt.wantKey {
					t.Errorf("sent an order with key %s, want %q", k, tt.wantKey)
				}
			}
			if (tt.wantKey != "") != (placed == 1) {
				t.Errorf("%d orders sent", placed)
			}
			if tt.wantKey == "" {
				return
			}
			closed := j.recs[0]
			if closed.AlternativeOrderID != old.AlternativeOrderID || !closed.NothingCreated || !strings.Contains(closed.Error, "manifest changed") {
				t.Errorf("closing record %+v, want nothing_created for the interrupted key, saying why", closed)
			}
			if body := f.bodies[0]; !strings.Contains(string(body), "www.shop.example.com") {
				t.Errorf("sent %s, want the manifest as it is now", body)
			}
		})
	}
}
