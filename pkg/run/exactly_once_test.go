package run_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
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
	s, err := run.Prepare(context.Background(), r.env, &spec.Result{Certificates: certs}, true, run.OpApply)
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
	s, err := run.Prepare(context.Background(), r.env, &spec.Result{Certificates: certs}, true, run.OpApply)
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

// example loads one of the repository's example manifests, with its CSR.
func example(t *testing.T, name string) *spec.Certificate {
	t.Helper()
	dir := t.TempDir()
	// A repository checkout (.git): certs/ reads ../csr inside the project.
	for _, d := range []string{"certs", "csr", ".git"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	yaml, err := os.ReadFile("../../examples/certs/" + name + ".yaml")
	if err != nil {
		t.Fatal(err)
	}
	csr, err := os.ReadFile("../../examples/csr/" + name + ".csr")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "certs", name+".yaml"), yaml, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "csr", name+".csr"), csr, 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := spec.LoadWith([]string{filepath.Join(dir, "certs")}, spec.LoadOptions{Now: testNow})
	if err != nil || res.HasErrors() || len(res.Certificates) != 1 {
		t.Fatalf("load %s: %v %+v", name, err, res)
	}
	return res.Certificates[0]
}

// loseState removes the state file, and its backup unless keepBackup.
func (r *clockRig) loseState(t *testing.T, keepBackup bool) {
	t.Helper()
	paths := []string{r.backend.Path()}
	if !keepBackup {
		paths = append(paths, state.BackupPath(r.backend.Path()))
	}
	for _, p := range paths {
		if err := os.Remove(p); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
	}
}

// plan plans at the rig's time, as `certplan plan` does.
func (r *clockRig) plan(t *testing.T, certs []*spec.Certificate) *run.Session {
	t.Helper()
	r.env.Now = r.clock.Now()
	s, err := run.Prepare(context.Background(), r.env, &spec.Result{Certificates: certs}, true, run.OpPlan)
	if err != nil {
		t.Fatalf("prepare: %v", err)
	}
	s.Release()
	return s
}

// TestLostStateNeverBuysAgain (issue 11, item 3): when certplan has no
// record of a certificate because the state is new or was lost, it looks
// for live orders of the same product and names before the first order
// (one bulk listing) and blocks the certificate with "order N exists:
// `certplan import NAME N`" instead of buying. Without it, a renewal after
// a manifest change (key from spec v2 and order A) could not be found by
// the key of spec v2 alone, and a third order was bought; a legacy order
// (no key) and an imported one were bought again too.
func TestLostStateNeverBuysAgain(t *testing.T) {
	v1 := []*spec.Certificate{labCert(t, "grafana.lab.example.com")}
	v2 := []*spec.Certificate{labCert(t, "grafana.lab.example.com", "alerts.lab.example.com")}

	tests := []struct {
		name string
		// setup orders the certificate and returns the manifests and the
		// order certplan must find.
		setup      func(t *testing.T, r *clockRig) ([]*spec.Certificate, int64)
		keepBackup bool
	}{
		{name: "renewed after a manifest change, state and backup lost", setup: func(t *testing.T, r *clockRig) ([]*spec.Certificate, int64) {
			r.mustApply(t, v1)
			r.clock.Add(time.Hour)
			r.mustApply(t, v2) // a shaping change renews a private SSL order: B, renewal of A
			orders := r.sim.Orders()
			if len(orders) != 2 || orders[1].RenewalOfOrderID != orders[0].ID {
				t.Fatalf("setup: orders %+v, want A and its renewal B", orders)
			}
			return v2, orders[1].ID
		}},
		{name: "renewed after a manifest change, state lost, backup kept", keepBackup: true, setup: func(t *testing.T, r *clockRig) ([]*spec.Certificate, int64) {
			r.mustApply(t, v1)
			r.clock.Add(time.Hour)
			r.mustApply(t, v2)
			return v2, r.sim.Orders()[1].ID
		}},
		{name: "legacy_ssl, which has no key", setup: func(t *testing.T, r *clockRig) ([]*spec.Certificate, int64) {
			legacy := []*spec.Certificate{example(t, "legacy-www")}
			r.mustApply(t, legacy)
			return legacy, r.sim.Orders()[0].ID
		}},
		{name: "an imported order", setup: func(t *testing.T, r *clockRig) ([]*spec.Certificate, int64) {
			// Placed in the console, then imported.
			r.mustApply(t, []*spec.Certificate{labCert(t, "grafana.lab.example.com")})
			id := r.sim.Orders()[0].ID
			r.loseState(t, false)
			r.importOrder(t, "lab", id)
			r.mustApply(t, v2) // nothing: an imported order is taken as the manifest describes it
			if n := len(r.sim.Orders()); n != 1 {
				t.Fatalf("setup: %d orders after the import, want 1", n)
			}
			return v2, id
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newClockRig(t, simulator.Options{})
			certs, existing := tt.setup(t, r)
			before := len(r.sim.Orders())
			r.loseState(t, tt.keepBackup)
			r.clock.Add(time.Hour)

			s := r.plan(t, certs)
			ch := s.Plan.Changes[0]
			want := fmt.Sprintf("order %d exists: `certplan import %s %d`", existing, ch.Name, existing)
			if !ch.Blocked || !strings.Contains(ch.Status, want) {
				t.Errorf("plan: %s blocked=%v status %q, want blocked with %q", ch.Action, ch.Blocked, ch.Status, want)
			}
			r.apply(t, certs)
			if n := len(r.sim.Orders()); n != before {
				t.Fatalf("CertCentral holds %d orders after the apply with a lost state, want the %d it had: bought again", n, before)
			}

			// The way out the plan names: import the order; nothing is bought.
			r.importOrder(t, ch.Name, existing)
			r.apply(t, certs)
			if n := len(r.sim.Orders()); n != before {
				t.Fatalf("CertCentral holds %d orders after the import, want %d", n, before)
			}
		})
	}
}

// A deliberate second order is allowed by name.
func TestLostStateAllowDuplicateOrder(t *testing.T) {
	r := newClockRig(t, simulator.Options{})
	v1 := []*spec.Certificate{labCert(t, "grafana.lab.example.com")}
	r.mustApply(t, v1)
	r.loseState(t, false)
	r.env.AllowDuplicateOrder = []string{"lab"}
	v1[0].Order["comments"] = "a second one, on purpose" // another key is not needed: the listing finds the first by names
	v1 = []*spec.Certificate{labCert(t, "grafana.lab.example.com", "second.lab.example.com")}
	r.mustApply(t, v1)
	if n := len(r.sim.Orders()); n != 2 {
		t.Fatalf("%d orders, want the deliberate second one", n)
	}
}

// A new certificate in a healthy state costs no listing: the one list call
// is the refresh of the tracked order.
func TestHealthyStateNewCertificateCostsNoListing(t *testing.T) {
	r := newClockRig(t, simulator.Options{})
	lab := labCert(t, "grafana.lab.example.com")
	r.mustApply(t, []*spec.Certificate{lab})
	r.mustApply(t, []*spec.Certificate{lab})
	const route = "GET /services/v2/order/certificate"
	before := r.sim.Stats().Requests[route]
	web := labCert(t, "web.example.com")
	web.Name = "web"
	web.Order["certificate"].(map[string]any)["common_name"] = "web.example.com"
	r.mustApply(t, []*spec.Certificate{lab, web})
	if n := r.sim.Stats().Requests[route] - before; n != 1 {
		t.Errorf("%d list calls, want 1 (the refresh of lab's order): a new certificate in a healthy state is not looked for", n)
	}
	if n := len(r.sim.Orders()); n != 2 {
		t.Errorf("%d orders, want 2", n)
	}
}

// mustApply applies and requires every order to complete.
func (r *clockRig) mustApply(t *testing.T, certs []*spec.Certificate) {
	t.Helper()
	if rep := r.apply(t, certs); rep != nil && rep.Failed() != 0 {
		t.Fatalf("apply: %+v", rep.Results)
	}
}

// importOrder is `certplan import NAME ID`.
func (r *clockRig) importOrder(t *testing.T, name string, id int64) {
	t.Helper()
	client, _ := r.env.Client()
	o, err := client.OrderInfo(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := run.Repair(context.Background(), r.env, "import", name, func(st *state.State) (string, error) {
		return "", st.SetOrder(name, apply.FactsFromOrder(o), o.Product.NameID, r.clock.Now())
	}); err != nil {
		t.Fatal(err)
	}
}

// A plan made without a listing (no API key at plan time, --refresh=false)
// leaves the check to apply: it lists before it orders, and orders nothing
// while a certificate the lost state does not know has a live order.
func TestLostStateCheckedAtApplyWhenPlannedWithoutListing(t *testing.T) {
	r := newClockRig(t, simulator.Options{})
	v1 := []*spec.Certificate{labCert(t, "grafana.lab.example.com")}
	r.mustApply(t, v1)
	r.clock.Add(time.Hour)
	v2 := []*spec.Certificate{labCert(t, "grafana.lab.example.com", "alerts.lab.example.com")}
	r.mustApply(t, v2)
	r.loseState(t, false)

	for _, refresh := range []bool{false, true} {
		keyless := refresh // with refresh: no API key at plan time
		client := r.env.Client
		r.env.Client = func() (*certcentral.Client, error) {
			if keyless {
				return nil, errors.New("DIGICERT_API_KEY is not set")
			}
			return client()
		}
		s, err := run.Prepare(context.Background(), r.env, &spec.Result{Certificates: v2}, refresh, run.OpApply)
		if err != nil {
			t.Fatal(err)
		}
		if ch := s.Plan.Changes[0]; ch.Action != "create" || ch.LiveOrderCheck != "unchecked" {
			t.Fatalf("refresh=%v: planned %s, live_order_check %q; want an unchecked create", refresh, ch.Action, ch.LiveOrderCheck)
		}
		keyless = false
		_, err = s.Execute(context.Background(), context.Background(), run.ExecuteOptions{Clock: r.clock.Now})
		s.Release()
		r.env.Client = client
		if !errors.Is(err, run.ErrLiveOrders) || !strings.Contains(err.Error(), "`certplan import lab ") {
			t.Fatalf("refresh=%v: execute: %v; want it refused, naming the order to import", refresh, err)
		}
		if n := len(r.sim.Orders()); n != 2 {
			t.Fatalf("refresh=%v: %d orders, want 2: nothing bought", refresh, n)
		}
	}
}
