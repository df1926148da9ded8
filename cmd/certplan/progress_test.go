package main

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/certplan/certplan/pkg/apply"
	"github.com/certplan/certplan/pkg/certcentral"
	"github.com/certplan/certplan/pkg/plan"
	"github.com/certplan/certplan/pkg/spec"
	"github.com/certplan/certplan/pkg/state"
)

func TestRenderBar(t *testing.T) {
	tests := []struct {
		done, total, width int
		want               string
	}{
		{0, 50, 10, "[>         ] 0/50 orders"},
		{25, 50, 10, "[=====>    ] 25/50 orders"},
		{50, 50, 10, "[==========] 50/50 orders"},
		{60, 50, 10, "[==========] 50/50 orders"},
		{1, 0, 10, ""},
	}
	for _, tt := range tests {
		if got := renderBar(tt.done, tt.total, tt.width); got != tt.want {
			t.Errorf("renderBar(%d, %d) = %q, want %q", tt.done, tt.total, got, tt.want)
		}
	}
}

func TestProgressBarOnlyOnATerminal(t *testing.T) {
	var buf bytes.Buffer
	bar := newProgressBar(&buf, 100)
	printed := 0
	for i := 0; i < 100; i++ {
		bar.step(func() { printed++ })
	}
	if printed != 100 || buf.Len() != 0 {
		t.Fatalf("printed %d lines and %d bar bytes to a non-terminal; want 100 and 0", printed, buf.Len())
	}
}

// offlineAPI fails every call: enough for apply to report a result per change.
type offlineAPI struct{}

func (offlineAPI) OrdersByAlternateID(context.Context, string) ([]certcentral.AlternateOrder, error) {
	return nil, errors.New("offline")
}
func (offlineAPI) PlaceOrder(context.Context, spec.Product, []byte) (*certcentral.PlaceOrderResponse, error) {
	return nil, errors.New("offline")
}
func (offlineAPI) OrderInfo(context.Context, int64) (*certcentral.Order, error) {
	return nil, errors.New("offline")
}
func (offlineAPI) PlaceLegacyOrder(context.Context, map[string]string) (int64, error) {
	return 0, errors.New("offline")
}
func (offlineAPI) Reissue(context.Context, int64, []byte) (*certcentral.ReissueResponse, error) {
	return nil, errors.New("offline")
}
func (offlineAPI) ListReissues(context.Context, int64) ([]certcentral.ReissueCertificate, error) {
	return nil, errors.New("offline")
}

type discardJournal struct{}

func (discardJournal) Append(state.Record) error { return nil }

// The bar's total is the number of progress steps apply takes, whatever the
// plan's actions (including one this certplan does not know).
func TestProgressBarCountsEveryAction(t *testing.T) {
	actions := append(plan.AllActions(), "teleport")
	for _, a := range actions {
		p := &plan.Plan{Changes: []plan.Change{
			{Name: "a", Product: spec.SecureSiteFlex, Action: a, AlternativeOrderID: "cpkey"},
			{Name: "b", Product: spec.SecureSiteFlex, Action: a, AlternativeOrderID: "cpkey2", Blocked: true},
		}}
		steps := 0
		apply.Run(context.Background(), p, apply.Options{API: offlineAPI{}, Journal: discardJournal{},
			Progress: func(apply.Result) { steps++ }})
		if total := barTotal(p); total != steps {
			t.Errorf("%s: bar total %d, apply took %d steps", a, total, steps)
		}
	}
}
