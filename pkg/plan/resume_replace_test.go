package plan

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certplan/certplan/pkg/spec"
	"github.com/certplan/certplan/pkg/state"
)

// A resumed create whose manifest changed since carries the change the
// manifest as it is now gets (resume or replace, issue 11 item 4): apply
// makes it instead when the look-up proves the interrupted order was never
// placed. The plan says so, JSON shows it without bodies, and a plan file
// keeps it with its secrets.
func TestBuildResumeOrReplace(t *testing.T) {
	t.Setenv("CARD_NUMBER", "4111111111111111")
	t.Setenv("CARD_CVV", "737")
	c := tlsCert("a", withCard)
	rec := state.Record{
		Type: state.RecordIntent, Time: testNow.Add(-time.Hour), Name: "a", Action: state.ActionCreate,
		AlternativeOrderID: "cpjournaled", Product: string(c.Product), SpecDigest: SpecDigest(c),
		RequestDigest: RequestDigest(c.Order), Request: roundTrip(t, c.Order),
	}
	setCN("changed.example.com")(c)
	p := Build(Input{Certificates: []*spec.Certificate{c}, Pending: map[string]state.Record{"a": rec}, Now: testNow})
	ch := p.Changes[0]
	rep := ch.Replacement
	if !ch.Resuming || ch.AlternativeOrderID != "cpjournaled" || rep == nil {
		t.Fatalf("got resuming=%v key=%s replacement=%+v, want the journaled key resumed, with a replacement", ch.Resuming, ch.AlternativeOrderID, rep)
	}
	if rep.Action != ActionCreate || rep.Resuming || rep.AlternativeOrderID != key("a", c.Product, SpecDigest(c), 0) || rep.SpecDigest != SpecDigest(c) {
		t.Errorf("replacement %s resuming=%v key=%s, want a create of the manifest as it is now under its own key", rep.Action, rep.Resuming, rep.AlternativeOrderID)
	}
	if cn, _ := lookupPath(rep.Request, "certificate.common_name"); cn != "changed.example.com" {
		t.Errorf("replacement common_name = %v, want the manifest's changed.example.com", cn)
	}
	if msg := ch.Reasons[1].Message; !strings.Contains(msg, "never placed") || !strings.Contains(msg, rep.AlternativeOrderID) {
		t.Errorf("reason %q does not say what replaces the interrupted order", msg)
	}

	var js bytes.Buffer
	if err := RenderJSON(&js, p); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(js.String(), `"replacement"`) || strings.Contains(js.String(), "changed.example.com\"") && strings.Contains(js.String(), `"request"`) {
		t.Errorf("JSON must show the replacement without its request body:\n%s", js.String())
	}

	path := filepath.Join(t.TempDir(), "plan.json")
	if err := WriteFile(path, p); err != nil {
		t.Fatal(err)
	}
	back, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := lookupPath(back.Changes[0].Replacement.Request, "credit_card.number"); n != (spec.Secret{Ref: spec.SecretRef{Env: "CARD_NUMBER"}}) {
		t.Errorf("plan file replacement card number = %#v, want the secret reference restored", n)
	}

	// An unchanged manifest resumes as journaled, with nothing to replace it.
	c = tlsCert("a", withCard)
	p = Build(Input{Certificates: []*spec.Certificate{c}, Pending: map[string]state.Record{"a": rec}, Now: testNow})
	if p.Changes[0].Replacement != nil {
		t.Errorf("unchanged manifest: replacement %+v, want none", p.Changes[0].Replacement)
	}
}

// A resumed order whose last attempt ended with an unknown outcome says so,
// and when apply will send it again.
func TestResumeReasonNamesTheLastAttempt(t *testing.T) {
	c := tlsCert("a")
	last := testNow.Add(-2 * time.Minute)
	rec := state.Record{Type: state.RecordIntent, Time: testNow.Add(-3 * time.Minute), Name: "a", Action: state.ActionCreate,
		AlternativeOrderID: "cpjournaled", Product: string(c.Product), SpecDigest: SpecDigest(c), LastAttempt: &last}
	ch := Build(Input{Certificates: []*spec.Certificate{c}, Pending: map[string]state.Record{"a": rec}, Now: testNow}).Changes[0]
	if msg := ch.Reasons[0].Message; !strings.Contains(msg, "last attempt, at "+last.Format(time.RFC3339)) || !strings.Contains(msg, "--resubmit-after") {
		t.Errorf("resuming reason %q does not name the last attempt and the wait", msg)
	}
}
