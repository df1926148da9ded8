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

// OrderLister lists orders in bulk, and reads one order when a listing did
// not return it; *certcentral.Client satisfies it.
type OrderLister interface {
	ListOrders(ctx context.Context, f certcentral.ListFilter) ([]certcentral.Order, error)
	OrderInfo(ctx context.Context, orderID int64) (*certcentral.Order, error)
}

// RefreshStats says what a refresh cost and found.
type RefreshStats struct {
	Calls   int // ListOrders calls (each one page: at most refreshChunk ids)
	Lookups int // order info calls for ids a listing did not return
	Orders  int // distinct tracked orders returned
	// Unseen are tracked orders that neither the listing nor order info
	// returned (order info said not found): planned from the state alone.
	Unseen []int64
}

// refreshChunk is the most ids one list call asks about (the API's page limit).
const refreshChunk = 1000

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
	// While the order awaits validation (CertCentral shows a random value
	// then): its method and value, which dcv.Refresh completes with the
	// names and the value's expiry.
	if (f.Status == state.StatusPending || f.Status == state.StatusReissuePending) && o.DCVRandomValue != "" {
		f.DCV = &state.DCV{Method: o.DCVMethod, RandomValue: o.DCVRandomValue}
	}
	return f
}

// Refresh reads the current facts of the tracked orders of declared
// certificates, in bulk: every live order certplan tracks is listed by id
// (filters[id], up to 1000 ids per call). 10,000 tracked orders cost 10
// calls. Orders of names absent from the manifests (orphans), dead orders
// and orders of unknown outcome are not asked about.
//
// What comes back is checked against what was asked: an order that was not
// asked about is ignored, and an id the listing did not return is read with
// order info (GET /order/certificate/{id}), so that a server that ignores or
// misreads the filter can make a refresh slower, never make a tracked order
// look gone or unchanged. No status filter is sent: an answer to "which of
// these are revoked" is usually empty, and an empty answer cannot be told
// from a filter the server did not understand. The orders come back as
// state.OrderFacts (FactsFromOrder), so that planning never sees the
// client's types. Since every tracked order is listed, CertCentral's own
// reissues (auto_reissue, 30 days before expiry) are adopted whenever they
// happen.
func Refresh(ctx context.Context, l OrderLister, st *state.State, certs []*spec.Certificate, _ time.Time) (map[int64]state.OrderFacts, RefreshStats, error) {
	var stats RefreshStats
	facts := map[int64]state.OrderFacts{}
	if st == nil {
		return facts, stats, nil
	}
	// fetch lists ids in chunks and reads any id a listing did not return
	// with order info.
	fetch := func(ids []int64) error {
		for len(ids) > 0 {
			n := min(len(ids), refreshChunk)
			chunk := ids[:n]
			ids = ids[n:]
			asked := make(map[int64]bool, n)
			for _, id := range chunk {
				asked[id] = true
			}
			stats.Calls++
			orders, err := l.ListOrders(ctx, certcentral.ListFilter{IDs: chunk})
			if err != nil {
				return fmt.Errorf("list %d tracked orders (ids %d..%d): %w", n, chunk[0], chunk[n-1], err)
			}
			for i := range orders {
				if o := &orders[i]; asked[o.ID] {
					facts[o.ID] = FactsFromOrder(o)
				}
			}
			for _, id := range chunk {
				if _, ok := facts[id]; ok {
					continue
				}
				stats.Lookups++
				o, err := l.OrderInfo(ctx, id)
				switch {
				case certcentral.IsNotFound(err):
					stats.Unseen = append(stats.Unseen, id)
				case err != nil:
					return fmt.Errorf("order %d, which the listing did not return: %w", id, err)
				case o.ID != id:
					return fmt.Errorf("order %d, which the listing did not return: order info answered with order %d", id, o.ID)
				default:
					facts[id] = FactsFromOrder(o)
				}
			}
		}
		return nil
	}
	if err := fetch(selectForRefresh(st, certs)); err != nil {
		return nil, stats, err
	}
	// A tracked order renewed by an order the state does not know: read
	// that renewal too, so that plan can tell certplan's own renewal made
	// from a newer copy of the state (its key, on a branch behind main)
	// from one placed in the console. Usually there is none: no call.
	if renewals := unknownRenewals(st, facts); len(renewals) > 0 {
		if err := fetch(renewals); err != nil {
			return nil, stats, err
		}
	}
	stats.Orders = len(facts)
	return facts, stats, nil
}

// unknownRenewals are the renewed_order_ids of refreshed orders that the
// state does not know, sorted.
func unknownRenewals(st *state.State, facts map[int64]state.OrderFacts) []int64 {
	var known map[int64]bool
	out := map[int64]bool{}
	for _, f := range facts {
		if !f.IsRenewed || f.RenewedOrderID <= 0 {
			continue
		}
		if known == nil {
			known = knownOrderIDs(st)
		}
		if !known[f.RenewedOrderID] {
			out[f.RenewedOrderID] = true
		}
	}
	return sortedIDs(out)
}

// selectForRefresh returns the tracked orders of declared certificates that
// may still change (not dead, outcome known), sorted and without duplicates.
func selectForRefresh(st *state.State, certs []*spec.Certificate) []int64 {
	declared := make(map[string]bool, len(certs))
	for _, c := range certs {
		declared[c.Name] = true
	}
	set := map[int64]bool{}
	for name, cur := range st.Certificates {
		if cur == nil || !declared[name] || cur.OrderID <= 0 || cur.Status.Dead() || cur.Status == state.StatusUnknownOutcome {
			continue
		}
		set[cur.OrderID] = true
	}
	return sortedIDs(set)
}

func sortedIDs(set map[int64]bool) []int64 {
	out := make([]int64, 0, len(set))
	for id := range set {
		out = append(out, id)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}
