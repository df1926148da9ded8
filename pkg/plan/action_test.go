package plan

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/certplan/certplan/pkg/spec"
)

// onePlan is a plan of one change with action a, as Build would summarize it.
func onePlan(a Action) *Plan {
	ch := Change{
		Name: "cert", Product: spec.SecureSiteFlex, Action: a,
		Reasons: []Reason{{Code: ReasonNewCertificate, Message: "a reason"}}, Diff: []DiffEntry{}, Status: "a status",
	}
	p := &Plan{FormatVersion: FormatVersion, Changes: []Change{ch}, Orphaned: []string{}, Drift: []Drift{}}
	p.Summary.add(&p.Changes[0])
	return p
}

// Every action is counted, summarized, rendered in every format and read
// back from a plan file. A new action fails here until each of them handles it.
func TestEveryActionIsHandled(t *testing.T) {
	seen := map[string]Action{}
	for _, a := range AllActions() {
		t.Run(a.String(), func(t *testing.T) {
			if !a.Valid() {
				t.Fatal("not Valid")
			}
			if a.Symbol() == "?" || a.Symbol() == "!" {
				t.Errorf("symbol %q: want one of its own (\"!\" marks blocked changes)", a.Symbol())
			}
			if other, dup := seen[a.Symbol()]; dup {
				t.Errorf("symbol %q is %s's too", a.Symbol(), other)
			}
			seen[a.Symbol()] = a
			if a.PlacesBilledOrder() && !a.TouchesCertCentral() {
				t.Error("places a billed order without touching CertCentral")
			}

			p := onePlan(a)
			ch := &p.Changes[0]
			s := p.Summary
			if s.Count(a) != 1 || s.Create+s.Renew+s.Reissue+s.NoOp != 1 {
				t.Errorf("summary %+v: want exactly one change counted, as %s", s, a)
			}
			line := SummaryLine(p)
			if a.TouchesCertCentral() {
				if want := "1 to " + a.String(); !strings.Contains(line, want) {
					t.Errorf("summary line %q lacks %q", line, want)
				}
			} else if line != "No changes. 1 certificate up to date." {
				t.Errorf("summary line %q, want no changes", line)
			}
			if p.HasChanges() != a.TouchesCertCentral() || ch.Applies() != a.TouchesCertCentral() || len(p.ToApply()) != s.Create+s.Renew+s.Reissue {
				t.Errorf("HasChanges %v, Applies %v, ToApply %d: want %v and the summary's count of orders",
					p.HasChanges(), ch.Applies(), len(p.ToApply()), a.TouchesCertCentral())
			}

			var text bytes.Buffer
			if err := RenderText(&text, p, false); err != nil {
				t.Fatalf("text: %v", err)
			}
			if want := actionSymbol(ch) + " cert"; !strings.Contains(text.String(), want) {
				t.Errorf("text lacks %q:\n%s", want, text.String())
			}
			var md bytes.Buffer
			if err := RenderMarkdown(&md, p); err != nil {
				t.Fatalf("markdown: %v", err)
			}
			if want := "<td nowrap>" + a.Symbol() + " " + a.String() + "</td>"; !strings.Contains(md.String(), want) {
				t.Errorf("markdown lacks %q:\n%s", want, md.String())
			}
			var js bytes.Buffer
			if err := RenderJSON(&js, p); err != nil {
				t.Fatalf("json: %v", err)
			}
			var back Plan
			if err := json.Unmarshal(js.Bytes(), &back); err != nil || back.Changes[0].Action != a {
				t.Errorf("json reads back as %q (%v), want %q", back.Changes[0].Action, err, a)
			}
			b, err := encodeJSON(p)
			if err != nil {
				t.Fatal(err)
			}
			if got, err := decodePlan("plan.json", b); err != nil || got.Changes[0].Action != a {
				t.Errorf("plan file reads back as %+v (%v)", got, err)
			}
		})
	}
}

// An action this certplan does not know is never taken for a no-op: it is
// counted nowhere, every renderer refuses it, apply acts on it (to refuse
// it), and a plan file carrying one is refused.
func TestUnknownActionIsAnError(t *testing.T) {
	const alien Action = "teleport"
	if alien.Valid() || alien.Symbol() != "?" || alien.TouchesCertCentral() || alien.PlacesBilledOrder() {
		t.Fatalf("%q: valid %v symbol %q", alien, alien.Valid(), alien.Symbol())
	}
	p := onePlan(alien)
	if s := p.Summary; s != (Summary{}) {
		t.Errorf("summary %+v counts an unknown action", s)
	}
	if !p.HasChanges() || !p.Changes[0].Applies() {
		t.Error("apply would skip an unknown action silently")
	}
	for name, render := range map[string]func(*bytes.Buffer) error{
		"text":     func(b *bytes.Buffer) error { return RenderText(b, p, false) },
		"markdown": func(b *bytes.Buffer) error { return RenderMarkdown(b, p) },
		"json":     func(b *bytes.Buffer) error { return RenderJSON(b, p) },
	} {
		var b bytes.Buffer
		if err := render(&b); err == nil || !strings.Contains(err.Error(), "teleport") {
			t.Errorf("%s: err = %v, want one naming the action", name, err)
		}
	}
	b, err := encodeJSON(p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := decodePlan("plan.json", b); err == nil || !strings.Contains(err.Error(), "teleport") {
		t.Errorf("reading a plan file with an unknown action: err = %v", err)
	}
}
