package run

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/certplan/certplan/pkg/apply"
	"github.com/certplan/certplan/pkg/certcentral"
	"github.com/certplan/certplan/pkg/dcv"
	"github.com/certplan/certplan/pkg/plan"
	"github.com/certplan/certplan/pkg/state"
)

// The `certplan dcv` commands: what the state's orders awaiting domain
// validation need published (read-only, no lock), and the check that asks
// CertCentral once the records are visible (under the lock; it records
// what it learns).

// DCVRefresh reads the state's current orders that are in flight (one
// list call per 1000 orders) and brings their DCV facts up to date
// (dcv.Refresh: a random value only when missing or expired). It needs no
// manifests and writes nothing.
func DCVRefresh(ctx context.Context, env Env, st *state.State) (map[int64]state.OrderFacts, error) {
	facts := map[int64]state.OrderFacts{}
	var ids []int64
	for _, name := range st.Names() {
		if c := st.Certificates[name]; c != nil && c.OrderID > 0 && c.Status.InFlight() {
			ids = append(ids, c.OrderID)
		}
	}
	if len(ids) == 0 {
		return facts, nil
	}
	c, err := env.Client()
	if err != nil {
		return nil, &RefreshError{Err: err, NoClient: true}
	}
	orders, err := c.ListOrders(ctx, certcentral.ListFilter{IDs: ids})
	if err != nil {
		return nil, &RefreshError{Err: fmt.Errorf("list %d orders in flight: %w", len(ids), err)}
	}
	asked := map[int64]bool{}
	for _, id := range ids {
		asked[id] = true
	}
	for i := range orders {
		if o := &orders[i]; asked[o.ID] {
			facts[o.ID] = plan.FactsFromOrder(o)
		}
	}
	stats, err := dcv.Refresh(ctx, c, st, facts, env.Now)
	if err != nil {
		return nil, &RefreshError{Err: err}
	}
	for _, p := range stats.Problems {
		env.note("Warning", p)
	}
	return facts, nil
}

// PendingDCV lists what the state's current orders awaiting validation need
// published, in name order: status and DCV from the refreshed facts where
// there are some, else the state's. only keeps the orders whose certificate
// name, or one of whose domains or record names, is listed (all when empty).
func PendingDCV(st *state.State, facts map[int64]state.OrderFacts, only []string) []dcv.Pending {
	var out []dcv.Pending
	for _, name := range st.Names() {
		cur := st.Certificates[name]
		if cur == nil || cur.OrderID == 0 {
			continue
		}
		status, d := cur.Status, cur.DCV
		if f, ok := facts[cur.OrderID]; ok {
			if f.Status != "" {
				status = f.Status
			}
			if f.DCV != nil {
				d = f.DCV
			}
		}
		p, ok := dcv.PendingOf(name, cur.OrderID, status, d)
		if ok && selected(p, only) {
			out = append(out, p)
		}
	}
	return out
}

func selected(p dcv.Pending, only []string) bool {
	if len(only) == 0 {
		return true
	}
	for _, o := range only {
		o = strings.ToLower(strings.TrimSuffix(o, "."))
		if o == strings.ToLower(p.Certificate) {
			return true
		}
		for _, r := range p.Records {
			if o == r.Domain || o == strings.ToLower(r.Name) || o == "*."+r.Domain {
				return true
			}
		}
	}
	return false
}

// CheckDCV runs the check (dcv.Check) over pending, without holding the
// state's lock (it may wait minutes for DNS caches), then takes the lock
// and records what it learned: the refreshed facts (the random value), the
// names' statuses and when they were checked and validated, and for every
// order CertCentral validated its order info (issued with its dates, or
// waiting for approval). facts are DCVRefresh's, which pending was made
// from. Orders that stopped being current meanwhile are left alone.
func CheckDCV(ctx context.Context, env Env, pending []dcv.Pending, facts map[int64]state.OrderFacts, opts dcv.CheckOptions) ([]dcv.Outcome, error) {
	client, err := env.Client()
	if err != nil {
		return nil, err
	}
	if opts.API == nil {
		opts.API = client
	}
	if opts.Now == nil {
		// The planning clock (--now), running on: what the check records
		// (checked, validated) is dated as the plans that read it are.
		start := time.Now()
		opts.Now = func() time.Time { return env.Now.Add(time.Since(start)) }
	}
	outcomes := dcv.Check(ctx, pending, opts)
	learned := make(map[int64]state.OrderFacts, len(facts))
	for id, f := range facts {
		learned[id] = f
	}
	for _, o := range outcomes {
		if o.CheckedAt.IsZero() {
			continue // never asked: nothing learned
		}
		id := o.Order.OrderID
		f, ok := learned[id]
		if !ok {
			continue
		}
		recorded := dcv.Recorded(f.DCV, o)
		if o.Validated {
			if info, err := client.OrderInfo(context.WithoutCancel(ctx), id); err == nil {
				f = apply.FactsFromOrder(info)
			} else {
				env.note("Warning", dcv.Safe(fmt.Sprintf("%s: order %d was validated, but reading it back failed (the next plan refreshes it): %v", o.Order.Certificate, id, err)))
			}
		}
		f.DCV = recorded
		learned[id] = f
	}
	if len(learned) == 0 {
		return outcomes, nil
	}
	// Record under the lock. The wait for it is at least 30 s: the check
	// itself took long, and a plan that holds the lock briefly should not
	// make it fail.
	env.LockTimeout = max(env.LockTimeout, 30*time.Second)
	s, err := Lock(context.WithoutCancel(ctx), env, "dcv check")
	if err != nil {
		return outcomes, err
	}
	defer s.Release()
	s.Facts = map[int64]state.OrderFacts{}
	for _, name := range s.Loaded.State.Names() {
		if cur := s.Loaded.State.Certificates[name]; cur != nil {
			if f, ok := learned[cur.OrderID]; ok && cur.OrderID != 0 {
				s.Facts[cur.OrderID] = f
			}
		}
	}
	return outcomes, s.RecordRefresh(context.WithoutCancel(ctx))
}

// dcvValidator is apply --wait's domain validation step (nil without a
// lookup): for an order of the plan awaiting validation whose random value
// the facts carry, one pass of dcv.Check (look the records up; ask
// CertCentral once, if all are visible). The wait's next poll sees the order
// issued; the next refresh records the validation.
func (s *Session) dcvValidator(api dcv.CheckAPI, lookup func(context.Context, dcv.Record) dcv.Lookup) func(context.Context, apply.Result, state.OrderFacts) {
	if lookup == nil || s.Plan == nil {
		return nil
	}
	requests := map[string]map[string]any{}
	for _, c := range s.Plan.Changes {
		requests[c.Name] = c.Request
	}
	return func(ctx context.Context, r apply.Result, f state.OrderFacts) {
		if f.DCV == nil {
			return
		}
		d := f.DCV.Clone()
		if d.Method == "" {
			d.Method = dcv.RequestMethod(requests[r.Name])
		}
		for _, n := range dcv.RequestNames(requests[r.Name]) {
			d.Names = append(d.Names, state.DCVName{Name: n})
		}
		p, ok := dcv.PendingOf(r.Name, r.OrderID, f.Status, d)
		if !ok || !dcv.SafeValue(d.RandomValue) || len(p.Records) == 0 {
			return
		}
		dcv.Check(ctx, []dcv.Pending{p}, dcv.CheckOptions{API: api, Lookup: lookup})
	}
}
