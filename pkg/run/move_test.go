package run_test

import (
	"context"
	"strings"
	"testing"

	"github.com/certplan/certplan/pkg/run"
	"github.com/certplan/certplan/pkg/state"
)

// `certplan state mv` (#12 item 8): the entry moves, nothing is ordered; a
// missing or taken name and an open interrupted order are refused.
func TestMove(t *testing.T) {
	r := newRig(t, 2)
	r.apply(t)
	ctx := context.Background()
	before, _ := r.env.Backend.Load(ctx)
	order := before.State.Certificates["web-0"].OrderID

	if _, err := run.Move(ctx, r.env, "web-0", "web-1"); err == nil || !strings.Contains(err.Error(), `"web-1" is already in state`) {
		t.Errorf("move onto a tracked name: %v", err)
	}
	if _, err := run.Move(ctx, r.env, "nope", "shop"); err == nil || !strings.Contains(err.Error(), `"nope" is not in state`) {
		t.Errorf("move of an unknown name: %v", err)
	}
	msg, err := run.Move(ctx, r.env, "web-0", "shop")
	if err != nil || !strings.Contains(msg, "Moved web-0 to shop") {
		t.Fatalf("move: %q, %v", msg, err)
	}
	after, _ := r.env.Backend.Load(ctx)
	if after.State.Certificates["web-0"] != nil || after.State.Certificates["shop"] == nil || after.State.Certificates["shop"].OrderID != order {
		t.Errorf("after the move: %v", after.State.Names())
	}
	if after.State.Serial != before.State.Serial+1 {
		t.Errorf("serial %d, want %d", after.State.Serial, before.State.Serial+1)
	}

	// An interrupted order of the old name stays open and blocks the move.
	l, err := r.env.Backend.Lock(ctx, "test", 0)
	if err != nil {
		t.Fatal(err)
	}
	j, _ := r.env.Backend.OpenJournal(ctx)
	_ = j.Append(state.Record{Type: state.RecordIntent, Name: "shop", Action: state.ActionRenew, AlternativeOrderID: "cpkey", DupCheck: state.DupCheckAlternateID})
	_ = j.Close()
	_ = l.Release()
	if _, err := run.Move(ctx, r.env, "shop", "web-0"); err == nil || !strings.Contains(err.Error(), "an interrupted renew of shop") {
		t.Errorf("move with an open intent: %v", err)
	}
	if got := r.sim.Stats().OrdersPlaced; got != 2 {
		t.Errorf("orders placed %d, want 2", got)
	}
}

// A move the plan carries (metadata.previousNames) is recorded by apply
// before anything is ordered, even when nothing is ordered.
func TestRecordMoves(t *testing.T) {
	r := newRig(t, 1)
	r.apply(t)
	r.manifests.Certificates[0].Name = "shop"
	r.manifests.Certificates[0].PreviousNames = []string{"web-0"}
	s := r.prepare(t, true)
	defer s.Release()
	if s.Plan.HasChanges() || !s.Plan.HasMoves() {
		t.Fatalf("plan %+v", s.Plan.Summary)
	}
	moves, err := s.RecordMoves(context.Background())
	if err != nil || len(moves) != 1 || moves[0] != "web-0 -> shop" {
		t.Fatalf("moves %v, %v", moves, err)
	}
	if s.Loaded.State.Certificates["shop"] == nil {
		t.Error("the session's state is not the renamed one")
	}
	s.Release()
	s = r.prepare(t, true)
	if s.Plan.HasMoves() || s.Plan.HasChanges() || len(s.Plan.Orphaned) != 0 {
		t.Errorf("the plan after the move: %+v, orphaned %v", s.Plan.Summary, s.Plan.Orphaned)
	}
	if got := r.sim.Stats().OrdersPlaced; got != 1 {
		t.Errorf("orders placed %d, want 1", got)
	}
}
