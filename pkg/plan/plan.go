// Package plan turns manifests, state, refreshed order facts and a clock into a
// plan of create, renew, reissue and no-op actions; it renders plans as text, JSON and
// markdown and reads and writes plan files.
//
// Build is a pure function: no I/O, no wall clock, deterministic output. Every
// decision is made by the ordered rule list in rules.go. The format is
// documented in docs/plan-format.md.
package plan

import (
	"time"

	"github.com/certplan/certplan/pkg/lifecycle"
	"github.com/certplan/certplan/pkg/spec"
	"github.com/certplan/certplan/pkg/state"
)

// FormatVersion is the version of the JSON plan schema and of plan files.
//
//   - 1: create, renew and no-op.
//   - 2: the reissue action; summary.reissue, .billed and .pro_rata; each
//     change's billing, destructive, next_certificate and csr_key_digest;
//     later within 2, each change's dcv (optional).
const FormatVersion = "2"

// Input is everything a plan is made from.
type Input struct {
	Certificates []*spec.Certificate
	State        *state.State
	// Pending holds interrupted intents by certificate name (journal intents
	// without an outcome), as returned by state loading.
	Pending map[string]state.Record
	// Facts are the refreshed orders by id (see Refresh); nil or empty when
	// refresh is off.
	Facts map[int64]state.OrderFacts
	Now   time.Time
	// Caps are the public TLS certificate caps by issuance date that the
	// next certificate's validity is computed with; nil means
	// lifecycle.DefaultCaps(), an empty table no limit.
	Caps lifecycle.Caps
	// DCVReuse is how long a completed domain validation is reused, by date;
	// nil means lifecycle.DefaultDCVReuse().
	DCVReuse lifecycle.Caps
	// ManifestDigests maps each manifest file to its sha256; recorded in the plan.
	ManifestDigests map[string]string
	// Version is the certplan version, recorded in the plan.
	Version string
	// Backend is the state planned against (kind and display name, never a
	// password), recorded in the plan so that `apply PLANFILE` finds it.
	Backend *state.BackendInfo
	// Commit is the version-control commit the manifests were planned
	// from (--commit, GITHUB_SHA or CI_COMMIT_SHA); "" when unknown.
	Commit string
	// Partial says that only some of the project's manifests were loaded
	// (`certplan plan certs/shop.yaml`): certificates of the state that no
	// loaded manifest declares are then counted as not planned, never
	// reported as orphans (their manifests may well exist).
	Partial bool

	// Unrecorded says the state is new or was lost (run.StateNewOrLost):
	// the first order of every certificate it does not know is checked
	// against CertCentral's live orders (guard.go). LiveOrders are those
	// orders (ListLive) when LiveListed; without a listing the check is
	// left to apply. AllowDuplicateOrder names certificates that may be
	// ordered anyway.
	Unrecorded          bool
	LiveOrders          []LiveOrder
	LiveListed          bool
	AllowDuplicateOrder map[string]bool
}

// Plan is the result of planning.
type Plan struct {
	FormatVersion   string `json:"format_version"`
	CertplanVersion string `json:"certplan_version"`
	Lineage         string `json:"lineage"`
	Serial          int64  `json:"serial"`
	// Backend is the state planned against: its kind and display name.
	Backend *state.BackendInfo `json:"backend,omitempty"`
	// JournalPosition is the backend's opaque position of the end of the
	// state's journal when the plan was made ("" when there was none): a
	// leftover journal means an interrupted apply. Apply refuses a plan
	// file when it changed.
	JournalPosition string    `json:"journal_position,omitempty"`
	PlannedAt       time.Time `json:"planned_at"`
	// Commit is the commit the manifests were planned from ("" unknown).
	Commit  string  `json:"commit,omitempty"`
	Summary Summary `json:"summary"`
	// Changes has one entry per manifest certificate, in name order, no-ops included.
	Changes []Change `json:"changes"`
	// Orphaned lists names in state that no manifest declares; they are left
	// alone. Empty when the plan is partial.
	Orphaned []string `json:"orphaned"`
	// Partial marks a plan of some of the project's manifests only (paths
	// naming files): Unplanned then counts the state's certificates no
	// loaded manifest declares, which are not called orphans.
	Partial   bool `json:"partial,omitempty"`
	Unplanned int  `json:"unplanned,omitempty"`
	// Drift lists what changed outside certplan, as seen by refresh.
	Drift           []Drift           `json:"drift"`
	ManifestDigests map[string]string `json:"manifest_digests,omitempty"`

	// SavedAs is the plan file this plan was saved to (`plan --out`), for
	// renderers to name; never written.
	SavedAs string `json:"-"`
}

// Summary counts the actions of a plan.
type Summary struct {
	Create   int `json:"create"`
	Renew    int `json:"renew"`
	Reissue  int `json:"reissue"`
	NoOp     int `json:"no_op"`
	Orphaned int `json:"orphaned"`
	// Blocked counts no-ops that need a person (a legacy order whose outcome
	// is unknown, a renewal placed outside certplan, a destructive reissue
	// the manifest does not allow): included in NoOp.
	Blocked int `json:"blocked"`
	// Billed counts the changes apply acts on that buy a new order (create
	// and renew, blocked ones excluded).
	Billed int `json:"billed"`
	// ProRata counts the reissues that add names, billed pro rata on their
	// order.
	ProRata int `json:"pro_rata"`
	// Moved counts the changes that rename a certificate in the state
	// (metadata.previousNames); apply records them, ordering nothing for
	// the move itself.
	Moved int `json:"moved,omitempty"`
}

// Change is the planned action for one manifest certificate.
type Change struct {
	Name    string       `json:"name"`
	Product spec.Product `json:"product"`
	Action  Action       `json:"action"` // create | renew | reissue | no-op
	Reasons []Reason     `json:"reasons"`
	// Resuming marks the completion of an interrupted apply (same key as its intent).
	Resuming bool `json:"resuming"`
	// AlternativeOrderID is the idempotency key; create/renew of v2 products only.
	AlternativeOrderID string      `json:"alternative_order_id,omitempty"`
	Diff               []DiffEntry `json:"diff"`
	// Status describes a no-op: issued, pending, or what blocks it.
	Status string `json:"status,omitempty"`
	// Blocked means nothing will be ordered until the user resolves the cause
	// named in Status (a legacy order of unknown outcome, a renewal made
	// outside certplan, a destructive reissue the manifest does not allow).
	Blocked bool `json:"blocked,omitempty"`
	// Predecessor is the order renewed or replaced (0: initial order).
	Predecessor int64 `json:"predecessor_order_id,omitempty"`
	// RenewalOfOrderID is sent as renewal_of_order_id (renew only).
	RenewalOfOrderID int64  `json:"renewal_of_order_id,omitempty"`
	SpecDigest       string `json:"spec_digest,omitempty"`
	RequestDigest    string `json:"request_digest,omitempty"`
	// Request is the body to submit, without alternative_order_id and
	// renewal_of_order_id (apply adds them); secrets are spec.Secret values.
	// Present for create/renew only; kept in plan files, not in --format json.
	Request map[string]any `json:"request,omitempty"`
	// SecretRefs locates the secrets of Request (plan files only).
	SecretRefs map[string]spec.SecretRef `json:"secret_refs,omitempty"`
	// OrderID is the current order (no-op, renew), or the order reissued
	// (reissue: Request is then the manifest's order body, from which apply
	// builds the wire body with certcentral.BuildReissueBody).
	OrderID int64 `json:"order_id,omitempty"`
	// CSRKeyDigest is the hex sha256 of the DER SubjectPublicKeyInfo of the
	// manifest's CSR (reissue only): apply journals it and matches it in the
	// order's reissue list after an ambiguous failure.
	CSRKeyDigest string `json:"csr_key_digest,omitempty"`
	// Billing says what applying the change costs (create/renew/reissue).
	Billing *Billing `json:"billing,omitempty"`
	// Destructive marks a reissue that removes or changes names: DigiCert revokes every earlier certificate of the order 48–72 h after it issues.
	Destructive bool `json:"destructive,omitempty"`
	// NextCertificate is the expected validity of the certificate the change would issue.
	NextCertificate *Validity `json:"next_certificate,omitempty"`
	// MovedFrom is the name the state tracks this certificate by, which
	// the manifest lists in metadata.previousNames: apply renames the
	// state's entry to Name (before ordering anything), and the change is
	// planned against that entry.
	MovedFrom string `json:"moved_from,omitempty"`
	// DCV is the order's domain validation: the records to publish while it
	// awaits validation, the validations that lapse before the next
	// certificate (see dcv.go).
	DCV *DCV `json:"dcv,omitempty"`
	// Replacement is set on a resumed create or renew whose manifest changed
	// since the interrupted apply: the change the manifest as it is now
	// gets, which apply makes instead of resuming when the look-up proves
	// that the interrupted order was never placed (resume or replace, see
	// docs/plan-format.md). Never nested further.
	Replacement *Change `json:"replacement,omitempty"`
	// LiveOrderCheck says how the first order of a certificate the state
	// does not know was checked against CertCentral's live orders while the
	// state is new or lost: "clear", "unchecked" (apply lists before it
	// orders) or "allowed" (--allow-duplicate-order); "" when no check is
	// needed (guard.go).
	LiveOrderCheck string `json:"live_order_check,omitempty"`
}

// BillingKind is how a change is paid for.
type BillingKind string

// Billing kinds.
const (
	// BillingNewOrder is a new, billed order (create, renew).
	BillingNewOrder BillingKind = "new_order"
	// BillingFree is a reissue on an order already paid for (or a no-op).
	BillingFree BillingKind = "free"
	// BillingProRata is a reissue that adds names: DigiCert bills them pro
	// rata for the rest of the order's plan.
	BillingProRata BillingKind = "pro_rata"
)

// Billing says what applying a change costs.
type Billing struct {
	Kind BillingKind `json:"kind"`
	// OrderID is the order reissued, or renewed.
	OrderID int64 `json:"order_id,omitempty"`
	// PaidThrough is the order's end (yyyy-MM-dd), for reissues and no-ops.
	PaidThrough string `json:"paid_through,omitempty"`
	// Plan is the length of a new order's plan, e.g. "1 year".
	Plan string `json:"plan,omitempty"`
	// AddedNames are the names billed pro rata.
	AddedNames []string `json:"added_names,omitempty"`
	// PaymentMethod is how a new order is paid (the body's payment_method:
	// balance, card, profile); "" when the body does not say.
	PaymentMethod string `json:"payment_method,omitempty"`
}

// Validity is a certificate's expected validity period.
type Validity struct {
	ValidFrom string `json:"valid_from"` // yyyy-MM-dd
	ValidTill string `json:"valid_till"` // yyyy-MM-dd
	Days      int    `json:"days"`
}

// DiffEntry is one changed field: a dotted path with its JSON values before and
// after (null when absent). Secrets appear as "(sensitive)".
type DiffEntry struct {
	Path   string `json:"path"`
	Before any    `json:"before"`
	After  any    `json:"after"`
}

// Drift is a difference between state and CertCentral that certplan did not cause.
type Drift struct {
	Name    string `json:"name"`
	OrderID int64  `json:"order_id"`
	Field   string `json:"field"`
	State   string `json:"state"`
	API     string `json:"api"`
	Message string `json:"message"`
}

// Applies reports whether apply acts on the change: its action sends
// something to CertCentral and nothing blocks it. An action this certplan
// does not know is acted on too, so that apply refuses it with an error
// instead of skipping it as if it were a no-op.
func (c *Change) Applies() bool {
	if c.Blocked {
		return false
	}
	return c.Action.TouchesCertCentral() || !c.Action.Valid()
}

// ToApply is the changes apply acts on, in plan order.
func (p *Plan) ToApply() []Change {
	var out []Change
	for i := range p.Changes {
		if p.Changes[i].Applies() {
			out = append(out, p.Changes[i])
		}
	}
	return out
}

// HasMoves reports whether apply would rename any certificate in the state.
func (p *Plan) HasMoves() bool {
	for i := range p.Changes {
		if p.Changes[i].MovedFrom != "" {
			return true
		}
	}
	return false
}

// HasChanges reports whether apply would act on any change (see Change.Applies).
func (p *Plan) HasChanges() bool {
	for i := range p.Changes {
		if p.Changes[i].Applies() {
			return true
		}
	}
	return false
}

// add counts one change. An action the summary does not know is counted
// nowhere (never as a no-op); renderers refuse such a plan.
func (s *Summary) add(c *Change) {
	if c.MovedFrom != "" {
		s.Moved++
	}
	switch c.Action {
	case ActionCreate:
		s.Create++
	case ActionRenew:
		s.Renew++
	case ActionReissue:
		s.Reissue++
	case ActionNoOp:
		s.NoOp++
	}
	if c.Blocked {
		s.Blocked++
		return
	}
	if c.Action.PlacesBilledOrder() {
		s.Billed++
	}
	if c.Action == ActionReissue && c.Billing != nil && c.Billing.Kind == BillingProRata {
		s.ProRata++
	}
}

// Count is how many changes of the plan have action a.
func (s Summary) Count(a Action) int {
	switch a {
	case ActionCreate:
		return s.Create
	case ActionRenew:
		return s.Renew
	case ActionReissue:
		return s.Reissue
	case ActionNoOp:
		return s.NoOp
	}
	return 0
}
