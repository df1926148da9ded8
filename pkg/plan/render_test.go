package plan

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/certplan/certplan/pkg/spec"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./pkg/plan -run %s -update to create it)", err, t.Name())
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test ./pkg/plan -update rewrites it):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

func TestRenderGolden(t *testing.T) {
	p := Build(fixture(t))
	renderers := []struct {
		file   string
		render func(*bytes.Buffer) error
	}{
		{"plan.txt", func(b *bytes.Buffer) error { return RenderText(b, p, false) }},
		{"plan.color.txt", func(b *bytes.Buffer) error { return RenderText(b, p, true) }},
		{"plan.json", func(b *bytes.Buffer) error { return RenderJSON(b, p) }},
		{"plan.md", func(b *bytes.Buffer) error { return RenderMarkdown(b, p) }},
	}
	for _, r := range renderers {
		t.Run(r.file, func(t *testing.T) {
			var b bytes.Buffer
			if err := r.render(&b); err != nil {
				t.Fatal(err)
			}
			golden(t, r.file, b.Bytes())
		})
	}
}

func TestRenderTextColourOnlyWhenAsked(t *testing.T) {
	p := Build(fixture(t))
	var plain, colour bytes.Buffer
	if err := RenderText(&plain, p, false); err != nil {
		t.Fatal(err)
	}
	if err := RenderText(&colour, p, true); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(plain.Bytes(), []byte("\x1b[")) {
		t.Error("plain text output contains ANSI escapes")
	}
	if !bytes.Contains(colour.Bytes(), []byte("\x1b[32m")) {
		t.Error("coloured output has no ANSI colour")
	}
}

func TestSummaryLine(t *testing.T) {
	tests := []struct {
		s    Summary
		want string
	}{
		{Summary{Create: 2, Renew: 1, NoOp: 40}, "Plan: 2 to create, 1 to renew, 40 unchanged."},
		{Summary{NoOp: 43, Orphaned: 2}, "No changes. 43 certificates up to date."},
		{Summary{NoOp: 1}, "No changes. 1 certificate up to date."},
		{Summary{Create: 1}, "Plan: 1 to create, 0 to renew, 0 unchanged."},
		// With reissues (which buy no order) the billed orders are counted apart.
		{Summary{Create: 1, Reissue: 2, Renew: 1, NoOp: 40, Billed: 2}, "Plan: 1 to create, 2 to reissue, 1 to renew (2 billed), 40 unchanged."},
		{Summary{Reissue: 3, Billed: 0, ProRata: 1, NoOp: 1}, "Plan: 0 to create, 3 to reissue, 0 to renew (0 billed, 1 pro rata), 1 unchanged."},
		{Summary{Reissue: 1, NoOp: 2, Blocked: 1}, "Plan: 0 to create, 1 to reissue, 0 to renew (0 billed), 2 unchanged."},
	}
	for _, tt := range tests {
		if got := SummaryLine(&Plan{Summary: tt.s}); got != tt.want {
			t.Errorf("SummaryLine(%+v) = %q, want %q", tt.s, got, tt.want)
		}
	}
}

func TestRenderTextEndsWithSummary(t *testing.T) {
	p := Build(fixture(t))
	var b bytes.Buffer
	if err := RenderText(&b, p, false); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if last := lines[len(lines)-1]; last != "Plan: 5 to create, 3 to reissue, 2 to renew (7 billed, 2 pro rata), 6 unchanged." {
		t.Errorf("last line = %q", last)
	}
}

// A plan of 10,000 changes with long diffs stays under the limit and keeps
// the marker, the summary and the table header.
func TestRenderMarkdownHugePlan(t *testing.T) {
	tests := []struct {
		name   string
		orphan int
		drift  int
	}{
		{"changes only", 0, 0},
		{"with drift and orphans", 10000, 10000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &Plan{FormatVersion: FormatVersion, Orphaned: []string{}, Drift: []Drift{}}
			for i := 0; i < 10000; i++ {
				name := fmt.Sprintf("cert-%05d", i)
				names := make([]any, 50)
				for j := range names {
					names[j] = fmt.Sprintf("host-%d.%s.example.com", j, name)
				}
				p.Changes = append(p.Changes, Change{
					Name: name, Product: spec.SecureSiteFlex, Action: ActionCreate, Reasons: []Reason{{Code: ReasonNewCertificate, Message: "new certificate"}},
					AlternativeOrderID: AlternativeOrderID(name, spec.SecureSiteFlex, "sha256:x", "initial"),
					Diff: []DiffEntry{
						{Path: "certificate.common_name", After: name + ".example.com"},
						{Path: "certificate.csr", After: csrPEM(name)},
						{Path: "certificate.dns_names", After: names},
						{Path: "comments", Before: "old", After: "new"},
					},
				})
				p.Summary.Create++
			}
			for i := 0; i < tt.orphan; i++ {
				p.Orphaned = append(p.Orphaned, fmt.Sprintf("orphan-%05d", i))
			}
			for i := 0; i < tt.drift; i++ {
				p.Drift = append(p.Drift, Drift{Name: fmt.Sprintf("cert-%05d", i), OrderID: int64(i), Field: "status", Message: "order was revoked outside certplan"})
			}
			p.Summary.Orphaned = len(p.Orphaned)
			var b bytes.Buffer
			if err := RenderMarkdown(&b, p); err != nil {
				t.Fatal(err)
			}
			out := b.String()
			if n := len([]rune(out)); n >= 65000 {
				t.Fatalf("markdown is %d characters, want < 65,000", n)
			}
			if !strings.HasPrefix(out, MarkdownMarker+"\n") {
				t.Error("markdown does not start with the marker")
			}
			wants := []string{
				"Plan: 10000 to create, 0 to renew, 0 unchanged.",
				"<tr><th>Action</th><th>Certificate</th><th>Purchase and reasons</th></tr>",
				"<td nowrap><samp>cert-00000</samp><br>",
				"</tbody>\n</table>\n",
				"omitted to stay under the comment size limit",
			}
			if tt.orphan > 0 {
				// Every section gets a share of the budget.
				wants = append(wants, "- `orphan-00000`", "- `cert-00000`: order was revoked", "more orphaned names omitted", "more drift entries omitted")
			} else {
				wants = append(wants, "<details><summary>+ cert-00000: create")
			}
			for _, want := range wants {
				if !strings.Contains(out, want) {
					t.Errorf("markdown lacks %q", want)
				}
			}
		})
	}
}

func TestRenderMarkdownSmallPlanOmitsNothing(t *testing.T) {
	p := Build(fixture(t))
	var b bytes.Buffer
	if err := RenderMarkdown(&b, p); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if strings.Contains(out, "omitted") {
		t.Error("a small plan should not omit anything")
	}
	for _, c := range p.Changes {
		if c.Action != ActionNoOp && !strings.Contains(out, "<summary>"+actionSymbol(&c)+" "+c.Name+":") {
			t.Errorf("no details block for %s", c.Name)
		}
	}
}

// Secrets never appear in any rendering; their references only in plan files.
func TestRenderNeverShowsSecretReferences(t *testing.T) {
	p := Build(fixture(t))
	for _, r := range []func(*bytes.Buffer) error{
		func(b *bytes.Buffer) error { return RenderText(b, p, false) },
		func(b *bytes.Buffer) error { return RenderJSON(b, p) },
		func(b *bytes.Buffer) error { return RenderMarkdown(b, p) },
	} {
		var b bytes.Buffer
		if err := r(&b); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(b.String(), "CARD_NUMBER") {
			t.Errorf("rendering shows a secret reference:\n%s", b.String())
		}
		if !strings.Contains(b.String(), spec.Sensitive) {
			t.Errorf("rendering does not show the card number as %s", spec.Sensitive)
		}
	}
}

func TestDisplayValue(t *testing.T) {
	tests := []struct {
		in   any
		want string
	}{
		{nil, "null"},
		{"a<b", `"a<b"`},
		{[]any{"x", "y"}, `["x","y"]`},
		{spec.Secret{Ref: spec.SecretRef{Env: "X"}}, `"(sensitive)"`},
		{"-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n", `"-----BEGIN CERTIFICATE REQUEST-----…" (75 chars, sha256:`},
	}
	for _, tt := range tests {
		if got := displayValue(tt.in); !strings.HasPrefix(got, tt.want) {
			t.Errorf("displayValue(%#v) = %s, want prefix %s", tt.in, got, tt.want)
		}
	}
}
