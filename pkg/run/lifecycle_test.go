package run_test

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/certplan/certplan/pkg/certcentral"
	"github.com/certplan/certplan/pkg/lifecycle"
	"github.com/certplan/certplan/pkg/run"
	"github.com/certplan/certplan/pkg/simulator"
	"github.com/certplan/certplan/pkg/spec"
	"github.com/certplan/certplan/pkg/state"
)

// The lifecycle harness lives a certificate's life on a simulated clock: each
// step sets one instant on every clock (the simulator's, the plan's, the
// state's), and runs what `certplan apply --auto-approve` runs (lock, load,
// refresh, plan, apply, fold) against the in-process simulator and a file
// state.

// lifecycleConfig is one life to live.
type lifecycleConfig struct {
	years       int // the plan's length: order_validity.years
	renewBefore time.Duration
	caps        lifecycle.Caps // the simulator's and the planner's caps; nil = defaults
	start       time.Time
	step        time.Duration
	steps       int
}

// lifecycleResult is what happened.
type lifecycleResult struct {
	orders   int // orders placed (billed)
	reissues int // reissues requested through the API
	// ordersBy and reissuesBy count them by the step (index) they happened at.
	ordersBy, reissuesBy []int
	// uncovered lists the days no valid certificate covered.
	uncovered []string
	// steps that applied something.
	applies int
}

// upTo counts what happened in the first n days of the life.
func (r lifecycleResult) upTo(cfg lifecycleConfig, days int) (orders, reissues int) {
	for i := range r.ordersBy {
		if cfg.start.Add(time.Duration(i) * cfg.step).Before(cfg.start.AddDate(0, 0, days)) {
			orders += r.ordersBy[i]
			reissues += r.reissuesBy[i]
		}
	}
	return orders, reissues
}

// liveLifecycle runs cfg and reports what happened. It fails the test on
// any error, failed or blocked apply, or state that disagrees with the
// simulator.
func liveLifecycle(t testing.TB, cfg lifecycleConfig) lifecycleResult {
	t.Helper()
	sim, err := simulator.New(simulator.Options{APIKey: testKey, Limits: []simulator.Limit{}, Caps: cfg.caps, ClockStart: cfg.start})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim.Handler())
	defer func() { srv.Close(); _ = sim.Close() }()
	client, err := certcentral.New(certcentral.Config{
		Endpoint: srv.URL + "/services/v2", LegacyEndpoint: srv.URL, APIKey: testKey, Limits: []certcentral.Limit{},
		RetryMax: 2, RetryWaitMin: time.Millisecond, RetryWaitMax: 5 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	csr, err := os.ReadFile("../../examples/csr/shop-frontend.csr")
	if err != nil {
		t.Fatal(err)
	}
	const name = "shop"
	manifests := &spec.Result{Certificates: []*spec.Certificate{{
		Name: name, Product: spec.SecureSiteFlex, RenewBefore: cfg.renewBefore,
		Order: map[string]any{
			"certificate":    map[string]any{"common_name": "shop.example.com", "csr": string(csr), "signature_hash": "sha256"},
			"order_validity": map[string]any{"years": cfg.years},
			"organization":   map[string]any{"id": 1},
			"payment_method": "balance",
		},
	}}}
	backend := state.NewFileBackend(filepath.Join(t.TempDir(), "certplan.state.json"))
	var now time.Time
	backend.Now = func() time.Time { return now }
	env := run.Env{
		Backend: backend,
		Caps:    cfg.caps,
		Client:  func() (*certcentral.Client, error) { return client, nil },
		Logger:  zerolog.Nop(),
		Version: "lifecycle",
	}
	ctx := context.Background()
	var res lifecycleResult
	for i := 0; i < cfg.steps; i++ {
		now = cfg.start.Add(time.Duration(i) * cfg.step)
		env.Now = now
		sim.SetClock(now)
		before := sim.Stats()

		s, err := run.Prepare(ctx, env, manifests, true, run.OpApply)
		if err != nil {
			t.Fatalf("%s: prepare: %v", day(now), err)
		}
		if s.Plan.Summary.Blocked > 0 {
			s.Release()
			t.Fatalf("%s: blocked: %+v", day(now), s.Plan.Changes)
		}
		if s.Plan.HasChanges() {
			res.applies++
			rep, err := s.Execute(ctx, ctx, run.ExecuteOptions{Parallelism: 1})
			if err != nil || rep.Failed() > 0 {
				s.Release()
				t.Fatalf("%s: apply: %v %+v", day(now), err, rep.Results)
			}
		} else if err := s.RecordRefresh(ctx); err != nil {
			s.Release()
			t.Fatalf("%s: record refresh: %v", day(now), err)
		}
		s.Release()

		after := sim.Stats()
		res.ordersBy = append(res.ordersBy, after.OrdersPlaced-before.OrdersPlaced)
		res.reissuesBy = append(res.reissuesBy, after.ReissuesPlaced-before.ReissuesPlaced)

		// Until the next step, a valid certificate must cover every day:
		// what CertCentral says, and what the state says, must agree.
		l, err := backend.Load(ctx)
		if err != nil {
			t.Fatal(err)
		}
		cur := l.State.Certificates[name]
		if cur == nil || len(l.Pending) != 0 {
			t.Fatalf("%s: state %+v, %d intents open", day(now), cur, len(l.Pending))
		}
		info, err := client.OrderInfo(ctx, cur.OrderID)
		if err != nil {
			t.Fatal(err)
		}
		if info.Certificate.ID != cur.CertificateID || info.Certificate.ValidTill != cur.ValidTill {
			t.Fatalf("%s: state says certificate %d valid till %s, CertCentral %d till %s",
				day(now), cur.CertificateID, cur.ValidTill, info.Certificate.ID, info.Certificate.ValidTill)
		}
		for d := now; d.Before(now.Add(cfg.step)); d = d.Add(24 * time.Hour) {
			if info.Certificate.ValidTill < day(d) || cur.Status != state.StatusIssued {
				res.uncovered = append(res.uncovered, fmt.Sprintf("%s (certificate %d %s, valid till %s)", day(d), cur.CertificateID, cur.Status, info.Certificate.ValidTill))
			}
		}
	}
	st := sim.Stats()
	res.orders, res.reissues = st.OrdersPlaced, st.ReissuesPlaced
	return res
}

func day(t time.Time) string { return t.UTC().Format(time.DateOnly) }

// plansNeeded is how many orders the life needs: the first one at the
// first step, and each next one at the first step on or after the day the
// current plan ends inside renewBefore (a plan of n years placed at t
// ends at the end of the day t + n years, the order's valid_till).
func plansNeeded(cfg lifecycleConfig) int {
	n := 0
	var end time.Time
	for i := 0; i < cfg.steps; i++ {
		at := cfg.start.Add(time.Duration(i) * cfg.step)
		if n == 0 || !at.Before(end.Add(-cfg.renewBefore)) {
			n++
			till := at.AddDate(cfg.years, 0, 0)
			end = time.Date(till.Year(), till.Month(), till.Day(), 0, 0, 0, 0, time.UTC).AddDate(0, 0, 1)
		}
	}
	return n
}

// threeYears is the life: weekly from 2026-12-01 for three years,
// across the 99-day cap of 2027-03-15 and up to the 46-day cap of
// 2029-03-15, renewBefore 30 days.
func threeYears(years int) lifecycleConfig {
	return lifecycleConfig{years: years, renewBefore: 30 * 24 * time.Hour,
		start: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), step: 7 * 24 * time.Hour, steps: 157}
}

// checkLife asserts what every life must show: the orders placed are the
// plans needed, never more than one order or one reissue a step, and no
// day without a valid certificate.
func checkLife(t *testing.T, cfg lifecycleConfig, r lifecycleResult) {
	t.Helper()
	if want := plansNeeded(cfg); r.orders != want {
		t.Errorf("%d orders placed, plans needed %d (orders by step %v)", r.orders, want, r.ordersBy)
	}
	for i := range r.ordersBy {
		if r.ordersBy[i] > 1 || r.reissuesBy[i] > 1 {
			t.Errorf("step %d (%s): %d orders and %d reissues", i, day(cfg.start.Add(time.Duration(i)*cfg.step)), r.ordersBy[i], r.reissuesBy[i])
		}
	}
	if len(r.uncovered) > 0 {
		t.Errorf("%d days without a valid certificate: %v", len(r.uncovered), r.uncovered)
	}
}

// TestLifecycle lives the two lives, a 1-year and a 3-year plan,
// weekly for three years from 2026-12-01 (the 99-day cap of 2027-03-15
// and the 46-day cap of 2029-03-15 fall inside): the orders placed are the
// plans needed (4 and 2; in the 1,060 days, 4 and 1), the
// certificates in between come from reissues, and no day is uncovered.
func TestLifecycle(t *testing.T) {
	for _, tc := range []struct {
		years           int
		orders1060      int
		minReissues1060 int // at least one per certificate the caps force
		wantPlansNeeded int
	}{
		{years: 1, orders1060: 4, minReissues1060: 10, wantPlansNeeded: 4},
		{years: 3, orders1060: 1, minReissues1060: 10, wantPlansNeeded: 2},
	} {
		t.Run(fmt.Sprintf("%d-year plan", tc.years), func(t *testing.T) {
			cfg := threeYears(tc.years)
			if got := plansNeeded(cfg); got != tc.wantPlansNeeded {
				t.Fatalf("plans needed %d, want %d", got, tc.wantPlansNeeded)
			}
			r := liveLifecycle(t, cfg)
			checkLife(t, cfg, r)
			o, re := r.upTo(cfg, 1060)
			if o != tc.orders1060 || re < tc.minReissues1060 {
				t.Errorf("first 1,060 days: %d orders, %d reissues; want %d orders and at least %d reissues", o, re, tc.orders1060, tc.minReissues1060)
			}
			// The figures of the closing note (go test -v -run 'TestLifecycle$').
			t.Logf("%d-year plan, %d weeks from %s: %d orders placed, %d reissues (first 1,060 days: %d orders, %d reissues); plans needed %d",
				tc.years, cfg.steps, day(cfg.start), r.orders, r.reissues, o, re, plansNeeded(cfg))
		})
	}
}

var lifeTrials = flag.Int("lifecycle.trials", 0, "lives TestLifecycleProperty lives (default 6, 2 with -short)")

// TestLifecycleProperty lives seeded random lives: renewBefore from 7 to 35
// days, plans of 1 to 3 years, cap tables whose cut-over dates move by up to
// four months either way and whose day counts vary, and start dates from
// mid-2026 to mid-2028, two years each (some cross the 46-day cut-over). Each must place exactly the plans needed and
// leave no day uncovered; whenever the caps are shorter than the plan, it
// must reissue.
func TestLifecycleProperty(t *testing.T) {
	trials := 6
	if testing.Short() {
		trials = 2
	}
	if *lifeTrials > 0 {
		trials = *lifeTrials
	}
	rng := rand.New(rand.NewPCG(20261201, 10))
	for i := range trials {
		shift := func() time.Duration { return time.Duration(rng.IntN(241)-120) * 24 * time.Hour }
		caps := lifecycle.Caps{
			{Days: 397},
			{From: lifecycle.Cap199From.Add(shift()), Days: 150 + rng.IntN(100)},
			{From: lifecycle.Cap99From.Add(shift()), Days: 60 + rng.IntN(60)},
			{From: lifecycle.Cap46From.Add(shift()), Days: 40 + rng.IntN(20)},
		}
		cfg := lifecycleConfig{
			years:       1 + rng.IntN(3),
			renewBefore: time.Duration(7+rng.IntN(29)) * 24 * time.Hour,
			caps:        caps,
			start:       time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(rng.IntN(730)) * 24 * time.Hour),
			step:        7 * 24 * time.Hour,
			steps:       104,
		}
		name := fmt.Sprintf("%d/%dy,renewBefore=%dd,start=%s,caps=%s", i, cfg.years, cfg.renewBefore/(24*time.Hour), day(cfg.start), caps)
		t.Run(name, func(t *testing.T) {
			r := liveLifecycle(t, cfg)
			checkLife(t, cfg, r)
			if caps.MaxDays(cfg.start) < 365*cfg.years-int(cfg.renewBefore/(24*time.Hour)) && r.reissues == 0 {
				t.Errorf("the first certificate ends before its plan, yet nothing was reissued")
			}
		})
	}
}
