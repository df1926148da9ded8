package plan

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/certplan/certplan/pkg/spec"
	"github.com/certplan/certplan/pkg/state"
)

// situation is what a rule is given, before Build's preparation.
type situation struct {
	cert   *spec.Certificate
	state  func(t *testing.T, c *spec.Certificate) *state.Certificate // nil: not in state
	edit   func(c *spec.Certificate)                                  // applied after state is made
	intent func(t *testing.T, c *spec.Certificate) *state.Record      // an interrupted apply
	facts  map[int64]state.OrderFacts
	guard  *guard // the state is new or lost (nil: healthy)
}

// given prepares the situation as Build does, on a copy of the manifest
// (the tables are shared).
func (s situation) given(t *testing.T) given {
	t.Helper()
	c := new(spec.Certificate)
	*c = *s.cert
	c.Order = deepCopy(s.cert.Order).(map[string]any)
	var cur *state.Certificate
	if s.state != nil {
		cur = s.state(t, c)
	}
	var rec *state.Record
	if s.intent != nil {
		rec = s.intent(t, c)
	}
	if s.edit != nil {
		s.edit(c)
	}
	st := &state.State{Certificates: map[string]*state.Certificate{c.Name: cur}}
	pl := planner{now: testNow, facts: s.facts, known: knownOrderIDs(st), guard: s.guard}
	g, _ := pl.given(c, cur, rec)
	return g
}

// ruleCase is one situation for one rule, and what the rule must do.
type ruleCase struct {
	name string
	situation
	passes      bool
	action      Action
	codes       []ReasonCode
	blocked     bool
	status      string // exact when set
	predecessor int64
	resuming    bool
	destructive bool
	added       []string // names a reissue adds (billed pro rata)
}

func issuedTill(id int64, till string) func(t *testing.T, c *spec.Certificate) *state.Certificate {
	return func(t *testing.T, c *spec.Certificate) *state.Certificate { return applied(t, c, id, till) }
}

// planTill is an issued order of a product with plans: the certificate
// valid till certTill on an order (the paid plan) running till orderTill.
func planTill(id int64, certTill, orderTill string) func(t *testing.T, c *spec.Certificate) *state.Certificate {
	return func(t *testing.T, c *spec.Certificate) *state.Certificate {
		s := applied(t, c, id, certTill)
		s.OrderValidTill = orderTill
		return s
	}
}

func setNames(names ...any) func(c *spec.Certificate) {
	return func(c *spec.Certificate) { setPath("certificate.dns_names", names)(c.Order) }
}

func allowDestructive(c *spec.Certificate) *spec.Certificate {
	c.AllowDestructiveReissue = true
	return c
}

func autoReissueOn(c *spec.Certificate) *spec.Certificate {
	c.Order["auto_reissue"] = 1
	return c
}

// both applies edits in order.
func both(edits ...func(c *spec.Certificate)) func(c *spec.Certificate) {
	return func(c *spec.Certificate) {
		for _, e := range edits {
			e(c)
		}
	}
}

func inStatus(id int64, s state.OrderStatus) func(t *testing.T, c *spec.Certificate) *state.Certificate {
	return func(t *testing.T, c *spec.Certificate) *state.Certificate {
		st := applied(t, c, id, "")
		st.ValidTill, st.OrderValidTill = "", ""
		st.Status = s
		since := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
		st.StatusSince = &since
		return st
	}
}

func importedTill(id int64, till string) func(t *testing.T, c *spec.Certificate) *state.Certificate {
	return func(t *testing.T, c *spec.Certificate) *state.Certificate {
		s := applied(t, c, id, till)
		s.Request, s.RequestDigest, s.SpecDigest, s.Action = nil, "", "", state.ActionImport
		return s
	}
}

// journaled is an intent of c as apply would have written it.
func journaled(action state.Action, altID string, renewalOf int64) func(t *testing.T, c *spec.Certificate) *state.Record {
	return func(t *testing.T, c *spec.Certificate) *state.Record {
		return &state.Record{
			Type: state.RecordIntent, Time: time.Date(2026, 11, 22, 18, 4, 5, 0, time.UTC), Name: c.Name,
			Action: action, AlternativeOrderID: altID, Product: string(c.Product), SpecDigest: SpecDigest(c),
			RequestDigest: RequestDigest(c.Order), RenewalOf: renewalOf, Request: roundTrip(t, c.Order),
		}
	}
}

// withoutJournaledRequest drops the intent's body (an older journal).
func withoutJournaledRequest(f func(t *testing.T, c *spec.Certificate) *state.Record) func(t *testing.T, c *spec.Certificate) *state.Record {
	return func(t *testing.T, c *spec.Certificate) *state.Record {
		r := f(t, c)
		r.Request = nil
		return r
	}
}

// ownRenewal is what refresh reads when order id of c was renewed by
// certplan from another copy of the state as order by: id says so, and by
// carries the key certplan derives for that renewal. edit changes by's facts.
func ownRenewal(c *spec.Certificate, id, by int64, edit func(*state.OrderFacts)) map[int64]state.OrderFacts {
	renewal := state.OrderFacts{OrderID: by, Status: state.StatusIssued, RenewalOfOrderID: id,
		AlternativeOrderID: AlternativeOrderID(c.Name, c.Product, SpecDigest(c), fmt.Sprint(id))}
	if edit != nil {
		edit(&renewal)
	}
	return map[int64]state.OrderFacts{
		id: {OrderID: id, Status: state.StatusIssued, IsRenewed: true, RenewedOrderID: by},
		by: renewal,
	}
}

// liveGuard is the guard of a lost state whose listing found live.
func liveGuard(live ...LiveOrder) *guard {
	return &guard{listed: true, live: live, accounted: AccountedFor(nil, nil)}
}

// ruleTables has a table per rule of planRules, by name.
var ruleTables = map[string][]ruleCase{
	"resume": {
		{name: "no interrupted apply", situation: situation{cert: tlsCert("a")}, passes: true},
		{name: "interrupted create", situation: situation{cert: tlsCert("a"), intent: journaled(state.ActionCreate, "cpkey", 0)},
			action: ActionCreate, codes: []ReasonCode{ReasonResuming}, resuming: true},
		{name: "interrupted renew, even outside the window", situation: situation{cert: tlsCert("a"), state: issuedTill(9, "2027-10-10"),
			intent: journaled(state.ActionRenew, "cpkey", 9)},
			action: ActionRenew, codes: []ReasonCode{ReasonResuming}, resuming: true},
		{name: "interrupted create of an unknown outcome order", situation: situation{cert: tlsCert("a"), state: inStatus(9, state.StatusUnknownOutcome),
			intent: journaled(state.ActionCreate, "cpkey", 0)},
			action: ActionCreate, codes: []ReasonCode{ReasonResuming}, resuming: true},
		{name: "manifest changed since", situation: situation{cert: tlsCert("a"), intent: journaled(state.ActionCreate, "cpkey", 0), edit: setCN("b.example.com")},
			action: ActionCreate, codes: []ReasonCode{ReasonResuming, ReasonResumingChangedManifest}, resuming: true},
		{name: "legacy: left to the blocked rule", situation: situation{cert: legacyCert("a"), intent: journaled(state.ActionCreate, "", 0)}, passes: true},
		{name: "no key: left to the blocked rule", situation: situation{cert: tlsCert("a"), intent: journaled(state.ActionCreate, "", 0)}, passes: true},
	},
	"blocked": {
		{name: "interrupted legacy apply", situation: situation{cert: legacyCert("a"), intent: journaled(state.ActionCreate, "", 0)},
			action: ActionNoOp, blocked: true, codes: []ReasonCode{ReasonInterruptedLegacy},
			status: "unknown outcome: an interrupted legacy apply may or may not have placed an order; check CertCentral, then run `certplan state set-order a ID` or `certplan state rm a`"},
		{name: "interrupted without a key", situation: situation{cert: tlsCert("a"), intent: journaled(state.ActionCreate, "", 0)},
			action: ActionNoOp, blocked: true, codes: []ReasonCode{ReasonInterruptedWithoutKey},
			status: "cannot resume: the journaled intent has no alternative_order_id; check CertCentral, then run `certplan state set-order a ID`"},
		{name: "interrupted, manifest changed, no journaled body", situation: situation{cert: tlsCert("a"),
			intent: withoutJournaledRequest(journaled(state.ActionCreate, "cpkey", 0)), edit: setCN("b.example.com")},
			action: ActionNoOp, blocked: true, resuming: true, codes: []ReasonCode{ReasonResuming, ReasonInterruptedWithoutRequest}},
		{name: "interrupted, manifest changed, secret dropped",
			situation: situation{cert: tlsCert("a", withCard), intent: journaled(state.ActionCreate, "cpkey", 0),
				edit: func(c *spec.Certificate) { setCN("b.example.com")(c); delete(c.Order, "credit_card") }},
			action: ActionNoOp, blocked: true, resuming: true, codes: []ReasonCode{ReasonResuming, ReasonInterruptedWithoutSecret}},
		{name: "resumable: left to the resume rule", situation: situation{cert: tlsCert("a"), intent: journaled(state.ActionCreate, "cpkey", 0)}, passes: true},
		{name: "unknown outcome", situation: situation{cert: legacyCert("a"), state: inStatus(0, state.StatusUnknownOutcome)},
			action: ActionNoOp, blocked: true, codes: []ReasonCode{ReasonUnknownOutcome},
			status: "unknown outcome: run `certplan state set-order a ID` or `certplan state rm a`"},
		{name: "renewed outside certplan", situation: situation{cert: tlsCert("a"), state: issuedTill(9, "2026-12-01"),
			facts: map[int64]state.OrderFacts{9: {OrderID: 9, Status: state.StatusIssued, IsRenewed: true, RenewedOrderID: 555}}},
			action: ActionNoOp, blocked: true, codes: []ReasonCode{ReasonRenewedOutside},
			status: "renewed outside certplan as order 555: run `certplan state set-order a 555` to adopt it"},
		{name: "renewed outside certplan, renewal unnamed", situation: situation{cert: tlsCert("a"), state: issuedTill(9, "2026-12-01"),
			facts: map[int64]state.OrderFacts{9: {OrderID: 9, Status: state.StatusIssued, IsRenewed: true}}},
			action: ActionNoOp, blocked: true, codes: []ReasonCode{ReasonRenewedOutside},
			status: "renewed outside certplan: find the new order in CertCentral and run `certplan state set-order a ORDER_ID`"},
		{name: "renewal certplan knows of", situation: situation{cert: tlsCert("a"), state: issuedTill(9, "2027-10-10"),
			facts: map[int64]state.OrderFacts{9: {OrderID: 9, Status: state.StatusIssued, IsRenewed: true, RenewedOrderID: 9}}}, passes: true},
		{name: "not in state", situation: situation{cert: tlsCert("a")}, passes: true},
		{name: "issued", situation: situation{cert: tlsCert("a"), state: issuedTill(9, "2026-12-01")}, passes: true},
	},
	// A branch behind main: main's scheduled apply renewed order 9 as 700
	// (the key certplan derives for a's renewal of 9); the branch's state
	// still has 9. Before: blocked as "renewed outside certplan".
	"state behind": {
		{name: "renewed by certplan from a newer state", situation: situation{cert: tlsCert("a"), state: issuedTill(9, "2026-12-01"),
			facts: ownRenewal(tlsCert("a"), 9, 700, nil)},
			action: ActionNoOp, codes: []ReasonCode{ReasonStateBehind},
			status: "renewed by certplan as order 700 in a newer state: this branch's state is behind main; rebase (or merge main) to plan against it"},
		{name: "... from the manifest as the state recorded it, changed on this branch since",
			situation: situation{cert: tlsCert("a"), state: issuedTill(9, "2026-12-01"), edit: setCN("b.example.com"),
				facts: ownRenewal(tlsCert("a"), 9, 700, nil)},
			action: ActionNoOp, codes: []ReasonCode{ReasonStateBehind}},
		{name: "another certificate's key is not this one's renewal", situation: situation{cert: tlsCert("a"), state: issuedTill(9, "2026-12-01"),
			facts: ownRenewal(tlsCert("b"), 9, 700, nil)}, passes: true},
		{name: "a console renewal has no key", situation: situation{cert: tlsCert("a"), state: issuedTill(9, "2026-12-01"),
			facts: ownRenewal(tlsCert("a"), 9, 700, func(f *state.OrderFacts) { f.AlternativeOrderID = "" })}, passes: true},
		{name: "not renewed", situation: situation{cert: tlsCert("a"), state: issuedTill(9, "2026-12-01")}, passes: true},
	},
	"first order guard": {
		{name: "healthy state", situation: situation{cert: tlsCert("a")}, passes: true},
		{name: "state lost, a live order with the names", situation: situation{cert: tlsCert("a"), guard: liveGuard(
			LiveOrder{OrderID: 41, Product: string(spec.SecureSiteFlex), Status: "issued", CommonName: "A.example.com"})},
			action: ActionNoOp, blocked: true, codes: []ReasonCode{ReasonLiveOrderExists}},
		{name: "state lost, only another product's order", situation: situation{cert: tlsCert("a"), guard: liveGuard(
			LiveOrder{OrderID: 41, Product: "private_ssl_plus", Status: "issued", CommonName: "a.example.com"})}, passes: true},
		{name: "state lost, the order apply adopts by key", situation: situation{cert: tlsCert("a"), guard: func() *guard {
			g := liveGuard(LiveOrder{OrderID: 41, Product: string(spec.SecureSiteFlex), Status: "issued", CommonName: "a.example.com", AlternativeOrderID: "cpmine"})
			g.accounted.Keys["cpmine"] = true
			return g
		}()}, passes: true},
		{name: "state lost, renewed order and its renewal: the renewal", situation: situation{cert: tlsCert("a"), guard: liveGuard(
			LiveOrder{OrderID: 41, Product: string(spec.SecureSiteFlex), Status: "issued", CommonName: "a.example.com", RenewedOrderID: 42},
			LiveOrder{OrderID: 42, Product: string(spec.SecureSiteFlex), Status: "pending", CommonName: "other.example.com", DNSNames: []string{"a.example.com"}})},
			passes: true},
		{name: "legacy, state lost: any product, by names", situation: situation{cert: legacyCert("a"), guard: liveGuard(
			LiveOrder{OrderID: 41, Product: "ssl_plus", Status: "issued", CommonName: "a.example.com"})},
			action: ActionNoOp, blocked: true, codes: []ReasonCode{ReasonLiveOrderExists}},
		{name: "state lost, an order the state tracks for another certificate", situation: situation{cert: tlsCert("a"), guard: func() *guard {
			g := liveGuard(LiveOrder{OrderID: 41, Product: string(spec.SecureSiteFlex), Status: "issued", CommonName: "a.example.com"})
			g.accounted.OrderIDs[41] = true
			return g
		}()}, passes: true},
		{name: "state lost, duplicate allowed", situation: situation{cert: tlsCert("a"), guard: func() *guard {
			g := liveGuard(LiveOrder{OrderID: 41, Product: string(spec.SecureSiteFlex), Status: "issued", CommonName: "a.example.com"})
			g.allowed = map[string]bool{"a": true}
			return g
		}()}, passes: true},
		{name: "state lost, not listed (apply checks)", situation: situation{cert: tlsCert("a"), guard: &guard{}}, passes: true},
		{name: "in state", situation: situation{cert: tlsCert("a"), state: issuedTill(9, "2027-10-10"), guard: liveGuard(
			LiveOrder{OrderID: 41, Product: string(spec.SecureSiteFlex), Status: "issued", CommonName: "a.example.com"})}, passes: true},
	},
	"new certificate": {
		{name: "not in state", situation: situation{cert: tlsCert("a")}, action: ActionCreate, codes: []ReasonCode{ReasonNewCertificate}},
		{name: "legacy, not in state", situation: situation{cert: legacyCert("a")}, action: ActionCreate, codes: []ReasonCode{ReasonNewCertificate}},
		{name: "in state", situation: situation{cert: tlsCert("a"), state: issuedTill(9, "2027-10-10")}, passes: true},
	},
	"replace dead": {
		{name: "rejected", situation: situation{cert: tlsCert("a"), state: inStatus(77, state.StatusRejected)},
			action: ActionCreate, predecessor: 77, codes: []ReasonCode{ReasonPredecessorDead}},
		{name: "canceled", situation: situation{cert: tlsCert("a"), state: inStatus(77, state.StatusCanceled)},
			action: ActionCreate, predecessor: 77, codes: []ReasonCode{ReasonPredecessorDead}},
		{name: "revoked in the console", situation: situation{cert: tlsCert("a"), state: issuedTill(9, "2027-10-10"),
			facts: map[int64]state.OrderFacts{9: {OrderID: 9, Status: state.StatusRevoked}}},
			action: ActionCreate, predecessor: 9, codes: []ReasonCode{ReasonPredecessorDead}},
		{name: "issued", situation: situation{cert: tlsCert("a"), state: issuedTill(9, "2027-10-10")}, passes: true},
		{name: "pending", situation: situation{cert: tlsCert("a"), state: inStatus(9, state.StatusPending)}, passes: true},
	},
	"wait in flight": {
		{name: "pending", situation: situation{cert: tlsCert("a"), state: inStatus(5, state.StatusPending)},
			action: ActionNoOp, codes: []ReasonCode{ReasonInFlight}, status: "pending: awaiting validation since 2026-11-20"},
		{name: "waiting pickup", situation: situation{cert: tlsCert("a"), state: inStatus(5, state.StatusWaitingPickup)},
			action: ActionNoOp, codes: []ReasonCode{ReasonInFlight}, status: "waiting_pickup: awaiting pickup since 2026-11-20"},
		{name: "manifest changed meanwhile", situation: situation{cert: tlsCert("a"), state: inStatus(5, state.StatusProcessing), edit: setCN("b.example.com")},
			action: ActionNoOp, codes: []ReasonCode{ReasonInFlight, ReasonDeferredChanges},
			status: "processing: awaiting issuance since 2026-11-20; manifest changes will be ordered once the current order is issued"},
		{name: "status from refresh has no since", situation: situation{cert: tlsCert("a"), state: inStatus(5, state.StatusPending),
			facts: map[int64]state.OrderFacts{5: {OrderID: 5, Status: state.StatusNeedsApproval}}},
			action: ActionNoOp, codes: []ReasonCode{ReasonInFlight}, status: "needs_approval: awaiting approval"},
		{name: "issued", situation: situation{cert: tlsCert("a"), state: issuedTill(9, "2026-12-01")}, passes: true},
	},
	"renew": {
		// Secure Site: the certificate and its order end together here, so
		// the order's end renews it (order_ending; renewal_window before
		// plans were known).
		{name: "inside the window", situation: situation{cert: tlsCert("a"), state: issuedTill(9, "2026-12-20")},
			action: ActionRenew, codes: []ReasonCode{ReasonOrderEnding}},
		{name: "expired", situation: situation{cert: tlsCert("a"), state: issuedTill(9, "2026-11-01")},
			action: ActionRenew, codes: []ReasonCode{ReasonOrderEnding}},
		{name: "no plans: inside the window", situation: situation{cert: privateCert("a"), state: issuedTill(9, "2026-12-20")},
			action: ActionRenew, codes: []ReasonCode{ReasonRenewalWindow}},
		{name: "no plans: expired", situation: situation{cert: docSigningCert("a"), state: issuedTill(9, "2026-11-01")},
			action: ActionRenew, codes: []ReasonCode{ReasonRenewalWindow}},
		{name: "no plans: names changed", situation: situation{cert: privateCert("a"), state: issuedTill(9, "2027-10-10"), edit: setNames("x.example.com")},
			action: ActionRenew, codes: []ReasonCode{ReasonShapingChanged}},
		{name: "plan: the order ends though the certificate does not", situation: situation{cert: tlsCert("a"), state: planTill(9, "2027-10-10", "2026-12-01")},
			action: ActionRenew, codes: []ReasonCode{ReasonOrderEnding}},
		{name: "plan: order end unknown, certificate due", situation: situation{cert: tlsCert("a"), state: planTill(9, "2026-12-20", "")},
			action: ActionRenew, codes: []ReasonCode{ReasonRenewalWindow}},
		{name: "plan: certificate due, the order runs on", situation: situation{cert: tlsCert("a"), state: planTill(9, "2026-12-20", "2027-10-10")}, passes: true},
		{name: "plan: organization changed", situation: situation{cert: tlsCert("a"), state: planTill(9, "2027-03-01", "2027-10-10"),
			edit: func(c *spec.Certificate) { setPath("organization.id", 42)(c.Order) }},
			action: ActionRenew, codes: []ReasonCode{ReasonOrganizationChanged}},
		{name: "plan: profile_option and disable_ct changed", situation: situation{cert: tlsCert("a"), state: planTill(9, "2027-03-01", "2027-10-10"),
			edit: func(c *spec.Certificate) {
				setPath("certificate.profile_option", "short")(c.Order)
				c.Order["disable_ct"] = true
			}},
			action: ActionRenew, codes: []ReasonCode{ReasonNotReissuable, ReasonNotReissuable}},
		{name: "plan: a new order names what a reissue would have carried too", situation: situation{cert: tlsCert("a"), state: planTill(9, "2027-03-01", "2027-10-10"),
			edit: both(setNames("x.example.com"), func(c *spec.Certificate) { setPath("organization.name", "Other Ltd")(c.Order) })},
			action: ActionRenew, codes: []ReasonCode{ReasonShapingChanged, ReasonOrganizationChanged}},
		{name: "plan: the order ends and the key changed", situation: situation{cert: tlsCert("a"), state: planTill(9, "2026-12-01", "2026-12-10"),
			edit: func(c *spec.Certificate) { setPath("certificate.csr", csrPEM("other"))(c.Order) }},
			action: ActionRenew, codes: []ReasonCode{ReasonShapingChanged, ReasonOrderEnding}},
		{name: "plan: a new CSR alone is reissued", situation: situation{cert: tlsCert("a"), state: planTill(9, "2027-03-01", "2027-10-10"),
			edit: func(c *spec.Certificate) { setPath("certificate.csr", csrPEM("other"))(c.Order) }}, passes: true},
		{name: "plan: names removed are reissued (or blocked), never renewed", situation: situation{cert: tlsCert("a"), state: planTill(9, "2027-03-01", "2027-10-10"),
			edit: setNames()}, passes: true},
		{name: "shaping fields, product and window, in that order", situation: situation{cert: tlsCert("a"), state: issuedTill(9, "2026-12-01"),
			edit: func(c *spec.Certificate) {
				setCN("b.example.com")(c)
				setPath("organization.id", 42)(c.Order)
				c.Product = spec.PrivateSSLFlex
			}},
			action: ActionRenew, codes: []ReasonCode{ReasonProductChanged, ReasonShapingChanged, ReasonShapingChanged, ReasonRenewalWindow}},
		{name: "no recorded request", situation: situation{cert: tlsCert("a"), state: func(t *testing.T, c *spec.Certificate) *state.Certificate {
			s := applied(t, c, 9, "2027-10-10")
			s.Request, s.SpecDigest = nil, "sha256:old"
			return s
		}}, action: ActionRenew, codes: []ReasonCode{ReasonShapingChanged}},
		{name: "imported, by date only", situation: situation{cert: tlsCert("a"), state: importedTill(9, "2026-12-01"), edit: setCN("b.example.com")},
			action: ActionRenew, codes: []ReasonCode{ReasonOrderEnding}},
		{name: "up to date", situation: situation{cert: tlsCert("a"), state: issuedTill(9, "2027-10-10")}, passes: true},
		{name: "non-shaping changes only", situation: situation{cert: tlsCert("a"), state: issuedTill(9, "2027-10-10"),
			edit: func(c *spec.Certificate) { c.Order["comments"] = "edited" }}, passes: true},
		{name: "validity not a date", situation: situation{cert: tlsCert("a"), state: issuedTill(9, "soon")}, passes: true},
		{name: "pending", situation: situation{cert: tlsCert("a"), state: inStatus(9, state.StatusPending), edit: setCN("b.example.com")}, passes: true},
	},
	"up to date": {
		// Secure Site no-ops say what the order is paid through.
		{name: "issued", situation: situation{cert: tlsCert("a"), state: issuedTill(9, "2027-10-10")},
			action: ActionNoOp, codes: []ReasonCode{}, status: "issued, valid till 2027-10-10, paid through 2027-10-10"},
		{name: "expired status, valid date", situation: situation{cert: tlsCert("a"), state: func(t *testing.T, c *spec.Certificate) *state.Certificate {
			s := applied(t, c, 9, "2027-10-10")
			s.Status = state.StatusExpired
			return s
		}}, action: ActionNoOp, codes: []ReasonCode{}, status: "issued, valid till 2027-10-10, paid through 2027-10-10"},
		{name: "no plans: issued", situation: situation{cert: privateCert("a"), state: issuedTill(9, "2027-10-10")},
			action: ActionNoOp, codes: []ReasonCode{}, status: "issued, valid till 2027-10-10"},
		{name: "plan: paid beyond the certificate", situation: situation{cert: tlsCert("a"), state: planTill(9, "2027-03-01", "2027-10-10")},
			action: ActionNoOp, codes: []ReasonCode{}, status: "issued, valid till 2027-03-01, paid through 2027-10-10"},
		{name: "plan: auto_reissue, due: left to CertCentral", situation: situation{cert: autoReissueOn(tlsCert("a")), state: planTill(9, "2026-12-20", "2027-10-10")},
			action: ActionNoOp, codes: []ReasonCode{ReasonAutoReissueExpected},
			status: "issued, valid till 2026-12-20, paid through 2027-10-10; certificate expires 2026-12-20 (in 27 days): CertCentral reissues it (auto_reissue); certplan reissues it itself 7 days before expiry if it has not"},
		{name: "plan: reissued by CertCentral", situation: situation{cert: autoReissueOn(tlsCert("a")), state: planTill(9, "2026-12-20", "2027-10-10"),
			facts: map[int64]state.OrderFacts{9: {OrderID: 9, Status: state.StatusIssued, CertificateID: 77, ValidTill: "2027-06-10", OrderValidTill: "2027-10-10"}}},
			action: ActionNoOp, codes: []ReasonCode{ReasonReissuedByCertCentral},
			status: "issued, valid till 2027-06-10, paid through 2027-10-10; reissued by CertCentral (auto_reissue): certificate 77 replaces 11, valid till 2027-06-10"},
		{name: "plan: reissued in the console is adopted (drift, no note)", situation: situation{cert: tlsCert("a"), state: planTill(9, "2026-12-20", "2027-10-10"),
			facts: map[int64]state.OrderFacts{9: {OrderID: 9, Status: state.StatusIssued, CertificateID: 77, ValidTill: "2027-06-10"}}},
			action: ActionNoOp, codes: []ReasonCode{}, status: "issued, valid till 2027-06-10, paid through 2027-10-10"},
		{name: "validity unknown", situation: situation{cert: tlsCert("a"), state: issuedTill(9, "")},
			action: ActionNoOp, codes: []ReasonCode{}, status: "issued, validity unknown"},
		{name: "validity not a date", situation: situation{cert: tlsCert("a"), state: issuedTill(9, "soon")},
			action: ActionNoOp, codes: []ReasonCode{}, status: `issued, valid till "soon" (not a date; renewal by date is not planned)`},
		{name: "imported", situation: situation{cert: tlsCert("a"), state: importedTill(9, "2027-10-10")},
			action: ActionNoOp, codes: []ReasonCode{ReasonImportedOrder},
			status: "issued, valid till 2027-10-10, paid through 2027-10-10; imported order: the manifest is taken to describe it; shaping changes are detected from the next order on"},
		{name: "non-shaping changes", situation: situation{cert: tlsCert("a"), state: issuedTill(9, "2027-10-10"),
			edit: func(c *spec.Certificate) { c.Order["comments"] = "edited" }},
			action: ActionNoOp, codes: []ReasonCode{ReasonNonShapingChanged},
			status: "issued, valid till 2027-10-10, paid through 2027-10-10; non-shaping changes (comments) take effect with the next order"},
		{name: "pending", situation: situation{cert: tlsCert("a"), state: inStatus(9, state.StatusPending)}, passes: true},
		{name: "on hold", situation: situation{cert: tlsCert("a"), state: inStatus(9, "on_hold")}, passes: true},
	},
	"destructive reissue": {
		{name: "a name removed: blocked", situation: situation{cert: tlsCert("a"), state: planTill(9, "2027-03-01", "2027-10-10"), edit: setNames()},
			action: ActionNoOp, blocked: true, destructive: true, codes: []ReasonCode{ReasonNamesRemoved, ReasonDestructiveNotAllowed},
			status: "destructive reissue not allowed: the reissue removes name www.a.example.com, and DigiCert would then revoke every earlier certificate of order 9 " +
				"(the current one is certificate 11, valid till 2027-03-01) within 48-72 h. To reissue anyway set spec.allowDestructiveReissue: true in the manifest; " +
				"or restore the names (the renewal when order 9 ends on 2027-10-10 carries the new names without revoking anything)"},
		{name: "a name removed: allowed", situation: situation{cert: allowDestructive(tlsCert("a")), state: planTill(9, "2027-03-01", "2027-10-10"), edit: setNames()},
			action: ActionReissue, destructive: true, codes: []ReasonCode{ReasonNamesRemoved}},
		{name: "a name replaced, a new key", situation: situation{cert: allowDestructive(tlsCert("a")), state: planTill(9, "2027-03-01", "2027-10-10"),
			edit: both(setNames("x.example.com"), func(c *spec.Certificate) { setPath("certificate.csr", csrPEM("other"))(c.Order) })},
			action: ActionReissue, destructive: true, added: []string{"x.example.com"}, codes: []ReasonCode{ReasonNamesRemoved, ReasonKeyRotated, ReasonNamesAdded}},
		{name: "the common name changed, kept as a SAN", situation: situation{cert: tlsCert("a"), state: planTill(9, "2027-03-01", "2027-10-10"),
			edit: both(setCN("www.a.example.com"), setNames("a.example.com"))},
			action: ActionNoOp, blocked: true, destructive: true, codes: []ReasonCode{ReasonNamesRemoved, ReasonDestructiveNotAllowed}},
		{name: "names only reordered or recased", situation: situation{cert: tlsCert("a"), state: planTill(9, "2027-03-01", "2027-10-10"),
			edit: setNames("WWW.a.example.com", "www.a.example.com")}, passes: true},
		{name: "a name added", situation: situation{cert: tlsCert("a"), state: planTill(9, "2027-03-01", "2027-10-10"),
			edit: setNames("www.a.example.com", "x.example.com")}, passes: true},
		{name: "no plans", situation: situation{cert: privateCert("a"), state: planTill(9, "2027-03-01", "2027-10-10"), edit: setNames()}, passes: true},
		{name: "imported", situation: situation{cert: tlsCert("a"), state: importedTill(9, "2027-10-10"), edit: setNames()}, passes: true},
		{name: "pending", situation: situation{cert: tlsCert("a"), state: inStatus(9, state.StatusPending), edit: setNames()}, passes: true},
	},
	"reissue": {
		{name: "certificate due, the order runs on", situation: situation{cert: tlsCert("a"), state: planTill(9, "2026-12-20", "2027-10-10")},
			action: ActionReissue, codes: []ReasonCode{ReasonReissueDue}},
		{name: "certificate expired, the order runs on", situation: situation{cert: tlsCert("a"), state: planTill(9, "2026-11-01", "2027-10-10")},
			action: ActionReissue, codes: []ReasonCode{ReasonReissueDue}},
		{name: "a new CSR", situation: situation{cert: tlsCert("a"), state: planTill(9, "2027-03-01", "2027-10-10"),
			edit: func(c *spec.Certificate) { setPath("certificate.csr", csrPEM("other"))(c.Order) }},
			action: ActionReissue, codes: []ReasonCode{ReasonKeyRotated}},
		{name: "another signature hash and ICA", situation: situation{cert: tlsCert("a"), state: planTill(9, "2027-03-01", "2027-10-10"),
			edit: func(c *spec.Certificate) {
				setPath("certificate.signature_hash", "sha384")(c.Order)
				setPath("certificate.ca_cert_id", "ABC123")(c.Order)
			}},
			action: ActionReissue, codes: []ReasonCode{ReasonShapingChanged, ReasonShapingChanged}},
		{name: "names added, and due", situation: situation{cert: tlsCert("a"), state: planTill(9, "2026-12-20", "2027-10-10"),
			edit: setNames("www.a.example.com", "y.example.com", "x.example.com")},
			action: ActionReissue, added: []string{"x.example.com", "y.example.com"}, codes: []ReasonCode{ReasonNamesAdded, ReasonReissueDue}},
		{name: "auto_reissue: due, left to CertCentral", situation: situation{cert: autoReissueOn(tlsCert("a")), state: planTill(9, "2026-12-20", "2027-10-10")}, passes: true},
		{name: "auto_reissue: within 7 days of expiry, certplan reissues", situation: situation{cert: autoReissueOn(tlsCert("a")), state: planTill(9, "2026-11-29", "2027-10-10")},
			action: ActionReissue, codes: []ReasonCode{ReasonAutoReissueOverdue}},
		{name: "auto_reissue: a new CSR is reissued by certplan", situation: situation{cert: autoReissueOn(tlsCert("a")), state: planTill(9, "2027-03-01", "2027-10-10"),
			edit: func(c *spec.Certificate) { setPath("certificate.csr", csrPEM("other"))(c.Order) }},
			action: ActionReissue, codes: []ReasonCode{ReasonKeyRotated}},
		{name: "not due", situation: situation{cert: tlsCert("a"), state: planTill(9, "2027-03-01", "2027-10-10")}, passes: true},
		{name: "non-shaping changes only", situation: situation{cert: tlsCert("a"), state: planTill(9, "2027-03-01", "2027-10-10"),
			edit: func(c *spec.Certificate) { c.Order["comments"] = "edited" }}, passes: true},
		{name: "no plans", situation: situation{cert: privateCert("a"), state: planTill(9, "2026-12-20", "2027-10-10")}, passes: true},
		{name: "pending", situation: situation{cert: tlsCert("a"), state: inStatus(9, state.StatusPending)}, passes: true},
	},
	"unhandled status": {
		{name: "on hold", situation: situation{cert: tlsCert("a"), state: inStatus(9, "on_hold")},
			action: ActionNoOp, codes: []ReasonCode{ReasonUnhandledStatus}, status: `order 9 has status "on_hold", which certplan does not act on`},
	},
}

// allRules is planRules' list with its last decision.
func allRules() []rule {
	return append(slices.Clone(planRules.rules), planRules.otherwise)
}

// Each rule, on its own: it decides what its table says or passes.
func TestRules(t *testing.T) {
	codes := map[ReasonCode]bool{}
	for _, r := range allRules() {
		cases := ruleTables[r.name]
		if len(cases) == 0 {
			t.Errorf("rule %q has no table in ruleTables", r.name)
		}
		for _, tt := range cases {
			t.Run(r.name+"/"+tt.name, func(t *testing.T) {
				d, ok := r.decide(tt.given(t))
				if ok == tt.passes {
					t.Fatalf("decided = %v, want %v (%+v)", ok, !tt.passes, d)
				}
				if !ok {
					return
				}
				var got []ReasonCode
				for _, rs := range d.reasons {
					got = append(got, rs.Code)
					codes[rs.Code] = true
					if rs.Message == "" {
						t.Errorf("reason %s has no message", rs.Code)
					}
				}
				if d.destructive != tt.destructive || !slices.Equal(d.addedNames, tt.added) {
					t.Errorf("destructive=%v added=%q, want %v %q", d.destructive, d.addedNames, tt.destructive, tt.added)
				}
				if d.action != tt.action || d.blocked != tt.blocked || (d.resume != nil) != tt.resuming || d.predecessor != tt.predecessor {
					t.Errorf("decided %s blocked=%v resuming=%v predecessor=%d, want %s %v %v %d",
						d.action, d.blocked, d.resume != nil, d.predecessor, tt.action, tt.blocked, tt.resuming, tt.predecessor)
				}
				if diff := cmp.Diff(tt.codes, got, cmp.Comparer(func(a, b []ReasonCode) bool { return slices.Equal(a, b) })); diff != "" {
					t.Errorf("reason codes (-want +got):\n%s", diff)
				}
				if tt.status != "" && d.status != tt.status {
					t.Errorf("status = %q, want %q", d.status, tt.status)
				}
				if d.action == ActionNoOp && d.status == "" {
					t.Error("a no-op without a status")
				}
			})
		}
	}
	for name := range ruleTables {
		if !slices.ContainsFunc(allRules(), func(r rule) bool { return r.name == name }) {
			t.Errorf("ruleTables has a table for %q, which is no rule", name)
		}
	}
	// Every reason code is made by some rule, but for those of apply's
	// hold-back filters (review.go, TestHoldBack*).
	for _, c := range reasonCodes(t) {
		if !codes[c] && c != ReasonNotReviewed && c != ReasonHeldBack {
			t.Errorf("no rule table produces reason code %s", c)
		}
	}
}

// The rules run in the documented order, and where several could decide the
// first one does.
func TestRuleOrder(t *testing.T) {
	var names []string
	for _, r := range allRules() {
		names = append(names, r.name)
	}
	want := []string{"resume", "blocked", "state behind", "first order guard", "new certificate", "replace dead", "wait in flight", "renew", "destructive reissue", "reissue", "up to date", "unhandled status"}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("rule order (-want +got):\n%s", diff)
	}

	tests := []struct {
		name string
		situation
		rule string
	}{
		{"an interrupted apply is resumed before anything else", situation{cert: tlsCert("a"), state: inStatus(9, state.StatusUnknownOutcome),
			intent: journaled(state.ActionCreate, "cpkey", 0)}, "resume"},
		{"an interrupted apply that cannot be resumed is blocked, not created anew", situation{cert: tlsCert("a"),
			intent: journaled(state.ActionCreate, "", 0)}, "blocked"},
		{"an intent of another kind is no interruption", situation{cert: tlsCert("a"),
			intent: journaled(state.ActionImport, "cpkey", 0)}, "new certificate"},
		{"renewed outside certplan blocks even inside the window", situation{cert: tlsCert("a"), state: issuedTill(9, "2026-12-01"),
			facts: map[int64]state.OrderFacts{9: {OrderID: 9, Status: state.StatusIssued, IsRenewed: true, RenewedOrderID: 555}}}, "blocked"},
		{"a dead order is replaced even when the manifest changed", situation{cert: tlsCert("a"), state: inStatus(9, state.StatusRevoked),
			edit: setCN("b.example.com")}, "replace dead"},
		{"in flight waits even inside the window", situation{cert: tlsCert("a"), state: func(t *testing.T, c *spec.Certificate) *state.Certificate {
			s := applied(t, c, 9, "2026-12-01")
			s.Status = state.StatusPending
			return s
		}}, "wait in flight"},
		{"due is renewed, not reported up to date", situation{cert: tlsCert("a"), state: issuedTill(9, "2026-12-01")}, "renew"},
		{"the plan's end renews rather than reissuing a due certificate", situation{cert: tlsCert("a"), state: planTill(9, "2026-12-01", "2026-12-15")}, "renew"},
		{"a new organization renews, so removed names revoke nothing", situation{cert: tlsCert("a"), state: planTill(9, "2027-03-01", "2027-10-10"),
			edit: both(setNames(), func(c *spec.Certificate) { setPath("organization.id", 42)(c.Order) })}, "renew"},
		{"removed names on a due certificate are a destructive reissue", situation{cert: tlsCert("a"), state: planTill(9, "2026-12-01", "2027-10-10"),
			edit: setNames()}, "destructive reissue"},
		{"a due certificate on a running order is reissued", situation{cert: tlsCert("a"), state: planTill(9, "2026-12-01", "2027-10-10")}, "reissue"},
		{"not due is up to date", situation{cert: tlsCert("a"), state: issuedTill(9, "2027-10-10")}, "up to date"},
		{"any other status is left alone", situation{cert: tlsCert("a"), state: inStatus(9, "on_hold")}, "unhandled status"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if d := planRules.decide(tt.given(t)); d.rule != tt.rule {
				t.Errorf("decided by %q (%s), want %q", d.rule, d.action, tt.rule)
			}
		})
	}
}

// Every decision a rule makes in its table is a known action.
func TestRuleDecisionsAreKnownActions(t *testing.T) {
	for _, r := range allRules() {
		for _, tt := range ruleTables[r.name] {
			if d, ok := r.decide(tt.given(t)); ok && !d.action.Valid() {
				t.Errorf("%s/%s: decided unknown action %q", r.name, tt.name, d.action)
			}
		}
	}
}
