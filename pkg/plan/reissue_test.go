package plan

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"os"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/certplan/certplan/pkg/lifecycle"
	"github.com/certplan/certplan/pkg/spec"
	"github.com/certplan/certplan/pkg/state"
)

// realCSR is a parseable CSR from pkg/spec's test data, with the hex
// sha256 of its SubjectPublicKeyInfo computed here independently.
func realCSR(t *testing.T, name string) (pemText, keyDigest string) {
	t.Helper()
	b, err := os.ReadFile("../spec/testdata/csr/" + name + ".csr")
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(b)
	csr, err := x509.ParseCertificateRequest(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(csr.RawSubjectPublicKeyInfo)
	return string(b), hex.EncodeToString(sum[:])
}

// planOne plans one certificate against one state entry.
func planOne(t *testing.T, c *spec.Certificate, cur *state.Certificate, caps lifecycle.Caps, facts map[int64]state.OrderFacts) (*Plan, Change) {
	t.Helper()
	st := &state.State{Lineage: "L", Certificates: map[string]*state.Certificate{}}
	if cur != nil {
		st.Certificates[c.Name] = cur
	}
	p := Build(Input{Certificates: []*spec.Certificate{c}, State: st, Now: testNow, Caps: caps, Facts: facts})
	return p, p.Changes[0]
}

// A reissue keeps the order: no key, no renewal link; it carries the
// manifest's body and the CSR's key digest, shows only what a reissue sends,
// and says what it costs and what it issues.
func TestBuildReissue(t *testing.T) {
	oldCSR, _ := realCSR(t, "rsa2048")
	newCSR, newDigest := realCSR(t, "ecp256")
	c := tlsCert("a")
	setPath("certificate.csr", oldCSR)(c.Order)
	cur := applied(t, c, 9, "2027-03-01")
	cur.OrderValidTill = "2027-10-10"
	setPath("certificate.csr", newCSR)(c.Order)
	setPath("certificate.dns_names", []any{"www.a.example.com", "x.example.com"})(c.Order)
	c.Order["comments"] = "edited" // not sent with a reissue

	p, ch := planOne(t, c, cur, nil, nil)
	if ch.Action != ActionReissue || ch.OrderID != 9 || ch.AlternativeOrderID != "" || ch.RenewalOfOrderID != 0 || ch.Predecessor != 0 || ch.Destructive {
		t.Fatalf("change %+v", ch)
	}
	if ch.CSRKeyDigest != newDigest {
		t.Errorf("csr_key_digest %q, want %q", ch.CSRKeyDigest, newDigest)
	}
	if ch.Request["comments"] != "edited" || ch.RequestDigest != RequestDigest(ch.Request) || ch.SpecDigest != SpecDigest(c) {
		t.Errorf("request %v, digests %s %s: want the manifest's body", ch.Request, ch.RequestDigest, ch.SpecDigest)
	}
	var paths []string
	for _, d := range ch.Diff {
		paths = append(paths, d.Path)
	}
	if diff := cmp.Diff([]string{"certificate.csr", "certificate.dns_names"}, paths); diff != "" {
		t.Errorf("diff paths (-want +got):\n%s", diff)
	}
	var codes []ReasonCode
	for _, r := range ch.Reasons {
		codes = append(codes, r.Code)
	}
	if diff := cmp.Diff([]ReasonCode{ReasonKeyRotated, ReasonNamesAdded}, codes); diff != "" {
		t.Errorf("reasons (-want +got):\n%s", diff)
	}
	if ch.Reasons[0].Message != "certificate.csr changed: a new key" {
		t.Errorf("key reason %q", ch.Reasons[0].Message)
	}
	wantBilling := &Billing{Kind: BillingProRata, OrderID: 9, PaidThrough: "2027-10-10", AddedNames: []string{"x.example.com"}}
	if diff := cmp.Diff(wantBilling, ch.Billing); diff != "" {
		t.Errorf("billing (-want +got):\n%s", diff)
	}
	// 2026-11-23 12:00 + 199 days, inside the order.
	if diff := cmp.Diff(&Validity{ValidFrom: "2026-11-23", ValidTill: "2027-06-10", Days: 199}, ch.NextCertificate); diff != "" {
		t.Errorf("next certificate (-want +got):\n%s", diff)
	}
	if p.Summary.Reissue != 1 || p.Summary.Billed != 0 || p.Summary.ProRata != 1 || !ch.Applies() {
		t.Errorf("summary %+v, applies %v", p.Summary, ch.Applies())
	}
	if got := BillingPhrase(&ch); got != "reissue on order 9, paid through 2027-10-10; 1 added name billed pro rata (x.example.com)" {
		t.Errorf("billing phrase %q", got)
	}

	// Near the plan's end the next certificate ends with the order.
	cur.OrderValidTill = "2027-01-20"
	setPath("certificate.dns_names", []any{"www.a.example.com"})(c.Order)
	_, ch = planOne(t, c, cur, nil, nil)
	if ch.Action != ActionReissue || ch.Billing.Kind != BillingFree || ch.NextCertificate == nil || ch.NextCertificate.ValidTill != "2027-01-20" || ch.NextCertificate.Days != 59 {
		t.Errorf("action %s billing %+v next %+v", ch.Action, ch.Billing, ch.NextCertificate)
	}
	if got := BillingPhrase(&ch); got != "reissue on order 9, paid through 2027-01-20" {
		t.Errorf("billing phrase %q", got)
	}

	// The caps are an input: without any, the reissue runs to the order's end.
	cur.OrderValidTill = "2027-10-10"
	_, ch = planOne(t, c, cur, lifecycle.Caps{}, nil)
	if ch.NextCertificate == nil || ch.NextCertificate.ValidTill != "2027-10-10" {
		t.Errorf("next certificate without caps %+v", ch.NextCertificate)
	}
	_, ch = planOne(t, c, cur, lifecycle.Caps{{Days: 46}}, nil)
	if ch.NextCertificate == nil || ch.NextCertificate.ValidTill != "2027-01-08" || ch.NextCertificate.Days != 46 {
		t.Errorf("next certificate under a 46-day cap %+v", ch.NextCertificate)
	}
}

// A destructive reissue is marked as such, allowed or blocked.
func TestBuildDestructiveReissue(t *testing.T) {
	c := tlsCert("a")
	cur := applied(t, c, 9, "2027-03-01")
	cur.OrderValidTill = "2027-10-10"
	setPath("certificate.dns_names", []any{})(c.Order)

	p, ch := planOne(t, c, cur, nil, nil)
	if ch.Action != ActionNoOp || !ch.Blocked || !ch.Destructive || ch.Applies() || p.Summary.Blocked != 1 || ch.Billing != nil {
		t.Errorf("blocked destructive change %+v, summary %+v", ch, p.Summary)
	}
	c.AllowDestructiveReissue = true
	p, ch = planOne(t, c, cur, nil, nil)
	if ch.Action != ActionReissue || ch.Blocked || !ch.Destructive || !ch.Applies() || p.Summary.Reissue != 1 || ch.Billing.Kind != BillingFree {
		t.Errorf("allowed destructive change %+v, summary %+v", ch, p.Summary)
	}
}

// New orders say which plan they buy and what the first certificate is
// expected to be; no-ops of products with plans say what they are paid through.
func TestBuildBilling(t *testing.T) {
	// create: a 1-year plan, the first certificate capped at 199 days.
	_, ch := planOne(t, tlsCert("a"), nil, nil, nil)
	if diff := cmp.Diff(&Billing{Kind: BillingNewOrder, Plan: "1 year", PaymentMethod: "balance"}, ch.Billing); diff != "" {
		t.Errorf("create billing (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(&Validity{ValidFrom: "2026-11-23", ValidTill: "2027-06-10", Days: 199}, ch.NextCertificate); diff != "" {
		t.Errorf("create next certificate (-want +got):\n%s", diff)
	}
	if got := BillingPhrase(&ch); got != "new order, 1-year plan, paid by balance" {
		t.Errorf("phrase %q", got)
	}
	// A short cert_validity wins.
	c := tlsCert("b")
	setPath("certificate.cert_validity", map[string]any{"days": 90})(c.Order)
	if _, ch = planOne(t, c, nil, nil, nil); ch.NextCertificate == nil || ch.NextCertificate.Days != 90 {
		t.Errorf("next certificate with cert_validity 90 days: %+v", ch.NextCertificate)
	}
	// renew: the order ends; private SSL has no cap.
	pc := privateCert("c")
	setPath("order_validity", map[string]any{"years": 2})(pc.Order)
	_, ch = planOne(t, pc, applied(t, pc, 9, "2026-12-01"), nil, nil)
	if diff := cmp.Diff(&Billing{Kind: BillingNewOrder, OrderID: 9, Plan: "2 years", PaymentMethod: "balance"}, ch.Billing); diff != "" {
		t.Errorf("renew billing (-want +got):\n%s", diff)
	}
	if ch.NextCertificate == nil || ch.NextCertificate.ValidTill != "2028-11-23" {
		t.Errorf("renew next certificate %+v", ch.NextCertificate)
	}
	// A renewal names the order it renews, the plan and the payment (#12 item 5).
	if got := BillingPhrase(&ch); got != "new order renewing order 9, 2-year plan, paid by balance" {
		t.Errorf("phrase %q", got)
	}
	// no-op of Secure Site: paid through; of private SSL too, by its order's
	// end (#12 item 5: no-ops say "paid through DATE").
	tc := tlsCert("d")
	cur := applied(t, tc, 9, "2027-03-01")
	cur.OrderValidTill = "2027-10-10"
	if _, ch = planOne(t, tc, cur, nil, nil); ch.Action != ActionNoOp || ch.Billing == nil || ch.Billing.PaidThrough != "2027-10-10" || ch.Billing.Kind != BillingFree {
		t.Errorf("no-op %+v", ch)
	}
	pcur := applied(t, pc, 9, "2027-10-10")
	pcur.OrderValidTill = "2027-10-10"
	if _, ch = planOne(t, pc, pcur, nil, nil); ch.Billing == nil || ch.Billing.PaidThrough != "2027-10-10" || BillingPhrase(&ch) != "order 9, paid through 2027-10-10" {
		t.Errorf("private no-op billing %+v", ch.Billing)
	}
	// pending: nothing to say either.
	pend := applied(t, tc, 9, "")
	pend.Status = state.StatusPending
	if _, ch = planOne(t, tc, pend, nil, nil); ch.Billing != nil {
		t.Errorf("pending billing %+v", ch.Billing)
	}
	for plan, want := range map[string]string{"1 year": "1-year plan", "3 years": "3-year plan", "400 days": "400-day plan", "until 2027-05-01": "plan until 2027-05-01", "": ""} {
		if got := planPhrase(plan); got != want {
			t.Errorf("planPhrase(%q) = %q, want %q", plan, got, want)
		}
	}
}

// Walking a Secure Site certificate through a year-long plan at the default
// renewBefore: created, reissued once near day 169, renewed at the plan's
// end. Apply is simulated as the state would record it.
func TestPlanLifecycleOfOneYear(t *testing.T) {
	c := tlsCert("a")
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	var cur *state.Certificate
	orders, reissues := 0, 0
	for now := start; now.Before(start.AddDate(1, 1, 0)); now = now.Add(day) {
		st := &state.State{Certificates: map[string]*state.Certificate{}}
		if cur != nil {
			st.Certificates["a"] = cur
		}
		ch := Build(Input{Certificates: []*spec.Certificate{c}, State: st, Now: now}).Changes[0]
		switch ch.Action {
		case ActionCreate, ActionRenew:
			orders++
			_, length := planLength(c.Product, ch.Request, now)
			cur = applied(t, c, int64(100+orders), ch.NextCertificate.ValidTill)
			cur.OrderValidTill = dateOf(now.Add(length))
		case ActionReissue:
			reissues++
			if d := now.Sub(start) / day; orders == 1 && (d < 160 || d > 175) {
				t.Errorf("reissued on day %d, want about 169", d)
			}
			cur.ValidTill = ch.NextCertificate.ValidTill
			cur.CertificateID++
		}
		if cur != nil {
			if exp, _ := parseDate(cur.ValidTill); !now.Before(expiry(exp)) {
				t.Fatalf("%s: certificate expired %s", dateOf(now), cur.ValidTill)
			}
		}
	}
	// Two plans (the first, its renewal 30 days before its end) and one
	// reissue in the first year; the second plan has not needed one yet.
	if orders != 2 || reissues != 1 {
		t.Errorf("%d orders and %d reissues in 13 months, want 2 and 1", orders, reissues)
	}
}
