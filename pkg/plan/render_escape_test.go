package plan

import (
	"bytes"
	"strings"
	"testing"
)

// TestRenderEscapesWhatItDidNotWrite: values from the manifests, names in
// the state and status words and messages from CertCentral reach the text
// and markdown renderings escaped; only the renderer's own colour codes are
// raw, and no line starts a workflow command.
func TestRenderEscapesWhatItDidNotWrite(t *testing.T) {
	const hostile = "\x1b[2J\u009b31m##[error]forged\n::warning::forged\u202e"
	p := Build(fixture(t))
	p.Drift = append(p.Drift, Drift{Name: "::warning::state-name", OrderID: 7, Field: "status", API: hostile,
		Message: "order 7 changed from issued to " + hostile + " outside certplan"})
	p.Orphaned = append(p.Orphaned, "::error::orphan\x1b[31m")
	var touched *Change
	for i := range p.Changes {
		c := &p.Changes[i]
		if c.Action.TouchesCertCentral() && touched == nil {
			touched = c
			c.Diff = append(c.Diff, DiffEntry{Path: "order.custom_fields[0].value\x1b[1m", Before: nil, After: hostile})
			c.Reasons = append(c.Reasons, Reason{Code: "x", Message: "because " + hostile})
		}
		if c.Action == ActionNoOp && noteworthy(c) {
			c.Status = "pending (CertCentral says " + hostile + ")"
		}
	}
	if touched == nil {
		t.Fatal("fixture plan orders nothing")
	}
	ownCodes := strings.NewReplacer(ansiReset, "", ansiBold, "", ansiRed, "", ansiGreen, "", ansiYellow, "", ansiDim, "")
	for _, color := range []bool{false, true} {
		var b bytes.Buffer
		if err := RenderText(&b, p, color); err != nil {
			t.Fatal(err)
		}
		checkPrintable(t, "text", ownCodes.Replace(b.String()))
		if !strings.Contains(b.String(), `\x1b[2J\u009b31m##\[error]forged\n::warning::forged\u202e`) {
			t.Errorf("the hostile value is not shown escaped:\n%s", b.String())
		}
	}
	var md bytes.Buffer
	if err := RenderMarkdown(&md, p); err != nil {
		t.Fatal(err)
	}
	checkPrintable(t, "markdown", md.String())
}

func checkPrintable(t *testing.T, what, out string) {
	t.Helper()
	for _, r := range out {
		if (r < 0x20 && r != '\n') || r == 0x7f || (r >= 0x80 && r <= 0x9f) || r == '\u202e' {
			t.Errorf("%s rendering holds raw %U:\n%q", what, r, out)
			return
		}
	}
	if strings.Contains(out, "##[") {
		t.Errorf("%s rendering holds the runner's ##[ marker:\n%s", what, out)
	}
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(strings.TrimLeft(line, " \t"), "::") {
			t.Errorf("%s rendering: line forges a workflow command: %q", what, line)
		}
	}
}
