package plan

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/certplan/certplan/pkg/spec"
	"github.com/certplan/certplan/pkg/state"
)

// validatedOn is an issued order of a product with plans whose names
// certplan saw validated on a date.
func validatedOn(id int64, certTill, orderTill, validated string) func(t *testing.T, c *spec.Certificate) *state.Certificate {
	return func(t *testing.T, c *spec.Certificate) *state.Certificate {
		s := planTill(id, certTill, orderTill)(t, c)
		at, err := time.Parse(time.DateOnly, validated)
		if err != nil {
			t.Fatal(err)
		}
		s.DCV = &state.DCV{Method: "dns-txt-token", RandomValue: "oldvalue"}
		for _, n := range []string{c.Name + ".example.com", "www." + c.Name + ".example.com"} {
			s.DCV.Names = append(s.DCV.Names, state.DCVName{Name: n, Status: "approved", ValidatedAt: &at})
		}
		return s
	}
}

func init() {
	// testNow is 2026-11-23; reuse is 199 days until 2027-03-15.
	ruleTables["up to date"] = append(ruleTables["up to date"],
		ruleCase{name: "DCV: validation lapses before the next reissue", situation: situation{cert: tlsCert("a"),
			state: validatedOn(9, "2027-04-10", "2027-10-10", "2026-06-01")},
			action: ActionNoOp, codes: []ReasonCode{ReasonDCVLapses},
			status: "issued, valid till 2027-04-10, paid through 2027-10-10; domain validation lapses 2026-12-17, before the next certificate (due 2027-03-12)"},
		ruleCase{name: "DCV: validation still reusable then", situation: situation{cert: tlsCert("a"),
			state: validatedOn(9, "2027-02-10", "2027-10-10", "2026-11-01")},
			action: ActionNoOp, codes: []ReasonCode{}, status: "issued, valid till 2027-02-10, paid through 2027-10-10"},
	)
	ruleTables["reissue"] = append(ruleTables["reissue"],
		ruleCase{name: "DCV: due, and the validation lapsed", situation: situation{cert: tlsCert("a"),
			state: validatedOn(9, "2026-12-10", "2027-10-10", "2026-05-01")},
			action: ActionReissue, codes: []ReasonCode{ReasonReissueDue, ReasonDCVLapses}},
	)
	ruleTables["renew"] = append(ruleTables["renew"],
		ruleCase{name: "DCV: the order ends, and the validation lapsed", situation: situation{cert: tlsCert("a"),
			state: validatedOn(9, "2026-12-10", "2026-12-10", "2026-05-01")},
			action: ActionRenew, codes: []ReasonCode{ReasonOrderEnding, ReasonDCVLapses}},
	)
}

// pendingDCV is an order awaiting validation, with its token known.
func pendingDCV(method string) func(t *testing.T, c *spec.Certificate) *state.Certificate {
	return func(t *testing.T, c *spec.Certificate) *state.Certificate {
		s := inStatus(9, state.StatusPending)(t, c)
		exp := time.Date(2026, 12, 20, 8, 0, 0, 0, time.UTC)
		s.DCV = &state.DCV{Method: method, RandomValue: "abc123", ValueExpires: &exp,
			Names: []state.DCVName{{Name: c.Name + ".example.com", Status: "pending"}, {Name: "www." + c.Name + ".example.com"}}}
		return s
	}
}

func planWith(t *testing.T, c *spec.Certificate, cur *state.Certificate, facts map[int64]state.OrderFacts) *Plan {
	t.Helper()
	return Build(Input{Certificates: []*spec.Certificate{c}, Now: testNow, Facts: facts,
		State: &state.State{Certificates: map[string]*state.Certificate{c.Name: cur}}})
}

func TestPlanShowsDCVRecords(t *testing.T) {
	c := tlsCert("shop")
	p := planWith(t, c, pendingDCV("dns-txt-token")(t, c), nil)
	ch := p.Changes[0]
	if ch.Action != ActionNoOp || ch.DCV == nil || len(ch.DCV.Records) != 2 {
		t.Fatalf("change %+v", ch)
	}
	r := ch.DCV.Records[0]
	if r.Name != "_dnsauth.shop.example.com" || r.Type != "TXT" || r.Value != "abc123" || r.Status != "pending" || ch.DCV.Expires != "2026-12-20T08:00:00Z" {
		t.Errorf("record %+v, expires %s", r, ch.DCV.Expires)
	}

	var text bytes.Buffer
	if err := RenderText(&text, p, false); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"= shop: pending: awaiting validation since 2026-11-20\n",
		"      publish for domain validation (dns-txt-token, value expires 2026-12-20T08:00:00Z):\n",
		`        _dnsauth.shop.example.com TXT "abc123" (pending)` + "\n",
		`        _dnsauth.www.shop.example.com TXT "abc123"` + "\n",
		"certplan dcv records --format bind",
	} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, text.String())
		}
	}

	var md bytes.Buffer
	if err := RenderMarkdown(&md, p); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"<details><summary>DCV: shop: publish 2 records (dns-txt-token), order 9 pending</summary>",
		"| `_dnsauth.shop.example.com` | TXT | `abc123` | pending |",
		"| `_dnsauth.www.shop.example.com` | TXT | `abc123` |  |",
		"value expires 2026-12-20T08:00:00Z",
	} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("markdown lacks %q:\n%s", want, md.String())
		}
	}

	var js bytes.Buffer
	if err := RenderJSON(&js, p); err != nil {
		t.Fatal(err)
	}
	var out struct {
		FormatVersion string `json:"format_version"`
		Changes       []struct {
			DCV struct {
				Method  string `json:"method"`
				Expires string `json:"expires"`
				Records []struct {
					Name, Type, Value, Status, Domain string
				} `json:"records"`
			} `json:"dcv"`
		} `json:"changes"`
	}
	if err := json.Unmarshal(js.Bytes(), &out); err != nil {
		t.Fatal(err)
	}
	d := out.Changes[0].DCV
	if out.FormatVersion != "2" || d.Method != "dns-txt-token" || len(d.Records) != 2 || d.Records[1].Name != "_dnsauth.www.shop.example.com" || d.Records[1].Domain != "www.shop.example.com" {
		t.Errorf("JSON dcv: %+v", out)
	}
}

func TestPlanDCVOtherMethods(t *testing.T) {
	c := tlsCert("api")
	ch := planWith(t, c, pendingDCV("dns-cname-token")(t, c), nil).Changes[0]
	if r := ch.DCV.Records[0]; r.Type != "CNAME" || r.Value != "abc123.dcv.digicert.com" {
		t.Errorf("CNAME record %+v", r)
	}
	ch = planWith(t, c, pendingDCV("http-token")(t, c), nil).Changes[0]
	if r := ch.DCV.Records[0]; r.Type != "HTTP" || r.Name != "http://api.example.com/.well-known/pki-validation/fileauth.txt" {
		t.Errorf("HTTP record %+v", r)
	}
	ch = planWith(t, c, pendingDCV("email")(t, c), nil).Changes[0]
	if ch.DCV != nil {
		t.Errorf("email: %+v", ch.DCV)
	}
	// Refreshed facts win: the value order info shows now.
	cur := pendingDCV("dns-txt-token")(t, c)
	facts := map[int64]state.OrderFacts{9: {OrderID: 9, Status: state.StatusPending,
		DCV: &state.DCV{Method: "dns-txt-token", RandomValue: "fresh", Names: cur.DCV.Names}}}
	if ch := planWith(t, c, cur, facts).Changes[0]; ch.DCV == nil || ch.DCV.Records[0].Value != "fresh" {
		t.Errorf("facts not used: %+v", ch.DCV)
	}
	// Issued: nothing to publish.
	facts[9] = state.OrderFacts{OrderID: 9, Status: state.StatusIssued, ValidTill: "2027-06-01"}
	if ch := planWith(t, c, cur, facts).Changes[0]; ch.DCV != nil {
		t.Errorf("issued order shows DCV: %+v", ch.DCV)
	}
}

func TestPlanShowsDCVLapse(t *testing.T) {
	c := tlsCert("shop")
	cur := validatedOn(9, "2027-04-10", "2027-10-10", "2026-06-01")(t, c)
	p := planWith(t, c, cur, nil)
	ch := p.Changes[0]
	if ch.DCV == nil || len(ch.DCV.Lapses) != 2 || ch.DCV.Lapses[0] != (DCVLapse{Domain: "shop.example.com", Validated: "2026-06-01", Lapses: "2026-12-17", NextCertificate: "2027-03-12"}) {
		t.Fatalf("lapses %+v", ch.DCV)
	}
	var text bytes.Buffer
	_ = RenderText(&text, p, false)
	if !strings.Contains(text.String(), "# domain validation of shop.example.com, www.shop.example.com (validated 2026-06-01) lapses 2026-12-17, before the next certificate (due 2027-03-12)") {
		t.Errorf("text:\n%s", text.String())
	}
	var md bytes.Buffer
	_ = RenderMarkdown(&md, p)
	if !strings.Contains(md.String(), "DCV: shop: validation lapses 2026-12-17, before the next certificate (due 2027-03-12)") {
		t.Errorf("markdown:\n%s", md.String())
	}
}

// Values from a state file or a server never reach a terminal raw.
func TestPlanDCVEscapes(t *testing.T) {
	c := tlsCert("shop")
	cur := pendingDCV("dns-txt-token")(t, c)
	cur.DCV.RandomValue = "evil\x1b[2J`|<b>"
	p := planWith(t, c, cur, nil)
	var text, md bytes.Buffer
	_ = RenderText(&text, p, false)
	_ = RenderMarkdown(&md, p)
	if strings.Contains(text.String(), "\x1b") || strings.Contains(md.String(), "\x1b") {
		t.Error("an escape character reached the output")
	}
	if strings.Contains(md.String(), "<b>") {
		t.Errorf("HTML reached the markdown:\n%s", md.String())
	}
}
