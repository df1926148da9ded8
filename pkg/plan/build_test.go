package plan

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/certplan/certplan/pkg/spec"
	"github.com/certplan/certplan/pkg/state"
)

// want is what a rule must produce for the one certificate of a case.
type want struct {
	action      Action
	reasons     []string
	status      string // exact when set
	blocked     bool
	resuming    bool
	predecessor int64
	renewalOf   int64
	orderID     int64
	key         string // "" = none; "derived" = computed from name/product/digest/predecessor; else exact
	drift       []string
}

func TestBuildRules(t *testing.T) {
	type tc struct {
		name    string
		cert    *spec.Certificate
		state   func(t *testing.T, c *spec.Certificate) *state.Certificate // nil: not in state
		edit    func(c *spec.Certificate)                                  // applied after state is made
		pending func(t *testing.T, c *spec.Certificate) *state.Record
		facts   map[int64]state.OrderFacts
		want    want
	}
	issued := func(id int64, till string) func(t *testing.T, c *spec.Certificate) *state.Certificate {
		return func(t *testing.T, c *spec.Certificate) *state.Certificate { return applied(t, c, id, till) }
	}
	withStatus := func(id int64, s state.OrderStatus) func(t *testing.T, c *spec.Certificate) *state.Certificate {
		return func(t *testing.T, c *spec.Certificate) *state.Certificate {
			st := applied(t, c, id, "")
			st.ValidTill, st.OrderValidTill = "", ""
			st.Status = s
			since := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
			st.StatusSince = &since
			return st
		}
	}
	intent := func(action state.Action, altID string, renewalOf int64) func(t *testing.T, c *spec.Certificate) *state.Record {
		return func(t *testing.T, c *spec.Certificate) *state.Record {
			return &state.Record{
				Type: state.RecordIntent, Time: time.Date(2026, 11, 22, 18, 4, 5, 0, time.UTC), Name: c.Name,
				Action: action, AlternativeOrderID: altID, Product: string(c.Product), SpecDigest: SpecDigest(c),
				RequestDigest: RequestDigest(c.Order), RenewalOf: renewalOf, Request: roundTrip(t, c.Order),
			}
		}
	}
	resumed := "resuming an interrupted apply (intent journaled at 2026-11-22T18:04:05Z)"

	cases := []tc{
		{name: "new certificate is created", cert: tlsCert("a"),
			want: want{action: ActionCreate, reasons: []string{"new certificate"}, key: "derived"}},
		{name: "new legacy certificate has no key", cert: legacyCert("a"),
			want: want{action: ActionCreate, reasons: []string{"new certificate"}}},
		{name: "rejected order is replaced", cert: tlsCert("a"), state: withStatus(77, state.StatusRejected),
			want: want{action: ActionCreate, reasons: []string{"order 77 was rejected"}, predecessor: 77, key: "derived"}},
		{name: "canceled order is replaced", cert: tlsCert("a"), state: withStatus(77, state.StatusCanceled),
			want: want{action: ActionCreate, reasons: []string{"order 77 was canceled"}, predecessor: 77, key: "derived"}},
		{name: "revoked order is replaced", cert: tlsCert("a"), state: withStatus(77, state.StatusRevoked),
			want: want{action: ActionCreate, reasons: []string{"order 77 was revoked"}, predecessor: 77, key: "derived"}},
		{name: "unknown outcome blocks", cert: legacyCert("a"), state: withStatus(0, state.StatusUnknownOutcome),
			want: want{action: ActionNoOp, blocked: true,
				reasons: []string{"the outcome of an earlier legacy order is unknown; nothing is ordered until it is resolved"},
				status:  "unknown outcome: run `certplan state set-order a ID` or `certplan state rm a`"}},
		{name: "pending order waits", cert: tlsCert("a"), state: withStatus(5, state.StatusPending),
			want: want{action: ActionNoOp, orderID: 5, status: "pending: awaiting validation since 2026-11-20",
				reasons: []string{"order 5 is pending; nothing is ordered until it is issued"}}},
		{name: "needs_approval order waits", cert: tlsCert("a"), state: withStatus(5, state.StatusNeedsApproval),
			want: want{action: ActionNoOp, orderID: 5, status: "needs_approval: awaiting approval since 2026-11-20",
				reasons: []string{"order 5 is needs_approval; nothing is ordered until it is issued"}}},
		{name: "pending order waits even when the manifest changed", cert: tlsCert("a"), state: withStatus(5, state.StatusProcessing),
			edit: setCN("b.example.com"),
			want: want{action: ActionNoOp, orderID: 5,
				status: "processing: awaiting issuance since 2026-11-20; manifest changes will be ordered once the current order is issued",
				reasons: []string{"order 5 is processing; nothing is ordered until it is issued",
					"manifest changes will be ordered once the current order is issued"}}},
		{name: "issued and up to date", cert: tlsCert("a"), state: issued(9, "2027-10-10"),
			want: want{action: ActionNoOp, orderID: 9, status: "issued, valid till 2027-10-10, paid through 2027-10-10", reasons: []string{}}},
		{name: "issued inside the renewal window is renewed", cert: tlsCert("a"), state: issued(9, "2026-12-20"),
			want: want{action: ActionRenew, orderID: 9, predecessor: 9, renewalOf: 9, key: "derived",
				reasons: []string{"order 9 ends 2026-12-20 (in 27 days), inside renewBefore 30d: a new order instead of a reissue that would end with it"}}},
		{name: "expired is renewed", cert: tlsCert("a"), state: issued(9, "2026-11-01"),
			want: want{action: ActionRenew, orderID: 9, predecessor: 9, renewalOf: 9, key: "derived",
				reasons: []string{"order 9 ended 2026-11-01 (21 days ago): a new order"}}},
		{name: "status expired is renewed", cert: tlsCert("a"),
			state: func(t *testing.T, c *spec.Certificate) *state.Certificate {
				s := applied(t, c, 9, "2026-11-01")
				s.Status = state.StatusExpired
				return s
			},
			want: want{action: ActionRenew, orderID: 9, predecessor: 9, renewalOf: 9, key: "derived",
				reasons: []string{"order 9 ended 2026-11-01 (21 days ago): a new order"}}},
		{name: "window opens exactly now", cert: renewBefore(tlsCert("a"), 29*day+12*time.Hour), state: issued(9, "2026-12-22"),
			want: want{action: ActionRenew, orderID: 9, predecessor: 9, renewalOf: 9, key: "derived",
				reasons: []string{"order 9 ends 2026-12-22 (in 29 days), inside renewBefore 708h0m0s: a new order instead of a reissue that would end with it"}}},
		{name: "window opens in a second", cert: renewBefore(tlsCert("a"), 29*day+12*time.Hour-time.Second), state: issued(9, "2026-12-22"),
			want: want{action: ActionNoOp, orderID: 9, status: "issued, valid till 2026-12-22, paid through 2026-12-22", reasons: []string{}}},
		{name: "no plans: window opens exactly now", cert: renewBefore(privateCert("a"), 29*day+12*time.Hour), state: issued(9, "2026-12-22"),
			want: want{action: ActionRenew, orderID: 9, predecessor: 9, renewalOf: 9, key: "derived",
				reasons: []string{"certificate expires 2026-12-22 (in 29 days), inside renewBefore 708h0m0s"}}},
		{name: "no plans: window opens in a second", cert: renewBefore(privateCert("a"), 29*day+12*time.Hour-time.Second), state: issued(9, "2026-12-22"),
			want: want{action: ActionNoOp, orderID: 9, status: "issued, valid till 2026-12-22", reasons: []string{}}},
		{name: "plan: certificate window opens exactly now: reissue", cert: renewBefore(tlsCert("a"), 29*day+12*time.Hour),
			state: func(t *testing.T, c *spec.Certificate) *state.Certificate {
				s := applied(t, c, 9, "2026-12-22")
				s.OrderValidTill = "2027-10-10"
				return s
			},
			want: want{action: ActionReissue, orderID: 9,
				reasons: []string{"certificate expires 2026-12-22 (in 29 days), inside renewBefore 708h0m0s; the order runs on: a free reissue"}}},
		{name: "order_valid_till when the certificate has none", cert: tlsCert("a"),
			state: func(t *testing.T, c *spec.Certificate) *state.Certificate {
				s := applied(t, c, 9, "")
				s.OrderValidTill = "2026-12-01"
				return s
			},
			want: want{action: ActionRenew, orderID: 9, predecessor: 9, renewalOf: 9, key: "derived",
				reasons: []string{"order 9 ends 2026-12-01 (in 8 days), inside renewBefore 30d: a new order instead of a reissue that would end with it"}}},
		{name: "no plans: order_valid_till when the certificate has none", cert: privateCert("a"),
			state: func(t *testing.T, c *spec.Certificate) *state.Certificate {
				s := applied(t, c, 9, "")
				s.OrderValidTill = "2026-12-01"
				return s
			},
			want: want{action: ActionRenew, orderID: 9, predecessor: 9, renewalOf: 9, key: "derived",
				reasons: []string{"certificate expires 2026-12-01 (in 8 days), inside renewBefore 30d"}}},
		{name: "plan: the order's end wins over the certificate's", cert: tlsCert("a"),
			state: func(t *testing.T, c *spec.Certificate) *state.Certificate {
				s := applied(t, c, 9, "2027-10-10")
				s.OrderValidTill = "2026-12-01"
				return s
			},
			want: want{action: ActionRenew, orderID: 9, predecessor: 9, renewalOf: 9, key: "derived",
				reasons: []string{"order 9 ends 2026-12-01 (in 8 days), inside renewBefore 30d: a new order instead of a reissue that would end with it"}}},
		{name: "certificate valid_till wins over the order's", cert: privateCert("a"),
			state: func(t *testing.T, c *spec.Certificate) *state.Certificate {
				s := applied(t, c, 9, "2027-10-10")
				s.OrderValidTill = "2026-12-01"
				return s
			},
			want: want{action: ActionNoOp, orderID: 9, status: "issued, valid till 2027-10-10", reasons: []string{}}},
		{name: "shaping field changed", cert: privateCert("a"), state: issued(9, "2027-10-10"),
			edit: func(c *spec.Certificate) { setPath("certificate.dns_names", []any{"x.example.com"})(c.Order) },
			want: want{action: ActionRenew, orderID: 9, predecessor: 9, renewalOf: 9, key: "derived",
				reasons: []string{"certificate.dns_names changed"}}},
		{name: "plan: a name replaced is a destructive reissue, blocked", cert: tlsCert("a"), state: issued(9, "2027-10-10"),
			edit: func(c *spec.Certificate) { setPath("certificate.dns_names", []any{"x.example.com"})(c.Order) },
			want: want{action: ActionNoOp, orderID: 9, blocked: true,
				status: "destructive reissue not allowed: the reissue removes name www.a.example.com, and DigiCert would then revoke every earlier certificate of order 9 " +
					"(the current one is certificate 11, valid till 2027-10-10) within 48-72 h. To reissue anyway set spec.allowDestructiveReissue: true in the manifest; " +
					"or restore the names (the renewal when order 9 ends on 2027-10-10 carries the new names without revoking anything)",
				reasons: []string{"the reissue removes name www.a.example.com: DigiCert revokes every earlier certificate of order 9 (the current one is certificate 11, valid till 2027-10-10) 48-72 h after the reissued certificate issues",
					"name added (x.example.com): billed pro rata for the rest of the plan; earlier certificates stay valid",
					"the manifest does not set spec.allowDestructiveReissue: nothing is reissued until it does, or the names are restored"}}},
		{name: "plan: a name added is reissued, billed pro rata", cert: tlsCert("a"), state: issued(9, "2027-10-10"),
			edit: func(c *spec.Certificate) {
				setPath("certificate.dns_names", []any{"www.a.example.com", "x.example.com"})(c.Order)
			},
			want: want{action: ActionReissue, orderID: 9,
				reasons: []string{"name added (x.example.com): billed pro rata for the rest of the plan; earlier certificates stay valid"}}},
		{name: "several shaping fields changed, and the window opened", cert: tlsCert("a"), state: issued(9, "2026-12-01"),
			edit: func(c *spec.Certificate) {
				setCN("b.example.com")(c)
				setPath("organization.id", 42)(c.Order)
				setPath("certificate.cert_validity.days", 200)(c.Order)
			},
			want: want{action: ActionRenew, orderID: 9, predecessor: 9, renewalOf: 9, key: "derived",
				reasons: []string{"certificate.common_name changed", "certificate.cert_validity changed: a reissue cannot carry it, so a new order",
					"organization.id changed: the organization is part of the order, so a new order",
					"order 9 ends 2026-12-01 (in 8 days), inside renewBefore 30d: a new order instead of a reissue that would end with it"}}},
		{name: "product changed", cert: tlsCert("a"), state: issued(9, "2027-10-10"),
			edit: func(c *spec.Certificate) { c.Product = spec.PrivateSSLFlex },
			want: want{action: ActionRenew, orderID: 9, predecessor: 9, renewalOf: 9, key: "derived",
				reasons: []string{"product changed from ssl_securesite_flex to private_ssl_flex"}}},
		{name: "non-shaping changes alone order nothing", cert: tlsCert("a"), state: issued(9, "2027-10-10"),
			edit: func(c *spec.Certificate) {
				c.Order["comments"] = "new comment"
				withCard(c.Order)
				setPath("certificate.server_platform.id", 2)(c.Order)
			},
			want: want{action: ActionNoOp, orderID: 9,
				status:  "issued, valid till 2027-10-10, paid through 2027-10-10; non-shaping changes (billing_address, certificate, comments, credit_card and 1 more) take effect with the next order",
				reasons: []string{"non-shaping changes (billing_address, certificate, comments, credit_card and 1 more) take effect with the next order"}}},
		{name: "imported order is taken as described by the manifest", cert: tlsCert("a"),
			state: func(t *testing.T, c *spec.Certificate) *state.Certificate {
				s := applied(t, c, 9, "2027-10-10")
				s.Request, s.RequestDigest, s.SpecDigest, s.Action = nil, "", "", state.ActionImport
				return s
			},
			want: want{action: ActionNoOp, orderID: 9,
				status:  "issued, valid till 2027-10-10, paid through 2027-10-10; imported order: the manifest is taken to describe it; shaping changes are detected from the next order on",
				reasons: []string{"imported order: the manifest is taken to describe it; shaping changes are detected from the next order on"}}},
		{name: "imported order is renewed by date", cert: tlsCert("a"),
			state: func(t *testing.T, c *spec.Certificate) *state.Certificate {
				s := applied(t, c, 9, "2026-12-01")
				s.Request, s.RequestDigest, s.SpecDigest, s.Action = nil, "", "", state.ActionImport
				return s
			},
			want: want{action: ActionRenew, orderID: 9, predecessor: 9, renewalOf: 9, key: "derived",
				reasons: []string{"order 9 ends 2026-12-01 (in 8 days), inside renewBefore 30d: a new order instead of a reissue that would end with it"}}},
		{name: "state without a recorded request", cert: tlsCert("a"),
			state: func(t *testing.T, c *spec.Certificate) *state.Certificate {
				s := applied(t, c, 9, "2027-10-10")
				s.Request, s.SpecDigest = nil, "sha256:old"
				return s
			},
			want: want{action: ActionRenew, orderID: 9, predecessor: 9, renewalOf: 9, key: "derived",
				reasons: []string{"certificate-shaping fields changed (state has no recorded request to compare)"}}},
		{name: "pending imported order", cert: tlsCert("a"),
			state: func(t *testing.T, c *spec.Certificate) *state.Certificate {
				s := applied(t, c, 9, "")
				s.Request, s.RequestDigest, s.SpecDigest, s.Status, s.StatusSince = nil, "", "", state.StatusPending, nil
				s.Since = time.Date(2026, 11, 19, 1, 0, 0, 0, time.UTC)
				return s
			},
			want: want{action: ActionNoOp, orderID: 9, status: "pending: awaiting validation since 2026-11-19",
				reasons: []string{"order 9 is pending; nothing is ordered until it is issued"}}},
		{name: "unknown status is left alone", cert: tlsCert("a"), state: withStatus(9, "on_hold"),
			want: want{action: ActionNoOp, orderID: 9, status: `order 9 has status "on_hold", which certplan does not act on`,
				reasons: []string{`order 9 has status "on_hold", which certplan does not act on`}}},

		{name: "interrupted create resumes with the intent's key", cert: tlsCert("a"),
			pending: intent(state.ActionCreate, "cpjournaledkey", 0),
			want:    want{action: ActionCreate, resuming: true, key: "cpjournaledkey", reasons: []string{resumed}}},
		{name: "interrupted renew resumes even outside the window", cert: tlsCert("a"), state: issued(9, "2027-10-10"),
			pending: intent(state.ActionRenew, "cpjournaledkey", 9),
			want: want{action: ActionRenew, resuming: true, key: "cpjournaledkey", orderID: 9, predecessor: 9, renewalOf: 9,
				reasons: []string{resumed}}},
		{name: "interrupted legacy apply blocks", cert: legacyCert("a"), pending: intent(state.ActionCreate, "", 0),
			want: want{action: ActionNoOp, blocked: true,
				reasons: []string{"legacy v1 orders have no idempotency key, so an interrupted one cannot be resumed safely"},
				status:  "unknown outcome: an interrupted legacy apply may or may not have placed an order; check CertCentral, then run `certplan state set-order a ID` or `certplan state rm a`"}},

		{name: "revoked in the console is drift and replaced", cert: tlsCert("a"), state: issued(9, "2027-10-10"),
			facts: map[int64]state.OrderFacts{9: {OrderID: 9, Status: state.StatusRevoked}},
			want: want{action: ActionCreate, predecessor: 9, key: "derived", reasons: []string{"order 9 was revoked"},
				drift: []string{"status: issued -> revoked"}}},
		{name: "issued since the last apply is not drift", cert: tlsCert("a"), state: withStatus(9, state.StatusPending),
			facts: map[int64]state.OrderFacts{9: {OrderID: 9, Status: state.StatusIssued, ValidTill: "2026-12-20"}},
			want: want{action: ActionRenew, orderID: 9, predecessor: 9, renewalOf: 9, key: "derived",
				reasons: []string{"certificate expires 2026-12-20 (in 27 days), inside renewBefore 30d"}}},
		{name: "pending order still pending has no since from the API", cert: tlsCert("a"), state: withStatus(9, state.StatusPending),
			facts: map[int64]state.OrderFacts{9: {OrderID: 9, Status: state.StatusNeedsApproval}},
			want: want{action: ActionNoOp, orderID: 9, status: "needs_approval: awaiting approval",
				reasons: []string{"order 9 is needs_approval; nothing is ordered until it is issued"}}},
		{name: "renewed in the console blocks", cert: tlsCert("a"), state: issued(9, "2026-12-01"),
			facts: map[int64]state.OrderFacts{9: {OrderID: 9, Status: state.StatusIssued, IsRenewed: true, RenewedOrderID: 555, ValidTill: "2026-12-01"}},
			want: want{action: ActionNoOp, blocked: true, orderID: 9,
				status:  "renewed outside certplan as order 555: run `certplan state set-order a 555` to adopt it",
				reasons: []string{"the current order was renewed outside certplan; nothing is ordered until the renewal is adopted"},
				drift:   []string{"renewed_order_id:  -> 555"}}},
		{name: "renewal certplan knows of is not drift", cert: tlsCert("a"),
			state: func(t *testing.T, c *spec.Certificate) *state.Certificate {
				s := applied(t, c, 9, "2027-10-10")
				s.History = []state.HistoryEntry{{Action: state.ActionCreate, OrderID: 3}}
				return s
			},
			facts: map[int64]state.OrderFacts{9: {OrderID: 9, Status: state.StatusIssued, IsRenewed: true, RenewedOrderID: 9}},
			want:  want{action: ActionNoOp, orderID: 9, status: "issued, valid till 2027-10-10, paid through 2027-10-10", reasons: []string{}}},
		{name: "reissued in the console is drift", cert: tlsCert("a"), state: issued(9, "2027-10-10"),
			facts: map[int64]state.OrderFacts{9: {OrderID: 9, Status: state.StatusIssued, ValidTill: "2026-12-10"}},
			want: want{action: ActionReissue, orderID: 9,
				reasons: []string{"certificate expires 2026-12-10 (in 17 days), inside renewBefore 30d; the order runs on: a free reissue"},
				drift:   []string{"valid_till: 2027-10-10 -> 2026-12-10"}}},
		{name: "no plans: reissued in the console is drift", cert: privateCert("a"), state: issued(9, "2027-10-10"),
			facts: map[int64]state.OrderFacts{9: {OrderID: 9, Status: state.StatusIssued, ValidTill: "2026-12-10"}},
			want: want{action: ActionRenew, orderID: 9, predecessor: 9, renewalOf: 9, key: "derived",
				reasons: []string{"certificate expires 2026-12-10 (in 17 days), inside renewBefore 30d"},
				drift:   []string{"valid_till: 2027-10-10 -> 2026-12-10"}}},
		{name: "plan: a new certificate on the order is adopted, as drift", cert: tlsCert("a"), state: issued(9, "2027-10-10"),
			facts: map[int64]state.OrderFacts{9: {OrderID: 9, Status: state.StatusIssued, CertificateID: 77, ValidTill: "2027-06-10"}},
			want: want{action: ActionNoOp, orderID: 9, status: "issued, valid till 2027-06-10, paid through 2027-10-10", reasons: []string{},
				drift: []string{"certificate_id: 11 -> 77"}}},
		{name: "plan: with auto_reissue, a new certificate is a note, not drift", cert: autoReissueOn(tlsCert("a")), state: issued(9, "2027-10-10"),
			facts: map[int64]state.OrderFacts{9: {OrderID: 9, Status: state.StatusIssued, CertificateID: 77, ValidTill: "2027-06-10"}},
			want: want{action: ActionNoOp, orderID: 9,
				status:  "issued, valid till 2027-06-10, paid through 2027-10-10; reissued by CertCentral (auto_reissue): certificate 77 replaces 11, valid till 2027-06-10",
				reasons: []string{"reissued by CertCentral (auto_reissue): certificate 77 replaces 11, valid till 2027-06-10"}}},
	}

	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.cert
			st := &state.State{Lineage: "L", Serial: 3, Certificates: map[string]*state.Certificate{}}
			if tt.state != nil {
				st.Certificates[c.Name] = tt.state(t, c)
			}
			var pending map[string]state.Record
			if tt.pending != nil {
				pending = map[string]state.Record{c.Name: *tt.pending(t, c)}
			}
			if tt.edit != nil {
				tt.edit(c)
			}
			p := Build(Input{Certificates: []*spec.Certificate{c}, State: st, Pending: pending, Facts: tt.facts, Now: testNow})
			if len(p.Changes) != 1 {
				t.Fatalf("got %d changes, want 1", len(p.Changes))
			}
			got := p.Changes[0]
			w := tt.want
			if got.Action != w.action || got.Blocked != w.blocked || got.Resuming != w.resuming {
				t.Errorf("action %s blocked %v resuming %v, want %s %v %v", got.Action, got.Blocked, got.Resuming, w.action, w.blocked, w.resuming)
			}
			if w.reasons == nil {
				w.reasons = []string{}
			}
			if diff := cmp.Diff(w.reasons, messages(got.Reasons)); diff != "" {
				t.Errorf("reasons (-want +got):\n%s", diff)
			}
			if w.status != "" && got.Status != w.status {
				t.Errorf("status = %q, want %q", got.Status, w.status)
			}
			if got.Predecessor != w.predecessor || got.RenewalOfOrderID != w.renewalOf || got.OrderID != w.orderID {
				t.Errorf("predecessor %d renewal_of %d order_id %d, want %d %d %d", got.Predecessor, got.RenewalOfOrderID, got.OrderID, w.predecessor, w.renewalOf, w.orderID)
			}
			wantKey := w.key
			if wantKey == "derived" {
				wantKey = AlternativeOrderID(c.Name, c.Product, SpecDigest(c), predecessorKey(w.predecessor))
			}
			if got.AlternativeOrderID != wantKey {
				t.Errorf("alternative_order_id = %q, want %q", got.AlternativeOrderID, wantKey)
			}
			// Every action that sends something carries the body it is made from.
			ordered := got.Action == ActionCreate || got.Action == ActionRenew || got.Action == ActionReissue
			if ordered != (got.Request != nil) {
				t.Errorf("request present = %v for action %s", got.Request != nil, got.Action)
			}
			var drift []string
			for _, d := range p.Drift {
				if d.Name != c.Name || d.OrderID == 0 || d.Message == "" {
					t.Errorf("incomplete drift entry %+v", d)
				}
				drift = append(drift, d.Field+": "+d.State+" -> "+d.API)
			}
			if diff := cmp.Diff(w.drift, drift); diff != "" {
				t.Errorf("drift (-want +got):\n%s", diff)
			}
			if p.Summary.Create+p.Summary.Renew+p.Summary.Reissue+p.Summary.NoOp != 1 {
				t.Errorf("summary %+v does not count the change", p.Summary)
			}
		})
	}
}

func setCN(cn string) func(c *spec.Certificate) {
	return func(c *spec.Certificate) { setPath("certificate.common_name", cn)(c.Order) }
}

func renewBefore(c *spec.Certificate, d time.Duration) *spec.Certificate {
	c.RenewBefore = d
	return c
}

// A renewal's diff compares the whole body. (A private SSL order: a Secure
// Site order with these changes is reissued, see TestBuildReissue.)
func TestBuildDiff(t *testing.T) {
	c := privateCert("a")
	withCard(c.Order)
	st := &state.State{Certificates: map[string]*state.Certificate{"a": applied(t, c, 9, "2027-10-10")}}
	st.Certificates["a"].Request["alternative_order_id"] = "cpold"
	st.Certificates["a"].Request["renewal_of_order_id"] = 3
	setPath("certificate.dns_names", []any{"x.example.com", "y.example.com"})(c.Order)
	delete(c.Order, "comments")
	setPath("certificate.server_platform.id", 2)(c.Order)

	p := Build(Input{Certificates: []*spec.Certificate{c}, State: st, Now: testNow})
	want := []DiffEntry{
		{Path: "certificate.dns_names", Before: []any{"www.a.example.com"}, After: []any{"x.example.com", "y.example.com"}},
		{Path: "certificate.server_platform.id", Before: nil, After: 2},
		{Path: "comments", Before: "managed by certplan", After: nil},
	}
	if diff := cmp.Diff(jsonText(want), jsonText(p.Changes[0].Diff)); diff != "" {
		t.Errorf("diff (-want +got):\n%s", diff)
	}
}

func TestBuildCreateDiffShowsSecretsAsSensitive(t *testing.T) {
	c := tlsCert("a", withCard)
	p := Build(Input{Certificates: []*spec.Certificate{c}, Now: testNow})
	ch := p.Changes[0]
	found := 0
	for _, d := range ch.Diff {
		if d.Before != nil {
			t.Errorf("create diff %s has a before value", d.Path)
		}
		if d.Path == "credit_card.number" || d.Path == "credit_card.cvv" {
			found++
			if d.After != spec.Sensitive {
				t.Errorf("%s after = %v, want %s", d.Path, d.After, spec.Sensitive)
			}
		}
	}
	if found != 2 {
		t.Errorf("found %d secret diff entries, want 2", found)
	}
	want := map[string]spec.SecretRef{"credit_card.number": {Env: "CARD_NUMBER"}, "credit_card.cvv": {Env: "CARD_CVV"}}
	if diff := cmp.Diff(want, ch.SecretRefs); diff != "" {
		t.Errorf("secret refs (-want +got):\n%s", diff)
	}
}

// A resumed intent whose manifest changed since submits the journaled body,
// with the manifest's secret references, under the journaled key and digest.
func TestBuildResumeAfterManifestChange(t *testing.T) {
	c := tlsCert("a", withCard)
	rec := state.Record{
		Type: state.RecordIntent, Time: testNow.Add(-time.Hour), Name: "a", Action: state.ActionCreate,
		AlternativeOrderID: "cpjournaled", Product: string(c.Product), SpecDigest: SpecDigest(c),
		RequestDigest: RequestDigest(c.Order), Request: roundTrip(t, c.Order),
	}
	setCN("changed.example.com")(c)
	p := Build(Input{Certificates: []*spec.Certificate{c}, Pending: map[string]state.Record{"a": rec}, Now: testNow})
	ch := p.Changes[0]
	if ch.Action != ActionCreate || !ch.Resuming || ch.AlternativeOrderID != "cpjournaled" {
		t.Fatalf("got %s resuming=%v key=%s", ch.Action, ch.Resuming, ch.AlternativeOrderID)
	}
	if ch.SpecDigest != rec.SpecDigest {
		t.Errorf("spec digest = %s, want the journaled %s", ch.SpecDigest, rec.SpecDigest)
	}
	if cn, _ := lookupPath(ch.Request, "certificate.common_name"); cn != "a.example.com" {
		t.Errorf("request common_name = %v, want the journaled a.example.com", cn)
	}
	if n, _ := lookupPath(ch.Request, "credit_card.number"); n != (spec.Secret{Ref: spec.SecretRef{Env: "CARD_NUMBER"}}) {
		t.Errorf("request card number = %#v, want the manifest's secret reference", n)
	}
	if _, ok := rec.Request["credit_card"].(map[string]any)["number"].(string); !ok {
		t.Error("resuming modified the journaled record")
	}
	if len(ch.Reasons) != 2 || !strings.Contains(ch.Reasons[1].Message, "manifest changed since") {
		t.Errorf("reasons = %q", ch.Reasons)
	}

	// Without the secret reference the order cannot be resumed.
	delete(c.Order, "credit_card")
	p = Build(Input{Certificates: []*spec.Certificate{c}, Pending: map[string]state.Record{"a": rec}, Now: testNow})
	if ch := p.Changes[0]; !ch.Blocked || ch.Action != ActionNoOp || !strings.Contains(ch.Status, "credit_card.") {
		t.Errorf("missing secret: got %s blocked=%v status=%q", ch.Action, ch.Blocked, ch.Status)
	}
}

func TestBuildOrderOrphansAndHeader(t *testing.T) {
	certs := []*spec.Certificate{tlsCert("zeta"), tlsCert("alpha"), tlsCert("mid")}
	st := &state.State{Lineage: "lin", Serial: 8, Certificates: map[string]*state.Certificate{
		"mid":     applied(t, tlsCert("mid"), 1, "2027-10-10"),
		"gone-b":  applied(t, tlsCert("gone-b"), 2, "2027-10-10"),
		"gone-a":  applied(t, tlsCert("gone-a"), 3, "2027-10-10"),
		"nothing": nil,
	}}
	p := Build(Input{Certificates: certs, State: st, Now: testNow.In(time.FixedZone("X", 3600)), Version: "v1", ManifestDigests: map[string]string{"f": "d"}})
	var names []string
	for _, c := range p.Changes {
		names = append(names, c.Name)
	}
	if diff := cmp.Diff([]string{"alpha", "mid", "zeta"}, names); diff != "" {
		t.Errorf("change order (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"gone-a", "gone-b", "nothing"}, p.Orphaned); diff != "" {
		t.Errorf("orphans (-want +got):\n%s", diff)
	}
	wantSummary := Summary{Create: 2, NoOp: 1, Orphaned: 3, Billed: 2}
	if p.Summary != wantSummary {
		t.Errorf("summary = %+v, want %+v", p.Summary, wantSummary)
	}
	if p.FormatVersion != "2" || p.Lineage != "lin" || p.Serial != 8 || p.CertplanVersion != "v1" || !p.PlannedAt.Equal(testNow) || p.PlannedAt.Location() != time.UTC {
		t.Errorf("header = %q %q %d %q %v", p.FormatVersion, p.Lineage, p.Serial, p.CertplanVersion, p.PlannedAt)
	}
	if p.ManifestDigests["f"] != "d" {
		t.Errorf("manifest digests = %v", p.ManifestDigests)
	}
	if !p.HasChanges() {
		t.Error("HasChanges = false with two creates")
	}
}

func TestBuildNilStateAndEmptyInput(t *testing.T) {
	p := Build(Input{Now: testNow})
	if p.Changes == nil || p.Orphaned == nil || p.Drift == nil || p.HasChanges() {
		t.Errorf("empty plan = %+v", p)
	}
	p = Build(Input{Certificates: []*spec.Certificate{tlsCert("a")}, Now: testNow})
	if p.Changes[0].Action != ActionCreate {
		t.Errorf("with no state: %s", p.Changes[0].Action)
	}
}

func TestHasChangesIgnoresBlocked(t *testing.T) {
	p := &Plan{Changes: []Change{{Action: ActionNoOp}, {Action: ActionCreate, Blocked: true}}}
	if p.HasChanges() {
		t.Error("HasChanges = true for no-ops and blocked changes")
	}
	p.Changes = append(p.Changes, Change{Action: ActionRenew})
	if !p.HasChanges() {
		t.Error("HasChanges = false with a renewal")
	}
}

func TestBuildReportsInterruptedOrderWithoutManifest(t *testing.T) {
	p := Build(Input{
		State: &state.State{Lineage: "l", Certificates: map[string]*state.Certificate{}},
		Pending: map[string]state.Record{
			"renamed-away": {Type: state.RecordIntent, Name: "renamed-away", Action: state.ActionCreate, AlternativeOrderID: "cpkey"},
		},
		Now: time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC),
	})
	if len(p.Drift) != 1 || p.Drift[0].Name != "renamed-away" || !strings.Contains(p.Drift[0].Message, "certplan import renamed-away") {
		t.Fatalf("drift = %+v, want one entry telling how to resolve the interrupted order", p.Drift)
	}
	if p.HasChanges() {
		t.Fatal("an interrupted order without a manifest must never be ordered")
	}
}
