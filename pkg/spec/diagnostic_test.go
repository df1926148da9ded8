package spec

import (
	"strings"
	"testing"
)

// TestDiagnosticStringEscapes: the file name, the field path and the
// message come from the repository; a diagnostic line shows them escaped,
// so that it cannot start a GitHub workflow command or carry escape codes.
func TestDiagnosticStringEscapes(t *testing.T) {
	d := Diagnostic{Pos: Pos{File: "::warning::x\x1b[31m.yaml", Line: 3, Col: 7}, Path: "spec.order.a\x1b[1m",
		Message: "bad value \"##[error]x\nnext\"", Severity: SeverityWarning}
	got := d.String()
	want := `\::warning::x\x1b[31m.yaml:3:7: warning: spec.order.a\x1b[1m: bad value "##\[error]x\nnext"`
	if got != want {
		t.Errorf("String() = %q\nwant       %q", got, want)
	}
	if strings.ContainsAny(got, "\x1b\n") {
		t.Errorf("String() holds raw control characters: %q", got)
	}
	plain := Diagnostic{Pos: Pos{File: "certs/shop.yaml", Line: 1, Col: 1}, Path: "spec", Message: "missing required field \"order\""}
	if got := plain.String(); got != `certs/shop.yaml:1:1: spec: missing required field "order"` {
		t.Errorf("plain String() = %q", got)
	}
}
