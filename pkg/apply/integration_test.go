package apply_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/certplan/certplan/pkg/apply"
	"github.com/certplan/certplan/pkg/certcentral"
	"github.com/certplan/certplan/pkg/plan"
	"github.com/certplan/certplan/pkg/simulator"
	"github.com/certplan/certplan/pkg/spec"
	"github.com/certplan/certplan/pkg/state"
)

const testKey = "apply-integration-key"

// rig is a simulator on loopback, a client for it and a state file.
type rig struct {
	sim       *simulator.Server
	client    *certcentral.Client
	statePath string
	certs     []*spec.Certificate
	// now is the clock of the state and of apply (nil: the wall clock);
	// resubmitAfter is apply's (0: the default).
	now           func() time.Time
	resubmitAfter time.Duration
}

func newRig(t testing.TB, opts simulator.Options, clientLimits []certcentral.Limit, n int) *rig {
	t.Helper()
	opts.APIKey = testKey
	sim, err := simulator.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(func() { srv.Close(); _ = sim.Close() })
	client, err := certcentral.New(certcentral.Config{
		Endpoint: srv.URL + "/services/v2", LegacyEndpoint: srv.URL, APIKey: testKey,
		UserAgent: "certplan/test", Limits: clientLimits,
		RetryMax: 10, RetryWaitMin: time.Millisecond, RetryWaitMax: 20 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	csr, err := os.ReadFile("../../examples/csr/shop-frontend.csr")
	if err != nil {
		t.Fatal(err)
	}
	var certs []*spec.Certificate
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("web-%04d", i)
		certs = append(certs, &spec.Certificate{
			Name: name, Product: spec.SecureSiteFlex, RenewBefore: spec.DefaultRenewBefore,
			Order: map[string]any{
				"certificate": map[string]any{
					"common_name": name + ".example.com", "csr": string(csr), "signature_hash": "sha256",
				},
				"order_validity": map[string]any{"years": 1},
				"organization":   map[string]any{"id": 123456},
				"payment_method": "balance",
			},
		})
	}
	return &rig{sim: sim, client: client, statePath: filepath.Join(t.TempDir(), "certplan.state.json"), certs: certs}
}

// applyOnce plans against the state and applies, as `certplan apply` does.
func (r *rig) applyOnce(t testing.TB, parallelism int) (apply.Report, bool) {
	t.Helper()
	b := state.NewFileBackend(r.statePath)
	b.Now = r.now
	l, err := b.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now
	if r.now != nil {
		now = r.now
	}
	p := plan.Build(plan.Input{Certificates: r.certs, State: l.State, Pending: l.Pending, Now: now()})
	if !p.HasChanges() {
		return apply.Report{}, false
	}
	j, err := b.OpenJournal(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	rep := apply.Run(context.Background(), p, apply.Options{
		API: r.client, Journal: j, Parallelism: parallelism, Pending: l.Pending, Now: now, ResubmitAfter: r.resubmitAfter,
		Recovery: apply.Recovery{Backoff: func(int) time.Duration { return 5 * time.Millisecond }},
	})
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	l, err = b.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Commit(context.Background(), l); err != nil {
		t.Fatal(err)
	}
	return rep, true
}

// checkExactlyOnce asserts one order per certificate, each tracked in state.
func (r *rig) checkExactlyOnce(t testing.TB) {
	t.Helper()
	orders := r.sim.Orders()
	byKey := map[string]int64{}
	for _, o := range orders {
		if prev, dup := byKey[o.AlternativeOrderID]; dup {
			t.Fatalf("duplicate order for key %s: %d and %d", o.AlternativeOrderID, prev, o.ID)
		}
		byKey[o.AlternativeOrderID] = o.ID
	}
	if len(orders) != len(r.certs) {
		t.Fatalf("simulator has %d orders, want exactly %d", len(orders), len(r.certs))
	}
	l, err := state.NewFileBackend(r.statePath).Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range r.certs {
		sc, ok := l.State.Certificates[c.Name]
		if !ok {
			t.Fatalf("%s missing from state", c.Name)
		}
		if byKey[sc.AlternativeOrderID] != sc.OrderID || sc.OrderID == 0 {
			t.Fatalf("%s: state order %d key %s does not match CertCentral", c.Name, sc.OrderID, sc.AlternativeOrderID)
		}
	}
	if len(l.Pending) != 0 {
		t.Fatalf("%d intents left open", len(l.Pending))
	}
}

// TestFaultMatrix: whatever fails on the way, every run ends with exactly
// one order per intended action once apply is re-run until it converges.
func TestFaultMatrix(t *testing.T) {
	faults := map[string]simulator.Faults{
		"none":               {},
		"lost responses":     {DropAfterCommit: 5},
		"30% 5xx":            {ServerErrorRate: 0.3, Seed: 7},
		"429 burst":          {Burst429: 25, RetryAfter: true},
		"slow":               {Latency: 30 * time.Millisecond},
		"everything at once": {DropAfterCommit: 3, ServerErrorRate: 0.2, Burst429: 10, Latency: 5 * time.Millisecond, Seed: 3},
	}
	for name, f := range faults {
		for _, unique := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/unique=%v", name, unique), func(t *testing.T) {
				t.Parallel()
				r := newRig(t, simulator.Options{Limits: []simulator.Limit{}, UniqueAlternativeIDs: unique, Faults: f}, []certcentral.Limit{}, 12)
				// An order whose outcome is unknown is sent again only by a
				// run at least apply.DefaultResubmitAfter later: each round
				// is one that much later.
				clock := &testClock{t: time.Now()}
				r.now = clock.Now
				rounds := 0
				for ; rounds < 10; rounds++ {
					if _, changed := r.applyOnce(t, 4); !changed {
						break
					}
					clock.Add(apply.DefaultResubmitAfter + time.Minute)
				}
				if rounds == 10 {
					t.Fatal("apply did not converge in 10 runs")
				}
				r.checkExactlyOnce(t)
			})
		}
	}
}

// TestLostStateAdoptsEverything: delete the state after an apply; the next
// apply places no order.
func TestLostStateAdoptsEverything(t *testing.T) {
	r := newRig(t, simulator.Options{Limits: []simulator.Limit{}}, []certcentral.Limit{}, 8)
	if rep, _ := r.applyOnce(t, 4); rep.Failed() != 0 {
		t.Fatalf("%d failed", rep.Failed())
	}
	for _, p := range []string{r.statePath, state.BackupPath(r.statePath)} {
		_ = os.Remove(p)
	}
	rep, _ := r.applyOnce(t, 4)
	for _, res := range rep.Results {
		if res.Outcome != apply.OutcomeAdopted {
			t.Errorf("%s: %s, want adopted", res.Name, res.Outcome)
		}
	}
	r.checkExactlyOnce(t)
}

// BenchmarkApply1000 applies 1,000 orders against the simulator limited to
// 200 requests/s with 20 ms latency. Each order costs a look-up and a
// submission; the metric limit-% is the request rate achieved as a share of
// the limit (goal >= 90 %, no 429).
func BenchmarkApply1000(b *testing.B) {
	const n, perSecond = 1000, 200
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		r := newRig(b, simulator.Options{
			Limits: []simulator.Limit{{Requests: perSecond, Window: time.Second}},
			Faults: simulator.Faults{Latency: 20 * time.Millisecond},
		}, []certcentral.Limit{{Requests: perSecond, Window: time.Second}}, n)
		b.StartTimer()
		start := time.Now()
		rep, _ := r.applyOnce(b, 16)
		elapsed := time.Since(start)
		b.StopTimer()
		if rep.Failed() != 0 {
			b.Fatalf("%d orders failed", rep.Failed())
		}
		if st := r.sim.Stats(); st.TooManyRequests != 0 {
			b.Fatalf("%d requests got 429", st.TooManyRequests)
		}
		r.checkExactlyOnce(b)
		ordersPerSec := float64(n) / elapsed.Seconds()
		b.ReportMetric(ordersPerSec, "orders/s")
		b.ReportMetric(100*2*ordersPerSec/perSecond, "limit-%")
	}
}
