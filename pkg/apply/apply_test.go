package apply

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/certplan/certplan/pkg/certcentral"
	"github.com/certplan/certplan/pkg/plan"
	"github.com/certplan/certplan/pkg/spec"
	"github.com/certplan/certplan/pkg/state"
)

// fakeAPI is a scripted CertCentral: orders it "commits" are visible to
// look-ups, and each call can be made to fail in the ways the network does.
type fakeAPI struct {
	mu     sync.Mutex
	nextID int64
	orders map[string][]certcentral.AlternateOrder // by alternative id
	// place returns the error for the n-th (1-based) PlaceOrder call of a key;
	// commit says whether the order is stored before the error is returned.
	place       func(key string, n int) (commit bool, err error)
	lookupErr   func(key string, n int) error
	placeCalls  map[string]int
	lookupCalls map[string]int
	legacyErr   error
	bodies      [][]byte

	// Reissues (reissue_test.go): each order's certificates, oldest first.
	certs        map[int64][]certcentral.ReissueCertificate
	reissueCalls map[int64]int
	// reissue returns the error for the n-th Reissue call of an order;
	// commit says whether the reissue is stored before it is returned.
	reissue           func(orderID int64, n int) (commit bool, err error)
	reissuesCommitted int
	approval          bool  // reissues await approval
	pendingStatus     bool  // order info says reissue_pending
	listErr           error // ListReissues fails
}

func newFake() *fakeAPI {
	return &fakeAPI{nextID: 1000, orders: map[string][]certcentral.AlternateOrder{},
		placeCalls: map[string]int{}, lookupCalls: map[string]int{}}
}

func keyOf(body []byte) string {
	var m map[string]any
	_ = json.Unmarshal(body, &m)
	s, _ := m["alternative_order_id"].(string)
	return s
}

func (f *fakeAPI) OrdersByAlternateID(_ context.Context, key string) ([]certcentral.AlternateOrder, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lookupCalls[key]++
	if f.lookupErr != nil {
		if err := f.lookupErr(key, f.lookupCalls[key]); err != nil {
			return nil, err
		}
	}
	return append([]certcentral.AlternateOrder(nil), f.orders[key]...), nil
}

func (f *fakeAPI) PlaceOrder(_ context.Context, _ spec.Product, body []byte) (*certcentral.PlaceOrderResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	key := keyOf(body)
	f.placeCalls[key]++
	f.bodies = append(f.bodies, body)
	commit, err := true, error(nil)
	if f.place != nil {
		commit, err = f.place(key, f.placeCalls[key])
	}
	var id int64
	if commit {
		f.nextID++
		id = f.nextID
		f.orders[key] = append(f.orders[key], certcentral.AlternateOrder{OrderID: id, Status: "issued", CertificateID: id * 10})
	}
	if err != nil {
		return nil, err
	}
	return &certcentral.PlaceOrderResponse{ID: id, CertificateID: id * 10,
		Requests: []certcentral.Request{{ID: id + 5, Status: "approved"}}}, nil
}

func (f *fakeAPI) OrderInfo(_ context.Context, id int64) (*certcentral.Order, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for key, os := range f.orders {
		for _, o := range os {
			if o.OrderID == id {
				info := &certcentral.Order{ID: id, Status: o.Status, AlternativeOrderID: key,
					Certificate: certcentral.OrderCertificate{ID: o.CertificateID, ValidTill: "2027-11-23"}}
				f.reissueView(info)
				return info, nil
			}
		}
	}
	return nil, &certcentral.APIError{StatusCode: 404, Errors: []certcentral.ErrorDetail{{Code: "not_found", Detail: "order"}}}
}

func (f *fakeAPI) PlaceLegacyOrder(_ context.Context, _ map[string]string) (int64, error) {
	if f.legacyErr != nil {
		return 0, f.legacyErr
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nextID++
	return f.nextID, nil
}

func (f *fakeAPI) totalPlaced() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, os := range f.orders {
		n += len(os)
	}
	return n
}

type memJournal struct {
	mu   sync.Mutex
	recs []state.Record
	fail error
}

func (j *memJournal) Append(r state.Record) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.fail != nil {
		return j.fail
	}
	j.recs = append(j.recs, r)
	return nil
}

func (j *memJournal) types() []string {
	var out []string
	for _, r := range j.recs {
		out = append(out, string(r.Type))
	}
	return out
}

var errLost = &url.Error{Op: "Post", URL: "http://127.0.0.1/services/v2/order/certificate/x", Err: io.ErrUnexpectedEOF}

func change(name string, p spec.Product) plan.Change {
	return plan.Change{
		Name: name, Product: p, Action: plan.ActionCreate,
		AlternativeOrderID: plan.AlternativeOrderID(name, p, "sha256:test", "initial"),
		Request: map[string]any{
			"certificate":    map[string]any{"common_name": name + ".example.com", "csr": "csr", "signature_hash": "sha256"},
			"order_validity": map[string]any{"years": 1},
			"organization":   map[string]any{"id": 123456},
		},
	}
}

func noWait() Recovery {
	return Recovery{Backoff: func(int) time.Duration { return 0 },
		Sleep: func(ctx context.Context, _ time.Duration) error { return ctx.Err() }}
}

func TestOrderOutcomes(t *testing.T) {
	badRequest := &certcentral.APIError{StatusCode: 400, Errors: []certcentral.ErrorDetail{{Code: "invalid_value", Detail: "validity_years", Message: "bad"}}}
	duplicate := &certcentral.APIError{StatusCode: 400, Errors: []certcentral.ErrorDetail{{Code: "duplicate_alternative_order_id", Message: "exists"}}}
	tests := []struct {
		name        string
		setup       func(f *fakeAPI, key string)
		want        Outcome
		wantPlace   int
		wantOrders  int
		wantRecords []string
	}{
		{
			name:        "nothing there: submit once",
			want:        OutcomeCreated,
			wantPlace:   1,
			wantOrders:  1,
			wantRecords: []string{"intent", "outcome"},
		},
		{
			name: "already ordered (lost state): adopt, never submit",
			setup: func(f *fakeAPI, key string) {
				f.orders[key] = []certcentral.AlternateOrder{{OrderID: 77, Status: "issued"}}
			},
			want: OutcomeAdopted, wantPlace: 0, wantOrders: 1,
			wantRecords: []string{"intent", "outcome"},
		},
		{
			name: "response lost after commit: look up and adopt",
			setup: func(f *fakeAPI, key string) {
				f.place = func(string, int) (bool, error) { return true, errLost }
			},
			want: OutcomeAdopted, wantPlace: 1, wantOrders: 1,
			wantRecords: []string{"intent", "outcome"},
		},
		{
			// Issue 11, item 1: this used to look up, find none and submit
			// again (created, 2 submissions); a 503 may come from a gateway
			// while the order commits, and the look-up may lag the commit.
			name: "5xx: never sent again in the same run, the attempt's time journaled",
			setup: func(f *fakeAPI, key string) {
				f.place = func(_ string, n int) (bool, error) {
					if n == 1 {
						return false, &certcentral.APIError{StatusCode: 503}
					}
					return true, nil
				}
			},
			want: OutcomeUnresolved, wantPlace: 1, wantOrders: 0,
			wantRecords: []string{"intent", "failure"},
		},
		{
			name: "validation error: provably nothing created, no retry",
			setup: func(f *fakeAPI, key string) {
				f.place = func(string, int) (bool, error) { return false, badRequest }
			},
			want: OutcomeFailed, wantPlace: 1, wantOrders: 0,
			wantRecords: []string{"intent", "failure"},
		},
		{
			name: "unique ids on and a duplicate appears: adopt",
			setup: func(f *fakeAPI, key string) {
				f.place = func(string, int) (bool, error) { return false, duplicate }
				f.lookupErr = func(_ string, n int) error { return nil }
				// The order exists but the first look-up raced it.
				f.lookupCalls[key] = 0
				origPlace := f.place
				f.place = func(k string, n int) (bool, error) {
					f.orders[k] = []certcentral.AlternateOrder{{OrderID: 55, Status: "pending"}}
					return origPlace(k, n)
				}
			},
			want: OutcomeAdopted, wantPlace: 1, wantOrders: 1,
			wantRecords: []string{"intent", "outcome"},
		},
		{
			// Issue 11, items 1 and 4: this used to leave the intent open
			// (unresolved). An open intent is now one that may have been
			// sent, which the next run waits on and resumes with its body;
			// this one provably was not sent, so it is closed.
			name: "look-up unavailable: nothing submitted, intent closed",
			setup: func(f *fakeAPI, key string) {
				f.lookupErr = func(string, int) error { return &certcentral.APIError{StatusCode: 502} }
			},
			want: OutcomeFailed, wantPlace: 0, wantOrders: 0,
			wantRecords: []string{"intent", "failure"},
		},
		{
			name: "a timed-out submission is never re-sent in the same run",
			setup: func(f *fakeAPI, key string) {
				f.place = func(string, int) (bool, error) {
					return false, &url.Error{Op: "Post", URL: "http://127.0.0.1/x", Err: context.DeadlineExceeded}
				}
			},
			want: OutcomeUnresolved, wantPlace: 1, wantOrders: 0,
			wantRecords: []string{"intent", "failure"}, // issue 11, item 1: the failure records the attempt's time
		},
		{
			// Issue 11, item 1: this used to submit 3 times in the run.
			name: "the submission loses its connection: never sent again in the same run",
			setup: func(f *fakeAPI, key string) {
				f.place = func(string, int) (bool, error) { return false, errLost }
			},
			want: OutcomeUnresolved, wantPlace: 1, wantOrders: 0,
			wantRecords: []string{"intent", "failure"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake()
			ch := change("shop", spec.SecureSiteFlex)
			if tt.setup != nil {
				tt.setup(f, ch.AlternativeOrderID)
			}
			j := &memJournal{}
			rep := Run(context.Background(), &plan.Plan{Changes: []plan.Change{ch}},
				Options{API: f, Journal: j, Recovery: noWait()})
			if len(rep.Results) != 1 {
				t.Fatalf("results = %d, want 1", len(rep.Results))
			}
			got := rep.Results[0]
			if got.Outcome != tt.want {
				t.Errorf("outcome = %q (%s), want %q", got.Outcome, got.Error, tt.want)
			}
			if n := f.placeCalls[ch.AlternativeOrderID]; n != tt.wantPlace {
				t.Errorf("PlaceOrder calls = %d, want %d", n, tt.wantPlace)
			}
			if n := f.totalPlaced(); n != tt.wantOrders {
				t.Errorf("orders in CertCentral = %d, want %d", n, tt.wantOrders)
			}
			if got, want := strings.Join(j.types(), ","), strings.Join(tt.wantRecords, ","); got != want {
				t.Errorf("journal = %s, want %s", got, want)
			}
		})
	}
}

func TestLegacyAmbiguousFailureIsUnknownOutcome(t *testing.T) {
	f := newFake()
	f.legacyErr = errLost
	ch := change("legacy", spec.LegacySSL)
	ch.AlternativeOrderID = ""
	ch.Request = map[string]any{"csr": "x", "validity": 1, "common_name": "www.example.com"}
	j := &memJournal{}
	rep := Run(context.Background(), &plan.Plan{Changes: []plan.Change{ch}}, Options{API: f, Journal: j, Recovery: noWait()})
	if got := rep.Results[0].Outcome; got != OutcomeUnknown {
		t.Fatalf("outcome = %q, want %q", got, OutcomeUnknown)
	}
	last := j.recs[len(j.recs)-1]
	if last.Type != state.RecordFailure || !last.Unknown {
		t.Fatalf("last record = %+v, want a failure with unknown_outcome", last)
	}
	if !strings.Contains(rep.Results[0].Error, "state set-order legacy") {
		t.Errorf("error does not say how to resolve: %s", rep.Results[0].Error)
	}
}

func TestJournalFailureSubmitsNothing(t *testing.T) {
	f := newFake()
	j := &memJournal{fail: errors.New("disk full")}
	rep := Run(context.Background(), &plan.Plan{Changes: []plan.Change{change("a", spec.SecureSiteFlex)}},
		Options{API: f, Journal: j, Recovery: noWait()})
	if rep.Results[0].Outcome != OutcomeFailed || f.totalPlaced() != 0 || len(f.lookupCalls) != 0 {
		t.Fatalf("outcome %q, placed %d, lookups %d: want failed with no API call",
			rep.Results[0].Outcome, f.totalPlaced(), len(f.lookupCalls))
	}
}

func TestParallelRunPlacesEachOrderOnce(t *testing.T) {
	f := newFake()
	// Every third submission loses its response after committing.
	f.place = func(key string, n int) (bool, error) {
		if n == 1 && key[2]%3 == 0 {
			return true, errLost
		}
		return true, nil
	}
	var changes []plan.Change
	for i := 0; i < 60; i++ {
		changes = append(changes, change(fmt.Sprintf("cert-%03d", i), spec.SecureSiteFlex))
	}
	j := &memJournal{}
	var progressed int
	rep := Run(context.Background(), &plan.Plan{Changes: changes}, Options{API: f, Journal: j,
		Parallelism: 8, Recovery: noWait(), Progress: func(Result) { progressed++ }})
	if rep.Failed() != 0 {
		t.Fatalf("%d failed", rep.Failed())
	}
	adopted := 0
	for _, r := range rep.Results {
		if r.Outcome == OutcomeAdopted {
			adopted++
		}
	}
	if adopted == 0 || adopted == 60 {
		t.Fatalf("adopted %d of 60: the lost-response fault did not hit a share of the orders", adopted)
	}
	if f.totalPlaced() != 60 || progressed != 60 || len(j.recs) != 120 {
		t.Fatalf("placed %d, progress %d, records %d; want 60, 60, 120", f.totalPlaced(), progressed, len(j.recs))
	}
	for i := 1; i < len(rep.Results); i++ {
		if rep.Results[i-1].Name >= rep.Results[i].Name {
			t.Fatalf("results not in name order at %d", i)
		}
	}
}

func TestInterruptedRunStartsNothingNew(t *testing.T) {
	f := newFake()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var changes []plan.Change
	for i := 0; i < 10; i++ {
		changes = append(changes, change(fmt.Sprintf("c%d", i), spec.SecureSiteFlex))
	}
	rep := Run(ctx, &plan.Plan{Changes: changes}, Options{API: f, Journal: &memJournal{}, Recovery: noWait()})
	if !rep.Interrupted {
		t.Fatal("not marked interrupted")
	}
	started := 0
	for _, r := range rep.Results {
		if r.Outcome != OutcomeSkipped {
			started++
		}
	}
	// The dispatcher may hand out at most one order per worker before it sees
	// the cancelled context; none may be placed without an outcome.
	if started > 4 || f.totalPlaced() != started {
		t.Fatalf("started %d, placed %d", started, f.totalPlaced())
	}
}

func TestSecretsNeverJournaled(t *testing.T) {
	t.Setenv("CARD_NUMBER", "4111111111111111")
	f := newFake()
	ch := change("paid", spec.SecureSiteFlex)
	ch.Request["payment_method"] = "card"
	ch.Request["credit_card"] = map[string]any{"number": spec.Secret{Ref: spec.SecretRef{Env: "CARD_NUMBER"}}}
	j := &memJournal{}
	Run(context.Background(), &plan.Plan{Changes: []plan.Change{ch}}, Options{API: f, Journal: j, Recovery: noWait()})
	if len(f.bodies) != 1 || !strings.Contains(string(f.bodies[0]), "4111111111111111") {
		t.Fatalf("the card number must reach the request body: %d bodies", len(f.bodies))
	}
	raw, err := json.Marshal(j.recs)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), "4111111111111111") {
		t.Fatal("card number reached the journal")
	}
	if !strings.Contains(string(raw), spec.Sensitive) {
		t.Fatal("journal should show the secret as (sensitive)")
	}
}

func TestRejectedAPIKeyStopsTheRun(t *testing.T) {
	f := newFake()
	f.lookupErr = func(string, int) error {
		return &certcentral.APIError{StatusCode: 401, Errors: []certcentral.ErrorDetail{{Code: "access_denied", Detail: "access_denied_invalid_key"}}}
	}
	var changes []plan.Change
	for i := 0; i < 10; i++ {
		changes = append(changes, change(fmt.Sprintf("c%02d", i), spec.SecureSiteFlex))
	}
	rep := Run(context.Background(), &plan.Plan{Changes: changes}, Options{API: f, Journal: &memJournal{}, Parallelism: 1, Recovery: noWait()})
	if !strings.Contains(rep.Aborted, "DIGICERT_API_KEY") {
		t.Fatalf("Aborted = %q, want it to name DIGICERT_API_KEY", rep.Aborted)
	}
	skipped := 0
	for _, r := range rep.Results {
		if r.Outcome == OutcomeSkipped {
			skipped++
		}
	}
	if skipped < 8 || f.totalPlaced() != 0 {
		t.Fatalf("skipped %d of 10, placed %d: want the run to stop after the first rejection", skipped, f.totalPlaced())
	}
}

func TestSecretsScrubbedFromEchoedErrors(t *testing.T) {
	t.Setenv("CARD_NUMBER", "4111-1111-1111-1111")
	t.Setenv("CARD_CVV", "9731")
	f := newFake()
	f.place = func(string, int) (bool, error) {
		return false, &certcentral.APIError{StatusCode: 400, Errors: []certcentral.ErrorDetail{{
			Code: "invalid_value", Detail: "credit_card", Message: "card 4111-1111-1111-1111 with cvv 9731 declined"}}}
	}
	ch := change("paid", spec.SecureSiteFlex)
	ch.Request["credit_card"] = map[string]any{
		"number": spec.Secret{Ref: spec.SecretRef{Env: "CARD_NUMBER"}},
		"cvv":    spec.Secret{Ref: spec.SecretRef{Env: "CARD_CVV"}},
	}
	j := &memJournal{}
	rep := Run(context.Background(), &plan.Plan{Changes: []plan.Change{ch}}, Options{API: f, Journal: j, Recovery: noWait()})
	raw, _ := json.Marshal(j.recs)
	for _, leak := range []string{"4111-1111-1111-1111", "9731"} {
		if strings.Contains(rep.Results[0].Error, leak) || strings.Contains(string(raw), leak) {
			t.Fatalf("%s leaked: result %q, journal %s", leak, rep.Results[0].Error, raw)
		}
	}
	if !strings.Contains(rep.Results[0].Error, "declined") {
		t.Fatalf("the rest of the message should survive: %q", rep.Results[0].Error)
	}
}

// renewedFake is a CertCentral where the order with the key was renewed
// (by an earlier certplan run whose state was then lost).
type renewedFake struct{ *fakeAPI }

func (f renewedFake) OrderInfo(ctx context.Context, id int64) (*certcentral.Order, error) {
	switch id {
	case 77:
		return &certcentral.Order{ID: 77, Status: "issued", IsRenewed: true, RenewedOrderID: 88}, nil
	case 88:
		return &certcentral.Order{ID: 88, Status: "issued", AlternativeOrderID: "renewal-key", RenewalOfOrderID: 77,
			Certificate: certcentral.OrderCertificate{ID: 880, ValidTill: "2028-01-01"}}, nil
	}
	return f.fakeAPI.OrderInfo(ctx, id)
}

func TestAdoptionFollowsTheRenewalChain(t *testing.T) {
	f := newFake()
	ch := change("shop", spec.SecureSiteFlex)
	f.orders[ch.AlternativeOrderID] = []certcentral.AlternateOrder{{OrderID: 77, Status: "issued"}}
	j := &memJournal{}
	rep := Run(context.Background(), &plan.Plan{Changes: []plan.Change{ch}}, Options{API: renewedFake{f}, Journal: j, Recovery: noWait()})
	got := rep.Results[0]
	if got.Outcome != OutcomeAdopted || got.OrderID != 88 {
		t.Fatalf("adopted order %d (%s), want the renewal 88", got.OrderID, got.Outcome)
	}
	if out := j.recs[len(j.recs)-1].Order; out.AlternativeOrderID != "renewal-key" || out.ValidTill != "2028-01-01" {
		t.Fatalf("journaled facts %+v, want the renewal's key and dates", out)
	}
	if f.totalPlaced() != 1 {
		t.Fatal("nothing may be ordered")
	}
}

func TestAdoptionStopsAtADeadRenewal(t *testing.T) {
	f := newFake()
	ch := change("shop", spec.SecureSiteFlex)
	f.orders[ch.AlternativeOrderID] = []certcentral.AlternateOrder{{OrderID: 77, Status: "issued"}}
	api := deadRenewalFake{f}
	rep := Run(context.Background(), &plan.Plan{Changes: []plan.Change{ch}}, Options{API: api, Journal: &memJournal{}, Recovery: noWait()})
	if got := rep.Results[0]; got.OrderID != 77 || got.Status != "issued" {
		t.Fatalf("adopted order %d (%s), want the live order 77: a rejected renewal never replaced it", got.OrderID, got.Status)
	}
}

type deadRenewalFake struct{ *fakeAPI }

func (f deadRenewalFake) OrderInfo(ctx context.Context, id int64) (*certcentral.Order, error) {
	switch id {
	case 77:
		return &certcentral.Order{ID: 77, Status: "issued", IsRenewed: true, RenewedOrderID: 88}, nil
	case 88:
		return &certcentral.Order{ID: 88, Status: "rejected", RenewalOfOrderID: 77}, nil
	}
	return f.fakeAPI.OrderInfo(ctx, id)
}
