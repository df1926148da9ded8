// Package state holds certplan's record of the orders it placed: a deterministic
// JSON snapshot safe to commit, an append-only write-ahead journal that apply
// writes, and the lock that guards both. A Backend stores them; FileBackend
// keeps them in files beside each other, and pkg/state/statetest is the
// conformance suite every backend passes.
package state

import "time"

// FormatVersion is the state format this binary writes and the newest it
// reads. Older versions are read and upgraded in memory; the next Commit
// writes them in this version.
//
//   - 1: the first format.
//   - 2: history entries are identified by order and certificate (a second
//     certificate on the same order, a reissue, gets its own entry instead of
//     overwriting the first), and journal intents name their duplicate check
//     (dup_check). A version 1 certplan must not read either.
const FormatVersion = 2

// OrderStatus is a CertCentral order status as certplan tracks it.
type OrderStatus string

// Order statuses (CertCentral's, plus UnknownOutcome for certplan's own
// "a legacy v1 submission may or may not have created an order").
const (
	StatusPending        OrderStatus = "pending"
	StatusNeedsApproval  OrderStatus = "needs_approval"
	StatusWaitingPickup  OrderStatus = "waiting_pickup"
	StatusProcessing     OrderStatus = "processing"
	StatusReissuePending OrderStatus = "reissue_pending"
	StatusIssued         OrderStatus = "issued"
	StatusExpired        OrderStatus = "expired"
	StatusRejected       OrderStatus = "rejected"
	StatusCanceled       OrderStatus = "canceled"
	StatusRevoked        OrderStatus = "revoked"
	StatusUnknownOutcome OrderStatus = "unknown_outcome"
)

// Dead reports whether an order in this status will never yield a usable
// certificate, so the certificate must be ordered afresh.
func (s OrderStatus) Dead() bool {
	return s == StatusRejected || s == StatusCanceled || s == StatusRevoked
}

// InFlight reports whether the order may still change status on its own
// (awaiting approval, validation or issuance).
func (s OrderStatus) InFlight() bool {
	switch s {
	case StatusPending, StatusNeedsApproval, StatusWaitingPickup, StatusProcessing, StatusReissuePending:
		return true
	}
	return false
}

// Action is what certplan did or intends to do for a certificate.
type Action string

// Actions.
const (
	ActionCreate Action = "create"
	ActionRenew  Action = "renew"
	// ActionReissue: a new certificate on the same, paid order. Its intent has
	// no alternative_order_id of its own: the order (ReissueOf) and the digest
	// of the CSR's public key (CSRKeyDigest) identify it, and it is checked
	// with DupCheckCSRMatch.
	ActionReissue Action = "reissue"
	ActionNoOp    Action = "no-op"
	ActionImport  Action = "import" // adopted by `certplan import` / `state set-order`
)

// State is the whole snapshot. Maps marshal with sorted keys, so the file is
// deterministic and its Git diff reviewable.
type State struct {
	Version      int                     `json:"version"`
	Lineage      string                  `json:"lineage"`
	Serial       int64                   `json:"serial"`
	Certificates map[string]*Certificate `json:"certificates"`
}

// Certificate is what certplan knows about one manifest's current order.
type Certificate struct {
	Product    string `json:"product"`
	SpecDigest string `json:"spec_digest"` // digest of the certificate-shaping fields
	// RequestDigest is the digest of the full submitted body (secrets as "(sensitive)").
	RequestDigest string `json:"request_digest,omitempty"`
	// Request is the submitted request body with secrets replaced by "(sensitive)".
	Request map[string]any `json:"request,omitempty"`

	// Action is how the current order (or, after a reissue, the current
	// certificate of the same order) came about: create, renew, reissue or
	// import.
	Action Action `json:"action,omitempty"`
	// Since is when the current order became this certificate's current order
	// (the time of the journal record or `state set-order` that made it so).
	Since time.Time `json:"since"`

	OrderID            int64       `json:"order_id,omitempty"`
	AlternativeOrderID string      `json:"alternative_order_id,omitempty"`
	RequestID          int64       `json:"request_id,omitempty"`
	RequestStatus      string      `json:"request_status,omitempty"`
	Status             OrderStatus `json:"status"`
	CertificateID      int64       `json:"certificate_id,omitempty"`
	// Dates as CertCentral returns them (yyyy-MM-dd), kept as strings so that
	// the state carries exactly what the API said.
	OrderValidFrom string `json:"order_valid_from,omitempty"`
	OrderValidTill string `json:"order_valid_till,omitempty"`
	ValidFrom      string `json:"valid_from,omitempty"`
	ValidTill      string `json:"valid_till,omitempty"`

	// StatusSince is when certplan first saw the current status (for "pending since").
	StatusSince *time.Time `json:"status_since,omitempty"`
	UpdatedAt   time.Time  `json:"updated_at"`

	// DCV is the current order's domain validation, when certplan has seen
	// one (optional; see DCV).
	DCV *DCV `json:"dcv,omitempty"`

	// History lists earlier orders of this certificate, oldest first.
	History []HistoryEntry `json:"history,omitempty"`
}

// HistoryEntry is one earlier order of a certificate, or one earlier
// certificate of an order that is still current (a reissue). Entries are
// identified by order id and certificate id; a certificate id of 0 means
// "not known" and matches any certificate of the same order.
type HistoryEntry struct {
	Action             Action      `json:"action"`
	OrderID            int64       `json:"order_id,omitempty"`
	AlternativeOrderID string      `json:"alternative_order_id,omitempty"`
	Status             OrderStatus `json:"status"`
	CertificateID      int64       `json:"certificate_id,omitempty"`
	ValidTill          string      `json:"valid_till,omitempty"`
	// At is when this order became current (the certificate's Since at the
	// time it was replaced).
	At time.Time `json:"at"`
}

// RecordType is the kind of a journal record.
type RecordType string

// Journal record types. Every intent is eventually followed by exactly one
// outcome or failure for the same name and key; an intent without one means
// apply was interrupted and the next run resumes it.
const (
	RecordIntent  RecordType = "intent"
	RecordOutcome RecordType = "outcome"
	RecordFailure RecordType = "failure"
)

// DupCheck names how an interrupted intent is checked for a request that
// may already have reached CertCentral, before it is sent again.
type DupCheck string

// Duplicate checks.
const (
	// DupCheckAlternateID: look the order up by its alternative_order_id
	// (the intent's key). Orders of v2 products.
	DupCheckAlternateID DupCheck = "alternate_id"
	// DupCheckCSRMatch: match the digest of the CSR's public key against the
	// certificates in the order's reissue list. Reissues, which have no
	// client key.
	DupCheckCSRMatch DupCheck = "csr_match"
	// DupCheckNone: no check is possible (legacy v1 orders). An interrupted
	// intent with this check has an unknown outcome: a person must resolve it.
	DupCheckNone DupCheck = "none"
)

// Record is one line of the write-ahead journal.
type Record struct {
	Seq                int64      `json:"seq"`
	Time               time.Time  `json:"time"`
	Type               RecordType `json:"type"`
	Name               string     `json:"name"`
	Action             Action     `json:"action"`
	AlternativeOrderID string     `json:"alternative_order_id,omitempty"`
	// DupCheck is how an interrupted intent is checked for duplicates. Every
	// intent written by format version 2 names it; records written by
	// version 1 have none (see Record.DuplicateCheck).
	DupCheck      DupCheck `json:"dup_check,omitempty"`
	RequestDigest string   `json:"request_digest,omitempty"`

	// Intent fields.
	Product    string         `json:"product,omitempty"`
	SpecDigest string         `json:"spec_digest,omitempty"`
	RenewalOf  int64          `json:"renewal_of_order_id,omitempty"`
	Request    map[string]any `json:"request,omitempty"` // secrets as "(sensitive)"

	// Reissue fields (action reissue; optional, so records written before
	// reissues existed read as before). A reissue has no client key: it is
	// identified by the order it reissues and the hex sha256 of the DER
	// SubjectPublicKeyInfo of its CSR (spec.CSRKeyDigest). Its outcome
	// and failure records repeat both, which pairs them with the intent.
	ReissueOf    int64  `json:"reissue_of_order_id,omitempty"`
	CSRKeyDigest string `json:"csr_key_digest,omitempty"`
	// PriorCertificateIDs are the certificates the order had when the
	// reissue was first intended (its reissue list and its current
	// certificate). After an ambiguous failure, a certificate of the order
	// that is not among them and whose CSR has CSRKeyDigest is this
	// reissue's: the same CSR is often reused, so the key alone cannot tell
	// the new certificate from the earlier ones. A resumed intent carries
	// the first intent's list, never a re-read one.
	PriorCertificateIDs []int64 `json:"prior_certificate_ids,omitempty"`

	// Outcome fields.
	Order *OrderFacts `json:"order,omitempty"`

	// Failure fields. Error is a redacted message. NothingCreated says the
	// failure provably created no order (safe to submit again with a new plan);
	// Unknown marks a legacy order whose outcome cannot be known.
	Error          string `json:"error,omitempty"`
	NothingCreated bool   `json:"nothing_created,omitempty"`
	Unknown        bool   `json:"unknown_outcome,omitempty"`

	// LastAttempt is when a submission whose outcome is unknown last ended
	// (a timeout, a reset, a 5xx, an unreadable 2xx). apply writes it on
	// the failure record that leaves the intent open (neither
	// nothing_created nor unknown_outcome); Fold carries the latest one onto
	// the open intent, which keeps it when the journal is retired. The next
	// run sends again only once the look-up is old enough to be believed
	// (docs/idempotency.md).
	LastAttempt *time.Time `json:"last_attempt,omitempty"`
}

// OrderFacts are the facts about an order as read from CertCentral.
type OrderFacts struct {
	OrderID            int64       `json:"order_id"`
	AlternativeOrderID string      `json:"alternative_order_id,omitempty"`
	RequestID          int64       `json:"request_id,omitempty"`
	RequestStatus      string      `json:"request_status,omitempty"`
	Status             OrderStatus `json:"status"`
	CertificateID      int64       `json:"certificate_id,omitempty"`
	OrderValidFrom     string      `json:"order_valid_from,omitempty"`
	OrderValidTill     string      `json:"order_valid_till,omitempty"`
	ValidFrom          string      `json:"valid_from,omitempty"`
	ValidTill          string      `json:"valid_till,omitempty"`
	RenewalOfOrderID   int64       `json:"renewal_of_order_id,omitempty"`
	IsRenewed          bool        `json:"is_renewed,omitempty"`
	RenewedOrderID     int64       `json:"renewed_order_id,omitempty"`
	// DCV is the order's domain validation as last seen (optional).
	DCV *DCV `json:"dcv,omitempty"`
}
