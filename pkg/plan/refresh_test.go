package plan

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/certplan/certplan/pkg/certcentral"
	"github.com/certplan/certplan/pkg/spec"
	"github.com/certplan/certplan/pkg/state"
)

// fakeLister is an account of orders answering list calls as the API does
// (filters combine), counting calls and checking their shape.
type fakeLister struct {
	t       testing.TB
	orders  map[int64]certcentral.Order
	calls   []certcentral.ListFilter
	extra   []certcentral.Order // returned by every call, whatever the filter
	failing bool
	// ignoresIDs: the server answers as if filters[id] were absent (the
	// whole account); misreadsIDs: as if it matched no order at all.
	ignoresIDs, misreadsIDs bool
	infoCalls               []int64 // OrderInfo calls
	infoErr                 error   // OrderInfo fails with it
}

func (f *fakeLister) OrderInfo(_ context.Context, id int64) (*certcentral.Order, error) {
	f.infoCalls = append(f.infoCalls, id)
	if f.infoErr != nil {
		return nil, f.infoErr
	}
	o, ok := f.orders[id]
	if !ok {
		return nil, &certcentral.APIError{StatusCode: 404, Method: "GET", Path: fmt.Sprintf("/order/certificate/%d", id)}
	}
	return &o, nil
}

func (f *fakeLister) ListOrders(_ context.Context, flt certcentral.ListFilter) ([]certcentral.Order, error) {
	f.calls = append(f.calls, flt)
	if f.failing {
		return nil, errors.New("503 service unavailable")
	}
	if len(flt.IDs) == 0 || len(flt.IDs) > 1000 {
		f.t.Errorf("list call with %d ids, want 1..1000", len(flt.IDs))
	}
	switch {
	case f.misreadsIDs:
		return nil, nil
	case f.ignoresIDs:
		var all []certcentral.Order
		for _, o := range f.orders {
			all = append(all, o)
		}
		return append(all, f.extra...), nil
	}
	var out []certcentral.Order
	for _, id := range flt.IDs {
		o, ok := f.orders[id]
		if ok && (len(flt.Statuses) == 0 || slices.Contains(flt.Statuses, o.Status)) {
			out = append(out, o)
		}
	}
	return append(out, f.extra...), nil
}

// trackedState has n certificates: every tenth pending, every tenth inside
// (or within 7 days of) its renewal window, the rest issued far from it.
func trackedState(t testing.TB, n int) (*state.State, []*spec.Certificate, map[int64]certcentral.Order, []int64) {
	st := &state.State{Certificates: map[string]*state.Certificate{}}
	account := map[int64]certcentral.Order{}
	var certs []*spec.Certificate
	var watch []int64
	for i := 0; i < n; i++ {
		c := tlsCert(fmt.Sprintf("c%05d", i))
		certs = append(certs, c)
		id := int64(100000 + i)
		// Only what refresh and the planner read; no request (keeps the test fast).
		s := &state.Certificate{Product: string(c.Product), SpecDigest: SpecDigest(c), OrderID: id, Status: state.StatusIssued, ValidTill: "2027-10-10"}
		switch i % 10 {
		case 0:
			s.Status, s.ValidTill, s.OrderValidTill = state.StatusPending, "", ""
			watch = append(watch, id)
		case 1:
			s.ValidTill = "2026-12-29" // window (30d) opens 2026-11-30: within 7 days of testNow
			watch = append(watch, id)
		}
		st.Certificates[c.Name] = s
		account[id] = certcentral.Order{ID: id, Status: string(s.Status)}
	}
	return st, certs, account, watch
}

func TestRefresh10kOrdersInFewCalls(t *testing.T) {
	st, certs, account, watch := trackedState(t, 10000)
	// Two far-from-window orders were revoked in the console.
	account[100005] = certcentral.Order{ID: 100005, Status: "revoked"}
	account[109997] = certcentral.Order{ID: 109997, Status: "canceled"}
	f := &fakeLister{t: t, orders: account}

	facts, stats, err := Refresh(context.Background(), f, st, certs, testNow)
	if err != nil {
		t.Fatal(err)
	}
	if stats.Calls > 20 || stats.Calls != len(f.calls) {
		t.Fatalf("refresh of 10,000 orders made %d calls (stats say %d), want <= 20", len(f.calls), stats.Calls)
	}
	// 10,000 tracked orders listed by id, 1000 per call.
	if stats.Calls != 10 || stats.Lookups != 0 {
		t.Errorf("calls = %d, lookups %d; want 10 and 0", stats.Calls, stats.Lookups)
	}
	for _, id := range watch {
		if _, ok := facts[id]; !ok {
			t.Fatalf("watched order %d not refreshed", id)
		}
	}
	for _, id := range []int64{100005, 109997} {
		if _, ok := facts[id]; !ok {
			t.Errorf("order %d killed in the console not found", id)
		}
	}
	// Every tracked order comes back, not only those in flight, near their
	// window or dead: the dead-status listing whose usual empty answer could
	// not be told from a filter the server misread is gone (issue 11).
	if stats.Orders != 10000 || len(facts) != stats.Orders {
		t.Errorf("stats.Orders = %d, facts %d, want 10000", stats.Orders, len(facts))
	}

	// The drift is planned: revoked -> create.
	p := Build(Input{Certificates: certs, State: st, Facts: facts, Now: testNow})
	if len(p.Drift) != 2 {
		t.Errorf("drift entries = %d, want 2", len(p.Drift))
	}
	if c := p.Changes[5]; c.Action != ActionCreate || c.Predecessor != 100005 {
		t.Errorf("revoked order: %s predecessor %d", c.Action, c.Predecessor)
	}
}

func TestRefreshAsksOnlyAboutWhatMatters(t *testing.T) {
	st := &state.State{Certificates: map[string]*state.Certificate{}}
	a, b, d, u, o := tlsCert("a"), tlsCert("b"), tlsCert("dead"), legacyCert("unknown"), tlsCert("orphan")
	st.Certificates["a"] = applied(t, a, 1, "2026-12-01")    // in window: watched
	st.Certificates["b"] = applied(t, b, 2, "2028-01-01")    // far: death check only
	st.Certificates["dead"] = applied(t, d, 3, "2027-01-01") // already dead: not asked
	st.Certificates["dead"].Status = state.StatusRevoked
	st.Certificates["unknown"] = &state.Certificate{Status: state.StatusUnknownOutcome}
	st.Certificates["orphan"] = applied(t, o, 5, "2026-12-01") // not in manifests: not asked
	f := &fakeLister{t: t, orders: map[int64]certcentral.Order{1: {ID: 1, Status: "issued"}, 2: {ID: 2, Status: "issued"}},
		extra: []certcentral.Order{{ID: 999, Status: "revoked"}}}

	facts, stats, err := Refresh(context.Background(), f, st, []*spec.Certificate{a, b, d, u}, testNow)
	if err != nil {
		t.Fatal(err)
	}
	// One call for both live orders, without a status filter (it used to be
	// one call for the watched order and one with the dead statuses for the
	// other, whose usual empty answer proved nothing).
	if len(f.calls) != 1 || stats.Calls != 1 {
		t.Fatalf("calls = %+v", f.calls)
	}
	if !slices.Equal(f.calls[0].IDs, []int64{1, 2}) || len(f.calls[0].Statuses) != 0 {
		t.Errorf("call = %+v, want ids [1 2] without a status filter", f.calls[0])
	}
	if _, ok := facts[999]; ok {
		t.Error("refresh kept an order it did not ask about")
	}
	if _, ok := facts[1]; !ok || len(facts) != 2 {
		t.Errorf("facts = %v, want orders 1 and 2", facts)
	}
}

// With auto_reissue, CertCentral reissues 30 days before expiry, however
// short renewBefore is: the reissued certificate must come back from
// refresh as it happens, so that it is adopted. Every tracked order is now
// refreshed in full (this test used to check that the auto_reissue order
// was in the watched set and the other only checked for death; that split
// is gone, see TestRefreshTrustsOnlyWhatWasAskedFor), so both orders' new
// certificates come back.
func TestRefreshWatchesAutoReissue(t *testing.T) {
	st := &state.State{Certificates: map[string]*state.Certificate{}}
	auto, plain := autoReissueOn(renewBefore(tlsCert("auto"), 10*day)), renewBefore(tlsCert("plain"), 10*day)
	// Expires in 35 days: inside 30 + 7, outside 10 + 7.
	st.Certificates["auto"] = planTill(1, "2026-12-28", "2027-10-10")(t, auto)
	st.Certificates["plain"] = planTill(2, "2026-12-28", "2027-10-10")(t, plain)
	reissued := func(id int64) certcentral.Order {
		return certcentral.Order{ID: id, Status: "issued", Certificate: certcentral.OrderCertificate{ID: 900 + id, ValidTill: "2027-10-10"}}
	}
	f := &fakeLister{t: t, orders: map[int64]certcentral.Order{1: reissued(1), 2: reissued(2)}}
	facts, _, err := Refresh(context.Background(), f, st, []*spec.Certificate{auto, plain}, testNow)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.calls) != 1 || !slices.Equal(f.calls[0].IDs, []int64{1, 2}) {
		t.Errorf("calls %+v, want one for ids [1 2]", f.calls)
	}
	for _, id := range []int64{1, 2} {
		if facts[id].CertificateID != 900+id || facts[id].ValidTill != "2027-10-10" {
			t.Errorf("order %d: facts %+v, want the reissued certificate", id, facts[id])
		}
	}
}

func TestRefreshEmptyAndErrors(t *testing.T) {
	f := &fakeLister{t: t}
	facts, stats, err := Refresh(context.Background(), f, nil, nil, testNow)
	if err != nil || len(facts) != 0 || stats.Calls != 0 {
		t.Errorf("nil state: %v %v %v", facts, stats, err)
	}
	st, certs, account, _ := trackedState(t, 30)
	f = &fakeLister{t: t, orders: account, failing: true}
	_, _, err = Refresh(context.Background(), f, st, certs, testNow)
	if err == nil || !strings.Contains(err.Error(), "503") || !strings.Contains(err.Error(), "list") {
		t.Errorf("error = %v, want the wrapped list failure", err)
	}
	if len(f.calls) != 1 {
		t.Errorf("refresh went on after a failure: %d calls", len(f.calls))
	}
}

// TestRefreshTrustsOnlyWhatWasAskedFor: whether CertCentral reads
// filters[id] as sent is unconfirmed. A server that ignores it (answers with
// the whole account) or misreads it (answers with nothing) must never make a
// tracked order look gone or unchanged: orders not asked about are ignored,
// and ids the listing did not return are read with order info.
func TestRefreshTrustsOnlyWhatWasAskedFor(t *testing.T) {
	for _, mode := range []string{"ignores", "misreads"} {
		t.Run(mode, func(t *testing.T) {
			st, certs, account, _ := trackedState(t, 30)
			// Order 100003, far from its window, was revoked in the console;
			// order 100000, pending in the state, was issued.
			account[100003] = certcentral.Order{ID: 100003, Status: "revoked"}
			account[100000] = certcentral.Order{ID: 100000, Status: "issued", Certificate: certcentral.OrderCertificate{ValidTill: "2027-12-01"}}
			f := &fakeLister{t: t, orders: account, ignoresIDs: mode == "ignores", misreadsIDs: mode == "misreads",
				extra: []certcentral.Order{{ID: 555, Status: "issued"}}}
			facts, stats, err := Refresh(context.Background(), f, st, certs, testNow)
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := facts[555]; ok {
				t.Error("refresh kept an order it did not ask about")
			}
			if got := facts[100003].Status; got != state.StatusRevoked {
				t.Errorf("order revoked in the console reads %q, want revoked", got)
			}
			if got := facts[100000].Status; got != state.StatusIssued {
				t.Errorf("pending order that was issued reads %q, want issued", got)
			}
			if len(facts) != 30 {
				t.Errorf("facts for %d of 30 tracked orders", len(facts))
			}
			wantLookups := 0
			if mode == "misreads" {
				wantLookups = 30
			}
			if stats.Lookups != wantLookups || len(f.infoCalls) != wantLookups {
				t.Errorf("order info calls = %d (stats %d), want %d", len(f.infoCalls), stats.Lookups, wantLookups)
			}
			p := Build(Input{Certificates: certs, State: st, Facts: facts, Now: testNow})
			if len(p.Drift) != 1 || p.Drift[0].OrderID != 100003 {
				t.Errorf("drift = %+v, want the revoked order", p.Drift)
			}
		})
	}
}

// TestRefreshOrderInfoFallback: an id the listing did not return and order
// info does not know is planned from the state (and reported); any other
// failure of order info fails the refresh rather than guess.
func TestRefreshOrderInfoFallback(t *testing.T) {
	st, certs, account, _ := trackedState(t, 3)
	delete(account, 100001) // the key can no longer see it
	f := &fakeLister{t: t, orders: account}
	facts, stats, err := Refresh(context.Background(), f, st, certs, testNow)
	if err != nil {
		t.Fatal(err)
	}
	if len(facts) != 2 || !slices.Equal(stats.Unseen, []int64{100001}) || !slices.Equal(f.infoCalls, []int64{100001}) {
		t.Errorf("facts %v, unseen %v, order info calls %v; want 2 facts and 100001 unseen after one look-up", facts, stats.Unseen, f.infoCalls)
	}

	f = &fakeLister{t: t, orders: account, infoErr: errors.New("503 service unavailable")}
	_, _, err = Refresh(context.Background(), f, st, certs, testNow)
	if err == nil || !strings.Contains(err.Error(), "order 100001, which the listing did not return") {
		t.Errorf("err = %v, want the failed look-up named", err)
	}
}

// FactsFromOrder is the one conversion from the client's order to the facts
// planning and the state use; it carries every field and invents no status.
func TestFactsFromOrder(t *testing.T) {
	o := &certcentral.Order{
		ID: 7, Status: "issued", AlternativeOrderID: "cpkey",
		OrderValidFrom: "2026-01-01", OrderValidTill: "2027-01-01",
		IsRenewed: true, RenewedOrderID: 8, RenewalOfOrderID: 6,
		Certificate: certcentral.OrderCertificate{ID: 70, ValidFrom: "2026-01-02", ValidTill: "2026-07-20"},
		Requests:    []certcentral.Request{{ID: 71, Status: "approved"}, {ID: 72, Status: "pending"}},
	}
	want := state.OrderFacts{
		OrderID: 7, AlternativeOrderID: "cpkey", RequestID: 71, RequestStatus: "approved", Status: state.StatusIssued,
		CertificateID: 70, OrderValidFrom: "2026-01-01", OrderValidTill: "2027-01-01", ValidFrom: "2026-01-02",
		ValidTill: "2026-07-20", RenewalOfOrderID: 6, IsRenewed: true, RenewedOrderID: 8,
	}
	if got := FactsFromOrder(o); got != want {
		t.Errorf("FactsFromOrder = %+v, want %+v", got, want)
	}
	if got := FactsFromOrder(&certcentral.Order{ID: 9}); got.Status != "" {
		t.Errorf("an order without a status got status %q", got.Status)
	}
}
