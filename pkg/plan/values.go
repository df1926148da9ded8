package plan

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"
	"strings"
	"unicode/utf8"
)

// longString is the length above which a string value (a CSR, say) is shown
// abbreviated, with its length and a short hash to tell versions apart.
const longString = 80

// displayValue renders a diff value for people: compact JSON without HTML
// escaping, null for absent, long or multi-line strings abbreviated.
func displayValue(v any) string {
	if s, ok := v.(string); ok && (len(s) > longString || strings.ContainsAny(s, "\r\n")) {
		first, _, _ := strings.Cut(s, "\n")
		first = strings.TrimRight(first, "\r")
		if len(first) > 40 {
			first = truncateUTF8(first, 40)
		}
		sum := sha256.Sum256([]byte(s))
		return jsonText(first+"…") + sprintf(" (%d chars, sha256:%s)", utf8.RuneCountInString(s), hex.EncodeToString(sum[:4]))
	}
	return jsonText(v)
}

// jsonText is compact JSON without HTML escaping.
func jsonText(v any) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "(unprintable)"
	}
	return strings.TrimSuffix(buf.String(), "\n")
}

func truncateUTF8(s string, n int) string {
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// diffSymbol is "+" for an added field, "-" for a removed one, "~" for a change.
func diffSymbol(d DiffEntry) string {
	switch {
	case d.Before == nil:
		return "+"
	case d.After == nil:
		return "-"
	}
	return "~"
}

// SummaryLine is the one-line summary every renderer ends (or starts) with:
// "Plan: 2 to create, 1 to renew, 40 unchanged." or, when nothing would be
// ordered, "No changes. 43 certificates up to date."
//
// With reissues, which buy no order, it counts the billed orders apart (and
// the reissues that add names, billed pro rata): "Plan: 1 to create, 2 to
// reissue, 1 to renew (2 billed), 40 unchanged." Without reissues every
// change is billed, and the line reads as it always has.
func SummaryLine(p *Plan) string {
	s := p.Summary
	var parts []string
	ordered := 0
	for _, a := range summaryOrder() {
		// A reissue is named only when there is one, so that plans
		// without reissues keep their summary line.
		if a.TouchesCertCentral() && (a != ActionReissue || s.Count(a) > 0) {
			parts = append(parts, sprintf("%d to %s", s.Count(a), a))
			ordered += s.Count(a)
		}
	}
	moved := ""
	if s.Moved > 0 {
		moved = sprintf(", %d moved in the state", s.Moved)
	}
	if ordered == 0 && s.Moved > 0 {
		return sprintf("No orders%s. %d %s up to date.", moved, s.NoOp-s.Blocked, plural(int64(s.NoOp-s.Blocked), "certificate"))
	}
	if ordered == 0 {
		return sprintf("No changes. %d %s up to date.", s.NoOp-s.Blocked, plural(int64(s.NoOp-s.Blocked), "certificate"))
	}
	billed := ""
	if s.Reissue > 0 {
		billed = sprintf(" (%d billed", s.Billed)
		if s.ProRata > 0 {
			billed += sprintf(", %d pro rata", s.ProRata)
		}
		billed += ")"
	}
	return "Plan: " + strings.Join(parts, ", ") + billed + sprintf(", %d unchanged%s.", s.NoOp, moved)
}

// PlannedLine says when, from what and against which state the plan was
// made, for every renderer: "Planned at 2026-11-23 12:00:00 UTC from commit
// 0123456789ab, against state serial 42 (file certplan.state.json),
// certplan v1.2.0."
func PlannedLine(p *Plan) string {
	s := "Planned at " + p.PlannedAt.UTC().Format("2006-01-02 15:04:05 UTC")
	if p.Commit != "" {
		s += " from commit " + shortCommit(p.Commit)
	}
	switch {
	case p.Lineage == "" && p.Serial == 0:
		s += ", against a new state"
	default:
		s += sprintf(", against state serial %d", p.Serial)
	}
	if p.Backend != nil {
		s += " (" + p.Backend.Kind + " " + p.Backend.Name + ")"
	}
	if p.CertplanVersion != "" {
		s += ", certplan " + p.CertplanVersion
	}
	return s + "."
}

// shortCommit abbreviates a full commit hash to 12 characters.
func shortCommit(c string) string {
	if len(c) > 12 && strings.Trim(c, "0123456789abcdef") == "" {
		return c[:12]
	}
	return c
}

// UniqueIDsNote asks, for a plan that buys orders against a state that
// locks only one machine (a state file), for the account setting that
// makes CertCentral itself refuse a second order with the same key; ""
// otherwise.
func UniqueIDsNote(p *Plan) string {
	if p.Backend == nil || p.Backend.Kind != "file" || p.Summary.Billed == 0 {
		return ""
	}
	return `Note: a state file locks only the machine it is on. Two checkouts applying at once (a laptop and CI, two pipelines) can each buy these orders unless the CertCentral account setting "Require unique alternative order IDs" is on (Settings > Preferences > Advanced Settings): turn it on, or keep the state in PostgreSQL (docs/postgres.md).`
}

// UnplannedLine says, for a plan of some manifests only, how many
// certificates of the state it did not plan; "" otherwise.
func UnplannedLine(p *Plan) string {
	if !p.Partial || p.Unplanned == 0 {
		return ""
	}
	return sprintf("Not planned: %d %s in the state %s no manifest among the paths given. Only those manifests were planned, so nothing is called orphaned; plan the project directory (no PATH, or the directory with certplan.yaml) to see orphans.",
		p.Unplanned, plural(int64(p.Unplanned), "certificate"), pluralVerb(p.Unplanned, "has", "have"))
}

func pluralVerb(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// summaryOrder is AllActions as the summary line names them: what is new,
// what is reissued, what is renewed.
func summaryOrder() []Action {
	out := []Action{ActionCreate, ActionReissue, ActionRenew}
	for _, a := range AllActions() {
		if !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	return out
}

// BlockedLine says how many certificates need a person, or "" when none.
// Renderers print it just before the summary line so CI logs show it.
func BlockedLine(p *Plan) string {
	if p.Summary.Blocked == 0 {
		return ""
	}
	n := p.Summary.Blocked
	if n == 1 {
		return "Attention: 1 certificate is blocked and will not be ordered until a person resolves it (marked ! in the plan)."
	}
	return sprintf("Attention: %d certificates are blocked and will not be ordered until a person resolves them (marked ! in the plan).", n)
}

// noteworthy reports whether a change is worth listing: anything ordered, and
// no-ops with something to say (pending, blocked, non-shaping changes).
func noteworthy(c *Change) bool {
	return c.Action != ActionNoOp || c.Blocked || len(c.Reasons) > 0 || c.MovedFrom != ""
}

// actionWord describes a change's action for people.
func actionWord(c *Change) string {
	switch {
	case c.Blocked:
		return "no-op (blocked)"
	case c.Resuming:
		return c.Action.String() + " (resuming)"
	}
	return c.Action.String()
}

// actionSymbol is the one-character marker of a change: "!" when blocked,
// else its action's symbol.
func actionSymbol(c *Change) string {
	if c.Blocked {
		return "!"
	}
	return c.Action.Symbol()
}
