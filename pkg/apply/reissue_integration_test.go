package apply_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/certplan/certplan/pkg/apply"
	"github.com/certplan/certplan/pkg/certcentral"
	"github.com/certplan/certplan/pkg/plan"
	"github.com/certplan/certplan/pkg/simulator"
	"github.com/certplan/certplan/pkg/state"
)

// noSleep recovers without waiting: the simulator commits at once.
var noSleep = apply.Recovery{Backoff: func(int) time.Duration { return 0 },
	Sleep: func(ctx context.Context, _ time.Duration) error { return ctx.Err() }}

// rotateKeys gives every other certificate of the rig another CSR (a key
// rotation); the rest keep theirs (a reissue due by date).
func (r *rig) rotateKeys(t testing.TB) {
	t.Helper()
	other, err := os.ReadFile("../../examples/csr/api-gateway.csr")
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range r.certs {
		if i%2 == 0 {
			c.Order["certificate"].(map[string]any)["csr"] = string(other)
		}
	}
}

// reissueOnce reissues, as `certplan apply` would after planning, every
// certificate whose order has not been reissued yet (its state has no
// earlier certificate in history), and resumes the interrupted reissues.
// It reports whether there was anything to do.
func (r *rig) reissueOnce(t testing.TB, parallelism int) (apply.Report, bool) {
	t.Helper()
	b := state.NewFileBackend(r.statePath)
	l, err := b.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	p := &plan.Plan{}
	for _, c := range r.certs {
		sc := l.State.Certificates[c.Name]
		in, resuming := l.Pending[c.Name]
		if sc == nil || (!resuming && len(sc.History) > 0) {
			continue
		}
		ch := plan.Change{Name: c.Name, Product: c.Product, Action: plan.ActionReissue, OrderID: sc.OrderID,
			Request: c.Order, SpecDigest: plan.SpecDigest(c), RequestDigest: plan.RequestDigest(c.Order)}
		if resuming {
			ch.Resuming, ch.OrderID, ch.CSRKeyDigest = true, in.ReissueOf, in.CSRKeyDigest
		}
		p.Changes = append(p.Changes, ch)
	}
	if len(p.Changes) == 0 {
		return apply.Report{}, false
	}
	j, err := b.OpenJournal(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	rep := apply.Run(context.Background(), p, apply.Options{API: r.client, Journal: j, Parallelism: parallelism,
		Recovery: noSleep, Pending: l.Pending})
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	if l, err = b.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := b.Commit(context.Background(), l); err != nil {
		t.Fatal(err)
	}
	return rep, true
}

// checkReissuedOnce: every order got exactly one reissue through the API,
// and the state follows the order's certificates: the reissue current, the
// first certificate in history, no intent left open.
func (r *rig) checkReissuedOnce(t testing.TB) {
	t.Helper()
	l, err := state.NewFileBackend(r.statePath).Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Pending) != 0 {
		t.Fatalf("%d intents left open: %+v", len(l.Pending), l.Pending)
	}
	byID := map[int64]simulator.ReceivedOrder{}
	for _, o := range r.sim.Orders() {
		byID[o.ID] = o
	}
	if len(byID) != len(r.certs) {
		t.Fatalf("simulator has %d orders, want %d: a reissue must never place an order", len(byID), len(r.certs))
	}
	for _, c := range r.certs {
		sc := l.State.Certificates[c.Name]
		o := byID[sc.OrderID]
		if len(o.Reissues) != 1 {
			t.Fatalf("%s: order %d has %d reissues, want exactly 1", c.Name, o.ID, len(o.Reissues))
		}
		re := o.Reissues[0]
		if re.Status != "issued" || sc.CertificateID != re.CertificateID || o.CurrentCertificateID != re.CertificateID ||
			sc.Status != state.StatusIssued || sc.Action != state.ActionReissue || sc.ValidTill == "" {
			t.Fatalf("%s: state %+v; order's reissue %+v", c.Name, sc, re)
		}
		if len(sc.History) != 1 || sc.History[0].OrderID != o.ID || sc.History[0].CertificateID != o.CertificateID {
			t.Fatalf("%s: history %+v, want the order's first certificate %d", c.Name, sc.History, o.CertificateID)
		}
	}
	if got := r.sim.Stats().ReissuesPlaced; got != len(r.certs) {
		t.Fatalf("simulator committed %d reissues, want %d", got, len(r.certs))
	}
}

// TestReissueFaultMatrix: whatever fails on the way, every order ends with
// exactly one reissue once apply is re-run until it converges, with the
// same CSR (a certificate due by date) or a new key.
func TestReissueFaultMatrix(t *testing.T) {
	type fault struct {
		f simulator.Faults
		// hit says the fault fired during the reissues (stats since they began).
		hit func(before, after simulator.Stats) bool
	}
	always := func(before, after simulator.Stats) bool { return true }
	faults := map[string]fault{
		"none":           {simulator.Faults{}, always},
		"lost responses": {simulator.Faults{DropAfterCommit: 5}, func(b, a simulator.Stats) bool { return a.Dropped-b.Dropped == 5 }},
		"30% 5xx":        {simulator.Faults{ServerErrorRate: 0.3, Seed: 7}, func(b, a simulator.Stats) bool { return a.ServerErrors > b.ServerErrors }},
		"429 burst":      {simulator.Faults{Burst429: 25}, func(b, a simulator.Stats) bool { return a.TooManyRequests-b.TooManyRequests == 25 }},
		"slow":           {simulator.Faults{Latency: 20 * time.Millisecond}, always},
		"everything at once": {simulator.Faults{DropAfterCommit: 3, ServerErrorRate: 0.2, Burst429: 10, Latency: 5 * time.Millisecond, Seed: 3},
			func(b, a simulator.Stats) bool { return a.Dropped-b.Dropped == 3 && a.ServerErrors > b.ServerErrors }},
	}
	for name, f := range faults {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			r := newRig(t, simulator.Options{Limits: []simulator.Limit{}}, []certcentral.Limit{}, 10)
			if rep, _ := r.applyOnce(t, 4); rep.Failed() != 0 {
				t.Fatalf("%d orders failed", rep.Failed())
			}
			r.rotateKeys(t)
			before := r.sim.Stats()
			r.sim.SetFaults(f.f)
			rounds := 0
			for ; rounds < 10; rounds++ {
				if _, todo := r.reissueOnce(t, 4); !todo {
					break
				}
			}
			if rounds == 10 {
				t.Fatal("reissues did not converge in 10 runs")
			}
			if after := r.sim.Stats(); !f.hit(before, after) {
				t.Fatalf("the fault did not fire: before %+v, after %+v", before, after)
			}
			r.checkReissuedOnce(t)
		})
	}
}

// TestReissueApprovalOnSimulator: a reissue that awaits approval is
// recorded as reissue_pending with its new certificate; a second apply
// sends nothing while it is pending; once approved, Wait records it issued.
func TestReissueApprovalOnSimulator(t *testing.T) {
	r := newRig(t, simulator.Options{Limits: []simulator.Limit{}, Approval: simulator.ApprovalManual}, []certcentral.Limit{}, 2)
	r.applyOnce(t, 2)
	for _, o := range r.sim.Orders() {
		if err := r.sim.Approve(o.ID); err != nil {
			t.Fatal(err)
		}
	}
	// Record the issued orders (as a refresh would) so that they can be reissued.
	recordRefresh(t, r)

	rep, _ := r.reissueOnce(t, 2)
	for _, res := range rep.Results {
		if res.Outcome != apply.OutcomeCreated || res.Status != string(state.StatusReissuePending) || res.CertificateID == 0 {
			t.Fatalf("%+v, want created and reissue_pending with a certificate id", res)
		}
	}
	l, _ := state.NewFileBackend(r.statePath).Load(context.Background())
	for _, c := range r.certs {
		if sc := l.State.Certificates[c.Name]; sc.Status != state.StatusReissuePending || len(sc.History) != 1 {
			t.Fatalf("%s: %+v", c.Name, sc)
		}
	}
	if _, todo := r.reissueOnce(t, 2); todo {
		t.Fatal("a second run would reissue again while the first is pending")
	}
	for _, o := range r.sim.Orders() {
		if err := r.sim.Approve(o.ID); err != nil {
			t.Fatal(err)
		}
	}
	b := state.NewFileBackend(r.statePath)
	j, err := b.OpenJournal(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	apply.Wait(context.Background(), rep, apply.WaitOptions{API: r.client, Journal: j, Timeout: time.Minute,
		Sleep: func(context.Context, time.Duration) error { return nil }})
	j.Close()
	l, _ = b.Load(context.Background())
	if err := b.Commit(context.Background(), l); err != nil {
		t.Fatal(err)
	}
	r.checkReissuedOnce(t)
}

// TestReissuePendingFromAnotherSource: a reissue someone else asked for is
// pending on the order. apply sends nothing and leaves its intent open; once
// the other one is done, the next run sends exactly one.
func TestReissuePendingFromAnotherSource(t *testing.T) {
	r := newRig(t, simulator.Options{Limits: []simulator.Limit{}, Approval: simulator.ApprovalManual}, []certcentral.Limit{}, 1)
	r.applyOnce(t, 1)
	o := r.sim.Orders()[0]
	if err := r.sim.Approve(o.ID); err != nil {
		t.Fatal(err)
	}
	recordRefresh(t, r)
	// Another client reissues the order by hand; it awaits approval.
	body, err := certcentral.BuildReissueBody(r.certs[0].Order)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.client.Reissue(context.Background(), o.ID, body); err != nil {
		t.Fatal(err)
	}
	r.rotateKeys(t)
	rep, _ := r.reissueOnce(t, 1)
	if res := rep.Results[0]; res.Outcome != apply.OutcomeUnresolved {
		t.Fatalf("%+v, want unresolved (a reissue is pending on the order)", res)
	}
	if n := len(r.sim.Orders()[0].Reissues); n != 1 {
		t.Fatalf("order has %d reissues, want only the other source's", n)
	}
	if err := r.sim.Approve(o.ID); err != nil {
		t.Fatal(err)
	}
	rep, _ = r.reissueOnce(t, 1)
	if res := rep.Results[0]; res.Outcome != apply.OutcomeCreated || res.Status != string(state.StatusReissuePending) {
		t.Fatalf("resumed: %+v", res)
	}
	if err := r.sim.Approve(o.ID); err != nil {
		t.Fatal(err)
	}
	if got := r.sim.Orders()[0].Reissues; len(got) != 2 || got[1].Status != "issued" {
		t.Fatalf("reissues %+v, want the other source's and exactly one of ours", got)
	}
	if _, todo := r.reissueOnce(t, 1); todo {
		t.Fatal("the intent is still open")
	}
}

// recordRefresh journals the orders' current facts into the state, as a
// refresh at the start of apply does.
func recordRefresh(t testing.TB, r *rig) {
	t.Helper()
	b := state.NewFileBackend(r.statePath)
	l, err := b.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	facts := map[int64]state.OrderFacts{}
	for _, sc := range l.State.Certificates {
		info, err := r.client.OrderInfo(context.Background(), sc.OrderID)
		if err != nil {
			t.Fatal(err)
		}
		facts[sc.OrderID] = apply.FactsFromOrder(info)
	}
	j, err := b.OpenJournal(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := apply.RecordRefresh(j, l.State, facts); err != nil {
		t.Fatal(err)
	}
	j.Close()
	if l, err = b.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := b.Commit(context.Background(), l); err != nil {
		t.Fatal(err)
	}
}
