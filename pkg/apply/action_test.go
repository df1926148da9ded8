package apply

import (
	"context"
	"testing"

	"github.com/certplan/certplan/pkg/plan"
	"github.com/certplan/certplan/pkg/spec"
)

// Run acts on exactly the changes whose action touches CertCentral, journals
// each intent with a record kind the journal accepts, and reports one result
// per change it acts on. A new plan action fails here until apply handles it.
func TestEveryPlanActionIsAppliedOrSkipped(t *testing.T) {
	for _, a := range plan.AllActions() {
		t.Run(a.String(), func(t *testing.T) {
			ch := change("shop", spec.SecureSiteFlex)
			ch.Action = a
			f, j := newFake(), &memJournal{}
			if a == plan.ActionReissue {
				// A reissue acts on an order placed before, with a real CSR.
				f.addOrder("k7", 7, testCSRs()[1])
				ch.OrderID = 7
				ch.Request["certificate"].(map[string]any)["csr"] = testCSRs()[0]
			}
			p := &plan.Plan{Changes: []plan.Change{ch}}
			before := f.totalPlaced()
			progress := 0
			rep := Run(context.Background(), p, Options{API: f, Journal: j, Recovery: noWait(),
				Progress: func(Result) { progress++ }})
			if !a.TouchesCertCentral() {
				if len(rep.Results) != 0 || len(j.recs) != 0 || len(f.lookupCalls) != 0 || progress != 0 {
					t.Fatalf("%s: %d results, %d records, %d look-ups, %d progress steps; want none",
						a, len(rep.Results), len(j.recs), len(f.lookupCalls), progress)
				}
				return
			}
			if len(rep.Results) != 1 || rep.Results[0].Action != a || rep.Results[0].Outcome.Failed() || progress != 1 {
				t.Fatalf("results %+v, %d progress steps: want one successful %s and one step", rep.Results, progress, a)
			}
			want, err := journalAction(a)
			if err != nil {
				t.Fatal(err)
			}
			if len(j.recs) == 0 {
				t.Fatal("nothing journaled")
			}
			if r := j.recs[0]; r.Action != want || r.Validate() != nil {
				t.Fatalf("journal %+v: want an intent of kind %s first (%v)", j.recs, want, r.Validate())
			}
			if placed := f.totalPlaced() - before; a.PlacesBilledOrder() != (placed == 1) {
				t.Errorf("%d orders placed, PlacesBilledOrder = %v", placed, a.PlacesBilledOrder())
			}
		})
	}
}

// A change with an action this certplan does not know fails, sends nothing
// and journals nothing; it is neither skipped nor taken for a no-op.
func TestUnknownPlanActionFails(t *testing.T) {
	ch := change("shop", spec.SecureSiteFlex)
	ch.Action = "teleport"
	f, j := newFake(), &memJournal{}
	rep := Run(context.Background(), &plan.Plan{Changes: []plan.Change{ch}}, Options{API: f, Journal: j, Recovery: noWait()})
	if len(rep.Results) != 1 || rep.Results[0].Outcome != OutcomeFailed || rep.Failed() != 1 {
		t.Fatalf("results %+v: want one failure", rep.Results)
	}
	if len(j.recs) != 0 || len(f.lookupCalls) != 0 || len(f.placeCalls) != 0 {
		t.Errorf("%d records, %d look-ups, %d submissions: want none", len(j.recs), len(f.lookupCalls), len(f.placeCalls))
	}
}
