package apply

import (
	"context"
	"testing"

	"github.com/certplan/certplan/pkg/certcentral"
	"github.com/certplan/certplan/pkg/plan"
	"github.com/certplan/certplan/pkg/spec"
	"github.com/certplan/certplan/pkg/state"
)

// laggingDuplicateAPI: an earlier run's POST timed out and committed; the
// account enforces unique ids, so a new POST is refused as a duplicate, but
// the look-up index has not caught up yet (the lag order.go's timeout branch
// itself assumes).
type laggingDuplicateAPI struct{ lateCommitAPI }

func (a *laggingDuplicateAPI) PlaceOrder(context.Context, spec.Product, []byte) (*certcentral.PlaceOrderResponse, error) {
	return nil, &certcentral.APIError{StatusCode: 400, Errors: []certcentral.ErrorDetail{{Code: "duplicate_alternative_order_id"}}}
}

// Resuming an interrupted intent is ambiguous from the start: an earlier run
// may have created the order. "Duplicate, but the look-up found nothing" must
// keep the intent open, not journal nothing_created (which closes it, so a
// manifest edit before the next run orders under a new key: a duplicate).
func TestResumedDuplicateWithLookupMissKeepsIntentOpen(t *testing.T) {
	ch := change("shop", spec.SecureSiteFlex)
	ch.Resuming = true
	j := &memJournal{}
	rep := Run(context.Background(), &plan.Plan{Changes: []plan.Change{ch}},
		Options{API: &laggingDuplicateAPI{}, Journal: j, Recovery: noWait()})
	if got := rep.Results[0].Outcome; got != OutcomeUnresolved {
		t.Errorf("outcome = %s, want %s", got, OutcomeUnresolved)
	}
	for _, r := range j.recs {
		if r.Type == state.RecordFailure && r.NothingCreated {
			t.Errorf("journaled nothing_created for a resumed intent CertCentral calls a duplicate: %+v", r)
		}
	}
}
