package apply

import (
	"context"
	"testing"
	"time"

	"github.com/certplan/certplan/pkg/certcentral"
	"github.com/certplan/certplan/pkg/plan"
	"github.com/certplan/certplan/pkg/state"
)

func TestWaitPollsUntilIssued(t *testing.T) {
	f := newFake()
	f.orders["k1"] = []certcentral.AlternateOrder{{OrderID: 1, Status: "pending"}}
	f.orders["k2"] = []certcentral.AlternateOrder{{OrderID: 2, Status: "issued"}}
	rep := Report{Results: []Result{
		{Name: "a", Action: plan.ActionCreate, Outcome: OutcomeCreated, OrderID: 1, Status: "pending"},
		{Name: "b", Action: plan.ActionCreate, Outcome: OutcomeCreated, OrderID: 2, Status: "issued"},
		{Name: "c", Action: plan.ActionCreate, Outcome: OutcomeFailed},
	}}
	j := &memJournal{}
	rounds := 0
	Wait(context.Background(), rep, WaitOptions{
		API: f, Journal: j, Timeout: time.Hour,
		Sleep: func(ctx context.Context, _ time.Duration) error {
			rounds++
			if rounds == 2 { // validation completes during the second wait
				f.mu.Lock()
				f.orders["k1"][0].Status = "issued"
				f.mu.Unlock()
			}
			return nil
		},
	})
	if rep.Results[0].Status != "issued" {
		t.Fatalf("a: status %q, want issued", rep.Results[0].Status)
	}
	if rounds != 2 {
		t.Errorf("waited %d rounds, want 2", rounds)
	}
	if len(j.recs) != 1 || j.recs[0].Order.Status != state.StatusIssued || j.recs[0].Name != "a" {
		t.Fatalf("journal = %+v, want one outcome for a", j.recs)
	}
}

func TestWaitStopsAtTimeout(t *testing.T) {
	f := newFake()
	f.orders["k1"] = []certcentral.AlternateOrder{{OrderID: 1, Status: "pending"}}
	rep := Report{Results: []Result{{Name: "a", Outcome: OutcomeCreated, OrderID: 1, Status: "pending"}}}
	ctxSleeps := 0
	Wait(context.Background(), rep, WaitOptions{
		API: f, Journal: &memJournal{}, Timeout: time.Nanosecond,
		Sleep: func(ctx context.Context, _ time.Duration) error {
			ctxSleeps++
			<-ctx.Done()
			return ctx.Err()
		},
	})
	if rep.Results[0].Status != "pending" || ctxSleeps > 1 {
		t.Fatalf("status %q after %d sleeps, want pending after at most 1", rep.Results[0].Status, ctxSleeps)
	}
}
