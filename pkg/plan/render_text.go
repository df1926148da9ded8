package plan

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/certplan/certplan/pkg/termsafe"
)

// ANSI styles, used only when colour is on.
const (
	ansiReset  = "\x1b[0m"
	ansiBold   = "\x1b[1m"
	ansiRed    = "\x1b[31m"
	ansiGreen  = "\x1b[32m"
	ansiYellow = "\x1b[33m"
	ansiDim    = "\x1b[2m"
)

// esc makes text from a manifest, the state or CertCentral safe to print.
func esc(s string) string { return termsafe.Text(s) }

type textWriter struct {
	w     *bufio.Writer
	color bool
}

func (t textWriter) style(code, s string) string {
	if !t.color {
		return s
	}
	return code + s + ansiReset
}

func (t textWriter) symbolStyle(sym string) string {
	switch sym {
	case "+":
		return ansiGreen
	case "~", "*":
		return ansiYellow
	case "-", "!":
		return ansiRed
	}
	return ansiDim
}

func (t textWriter) line(parts ...string) {
	for _, p := range parts {
		t.w.WriteString(p)
	}
	t.w.WriteByte('\n')
}

// RenderText writes the plan for a terminal, Terraform-like: "+" create,
// "~" renew with per-field diffs, notes on unchanged certificates (pending,
// blocked), drift, orphans, and the summary line last. ANSI colour only when
// color is true. Everything that comes from the manifests, the state or
// CertCentral (names, values, field paths, status words, messages) goes
// through termsafe.Text (esc), so that it cannot reach a terminal or a CI
// log as escape codes or workflow commands.
func RenderText(w io.Writer, p *Plan, color bool) error {
	if err := checkActions(p); err != nil {
		return fmt.Errorf("render plan: %w", err)
	}
	t := textWriter{w: bufio.NewWriter(w), color: color}
	var ordered, notes []*Change
	for i := range p.Changes {
		c := &p.Changes[i]
		switch {
		case c.Action.TouchesCertCentral():
			ordered = append(ordered, c)
		case noteworthy(c):
			notes = append(notes, c)
		}
	}
	if len(ordered) > 0 {
		t.line("certplan will perform the following actions:")
		for _, c := range ordered {
			t.line()
			if err := t.change(c); err != nil {
				return fmt.Errorf("render plan: %w", err)
			}
		}
		t.line()
	}
	if len(notes) > 0 {
		t.line("Unchanged, with notes:")
		for _, c := range notes {
			sym := actionSymbol(c)
			t.line("  ", t.style(t.symbolStyle(sym), sym), " ", esc(c.Name), ": ", esc(c.Status))
			t.dcv(c, true)
		}
		t.line()
	}
	var moved []*Change
	for i := range p.Changes {
		if p.Changes[i].MovedFrom != "" {
			moved = append(moved, &p.Changes[i])
		}
	}
	if len(moved) > 0 {
		t.line("Moved in the state (metadata.previousNames; the move orders nothing):")
		for _, c := range moved {
			t.line("  ", t.style(ansiYellow, ">"), " ", c.MovedFrom, " -> ", c.Name)
		}
		t.line()
	}
	if len(p.Drift) > 0 {
		t.line("Changed outside certplan (drift):")
		for _, d := range p.Drift {
			t.line("  ", t.style(ansiRed, "!"), " ", esc(d.Name), ": ", esc(d.Message))
		}
		t.line()
	}
	if len(p.Orphaned) > 0 {
		t.line("Orphaned (in state, in no manifest; left alone, nothing is ever revoked; `certplan state rm NAME` forgets it):")
		for _, name := range p.Orphaned {
			t.line("  ", t.style(ansiDim, "-"), " ", esc(name))
		}
		t.line()
	}
	if u := UnplannedLine(p); u != "" {
		t.line(u)
		t.line()
	}
	if n := UniqueIDsNote(p); n != "" {
		t.line(n)
		t.line()
	}
	t.line(t.style(ansiDim, PlannedLine(p)))
	if b := BlockedLine(p); b != "" {
		t.line(t.style(ansiBold, b))
	}
	t.line(t.style(ansiBold, SummaryLine(p)))
	return t.w.Flush()
}

// change writes one change that touches CertCentral: heading, reasons, key
// and diff.
func (t textWriter) change(c *Change) error {
	sym := actionSymbol(c)
	var verb string
	detail := esc(string(c.Product))
	switch c.Action {
	case ActionCreate:
		verb = "will be created"
		if c.Predecessor != 0 {
			detail += sprintf(", replacing order %d", c.Predecessor)
		}
	case ActionRenew:
		verb = "will be renewed"
		detail += sprintf(", renewal of order %d", c.RenewalOfOrderID)
	case ActionReissue:
		verb = "will be reissued"
		detail += sprintf(", reissue on order %d", c.OrderID)
		if c.Destructive {
			detail += ", DESTRUCTIVE"
		}
	default:
		return fmt.Errorf("change %q: the text renderer has no heading for action %q", c.Name, c.Action)
	}
	if c.Resuming {
		detail += ", resuming"
	}
	if c.MovedFrom != "" {
		detail += ", moved from " + esc(c.MovedFrom)
	}
	t.line("  ", t.style(t.symbolStyle(sym), sym+" "+esc(c.Name)), " ", verb, " (", detail, ")")
	for _, r := range c.Reasons {
		t.line("      ", t.style(ansiDim, "# "+esc(r.Message)))
	}
	if c.Destructive {
		t.line("      ", t.style(ansiRed, "! "+destructiveWarning(c)))
	}
	if b := BillingPhrase(c); b != "" {
		t.line("      ", billingLabel(c), ": ", b)
	}
	if v := c.NextCertificate; v != nil {
		t.line("      next certificate: ", validityPhrase(v))
	}
	t.dcv(c, false)
	if c.AlternativeOrderID != "" {
		t.line("      alternative_order_id = ", esc(jsonText(c.AlternativeOrderID)))
	} else if c.Product.IsLegacy() {
		t.line("      ", t.style(ansiDim, "# legacy v1: no idempotency key; an interrupted submission needs manual resolution"))
	}
	width := 0
	for _, d := range c.Diff {
		width = max(width, len(esc(d.Path)))
	}
	width = min(width, 48)
	for _, d := range c.Diff {
		ds := diffSymbol(d)
		path := esc(d.Path)
		pad := strings.Repeat(" ", max(0, width-len(path)))
		var val string
		switch ds {
		case "+":
			val = displayValue(d.After)
		case "-":
			val = displayValue(d.Before) + " -> null"
		default:
			val = displayValue(d.Before) + " -> " + displayValue(d.After)
		}
		t.line("      ", t.style(t.symbolStyle(ds), ds), " ", path, pad, " = ", esc(val))
	}
	return nil
}

// billingLabel says at a glance whether a change costs money: "billed",
// "free" or "billed pro rata".
func billingLabel(c *Change) string {
	if c.Billing == nil || c.Action == ActionNoOp {
		return ""
	}
	switch c.Billing.Kind {
	case BillingNewOrder:
		return "billed"
	case BillingProRata:
		return "billed pro rata"
	case BillingFree:
		return "free"
	}
	return string(c.Billing.Kind)
}

// destructiveWarning is what a destructive reissue does to earlier certificates.
func destructiveWarning(c *Change) string {
	return sprintf("destructive: DigiCert revokes every earlier certificate of order %d 48-72 h after this one issues", c.OrderID)
}

// validityPhrase: "2026-11-23 to 2027-06-10 (199 days)".
func validityPhrase(v *Validity) string {
	return sprintf("%s to %s (%d %s)", v.ValidFrom, v.ValidTill, v.Days, plural(int64(v.Days), "day"))
}
