package plan

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/certplan/certplan/pkg/certcentral"
	"github.com/certplan/certplan/pkg/spec"
	"github.com/certplan/certplan/pkg/state"
)

// The first-order guard (issue 11, item 3). An idempotency key finds an
// order only when certplan derives the same key again, which takes the
// spec it was ordered with and the order it renewed: both live in the
// state. When the state is new or was lost, an order placed from an older
// spec (then renewed under a newer one), a legacy v1 order (no key at all)
// or an imported one (placed outside certplan) cannot be found by key, and
// the first order of the name would buy it again. So while the state is new
// or lost (run.StateNewOrLost), every certificate it does not know is
// checked against the live orders CertCentral lists for its product, by
// names, before its first order, and blocked when one matches: "order N
// exists: `certplan import NAME N`".

// LiveOrderCheck says how the first order of a certificate the state does
// not know was checked against CertCentral's live orders (Change.LiveOrderCheck).
const (
	// LiveOrdersClear: the state is new or lost, and CertCentral lists no
	// live order of the product with these names (other than one apply
	// adopts by key).
	LiveOrdersClear = "clear"
	// LiveOrdersUnchecked: the state is new or lost, and the plan was made
	// without a listing (no API key, --refresh=false): apply lists before
	// it orders, and orders nothing while one matches.
	LiveOrdersUnchecked = "unchecked"
	// LiveOrdersAllowed: --allow-duplicate-order NAME: a second order is
	// wanted.
	LiveOrdersAllowed = "allowed"
)

// LiveOrder is an order CertCentral lists that may still be a certificate's
// current one: not rejected, canceled, revoked or expired.
type LiveOrder struct {
	OrderID            int64    `json:"order_id"`
	Product            string   `json:"product"`
	Status             string   `json:"status"`
	AlternativeOrderID string   `json:"alternative_order_id,omitempty"`
	CommonName         string   `json:"common_name,omitempty"`
	DNSNames           []string `json:"dns_names,omitempty"`
	RenewedOrderID     int64    `json:"renewed_order_id,omitempty"`
}

// ListLive lists the live orders of products in bulk (GET
// /order/certificate, paged by the client): one listing per product,
// filtered by filters[product_name_id], the one filter whose form is
// documented. Status is filtered here rather than by the API: an answer to
// a multi-valued status filter the server misread would be empty, and an
// empty answer would let the first order through. A legacy_ssl product
// takes one listing of every product instead, since a v1 order is listed
// under CertCentral's own product name, not legacy_ssl. calls counts the
// listings.
func ListLive(ctx context.Context, l OrderLister, products []spec.Product) (live []LiveOrder, calls int, err error) {
	var filters []string
	for _, p := range products {
		if p.IsLegacy() {
			filters = []string{""}
			break
		}
		if !slices.Contains(filters, string(p)) {
			filters = append(filters, string(p))
		}
	}
	sort.Strings(filters)
	for _, f := range filters {
		calls++
		orders, err := l.ListOrders(ctx, certcentral.ListFilter{ProductNameID: f})
		if err != nil {
			what := "every product"
			if f != "" {
				what = f
			}
			return nil, calls, fmt.Errorf("list the live orders of %s: %w", what, err)
		}
		for _, o := range orders {
			st := state.OrderStatus(o.Status)
			if o.ID <= 0 || st.Dead() || st == state.StatusExpired {
				continue
			}
			live = append(live, LiveOrder{OrderID: o.ID, Product: o.Product.NameID, Status: o.Status,
				AlternativeOrderID: o.AlternativeOrderID, CommonName: o.Certificate.CommonName,
				DNSNames: o.Certificate.DNSNames, RenewedOrderID: o.RenewedOrderID})
		}
	}
	return live, calls, nil
}

// Accounted are the live orders the guard leaves out: those the state
// tracks (OrderIDs, current or in history: another certificate's, say,
// with the same names) and those carrying a key apply looks up anyway
// (Keys: a first order's own key, an interrupted intent's), which it adopts
// by key.
type Accounted struct {
	Keys     map[string]bool
	OrderIDs map[int64]bool
}

// AccountedFor is what a state and its interrupted intents account for,
// plus the keys of the changes apply makes.
func AccountedFor(st *state.State, pending map[string]state.Record, keys ...string) Accounted {
	a := Accounted{Keys: map[string]bool{}, OrderIDs: map[int64]bool{}}
	if st != nil {
		a.OrderIDs = knownOrderIDs(st)
	}
	for _, r := range pending {
		if r.AlternativeOrderID != "" {
			a.Keys[r.AlternativeOrderID] = true
		}
	}
	for _, k := range keys {
		if k != "" {
			a.Keys[k] = true
		}
	}
	return a
}

// LiveMatches are the live orders that may be the current order of a
// certificate of product with the request body: the same product (any, for
// legacy_ssl, whose orders CertCentral lists under its own product names)
// and the same common name, or the same set of names. Accounted orders are
// left out, and so are orders renewed by another live order (the renewal is
// the current one). Newest first. A body without a common name (document
// signing) matches nothing.
func LiveMatches(product spec.Product, body map[string]any, live []LiveOrder, acc Accounted) []LiveOrder {
	cn, names := requestNames(product, body)
	if cn == "" {
		return nil
	}
	ids := make(map[int64]bool, len(live))
	for _, o := range live {
		ids[o.OrderID] = true
	}
	var out []LiveOrder
	for _, o := range live {
		switch {
		case o.AlternativeOrderID != "" && acc.Keys[o.AlternativeOrderID], acc.OrderIDs[o.OrderID],
			o.RenewedOrderID != 0 && ids[o.RenewedOrderID],
			!product.IsLegacy() && o.Product != string(product):
			continue
		}
		ocn := strings.ToLower(strings.TrimSpace(o.CommonName))
		onames := map[string]bool{}
		if ocn != "" {
			onames[ocn] = true
		}
		for _, n := range o.DNSNames {
			onames[strings.ToLower(strings.TrimSpace(n))] = true
		}
		if ocn == cn || sameSet(onames, names) {
			out = append(out, o)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].OrderID > out[j].OrderID })
	return out
}

// requestNames is a request's common name and all its names, lower-cased:
// v2 bodies carry them under certificate, legacy v1 bodies at the top
// (common_name, sans).
func requestNames(product spec.Product, body map[string]any) (string, map[string]bool) {
	if !product.IsLegacy() {
		return certNames(body)
	}
	set := map[string]bool{}
	cn, _ := body["common_name"].(string)
	cn = strings.ToLower(strings.TrimSpace(cn))
	if cn != "" {
		set[cn] = true
	}
	switch sans := body["sans"].(type) {
	case []any:
		for _, e := range sans {
			if s, ok := e.(string); ok {
				set[strings.ToLower(strings.TrimSpace(s))] = true
			}
		}
	case string:
		for _, s := range strings.Split(sans, ",") {
			if s = strings.ToLower(strings.TrimSpace(s)); s != "" {
				set[s] = true
			}
		}
	}
	return cn, set
}

func sameSet(a, b map[string]bool) bool {
	if len(a) != len(b) || len(a) == 0 {
		return false
	}
	for k := range a {
		if !b[k] {
			return false
		}
	}
	return true
}

// LiveOrderExists is the status of a certificate blocked by the guard.
func LiveOrderExists(name string, matches []LiveOrder) string {
	newest := matches[0]
	status := fmt.Sprintf("order %d exists: `certplan import %s %d`", newest.OrderID, name, newest.OrderID)
	if len(matches) > 1 {
		ids := make([]string, 0, len(matches)-1)
		for _, o := range matches[1:] {
			ids = append(ids, fmt.Sprint(o.OrderID))
		}
		status += " (also live with these names: " + listSome(ids, 5) + ")"
	}
	return status + ". The state does not know this certificate, because it is new or was lost, and CertCentral lists a live " +
		newest.Product + " order (" + newest.Status + ") with its names; certplan orders nothing in this state until such certificates are imported. " +
		"To buy a second one on purpose: --allow-duplicate-order " + name
}

// guard is what the first-order guard rule knows (nil: the state is
// healthy, and a certificate it does not know is simply new).
type guard struct {
	listed    bool        // the live orders were listed (else apply lists them)
	live      []LiveOrder // when listed
	accounted Accounted
	allowed   map[string]bool
}

// newGuard is the guard of a new or lost state: accounted are the orders
// the state tracks, the interrupted intents' keys and each unknown
// certificate's first-order key.
func newGuard(in Input, certs []*spec.Certificate, st *state.State) *guard {
	var keys []string
	for _, c := range certs {
		if st.Certificates[c.Name] == nil {
			keys = append(keys, key(c.Name, c.Product, SpecDigest(c), 0))
		}
	}
	return &guard{listed: in.LiveListed, live: in.LiveOrders, allowed: in.AllowDuplicateOrder,
		accounted: AccountedFor(st, in.Pending, keys...)}
}

// firstOrderGuard blocks the first order of a certificate the state does
// not know while the state is new or lost and CertCentral lists a live
// order with its product and names (see the top of this file).
func firstOrderGuard(g given) (decision, bool) {
	if g.current != nil || g.guard == nil || !g.guard.listed || g.guard.allowed[g.manifest.Name] {
		return pass()
	}
	matches := LiveMatches(g.manifest.Product, orderBody(g.manifest.Order, false), g.guard.live, g.guard.accounted)
	if len(matches) == 0 {
		return pass()
	}
	return blocked(LiveOrderExists(g.manifest.Name, matches),
		reason(ReasonLiveOrderExists, "the state is new or was lost, and CertCentral lists live order %d with this certificate's product and names: it is imported, not bought again", matches[0].OrderID)), true
}

// liveOrderCheck is how a first order was checked against live orders, or
// "" when it needs no check (a healthy state, a known certificate).
func liveOrderCheck(g given, d decision) string {
	if g.guard == nil || g.current != nil || d.resume != nil || d.action != ActionCreate {
		return ""
	}
	switch {
	case g.guard.allowed[g.manifest.Name]:
		return LiveOrdersAllowed
	case g.guard.listed:
		return LiveOrdersClear
	}
	return LiveOrdersUnchecked
}
