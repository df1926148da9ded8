package plan

import "fmt"

// Action is what a plan does for one certificate. It is the plan's own
// vocabulary, separate from state.Action (the kinds of journal and state
// records); apply maps one to the other in one place, where it journals an
// intent.
//
// Adding an action takes a constant, its place in AllActions and a case in
// each switch below; TestEveryActionIsHandled (and its siblings in pkg/apply
// and cmd/certplan) then fail until the summary, every renderer, the apply
// filter and the progress bar handle it.
type Action string

// Plan actions.
const (
	// ActionCreate places a new, billed order: the first one, or a
	// replacement for a rejected, canceled or revoked one.
	ActionCreate Action = "create"
	// ActionRenew places a new, billed order renewing the current one.
	ActionRenew Action = "renew"
	// ActionReissue asks CertCentral for a new certificate on the current,
	// paid order (same order id): free, except that added names are billed
	// pro rata.
	ActionReissue Action = "reissue"
	// ActionNoOp sends nothing.
	ActionNoOp Action = "no-op"
)

// AllActions lists every action, in the order summaries name them.
func AllActions() []Action {
	return []Action{ActionCreate, ActionRenew, ActionReissue, ActionNoOp}
}

// Valid reports whether a is one of AllActions.
func (a Action) Valid() bool {
	for _, v := range AllActions() {
		if a == v {
			return true
		}
	}
	return false
}

// String is the action's name in every output: "create", "renew",
// "reissue", "no-op".
func (a Action) String() string { return string(a) }

// Symbol is the action's one-character marker in text and markdown: "+"
// create, "~" renew, "*" reissue, "=" no-op; "?" for an action this certplan
// does not know.
func (a Action) Symbol() string {
	switch a {
	case ActionCreate:
		return "+"
	case ActionRenew:
		return "~"
	case ActionReissue:
		return "*"
	case ActionNoOp:
		return "="
	}
	return "?"
}

// PlacesBilledOrder reports whether applying the action buys an order. A
// reissue buys none (added names are billed pro rata on the same order:
// see Change.Billing).
func (a Action) PlacesBilledOrder() bool {
	switch a {
	case ActionCreate, ActionRenew:
		return true
	}
	return false
}

// TouchesCertCentral reports whether applying the action sends anything to
// CertCentral (and so journals an intent first).
func (a Action) TouchesCertCentral() bool {
	switch a {
	case ActionCreate, ActionRenew, ActionReissue:
		return true
	}
	return false
}

// UnmarshalText refuses an action this certplan does not know, so that a
// plan file cannot carry one into apply.
func (a *Action) UnmarshalText(b []byte) error {
	v := Action(b)
	if !v.Valid() {
		return fmt.Errorf("unknown plan action %q (this certplan knows %v)", v, AllActions())
	}
	*a = v
	return nil
}

// checkActions refuses a plan with an action this certplan does not know:
// renderers show every action or none, never a guess.
func checkActions(p *Plan) error {
	for i := range p.Changes {
		if c := &p.Changes[i]; !c.Action.Valid() {
			return fmt.Errorf("change %q has unknown plan action %q", c.Name, c.Action)
		}
	}
	return nil
}
