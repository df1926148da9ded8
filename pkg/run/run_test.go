package run_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/certplan/certplan/pkg/certcentral"
	"github.com/certplan/certplan/pkg/plan"
	"github.com/certplan/certplan/pkg/run"
	"github.com/certplan/certplan/pkg/simulator"
	"github.com/certplan/certplan/pkg/spec"
	"github.com/certplan/certplan/pkg/state"
)

const testKey = "run-test-key"

var testNow = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)

// rig is a simulator on loopback, a file state and the env of a run.
type rig struct {
	sim       *simulator.Server
	env       run.Env
	manifests *spec.Result
	notes     []string
	clients   int
}

func newRig(t *testing.T, n int) *rig {
	t.Helper()
	sim, err := simulator.New(simulator.Options{APIKey: testKey})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(func() { srv.Close(); _ = sim.Close() })
	r := &rig{sim: sim}
	client, err := certcentral.New(certcentral.Config{
		Endpoint: srv.URL + "/services/v2", LegacyEndpoint: srv.URL, APIKey: testKey,
		RetryMax: 2, RetryWaitMin: time.Millisecond, RetryWaitMax: 5 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	r.env = run.Env{
		Backend: state.NewFileBackend(filepath.Join(t.TempDir(), "certplan.state.json")),
		Client: func() (*certcentral.Client, error) {
			r.clients++
			return client, nil
		},
		Now:     testNow,
		Logger:  zerolog.Nop(),
		Version: "test",
		Note:    func(kind, msg string) { r.notes = append(r.notes, kind+": "+msg) },
	}
	csr, err := os.ReadFile("../../examples/csr/shop-frontend.csr")
	if err != nil {
		t.Fatal(err)
	}
	r.manifests = &spec.Result{}
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("web-%d", i)
		r.manifests.Certificates = append(r.manifests.Certificates, &spec.Certificate{
			Name: name, Product: spec.SecureSiteFlex, RenewBefore: spec.DefaultRenewBefore,
			Order: map[string]any{
				"certificate":    map[string]any{"common_name": name + ".example.com", "csr": string(csr), "signature_hash": "sha256"},
				"order_validity": map[string]any{"years": 1},
				"organization":   map[string]any{"id": 1},
				"payment_method": "balance",
			},
		})
	}
	return r
}

func (r *rig) prepare(t *testing.T, refresh bool) *run.Session {
	t.Helper()
	s, err := run.Prepare(context.Background(), r.env, r.manifests, refresh, run.OpApply)
	if err != nil {
		t.Fatalf("prepare: %v", err)
	}
	return s
}

func (r *rig) apply(t *testing.T) {
	t.Helper()
	s := r.prepare(t, true)
	defer s.Release()
	rep, err := s.Execute(context.Background(), context.Background(), run.ExecuteOptions{Parallelism: 2})
	if err != nil || rep.Failed() > 0 {
		t.Fatalf("execute: %v, %d failed", err, rep.Failed())
	}
}

// A plan of a new state needs no client (a pull request's plan of a new
// project runs without an API key). Issue 11, item 3 changed what it does
// with one: it used to ask for none ("nothing to refresh"); a new state now
// lists the live orders of its certificates' products before their first
// order, and without a client leaves that to apply.
func TestPrepareOnNewStateNeedsNoClient(t *testing.T) {
	r := newRig(t, 2)
	client := r.env.Client
	r.env.Client = func() (*certcentral.Client, error) {
		r.clients++
		return nil, errors.New("DIGICERT_API_KEY is not set")
	}
	s := r.prepare(t, true)
	s.Release()
	for _, ch := range s.Plan.Changes {
		if ch.Action != plan.ActionCreate || ch.LiveOrderCheck != plan.LiveOrdersUnchecked {
			t.Errorf("%s: %s, live_order_check %q; want a create that apply checks against live orders", ch.Name, ch.Action, ch.LiveOrderCheck)
		}
	}
	r.env.Client = client
	r.clients = 0
	s = r.prepare(t, true)
	defer s.Release()
	if r.clients != 1 || !s.LiveListed {
		t.Errorf("with a client, a plan of a new state asked for it %d times and listed=%v; want one listing of live orders", r.clients, s.LiveListed)
	}
	if got := s.Plan.Summary.Count(plan.ActionCreate); got != 2 {
		t.Errorf("plan creates %d, want 2", got)
	}
	if s.Plan.Lineage != "" {
		t.Errorf("a plan of a state that does not exist yet records lineage %q, want none", s.Plan.Lineage)
	}
	if s.Plan.Backend == nil || s.Plan.Backend.Kind != "file" {
		t.Errorf("plan backend = %+v, want the file backend", s.Plan.Backend)
	}
}

func TestExecuteFoldsAndNextPlanIsEmpty(t *testing.T) {
	r := newRig(t, 3)
	r.apply(t)
	l, err := r.env.Backend.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if l.Replayed != 0 || len(l.Pending) != 0 {
		t.Errorf("after execute the journal still holds %d records (%d pending): it must be folded", l.Replayed, len(l.Pending))
	}
	if len(l.State.Certificates) != 3 {
		t.Errorf("state tracks %d certificates, want 3", len(l.State.Certificates))
	}
	s := r.prepare(t, true)
	defer s.Release()
	if s.Plan.HasChanges() {
		t.Errorf("the plan after a complete apply has changes: %+v", s.Plan.Summary)
	}
	if got := r.sim.Stats().OrdersPlaced; got != 3 {
		t.Errorf("simulator placed %d orders, want 3", got)
	}
}

func TestLockHeldIsLockedError(t *testing.T) {
	r := newRig(t, 1)
	s := r.prepare(t, false)
	defer s.Release()
	_, err := run.Prepare(context.Background(), r.env, r.manifests, false, run.OpApply)
	var le *state.LockedError
	if !errors.As(err, &le) {
		t.Fatalf("second prepare while locked: %v, want a *state.LockedError", err)
	}
	s.Release()
	s2 := r.prepare(t, false) // released: free again
	s2.Release()
}

func TestRefreshWithoutClientIsRefreshError(t *testing.T) {
	r := newRig(t, 1)
	r.apply(t)
	r.env.Client = func() (*certcentral.Client, error) { return nil, errors.New("DIGICERT_API_KEY is not set") }
	_, err := run.Prepare(context.Background(), r.env, r.manifests, true, run.OpPlan)
	var re *run.RefreshError
	if !errors.As(err, &re) || !re.NoClient {
		t.Fatalf("prepare without a client: %v, want a *run.RefreshError with NoClient", err)
	}
	// Nothing is held after a failed prepare.
	s := r.prepare(t, false)
	s.Release()
}

func TestOpenPlanFileRefusesStaleJournal(t *testing.T) {
	r := newRig(t, 1)
	s := r.prepare(t, true)
	p := s.Plan
	s.Release()

	// An interrupted apply leaves an intent in the journal after the plan was made.
	l, err := r.env.Backend.Lock(context.Background(), "test", 0)
	if err != nil {
		t.Fatal(err)
	}
	j, err := r.env.Backend.OpenJournal(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ch := p.Changes[0]
	if err := j.Append(state.Record{Type: state.RecordIntent, Name: ch.Name, Action: state.ActionCreate,
		AlternativeOrderID: ch.AlternativeOrderID, DupCheck: state.DupCheckAlternateID, Product: string(ch.Product)}); err != nil {
		t.Fatal(err)
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	if err := l.Release(); err != nil {
		t.Fatal(err)
	}

	s, err = run.OpenPlanFile(context.Background(), r.env, p, func(string) (string, error) { return "", nil })
	defer s.Release()
	if !errors.Is(err, run.ErrStaleJournal) {
		t.Fatalf("open plan file after an interrupted apply: %v, want ErrStaleJournal", err)
	}
	loaded, err := r.env.Backend.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(loaded.Pending) != 1 || loaded.Replayed != 1 {
		t.Errorf("the stale journal was not folded with its intent kept: %d replayed, %d pending", loaded.Replayed, len(loaded.Pending))
	}
}

func TestOpenPlanFileAppliesFreshPlan(t *testing.T) {
	r := newRig(t, 1)
	s := r.prepare(t, true)
	p := s.Plan
	s.Release()
	s, err := run.OpenPlanFile(context.Background(), r.env, p, func(string) (string, error) { return "", nil })
	if err != nil {
		t.Fatalf("a fresh plan is refused: %v", err)
	}
	defer s.Release()
	rep, err := s.Execute(context.Background(), context.Background(), run.ExecuteOptions{Parallelism: 1})
	if err != nil || rep.Failed() > 0 || len(rep.Results) != 1 {
		t.Fatalf("execute saved plan: %v, %+v", err, rep)
	}
}

func TestRepairClosesInterruptedOrder(t *testing.T) {
	r := newRig(t, 1)
	name := r.manifests.Certificates[0].Name
	l, err := r.env.Backend.Lock(context.Background(), "test", 0)
	if err != nil {
		t.Fatal(err)
	}
	j, err := r.env.Backend.OpenJournal(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if err := j.Append(state.Record{Type: state.RecordIntent, Name: name, Action: state.ActionCreate,
		AlternativeOrderID: "cpkey", DupCheck: state.DupCheckAlternateID, Product: string(spec.SecureSiteFlex)}); err != nil {
		t.Fatal(err)
	}
	_ = j.Close()
	_ = l.Release()

	calls := 0
	done, err := run.Repair(context.Background(), r.env, "state rm", name, func(st *state.State) (string, error) {
		calls++
		if !st.Remove(name) {
			return "", fmt.Errorf("%s is not in the state", name)
		}
		return "removed", nil
	})
	if err != nil {
		t.Fatalf("repair: %v", err)
	}
	if done.Closed == nil || done.Closed.AlternativeOrderID != "cpkey" {
		t.Errorf("repair did not report closing the interrupted order: %+v", done)
	}
	if calls != 1 {
		t.Errorf("change ran %d times, want once (the name was only in the journal)", calls)
	}
	loaded, err := r.env.Backend.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(loaded.Pending) != 0 {
		t.Errorf("the interrupted order is still open after state rm: %+v", loaded.Pending)
	}
}

func TestRepairRefusedChangeKeepsInterruptedOrder(t *testing.T) {
	r := newRig(t, 1)
	r.apply(t)
	name := r.manifests.Certificates[0].Name
	_, err := run.Repair(context.Background(), r.env, "import", name, func(*state.State) (string, error) {
		return "", errors.New("already tracked")
	})
	if err == nil || !strings.Contains(err.Error(), "already tracked") {
		t.Fatalf("a refused change must fail with its own error, got %v", err)
	}
}

// writeCounter is a backend that counts what could write the state.
type writeCounter struct {
	state.Backend
	locks, journals, commits int
}

func (w *writeCounter) Lock(ctx context.Context, op string, d time.Duration) (state.Lock, error) {
	w.locks++
	return w.Backend.Lock(ctx, op, d)
}

func (w *writeCounter) OpenJournal(ctx context.Context) (state.JournalWriter, error) {
	w.journals++
	return w.Backend.OpenJournal(ctx)
}

func (w *writeCounter) Commit(ctx context.Context, l *state.Loaded) error {
	w.commits++
	return w.Backend.Commit(ctx, l)
}

// A plan, with refresh or without, cannot change the state: it takes no
// lock (so it works on a read-only checkout, and a pull request's plan
// never makes the merge's apply fail with "locked"), and writes nothing.
func TestPlanTakesNoLock(t *testing.T) {
	r := newRig(t, 2)
	r.apply(t)
	held, err := r.env.Backend.Lock(context.Background(), "apply", 0) // an apply is running
	if err != nil {
		t.Fatal(err)
	}
	defer held.Release()
	wc := &writeCounter{Backend: r.env.Backend}
	r.env.Backend = wc
	for _, refresh := range []bool{false, true} {
		clients := r.clients
		s, err := run.Prepare(context.Background(), r.env, r.manifests, refresh, run.OpPlan)
		if err != nil {
			t.Fatalf("plan (refresh %v) while an apply holds the lock: %v", refresh, err)
		}
		if s.Plan.HasChanges() || len(s.Plan.Changes) != 2 {
			t.Errorf("plan (refresh %v): %+v", refresh, s.Plan.Summary)
		}
		if refresh && r.clients == clients {
			t.Error("plan with refresh did not ask CertCentral")
		}
		if _, err := s.Execute(context.Background(), context.Background(), run.ExecuteOptions{Parallelism: 1}); !errors.Is(err, run.ErrReadOnly) {
			t.Errorf("Execute on a plan session: %v, want ErrReadOnly", err)
		}
		if err := s.RecordRefresh(context.Background()); !errors.Is(err, run.ErrReadOnly) {
			t.Errorf("RecordRefresh on a plan session: %v, want ErrReadOnly", err)
		}
		s.Release()
	}
	if wc.locks+wc.journals+wc.commits != 0 {
		t.Errorf("plan took %d locks, opened %d journals, made %d commits; want none", wc.locks, wc.journals, wc.commits)
	}
}

// A person resolving an interrupted reissue by hand (`state set-order`)
// closes it: the closing record names the order and CSR key digest that
// pair it with the reissue intent.
func TestRepairClosesInterruptedReissue(t *testing.T) {
	r := newRig(t, 1)
	r.apply(t)
	name := r.manifests.Certificates[0].Name
	loaded, err := r.env.Backend.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	cur := loaded.State.Certificates[name]
	l, err := r.env.Backend.Lock(context.Background(), "test", 0)
	if err != nil {
		t.Fatal(err)
	}
	j, err := r.env.Backend.OpenJournal(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if err := j.Append(state.Record{Type: state.RecordIntent, Name: name, Action: state.ActionReissue,
		AlternativeOrderID: cur.AlternativeOrderID, DupCheck: state.DupCheckCSRMatch, Product: string(spec.SecureSiteFlex),
		ReissueOf: cur.OrderID, CSRKeyDigest: strings.Repeat("0f", 32), PriorCertificateIDs: []int64{cur.CertificateID}}); err != nil {
		t.Fatal(err)
	}
	_ = j.Close()
	_ = l.Release()

	done, err := run.Repair(context.Background(), r.env, "state set-order", name, func(st *state.State) (string, error) {
		return "set", st.SetOrder(name, state.OrderFacts{OrderID: cur.OrderID, Status: state.StatusIssued}, "", testNow)
	})
	if err != nil {
		t.Fatalf("repair: %v", err)
	}
	if done.Closed == nil || done.Closed.Action != state.ActionReissue {
		t.Errorf("repair did not report closing the interrupted reissue: %+v", done)
	}
	if loaded, err = r.env.Backend.Load(context.Background()); err != nil || len(loaded.Pending) != 0 {
		t.Fatalf("the interrupted reissue is still open after state set-order: %v %+v", err, loaded.Pending)
	}
}

func TestRefreshNotesOrdersCertCentralDoesNotReturn(t *testing.T) {
	r := newRig(t, 1)
	r.apply(t)
	// The order vanishes from CertCentral's view (another account's key, a
	// deleted order): the run must say so, not plan silently from state.
	l, err := r.env.Backend.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	name := r.manifests.Certificates[0].Name
	lock, err := r.env.Backend.Lock(context.Background(), "test", 0)
	if err != nil {
		t.Fatal(err)
	}
	l.State.Certificates[name].OrderID = 987654321
	if err := r.env.Backend.Commit(context.Background(), l); err != nil {
		t.Fatal(err)
	}
	_ = lock.Release()
	s := r.prepare(t, true)
	s.Release()
	found := false
	for _, n := range r.notes {
		found = found || (strings.HasPrefix(n, "Warning: ") && strings.Contains(n, "987654321"))
	}
	if !found {
		t.Errorf("no warning names the tracked order CertCentral did not return; notes: %q", r.notes)
	}
}
