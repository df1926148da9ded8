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
}

func (f *fakeLister) ListOrders(_ context.Context, flt certcentral.ListFilter) ([]certcentral.Order, error) {
	f.calls = append(f.calls, flt)
	if f.failing {
		return nil, errors.New("503 service unavailable")
	}
	if len(flt.IDs) == 0 || len(flt.IDs) > 1000 {
		f.t.Errorf("list call with %d ids, want 1..1000", len(flt.IDs))
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
	// 2,000 watched (2 calls) + 8,000 checked for death (8 calls).
	if stats.Calls != 10 {
		t.Errorf("calls = %d, want 10", stats.Calls)
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
	if stats.Orders != len(watch)+2 || len(facts) != stats.Orders {
		t.Errorf("stats.Orders = %d, facts %d, want %d", stats.Orders, len(facts), len(watch)+2)
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
	if len(f.calls) != 2 || stats.Calls != 2 {
		t.Fatalf("calls = %+v", f.calls)
	}
	if !slices.Equal(f.calls[0].IDs, []int64{1}) || len(f.calls[0].Statuses) != 0 {
		t.Errorf("first call = %+v, want ids [1] without a status filter", f.calls[0])
	}
	if !slices.Equal(f.calls[1].IDs, []int64{2}) || !slices.Equal(f.calls[1].Statuses, []string{"revoked", "rejected", "canceled"}) {
		t.Errorf("second call = %+v, want ids [2] with the dead statuses", f.calls[1])
	}
	if _, ok := facts[999]; ok {
		t.Error("refresh kept an order it did not ask about")
	}
	if _, ok := facts[1]; !ok || len(facts) != 1 {
		t.Errorf("facts = %v, want order 1 only", facts)
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
