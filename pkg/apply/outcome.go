// Package apply executes a plan: it journals every intent, looks the
// idempotency key up, adopts an order that already exists or submits a new
// one, and records the outcome, so that every intended order is placed
// exactly once whatever fails.
package apply

import (
	"github.com/certplan/certplan/pkg/plan"
)

// Outcome is how one planned order ended in this run.
type Outcome string

// Outcomes of a planned order.
const (
	// OutcomeCreated: certplan submitted the order (or the reissue) and
	// CertCentral accepted it.
	OutcomeCreated Outcome = "created"
	// OutcomeAdopted: an order with the same alternative_order_id already
	// existed (an earlier run's order whose response was lost, or a lost state
	// file), and certplan adopted it instead of ordering again; for a
	// reissue, a certificate of the order with the CSR's key that the order
	// did not have before.
	OutcomeAdopted Outcome = "adopted"
	// OutcomeFailed: CertCentral provably created nothing (validation error,
	// 429 after retries, auth); fix the cause and apply again.
	OutcomeFailed Outcome = "failed"
	// OutcomeUnresolved: the order may or may not exist and the look-up could
	// not tell (network down); the intent stays in the journal and the next
	// run resumes it with the same key.
	OutcomeUnresolved Outcome = "unresolved"
	// OutcomeUnknown: a legacy v1 order whose submission outcome cannot be
	// known (v1 has no idempotency key); resolve with `state set-order` or `state rm`.
	OutcomeUnknown Outcome = "unknown outcome"
	// OutcomeSkipped: not started because the run was interrupted.
	OutcomeSkipped Outcome = "skipped"
	// OutcomeClosed: an interrupted order whose manifest changed since was
	// proven never placed; its intent was closed, and the manifest as it is
	// now orders nothing (a no-op, or blocked: the next plan says why).
	OutcomeClosed Outcome = "closed"
)

// Failed reports whether the outcome makes the run exit non-zero.
func (o Outcome) Failed() bool {
	return o == OutcomeFailed || o == OutcomeUnresolved || o == OutcomeUnknown || o == OutcomeSkipped
}

// Result is the outcome of one planned order.
type Result struct {
	Name    string      `json:"name"`
	Action  plan.Action `json:"action"`
	Outcome Outcome     `json:"outcome"`
	OrderID int64       `json:"order_id,omitempty"`
	// CertificateID is a reissue's new certificate (reissues only).
	CertificateID int64  `json:"certificate_id,omitempty"`
	Status        string `json:"status,omitempty"`
	Error         string `json:"error,omitempty"` // redacted

	key string // the alternative_order_id it was placed with

	// fatal: the failure will hit every other order too (the API key was
	// rejected), so the run stops starting new ones.
	fatal bool
}
