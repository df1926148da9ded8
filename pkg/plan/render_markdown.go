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
// summary: the marker, the summary line, when and from what it was planned,
// drift, a table of changes (and of unchanged certificates with notes),
// moves, orphans, the other unchanged certificates (collapsed), and
// <details> blocks with the diffs. However large the plan, the output stays
// under MarkdownLimit: table rows, list items and details that do not fit are
// left out and counted, and the summary line and table header are always
// present.
//
// The table is HTML, not a pipe table: its action and certificate cells are
// <td nowrap> (the product under the name), so that at a comment's width
// (about 780 px) they stay on one line and only the purchase and reasons
// wrap; names stay exactly as typed, so that they can be copied into a
// command.
func RenderMarkdown(w io.Writer, p *Plan) error {
	if err := checkActions(p); err != nil {
		return fmt.Errorf("render plan: %w", err)
	}
	m := mdWriter{limit: MarkdownLimit - markdownReserve, planFile: p.SavedAs}
	head := MarkdownMarker + "\n### certplan plan\n\n" + SummaryLine(p) + "\n\n" + mdInline(PlannedLine(p)) + "\n"
	if b := BlockedLine(p); b != "" {
		head += "\n**" + b + "**\n"
	}
	if n := UniqueIDsNote(p); n != "" {
		head += "\n> " + mdInline(n) + "\n"
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

	var rows, quiet []*Change
	for i := range p.Changes {
		if noteworthy(&p.Changes[i]) {
			rows = append(rows, &p.Changes[i])
		} else {
			quiet = append(quiet, &p.Changes[i])
		}
	}
	if len(rows) > 0 {
		m.always("\n<table>\n<thead><tr><th>Action</th><th>Certificate</th><th>Purchase and reasons</th></tr></thead>\n<tbody>\n")
		shown := m.each(len(rows), 75, func(i int) string { return tableRow(rows[i]) })
		m.always("</tbody>\n</table>\n")
		m.omitted(len(rows)-shown, "table row", "table rows")
	}

	var moved []*Change
	for _, c := range rows {
		if c.MovedFrom != "" {
			moved = append(moved, c)
		}
	}
	if len(moved) > 0 {
		m.always("\n**Moved in the state** (`metadata.previousNames`; apply renames the entry, the move orders nothing)\n\n")
		shown := m.each(len(moved), 78, func(i int) string {
			return "- `" + moved[i].MovedFrom + "` → `" + moved[i].Name + "`\n"
		})
		m.omitted(len(moved)-shown, "move", "moves")
	}

	if len(p.Orphaned) > 0 {
		m.always("\n**Orphaned** (in state, in no manifest; left alone, nothing is ever revoked; `certplan state rm NAME` forgets it)\n\n")
		shown := m.each(len(p.Orphaned), 85, func(i int) string { return "- `" + esc(p.Orphaned[i]) + "`\n" })
		m.omitted(len(p.Orphaned)-shown, "orphaned name", "orphaned names")
	}
	if u := UnplannedLine(p); u != "" {
		m.always("\n" + mdInline(u) + "\n")
	}

	if len(quiet) > 0 {
		m.always(sprintf("\n<details><summary>%d unchanged %s</summary>\n\n", len(quiet), plural(int64(len(quiet)), "certificate")))
		shown := m.each(len(quiet), 88, func(i int) string {
			c := quiet[i]
			line := "- `" + c.Name + "`: " + mdInline(c.Status)
			if b := BillingPhrase(c); b != "" && !strings.Contains(c.Status, "paid through") {
				line += "; " + mdInline(b)
			}
			return line + "\n"
		})
		m.always("\n</details>\n")
		m.omitted(len(quiet)-shown, "unchanged certificate", "unchanged certificates")
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
	// planFile is where the full plan was saved, named by the notes about
	// omitted parts ("" when not saved).
	planFile string
}

// always appends text that must appear whatever the budget (headings, notes).
func (m *mdWriter) always(s string) { m.b.WriteString(s) }

// each appends items in order while the output stays within percent of the
// budget, and returns how many it appended. Sections get cumulative shares
// (drift 20 %, table 75 %, orphans 85 %, unchanged 88 %, domain validation 95 %, details 100 %), so a huge table
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
	if n == 0 {
		return
	}
	show := "`certplan show PLANFILE` prints the full plan from a plan file (`certplan plan --out PLANFILE`)"
	if m.planFile != "" {
		show = "`certplan show " + mdCode(m.planFile) + "` prints the full plan (in CI: from the plan-file artifact linked below)"
	}
	m.always(sprintf("\n_%d more %s omitted to stay under the comment size limit; %s._\n", n, what, show))
}

// tableRow is one <tr> of the changes table: the action; the certificate's
// name with its product below; what it buys and why. The first two cells
// are nowrap, and the name and product are <samp> (monospace, and unlike
// <code> not white-space: break-spaces in GitHub's stylesheet), so that they
// stay on one line at a comment's width; only the last cell wraps.
func tableRow(c *Change) string {
	reasons := strings.Join(messages(c.Reasons), "; ")
	if c.Action == ActionNoOp && c.Status != "" {
		reasons = c.Status
	}
	action := htmlText(actionSymbol(c) + " " + actionWord(c))
	if c.Destructive {
		action += "<br><strong>destructive</strong>"
	}
	name := "<samp>" + htmlText(c.Name) + "</samp>"
	if c.MovedFrom != "" {
		name += " ← <samp>" + htmlText(c.MovedFrom) + "</samp>"
	}
	name += "<br><sub>" + htmlText(string(c.Product)) + "</sub>"
	what := ""
	if b := BillingPhrase(c); b != "" && !(c.Action == ActionNoOp && strings.Contains(reasons, "paid through")) {
		if l := billingLabel(c); l != "" {
			b = l + ": " + b
		}
		what = "<strong>" + htmlInline(b) + "</strong>"
	}
	if reasons != "" {
		if what != "" {
			what += "<br>"
		}
		what += htmlInline(reasons)
	}
	return "<tr><td nowrap>" + action + "</td><td nowrap>" + name + "</td><td>" + what + "</td></tr>\n"
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
	if b := BillingPhrase(c); b != "" {
		if l := billingLabel(c); l != "" {
			b = l + ": " + b
		}
		body.WriteString("  purchase: " + b + "\n")
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

// mdInline makes text safe on one markdown line.
func mdInline(s string) string {
	return mdHTML(strings.NewReplacer("\r", " ", "\n", " ").Replace(s))
}

// mdHTML escapes what GitHub would take for HTML, and control characters and
// workflow commands (esc).
func mdHTML(s string) string {
	return esc(strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s))
}

// htmlText escapes text for an HTML block, on one line (markdown is not
// processed inside HTML blocks, and a blank line would end the block).
func htmlText(s string) string {
	return mdHTML(strings.NewReplacer("\r", " ", "\n", " ").Replace(s))
}

// htmlInline is htmlText that keeps `code` spans as <code> elements.
func htmlInline(s string) string {
	parts := strings.Split(s, "`")
	if len(parts)%2 == 0 { // an unpaired backtick: plain text
		return htmlText(s)
	}
	var b strings.Builder
	for i, part := range parts {
		if i%2 == 1 {
			b.WriteString("<code>" + htmlText(part) + "</code>")
		} else {
			b.WriteString(htmlText(part))
		}
	}
	return b.String()
}

// mdCode makes text safe inside a `code span` (no backticks, one line).
func mdCode(s string) string {
	return strings.NewReplacer("`", "'", "\r", " ", "\n", " ").Replace(s)
}
