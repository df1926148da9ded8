package plan

import (
	"fmt"
	"io"
	"strings"
)

// MarkdownMarker opens every markdown plan so that CI can find and update
// its previous pull-request comment.
const MarkdownMarker = "<!-- certplan:plan -->"

const (
	// MarkdownLimit bounds the markdown plan in bytes (so in characters too),
	// under GitHub's 65,536-character comment limit.
	MarkdownLimit = 65000
	// markdownReserve is kept free for the notes about omitted parts.
	markdownReserve = 1000
)

// RenderMarkdown writes the plan for a pull-request comment or a GitHub step
// summary: the marker, the summary line, drift, a table of changes (and of
// unchanged certificates with notes), orphans, and <details> blocks with the
// diffs. However large the plan, the output stays under MarkdownLimit: table
// rows, list items and details that do not fit are left out and counted, and
// the summary line and table header are always present.
func RenderMarkdown(w io.Writer, p *Plan) error {
	if err := checkActions(p); err != nil {
		return fmt.Errorf("render plan: %w", err)
	}
	m := mdWriter{limit: MarkdownLimit - markdownReserve}
	head := MarkdownMarker + "\n### certplan plan\n\n" + SummaryLine(p) + "\n"
	if b := BlockedLine(p); b != "" {
		head += "\n**" + b + "**\n"
	}
	m.always(head)

	if len(p.Drift) > 0 {
		m.always("\n**Changed outside certplan (drift)**\n\n")
		shown := m.each(len(p.Drift), 20, func(i int) string {
			d := p.Drift[i]
			return "- `" + esc(d.Name) + "`: " + mdInline(d.Message) + "\n"
		})
		m.omitted(len(p.Drift)-shown, "drift entry", "drift entries")
	}

	var rows []*Change
	for i := range p.Changes {
		if noteworthy(&p.Changes[i]) {
			rows = append(rows, &p.Changes[i])
		}
	}
	if len(rows) > 0 {
		m.always("\n| Name | Product | Action | Cost | Reasons |\n| --- | --- | --- | --- | --- |\n")
		shown := m.each(len(rows), 75, func(i int) string { return tableRow(rows[i]) })
		m.omitted(len(rows)-shown, "table row", "table rows")
	}

	if len(p.Orphaned) > 0 {
		m.always("\n**Orphaned** (in state, in no manifest; left alone, nothing is ever revoked; `certplan state rm NAME` forgets it)\n\n")
		shown := m.each(len(p.Orphaned), 85, func(i int) string { return "- `" + esc(p.Orphaned[i]) + "`\n" })
		m.omitted(len(p.Orphaned)-shown, "orphaned name", "orphaned names")
	}

	var validating []string
	for _, c := range rows {
		if b := dcvBlock(c); b != "" {
			validating = append(validating, b)
		}
	}
	if len(validating) > 0 {
		m.always("\n**Domain validation** (records to publish, validations that lapse)\n\n")
		shown := m.each(len(validating), 95, func(i int) string { return validating[i] })
		m.omitted(len(validating)-shown, "domain validation section", "domain validation sections")
	}

	var detailed []*Change
	for _, c := range rows {
		if c.Action.TouchesCertCentral() {
			detailed = append(detailed, c)
		}
	}
	if len(detailed) > 0 {
		m.always("\n")
		shown := m.each(len(detailed), 100, func(i int) string { return detailsBlock(detailed[i]) })
		m.omitted(len(detailed)-shown, "diff", "diffs")
	}
	_, err := io.WriteString(w, m.b.String())
	return err
}

// mdWriter builds markdown within a byte budget.
type mdWriter struct {
	b     strings.Builder
	limit int
}

// always appends text that must appear whatever the budget (headings, notes).
func (m *mdWriter) always(s string) { m.b.WriteString(s) }

// each appends items in order while the output stays within percent of the
// budget, and returns how many it appended. Sections get cumulative shares
// (drift 20 %, table 75 %, orphans 85 %, domain validation 95 %, details 100 %), so a huge table
// leaves room for the orphans and a short one leaves it all to the details.
func (m *mdWriter) each(n, percent int, item func(i int) string) int {
	limit := m.limit * percent / 100
	for i := 0; i < n; i++ {
		s := item(i)
		if m.b.Len()+len(s) > limit {
			return i
		}
		m.b.WriteString(s)
	}
	return n
}

// omitted notes how many items were left out to stay under the limit.
func (m *mdWriter) omitted(n int, singular, plural string) {
	what := plural
	if n == 1 {
		what = singular
	}
	if n > 0 {
		m.always(sprintf("\n_%d more %s omitted to stay under the comment size limit; `certplan show PLANFILE` prints the full plan._\n", n, what))
	}
}

func tableRow(c *Change) string {
	reasons := strings.Join(messages(c.Reasons), "; ")
	if c.Action == ActionNoOp && c.Status != "" {
		reasons = c.Status
	}
	action := actionSymbol(c) + " " + actionWord(c)
	if c.Destructive {
		action += " **destructive**"
	}
	cost := ""
	if b := BillingPhrase(c); b != "" {
		cost = b
		if l := billingLabel(c); l != "" {
			cost = l + ": " + b
		}
	}
	return "| `" + c.Name + "` | `" + string(c.Product) + "` | " + action + " | " + mdCell(cost) + " | " + mdCell(reasons) + " |\n"
}

// detailsBlock is a collapsible diff of one change that touches CertCentral.
func detailsBlock(c *Change) string {
	var body strings.Builder
	if c.Destructive {
		body.WriteString("! " + destructiveWarning(c) + "\n")
	}
	if v := c.NextCertificate; v != nil {
		body.WriteString("  next certificate: " + validityPhrase(v) + "\n")
	}
	if c.AlternativeOrderID != "" {
		body.WriteString("  alternative_order_id: " + c.AlternativeOrderID + "\n")
	}
	for _, d := range c.Diff {
		path := esc(d.Path)
		switch diffSymbol(d) {
		case "+":
			body.WriteString("+ " + path + ": " + esc(displayValue(d.After)) + "\n")
		case "-":
			body.WriteString("- " + path + ": " + esc(displayValue(d.Before)) + "\n")
		default:
			body.WriteString("- " + path + ": " + esc(displayValue(d.Before)) + "\n")
			body.WriteString("+ " + path + ": " + esc(displayValue(d.After)) + "\n")
		}
	}
	fence := codeFence(body.String())
	fields := "no field changes"
	if len(c.Diff) > 0 {
		fields = sprintf("%d %s", len(c.Diff), pluralWord(len(c.Diff), "field"))
	}
	title := actionSymbol(c) + " " + c.Name + ": " + actionWord(c) + ", " + fields
	return "<details><summary>" + mdHTML(title) + "</summary>\n\n" + fence + "diff\n" + body.String() + fence + "\n\n</details>\n"
}

func pluralWord(n int, w string) string { return plural(int64(n), w) }

// codeFence returns a backtick fence longer than any backtick run in s.
func codeFence(s string) string {
	longest, run := 0, 0
	for _, r := range s {
		if r == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	return strings.Repeat("`", max(3, longest+1))
}

// mdCell makes text safe inside a table cell.
func mdCell(s string) string {
	s = strings.NewReplacer("|", `\|`, "\r", " ", "\n", " ").Replace(s)
	return mdHTML(s)
}

// mdInline makes text safe on one markdown line.
func mdInline(s string) string {
	return mdHTML(strings.NewReplacer("\r", " ", "\n", " ").Replace(s))
}

// mdHTML escapes what GitHub would take for HTML, and control characters and
// workflow commands (esc).
func mdHTML(s string) string {
	return esc(strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s))
}
