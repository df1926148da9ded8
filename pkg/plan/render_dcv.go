package plan

import (
	"strings"

	dcvpkg "github.com/certplan/certplan/pkg/dcv"
)

// How the renderers show a change's domain validation (Change.DCV): the
// records to publish under the change in text, a collapsible section per
// order in markdown; JSON carries Change.DCV as it is. Everything that came
// from a server or a state file goes through dcv.Safe (and markdown's own
// escaping): no control character reaches a terminal or a comment.

// dcvHint says what to do with the records.
const dcvHint = "`certplan dcv records --format bind` prints them as a BIND zone fragment; `certplan dcv check` asks CertCentral to validate once they are visible in DNS"

// dcv writes the records of a change awaiting validation under it, and for
// a no-op note the lapse reasons (an ordered change shows its reasons).
func (t textWriter) dcv(c *Change, note bool) {
	d := c.DCV
	if d == nil {
		return
	}
	if note {
		for _, r := range c.Reasons {
			if r.Code == ReasonDCVLapses {
				t.line("      ", t.style(ansiDim, "# "+dcvpkg.Safe(r.Message)))
			}
		}
	}
	if len(d.Lapses) > 0 {
		return
	}
	if len(d.Records) == 0 {
		t.line("      ", t.style(ansiYellow, "domain validation ("+dcvpkg.Safe(d.Method)+"): the random value is not known here; `certplan dcv records` fetches it"))
		return
	}
	head := "publish for domain validation (" + dcvpkg.Safe(d.Method)
	if d.Expires != "" {
		head += ", value expires " + dcvpkg.Safe(d.Expires)
	}
	t.line("      ", t.style(ansiYellow, head+"):"))
	for _, r := range d.Records {
		t.line("        ", dcvpkg.RecordLine(r))
	}
	t.line("      ", t.style(ansiDim, "# "+dcvHint))
}

// dcvBlock is a collapsible markdown section with a change's records to
// publish, or the validations that lapse; "" when it has none.
func dcvBlock(c *Change) string {
	d := c.DCV
	if d == nil {
		return ""
	}
	var b strings.Builder
	if len(d.Lapses) > 0 {
		l := d.Lapses[0]
		title := "DCV: " + c.Name + ": validation lapses " + l.Lapses + ", before the next certificate (due " + l.NextCertificate + ")"
		b.WriteString("<details><summary>" + mdHTML(dcvpkg.Safe(title)) + "</summary>\n\n")
		b.WriteString("| Domain | Validated | Lapses | Next certificate |\n| --- | --- | --- | --- |\n")
		for _, l := range d.Lapses {
			b.WriteString("| " + codeCell(l.Domain) + " | " + mdCell(l.Validated) + " | " + mdCell(l.Lapses) + " | " + mdCell(l.NextCertificate) + " |\n")
		}
		b.WriteString("\nReuse periods shrink by date (100 days from 2027-03-15, 10 from 2029-03-15): the next certificate waits in `pending` until fresh DCV records are published and checked; the plan lists them then.\n\n</details>\n")
		return b.String()
	}
	status := "pending"
	if i := strings.Index(c.Status, ":"); i > 0 {
		status = c.Status[:i]
	}
	if len(d.Records) == 0 {
		title := "DCV: " + c.Name + ": awaiting validation (" + d.Method + "), random value not known here"
		return "<details><summary>" + mdHTML(dcvpkg.Safe(title)) + "</summary>\n\n`certplan dcv records` fetches it.\n\n</details>\n"
	}
	title := sprintf("DCV: %s: publish %d %s (%s), order %d %s", c.Name, len(d.Records), pluralWord(len(d.Records), "record"),
		d.Method, c.OrderID, status)
	b.WriteString("<details><summary>" + mdHTML(dcvpkg.Safe(title)) + "</summary>\n\n")
	b.WriteString("| Name | Type | Value | Status |\n| --- | --- | --- | --- |\n")
	for _, r := range d.Records {
		b.WriteString("| " + codeCell(r.Name) + " | " + mdCell(dcvpkg.Safe(r.Type)) + " | " + codeCell(r.Value) + " | " + mdCell(dcvpkg.Safe(r.Status)) + " |\n")
	}
	b.WriteString("\n")
	if d.Expires != "" {
		b.WriteString("The random value expires " + mdInline(dcvpkg.Safe(d.Expires)) + ". ")
	}
	if d.Method == "dns-txt-token" {
		b.WriteString("DigiCert also accepts the TXT record at the name itself. ")
	}
	b.WriteString(dcvHint + ".\n\n</details>\n")
	return b.String()
}

// codeCell is text in a code span inside a table cell: no backticks, no
// pipes, no HTML, no control characters.
func codeCell(s string) string {
	return "`" + mdCell(strings.ReplaceAll(dcvpkg.Safe(s), "`", "'")) + "`"
}

// mdCell makes text safe inside a markdown pipe-table cell: no pipe, no line
// break, nothing GitHub would take for HTML.
func mdCell(s string) string {
	s = strings.NewReplacer("|", `\|`, "\r", " ", "\n", " ").Replace(s)
	return mdHTML(s)
}
