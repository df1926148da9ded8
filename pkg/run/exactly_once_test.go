package run_test

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/certplan/certplan/pkg/apply"
	"github.com/certplan/certplan/pkg/certcentral"
	"github.com/certplan/certplan/pkg/run"
	"github.com/certplan/certplan/pkg/simulator"
	"github.com/certplan/certplan/pkg/spec"
	"github.com/certplan/certplan/pkg/state"
)

// clock is a fake clock shared by the simulator, the state and apply.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// clockRig runs certplan apply against a simulator, with every clock fake.
type clockRig struct {
	sim     *simulator.Server
	clock   *clock
	backend *state.FileBackend
	env     run.Env
	notes   []string
}

func newClockRig(t *testing.T, opts simulator.Options) *clockRig {
	t.Helper()
	c := &clock{t: testNow}
	opts.APIKey, opts.Limits, opts.Now = testKey, []simulator.Limit{}, c.Now
	sim, err := simulator.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(func() { srv.Close(); _ = sim.Close() })
	client, err := certcentral.New(certcentral.Config{
		Endpoint: srv.URL + "/services/v2", LegacyEndpoint: srv.URL, APIKey: testKey, AccountID: "1", Limits: []certcentral.Limit{},
		RetryMax: 2, RetryWaitMin: time.Millisecond, RetryWaitMax: 5 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	b := state.NewFileBackend(filepath.Join(t.TempDir(), "certplan.state.json"))
	b.Now = c.Now
	r := &clockRig{sim: sim, clock: c, backend: b}
	r.env = run.Env{
		Backend: b,
		Client:  func() (*certcentral.Client, error) { return client, nil },
		Logger:  zerolog.Nop(),
		Version: "test",
		Note:    func(kind, msg string) { r.notes = append(r.notes, kind+": "+msg) },
	}
	return r
}

// apply runs `certplan apply --auto-approve` at the rig's time and returns
// the report (nil when the plan had nothing to apply) and the session's plan.
func (r *clockRig) apply(t *testing.T, certs []*spec.Certificate) *apply.Report {
	t.Helper()
	r.env.Now = r.clock.Now()
	s, err := run.Prepare(context.Background(), r.env, &spec.Result{Certificates: certs}, true, "apply")
	if err != nil {
		t.Fatalf("prepare: %v", err)
	}
	defer s.Release()
	if !s.Plan.HasChanges() {
		return nil
	}
	rep, err := s.Execute(context.Background(), context.Background(), run.ExecuteOptions{Parallelism: 2, Clock: r.clock.Now})
	if err != nil {
		t.Fatalf("execute: %v", err)
	}
	return &rep
}

// killBeforeSending journals the intents of the planned orders, as apply
// does before it sends anything, and stops there: apply was killed.
func (r *clockRig) killBeforeSending(t *testing.T, certs []*spec.Certificate) {
	t.Helper()
	r.env.Now = r.clock.Now()
	s, err := run.Prepare(context.Background(), r.env, &spec.Result{Certificates: certs}, true, "apply")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Release()
	j, err := r.backend.OpenJournal(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, ch := range s.Plan.ToApply() {
		if err := j.Append(state.Record{Type: state.RecordIntent, Name: ch.Name, Action: state.Action(ch.Action),
			AlternativeOrderID: ch.AlternativeOrderID, DupCheck: state.DupCheckAlternateID, RequestDigest: ch.RequestDigest,
			Product: string(ch.Product), SpecDigest: ch.SpecDigest, RenewalOf: ch.RenewalOfOrderID, Request: ch.Request}); err != nil {
			t.Fatal(err)
		}
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
}

func labCert(t *testing.T, names ...string) *spec.Certificate {
	t.Helper()
	csr, err := os.ReadFile("../../examples/csr/lab-services.csr")
	if err != nil {
		t.Fatal(err)
	}
	dns := make([]any, len(names))
	for i, n := range names {
		dns[i] = n
	}
	return &spec.Certificate{Name: "lab", Product: spec.Product("private_ssl_multi_domain"), RenewBefore: spec.DefaultRenewBefore,
		Order: map[string]any{
			"certificate":    map[string]any{"common_name": "lab.example.com", "dns_names": dns, "csr": string(csr), "signature_hash": "sha256"},
			"order_validity": map[string]any{"years": 1},
			"organization":   map[string]any{"id": 1},
			"payment_method": "balance",
		}}
}

// TestResumeAfterManifestChangeOrdersTheManifestOnce (issue 11, item 4):
// apply is killed before anything was ordered, the manifest then gains a
// SAN. The next apply used to resume the journaled request and then renew
// it: two orders for one wanted certificate. Once the look-up proves that
// nothing was created (and is old enough to be believed), the intent is
// closed and the manifest as it is now is ordered: one order, with the SAN.
func TestResumeAfterManifestChangeOrdersTheManifestOnce(t *testing.T) {
	r := newClockRig(t, simulator.Options{})
	r.killBeforeSending(t, []*spec.Certificate{labCert(t, "grafana.lab.example.com")})
	now := []*spec.Certificate{labCert(t, "grafana.lab.example.com", "alerts.lab.example.com")}

	// A minute later the look-up is too young to be believed: nothing is sent.
	r.clock.Add(time.Minute)
	if rep := r.apply(t, now); rep == nil || rep.Results[0].Outcome != apply.OutcomeUnresolved || len(r.sim.Orders()) != 0 {
		t.Fatalf("a minute after the kill: %+v, %d orders; want unresolved and nothing ordered", rep, len(r.sim.Orders()))
	}

	r.clock.Add(10 * time.Minute)
	rep := r.apply(t, now)
	if rep == nil || rep.Failed() != 0 {
		t.Fatalf("eleven minutes after the kill: %+v", rep)
	}
	for range 2 { // and whatever the next runs plan
		r.clock.Add(time.Hour)
		if rep := r.apply(t, now); rep != nil {
			t.Errorf("a later run applied %+v", rep.Results)
		}
	}
	orders := r.sim.Orders()
	if len(orders) != 1 {
		t.Fatalf("CertCentral holds %d orders, want 1 (the manifest as it is now)", len(orders))
	}
	if names := orderNames(orders[0]); !slices.Contains(names, "alerts.lab.example.com") {
		t.Errorf("the order has names %v, want the manifest's, with alerts.lab.example.com", names)
	}
	l, err := r.backend.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if c := l.State.Certificates["lab"]; c == nil || c.OrderID != orders[0].ID || len(l.Pending) != 0 {
		t.Fatalf("state %+v with %d open intents, want order %d and none open", c, len(l.Pending), orders[0].ID)
	}
}

// orderNames are the dns_names an order was placed with.
func orderNames(o simulator.ReceivedOrder) []string {
	cert, _ := o.Body["certificate"].(map[string]any)
	var out []string
	if list, ok := cert["dns_names"].([]any); ok {
		for _, n := range list {
			s, _ := n.(string)
			out = append(out, s)
		}
	}
	return out
}
