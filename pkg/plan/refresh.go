package plan

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/certplan/certplan/pkg/certcentral"
	"github.com/certplan/certplan/pkg/spec"
	"github.com/certplan/certplan/pkg/state"
)

// OrderLister lists orders in bulk; *certcentral.Client satisfies it.
type OrderLister interface {
	ListOrders(ctx context.Context, f certcentral.ListFilter) ([]certcentral.Order, error)
}

// RefreshStats says what a refresh cost and found.
type RefreshStats struct {
	Calls  int // ListOrders calls (each one page: at most refreshChunk ids)
	Orders int // distinct tracked orders returned
}

const (
	// refreshChunk is the most ids one list call asks about (the API's page limit).
	refreshChunk = 1000
	// refreshHorizon: orders whose renewal window opens within it are refreshed.
	refreshHorizon = 7 * day
	// certCentralAutoReissue is how long before expiry CertCentral reissues
	// a certificate whose order sets auto_reissue.
	certCentralAutoReissue = 30 * day
)

// deadStatuses are asked about for every tracked order not otherwise refreshed.
var deadStatuses = []string{string(state.StatusRevoked), string(state.StatusRejected), string(state.StatusCanceled)}

// FactsFromOrder converts CertCentral's order info into the facts the state
// records and the plan decides from: the one conversion from the client's
// type. An order that reports no status leaves Status empty.
func FactsFromOrder(o *certcentral.Order) state.OrderFacts {
	f := state.OrderFacts{
		OrderID:            o.ID,
		AlternativeOrderID: o.AlternativeOrderID,
		Status:             state.OrderStatus(o.Status),
		CertificateID:      o.Certificate.ID,
		OrderValidFrom:     o.OrderValidFrom,
		OrderValidTill:     o.OrderValidTill,
		ValidFrom:          o.Certificate.ValidFrom,
		ValidTill:          o.Certificate.ValidTill,
		RenewalOfOrderID:   o.RenewalOfOrderID,
		IsRenewed:          o.IsRenewed,
		RenewedOrderID:     o.RenewedOrderID,
	}
	if len(o.Requests) > 0 {
		f.RequestID = o.Requests[0].ID
		f.RequestStatus = o.Requests[0].Status
	}
	// While the order awaits validation: its method and random value, which
	// dcv.Refresh completes with the names and the value's expiry.
	if (f.Status == state.StatusPending || f.Status == state.StatusReissuePending) && (o.DCVMethod != "" || o.DCVRandomValue != "") {
		f.DCV = &state.DCV{Method: o.DCVMethod, RandomValue: o.DCVRandomValue}
	}
	return f
}

// Refresh reads the current facts of the tracked orders that matter for the
// next plan, in bulk. Orders that may have changed status (in flight) or
// whose renewal window opens within 7 days (or has opened; with
// auto_reissue, CertCentral's 30 days count as the window at least, so that
// its reissues are adopted) are listed by id,
// up to 1000 ids per call. Every other tracked order is listed by id with a
// status filter of revoked, rejected and canceled, so that one killed in the
// console shows up as drift at the same cost per 1000 orders; the answer is
// usually empty. Orders of names absent from the manifests (orphans), dead
// orders and orders of unknown outcome are not asked about. 10,000 tracked
// orders cost at most 11 calls. The orders come back as state.OrderFacts
// (FactsFromOrder), so that planning never sees the client's types.
func Refresh(ctx context.Context, l OrderLister, st *state.State, certs []*spec.Certificate, now time.Time) (map[int64]state.OrderFacts, RefreshStats, error) {
	var stats RefreshStats
	facts := map[int64]state.OrderFacts{}
	if st == nil {
		return facts, stats, nil
	}
	watch, rest := selectForRefresh(st, certs, now.UTC())
	list := func(ids []int64, statuses []string) error {
		for len(ids) > 0 {
			n := min(len(ids), refreshChunk)
			chunk := ids[:n]
			ids = ids[n:]
			asked := make(map[int64]bool, n)
			for _, id := range chunk {
				asked[id] = true
			}
			stats.Calls++
			orders, err := l.ListOrders(ctx, certcentral.ListFilter{IDs: chunk, Statuses: statuses})
			if err != nil {
				return fmt.Errorf("list %d tracked orders (ids %d..%d): %w", n, chunk[0], chunk[n-1], err)
			}
			for i := range orders {
				if o := &orders[i]; asked[o.ID] {
					facts[o.ID] = FactsFromOrder(o)
				}
			}
		}
		return nil
	}
	if err := list(watch, nil); err != nil {
		return nil, stats, err
	}
	if err := list(rest, deadStatuses); err != nil {
		return nil, stats, err
	}
	stats.Orders = len(facts)
	return facts, stats, nil
}

// selectForRefresh splits the tracked orders of declared certificates into
// those to refresh fully (watch) and those only checked for death (rest),
// each sorted and without duplicates.
func selectForRefresh(st *state.State, certs []*spec.Certificate, now time.Time) (watch, rest []int64) {
	renewBefore := make(map[string]time.Duration, len(certs))
	for _, c := range certs {
		renewBefore[c.Name] = c.RenewBefore
		if c.Product.HasPlans() && autoReissue(c.Order) {
			// CertCentral reissues 30 days before expiry: watch from
			// then, so that its reissue is adopted as it happens.
			renewBefore[c.Name] = max(c.RenewBefore, certCentralAutoReissue)
		}
	}
	w, r := map[int64]bool{}, map[int64]bool{}
	for name, cur := range st.Certificates {
		rb, declared := renewBefore[name]
		if cur == nil || !declared || cur.OrderID <= 0 || cur.Status.Dead() || cur.Status == state.StatusUnknownOutcome {
			continue
		}
		if needsRefresh(cur, rb, now) {
			w[cur.OrderID] = true
		} else {
			r[cur.OrderID] = true
		}
	}
	for id := range w {
		delete(r, id)
	}
	return sortedIDs(w), sortedIDs(r)
}

// needsRefresh: in flight, near or inside the renewal window, or of unknown validity.
func needsRefresh(cur *state.Certificate, renewBefore time.Duration, now time.Time) bool {
	if cur.Status != state.StatusIssued && cur.Status != state.StatusExpired {
		return true
	}
	d, ok := parseDate(pickValidTill(cur.ValidTill, cur.OrderValidTill))
	if !ok {
		return true
	}
	return !now.Before(expiry(d).Add(-renewBefore - refreshHorizon))
}

func sortedIDs(set map[int64]bool) []int64 {
	out := make([]int64, 0, len(set))
	for id := range set {
		out = append(out, id)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}
