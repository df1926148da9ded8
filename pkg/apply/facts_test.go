package apply

import (
	"testing"

	"github.com/certplan/certplan/pkg/certcentral"
	"github.com/certplan/certplan/pkg/state"
)

// An order apply placed, found or polled that reports no status is pending;
// everything else is plan.FactsFromOrder's.
func TestFactsFromOrderTakesNoStatusAsPending(t *testing.T) {
	if got := FactsFromOrder(&certcentral.Order{ID: 9}); got.Status != state.StatusPending || got.OrderID != 9 {
		t.Errorf("no status: %+v, want pending order 9", got)
	}
	if got := FactsFromOrder(&certcentral.Order{ID: 9, Status: "issued"}); got.Status != state.StatusIssued {
		t.Errorf("issued: %+v", got)
	}
}
