package plan

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/certplan/certplan/pkg/certcentral"
	"github.com/certplan/certplan/pkg/spec"
	"github.com/certplan/certplan/pkg/state"
)

// The tests of issue 12's pull-request loop (items 1, 4-8, 10) at the level of
// plans; the commands and pipelines are tested in cmd/certplan.

func renderAll(t *testing.T, p *Plan) (text, md, js string) {
	t.Helper()
	var a, b, c bytes.Buffer
	if err := RenderText(&a, p, false); err != nil {
		t.Fatal(err)
	}
	if err := RenderMarkdown(&b, p); err != nil {
		t.Fatal(err)
	}
	if err := RenderJSON(&c, p); err != nil {
		t.Fatal(err)
	}
	return a.String(), b.String(), c.String()
}

// Item 4: a branch behind main. Main's scheduled apply renewed order 9 as
// 700; the branch's state still has 9 as current. Refresh reads 700 (one
// extra call, only because 9 says it was renewed by an order the state does
// not know), sees certplan's own key, and the plan says "behind main:
// rebase" instead of blocking with "renewed outside certplan: state
// set-order", which committed on the branch would conflict with main.
func TestBranchBehindMainIsNotBlocked(t *testing.T) {
	c := tlsCert("shop")
	cur := applied(t, c, 9, "2026-12-01")
	st := &state.State{Lineage: "L", Certificates: map[string]*state.Certificate{"shop": cur}}
	own := AlternativeOrderID("shop", c.Product, SpecDigest(c), "9")
	lister := &fakeLister{t: t, orders: map[int64]certcentral.Order{
		9:   {ID: 9, Status: "issued", IsRenewed: true, RenewedOrderID: 700, Certificate: certcentral.OrderCertificate{ValidTill: "2026-12-01"}},
		700: {ID: 700, Status: "issued", AlternativeOrderID: own, RenewalOfOrderID: 9},
	}}
	facts, stats, err := Refresh(context.Background(), lister, st, []*spec.Certificate{c}, testNow)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := facts[700]; !ok || stats.Calls != 2 {
		t.Fatalf("refresh read %d calls, facts %v: want the renewal 700 read in a second call", stats.Calls, facts)
	}
	p := Build(Input{Certificates: []*spec.Certificate{c}, State: st, Facts: facts, Now: testNow})
	ch := p.Changes[0]
	if ch.Action != ActionNoOp || ch.Blocked || p.Summary.Blocked != 0 || len(p.Drift) != 0 {
		t.Fatalf("change %+v, drift %+v: want an unblocked no-op and no drift", ch, p.Drift)
	}
	text, md, _ := renderAll(t, p)
	for _, out := range []string{text, md} {
		if !strings.Contains(out, "this branch's state is behind main; rebase") || strings.Contains(out, "set-order") {
			t.Errorf("want the rebase advice and no set-order:\n%s", out)
		}
	}

	// A renewal placed in the console (no key, or another one) still blocks.
	lister.orders[700] = certcentral.Order{ID: 700, Status: "issued", RenewalOfOrderID: 9}
	facts, _, err = Refresh(context.Background(), lister, st, []*spec.Certificate{c}, testNow)
	if err != nil {
		t.Fatal(err)
	}
	if p := Build(Input{Certificates: []*spec.Certificate{c}, State: st, Facts: facts, Now: testNow}); !p.Changes[0].Blocked {
		t.Errorf("a console renewal: %+v, want blocked", p.Changes[0])
	}

	// Nothing renewed: no extra call.
	lister.orders[9] = certcentral.Order{ID: 9, Status: "issued"}
	lister.calls = nil
	if _, stats, _ := Refresh(context.Background(), lister, st, []*spec.Certificate{c}, testNow); stats.Calls != 1 {
		t.Errorf("%d calls without a renewal, want 1", stats.Calls)
	}
}

// Item 7: planning one file does not call the others orphans (and so does
// not advise `state rm`, which would re-buy keyless ones).
func TestPartialPlanReportsNoOrphans(t *testing.T) {
	shop, api := tlsCert("shop"), tlsCert("api")
	st := &state.State{Lineage: "L", Certificates: map[string]*state.Certificate{
		"shop": applied(t, shop, 9, "2027-10-10"), "api": applied(t, api, 10, "2027-10-10"), "old": applied(t, api, 11, "2027-10-10"),
	}}
	whole := Build(Input{Certificates: []*spec.Certificate{shop}, State: st, Now: testNow})
	if len(whole.Orphaned) != 2 || whole.Partial {
		t.Fatalf("whole project: orphaned %v", whole.Orphaned)
	}
	p := Build(Input{Certificates: []*spec.Certificate{shop}, State: st, Now: testNow, Partial: true})
	if len(p.Orphaned) != 0 || p.Summary.Orphaned != 0 || !p.Partial || p.Unplanned != 2 {
		t.Fatalf("partial: orphaned %v, unplanned %d", p.Orphaned, p.Unplanned)
	}
	text, md, js := renderAll(t, p)
	for _, out := range []string{text, md} {
		if strings.Contains(out, "state rm") || strings.Contains(out, "Orphaned") || !strings.Contains(out, "Not planned: 2 certificates in the state have no manifest among the paths given") {
			t.Errorf("partial plan output:\n%s", out)
		}
	}
	if !strings.Contains(js, `"partial": true`) || !strings.Contains(js, `"unplanned": 2`) {
		t.Errorf("json lacks partial/unplanned:\n%s", js)
	}
}

// Item 8: a rename declared in the manifest (metadata.previousNames) moves
// the state's entry instead of buying a new certificate.
func TestPreviousNamesMoveTheEntry(t *testing.T) {
	old := tlsCert("shop-frontend")
	cur := applied(t, old, 9, "2027-10-10")
	renamed := tlsCert("shop-frontend")
	renamed.Name = "shop"
	renamed.PreviousNames = []string{"shop-frontend"}
	st := &state.State{Lineage: "L", Certificates: map[string]*state.Certificate{"shop-frontend": cur}}

	p := Build(Input{Certificates: []*spec.Certificate{renamed}, State: st, Now: testNow})
	ch := p.Changes[0]
	if ch.Action != ActionNoOp || ch.MovedFrom != "shop-frontend" || len(p.Orphaned) != 0 || p.Summary.Moved != 1 || !p.HasMoves() || p.HasChanges() {
		t.Fatalf("change %+v, orphaned %v, summary %+v", ch, p.Orphaned, p.Summary)
	}
	text, md, js := renderAll(t, p)
	if !strings.Contains(text, "shop-frontend -> shop") || !strings.Contains(md, "- `shop-frontend` → `shop`") || !strings.Contains(js, `"moved_from": "shop-frontend"`) {
		t.Errorf("the move is not shown:\n%s\n%s", text, md)
	}
	if !strings.Contains(SummaryLine(p), "1 moved in the state") {
		t.Errorf("summary %q", SummaryLine(p))
	}

	// Without previousNames: the old name is orphaned and a new order bought.
	renamed.PreviousNames = nil
	if p := Build(Input{Certificates: []*spec.Certificate{renamed}, State: st, Now: testNow}); p.Changes[0].Action != ActionCreate {
		t.Errorf("without previousNames: %+v", p.Changes[0])
	}
	// The new name already in state: no move, the old entry stays an orphan.
	renamed.PreviousNames = []string{"shop-frontend"}
	st.Certificates["shop"] = applied(t, renamed, 12, "2027-10-10")
	if p := Build(Input{Certificates: []*spec.Certificate{renamed}, State: st, Now: testNow}); p.Changes[0].MovedFrom != "" || len(p.Orphaned) != 1 {
		t.Errorf("both names in state: %+v, orphaned %v", p.Changes[0], p.Orphaned)
	}
	delete(st.Certificates, "shop")
	// An interrupted apply of the old name: no move until it is finished.
	pending := map[string]state.Record{"shop-frontend": {Type: state.RecordIntent, Name: "shop-frontend", Action: state.ActionRenew}}
	if p := Build(Input{Certificates: []*spec.Certificate{renamed}, State: st, Pending: pending, Now: testNow}); p.Changes[0].MovedFrom != "" {
		t.Errorf("interrupted old name: %+v", p.Changes[0])
	}
	// A due renewal is planned against the moved entry: a renewal of 9.
	due := applied(t, old, 9, "2026-12-01")
	st.Certificates["shop-frontend"] = due
	p = Build(Input{Certificates: []*spec.Certificate{renamed}, State: st, Now: testNow})
	if ch := p.Changes[0]; ch.Action != ActionRenew || ch.RenewalOfOrderID != 9 || ch.MovedFrom != "shop-frontend" {
		t.Errorf("due renewal after a rename: %+v", ch)
	}
}

// Item 1: --only renew,reissue holds back creates; words are checked.
func TestHoldBackExcept(t *testing.T) {
	if _, err := ParseActions("renew,reisue"); err == nil || !strings.Contains(err.Error(), `unknown action "reisue"`) {
		t.Errorf("ParseActions typo: %v", err)
	}
	if _, err := ParseActions(" , "); err == nil {
		t.Error("ParseActions of nothing: no error")
	}
	only, err := ParseActions("renew, reissue,renew")
	if err != nil || len(only) != 2 {
		t.Fatalf("ParseActions = %v, %v", only, err)
	}
	due, fresh := tlsCert("due"), tlsCert("fresh")
	st := &state.State{Lineage: "L", Certificates: map[string]*state.Certificate{"due": applied(t, due, 9, "2026-12-01")}}
	p := Build(Input{Certificates: []*spec.Certificate{due, fresh}, State: st, Now: testNow})
	held := p.HoldBackExcept(only)
	if len(held) != 1 || held[0] != "fresh" {
		t.Fatalf("held back %v, want fresh", held)
	}
	byName := map[string]Change{}
	for _, c := range p.Changes {
		byName[c.Name] = c
	}
	if c := byName["fresh"]; c.Applies() || !c.Blocked || c.Request != nil || !strings.Contains(c.Status, "held back: create") {
		t.Errorf("fresh %+v", c)
	}
	if c := byName["due"]; !c.Applies() || c.Action != ActionRenew {
		t.Errorf("due %+v", c)
	}
	if p.Summary.Create != 0 || p.Summary.Blocked != 1 || p.Summary.Billed != 1 {
		t.Errorf("summary %+v", p.Summary)
	}
}

// Item 1: after a merge, apply places what the reviewed plan showed and holds
// back the rest, saying what differs.
func TestHoldBackUnreviewed(t *testing.T) {
	shop, api, due := tlsCert("shop"), tlsCert("api"), tlsCert("due")
	st := &state.State{Lineage: "L", Certificates: map[string]*state.Certificate{"due": applied(t, due, 9, "2026-12-01")}}
	reviewed := Build(Input{Certificates: []*spec.Certificate{shop, due}, State: st, Now: testNow})
	// Since the review: api was added (another merge), shop pays by card
	// now, and main renewed due's order 9 as 10 (this state knows it).
	shop = tlsCert("shop") // the reviewed plan holds the old body
	setPath("payment_method", "card")(shop.Order)
	st.Certificates["due"] = applied(t, due, 10, "2026-12-01")
	now := Build(Input{Certificates: []*spec.Certificate{api, shop, due}, State: st, Now: testNow})
	held := now.HoldBackUnreviewed(reviewed, "pr.plan")
	if strings.Join(held, ",") != "api,due,shop" {
		t.Fatalf("held back %v", held)
	}
	want := map[string]string{
		"api":  "it showed no create of api",
		"shop": "its request body differs in payment_method",
		"due":  "it renewed order 9, this plan renews order 10",
	}
	for _, c := range now.Changes {
		if !strings.Contains(c.Status, want[c.Name]) || !strings.Contains(c.Status, "not in the reviewed plan (pr.plan)") || c.Applies() {
			t.Errorf("%s: %q, want %q", c.Name, c.Status, want[c.Name])
		}
	}
	// The same plan again: everything was reviewed.
	again := Build(Input{Certificates: []*spec.Certificate{shop, due}, State: st, Now: testNow})
	same := Build(Input{Certificates: []*spec.Certificate{shop, due}, State: st, Now: testNow})
	if held := same.HoldBackUnreviewed(again, "x"); len(held) != 0 || !same.HasChanges() {
		t.Errorf("an unchanged plan held back %v", held)
	}
	// A reviewed order that is no longer wanted is simply not placed.
	fewer := Build(Input{Certificates: []*spec.Certificate{shop}, State: st, Now: testNow})
	if held := fewer.HoldBackUnreviewed(again, "x"); len(held) != 0 {
		t.Errorf("held back %v", held)
	}
}

// Items 5, 6 and 10: the comment describes the purchase, says when, from
// which commit and against which state it was planned (every format), and
// asks for unique alternative order ids when the state is a file.
func TestCommentDescribesThePurchase(t *testing.T) {
	due, fresh, quiet := privateCert("due"), tlsCert("fresh"), privateCert("quiet")
	dueState := applied(t, due, 9, "2026-12-01")
	quietState := applied(t, quiet, 11, "2027-10-10")
	st := &state.State{Lineage: "7f0c2b1e-4c1a-4d3b-9d43-0d6c1e2a9b10", Serial: 17,
		Certificates: map[string]*state.Certificate{"due": dueState, "quiet": quietState}}
	in := Input{Certificates: []*spec.Certificate{due, fresh, quiet}, State: st, Now: testNow, Version: "v1.2.0",
		Commit: "9fceb02d0ae598e95dc970b74767f19372d61af8", Backend: &state.BackendInfo{Kind: "file", Name: "certplan.state.json"}}
	p := Build(in)
	text, md, js := renderAll(t, p)
	planned := "Planned at 2026-11-23 12:00:00 UTC from commit 9fceb02d0ae5, against state serial 17 (file certplan.state.json), certplan v1.2.0."
	for _, out := range []string{text, md} {
		for _, want := range []string{
			planned,
			"new order renewing order 9, 1-year plan, paid by balance",
			`"Require unique alternative order IDs"`,
		} {
			if !strings.Contains(out, want) {
				t.Errorf("lacks %q:\n%s", want, out)
			}
		}
	}
	if !strings.Contains(js, `"planned_at": "2026-11-23T12:00:00Z"`) || !strings.Contains(js, `"commit": "9fceb02d0ae598e95dc970b74767f19372d61af8"`) {
		t.Errorf("json lacks planned_at or commit")
	}
	// At a comment's width the action, name and product do not wrap.
	for _, want := range []string{
		"<tr><td nowrap>~ renew</td><td nowrap><samp>due</samp><br><sub>private_ssl_flex</sub></td><td><strong>billed: new order renewing order 9, 1-year plan, paid by balance</strong><br>certificate expires",
		"<td nowrap>+ create</td><td nowrap><samp>fresh</samp><br><sub>ssl_securesite_flex</sub></td>",
		"- `quiet`: issued, valid till 2027-10-10; order 11, paid through 2027-10-10",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	// A truncated comment names the plan file it was saved to.
	m := mdWriter{limit: 100, planFile: "certplan.plan"}
	m.omitted(3, "row", "rows")
	if !strings.Contains(m.b.String(), "`certplan show certplan.plan`") {
		t.Errorf("omitted note: %s", m.b.String())
	}
	// A database state locks across machines: no note.
	in.Backend = &state.BackendInfo{Kind: "postgres", Name: "db"}
	if _, md, _ := renderAll(t, Build(in)); strings.Contains(md, "Require unique") {
		t.Error("the note is shown for a PostgreSQL state")
	}
}
