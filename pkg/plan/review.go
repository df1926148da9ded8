package plan

import (
	"fmt"
	"slices"
	"strings"
)

// This file narrows a fresh plan to what a person approved, for unattended
// applies: `apply --reviewed PLANFILE` (after a merge: only the orders the
// pull request's plan showed) and `apply --only renew,reissue` (a schedule:
// no new certificates). A change that may not be applied is held back: it
// becomes a blocked no-op that says why, so that apply places nothing for it
// and exits non-zero, and the rest of the plan goes ahead.
//
// Resumptions are never held back: they complete an order an earlier apply
// already journaled (and may have placed), with the same key.

// ParseActions reads a comma-separated list of plan actions (`--only
// renew,reissue`). Every word must be one of AllActions; duplicates count
// once. An empty list is an error.
func ParseActions(list string) ([]Action, error) {
	var out []Action
	for _, w := range strings.Split(list, ",") {
		w = strings.TrimSpace(w)
		if w == "" {
			continue
		}
		a := Action(w)
		if !a.Valid() {
			return nil, fmt.Errorf("unknown action %q: want a comma-separated list of %s", w, actionList())
		}
		if !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no action given: want a comma-separated list of %s", actionList())
	}
	return out, nil
}

func actionList() string {
	var s []string
	for _, a := range AllActions() {
		s = append(s, string(a))
	}
	return strings.Join(s, ", ")
}

// HoldBackExcept holds back every change apply would act on whose action is
// not in only, and returns the names held back.
func (p *Plan) HoldBackExcept(only []Action) []string {
	words := make([]string, len(only))
	for i, a := range only {
		words[i] = string(a)
	}
	allowed := strings.Join(words, ", ")
	return p.holdBack(ReasonHeldBack, func(c *Change) string {
		if slices.Contains(only, c.Action) {
			return ""
		}
		what := "a " + string(c.Action)
		if c.Action == ActionCreate {
			what = "a new certificate"
		}
		return sprintf("this run places only %s (--only): %s needs a reviewed plan; merge a pull request that shows it, or run `certplan apply` by hand", allowed, what)
	})
}

// HoldBackUnreviewed holds back every change apply would act on that the
// reviewed plan did not show as the same order, and returns the names held
// back. The same order is: the same name and action, the same
// alternative_order_id (which fixes the product, the certificate-shaping
// fields and the order renewed or replaced), or for keyless legacy orders the
// same order renewed or replaced, or for a reissue the same order and CSR key;
// and the same request body (payment, comments and every other field). An
// order the reviewed plan showed but this one does not want any more (main
// renewed it meanwhile) is simply not placed.
func (p *Plan) HoldBackUnreviewed(reviewed *Plan, source string) []string {
	shown := map[string]*Change{}
	for i := range reviewed.Changes {
		if c := &reviewed.Changes[i]; c.Applies() {
			shown[c.Name] = c
		}
	}
	return p.holdBack(ReasonNotReviewed, func(c *Change) string {
		why := unreviewed(shown[c.Name], c)
		if why == "" {
			return ""
		}
		return sprintf("not in the reviewed plan (%s): %s. Review it in a pull request (a new commit plans again) and merge that, or run `certplan apply` by hand", source, why)
	})
}

// unreviewed says how c differs from the reviewed change r of the same
// name (nil: none), or "" when it is the same order.
func unreviewed(r, c *Change) string {
	switch {
	case r == nil:
		return sprintf("it showed no %s of %s", c.Action, c.Name)
	case r.Action != c.Action:
		return sprintf("it showed a %s of %s, this plan wants a %s", r.Action, c.Name, c.Action)
	case c.Action == ActionRenew && r.RenewalOfOrderID != c.RenewalOfOrderID:
		return sprintf("it renewed order %d, this plan renews order %d (the state changed since the review)", r.RenewalOfOrderID, c.RenewalOfOrderID)
	case c.Action == ActionCreate && r.Predecessor != c.Predecessor:
		return sprintf("it replaced order %d, this plan replaces order %d (the state changed since the review)", r.Predecessor, c.Predecessor)
	case c.Action == ActionReissue && r.OrderID != c.OrderID:
		return sprintf("it reissued on order %d, this plan on order %d (the state changed since the review)", r.OrderID, c.OrderID)
	case c.Action == ActionReissue && r.CSRKeyDigest != c.CSRKeyDigest:
		return "it reissued with another CSR key"
	case r.Product != c.Product:
		return sprintf("it ordered %s, this plan orders %s", r.Product, c.Product)
	case r.AlternativeOrderID != c.AlternativeOrderID:
		return sprintf("its certificate-shaping fields differ (alternative_order_id %s, now %s)", short(r.AlternativeOrderID), short(c.AlternativeOrderID))
	case r.RequestDigest != c.RequestDigest:
		var fields []string
		for _, d := range diffBodies(r.Request, c.Request) {
			fields = append(fields, d.Path)
		}
		if len(fields) == 0 {
			return "its request body differs"
		}
		return "its request body differs in " + listSome(fields, 5)
	}
	return ""
}

func short(key string) string {
	if len(key) > 14 {
		return key[:14] + "…"
	}
	return key
}

// holdBack turns every change apply would act on (resumptions excepted)
// for which why returns a message into a blocked no-op carrying it, and
// counts the plan again. It returns the names held back, in plan order.
func (p *Plan) holdBack(code ReasonCode, why func(c *Change) string) []string {
	var names []string
	for i := range p.Changes {
		c := &p.Changes[i]
		if !c.Applies() || c.Resuming {
			continue
		}
		msg := why(c)
		if msg == "" {
			continue
		}
		names = append(names, c.Name)
		was := c.Action
		*c = Change{
			Name: c.Name, Product: c.Product, Action: ActionNoOp, Blocked: true,
			Reasons:    append(slices.Clip(c.Reasons), Reason{Code: code, Message: msg}),
			Diff:       []DiffEntry{},
			Status:     sprintf("held back: %s %s", was, msg),
			OrderID:    c.OrderID,
			SpecDigest: c.SpecDigest, RequestDigest: c.RequestDigest,
			MovedFrom: c.MovedFrom,
		}
	}
	if len(names) > 0 {
		p.recount()
	}
	return names
}

// recount computes the summary again from the changes.
func (p *Plan) recount() {
	s := Summary{Orphaned: len(p.Orphaned)}
	for i := range p.Changes {
		s.add(&p.Changes[i])
	}
	p.Summary = s
}
