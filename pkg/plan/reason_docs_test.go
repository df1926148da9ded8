package plan

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"strconv"
	"strings"
	"testing"
)

// reasonCodes are the ReasonCode constants declared in reason.go.
func reasonCodes(t *testing.T) []ReasonCode {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "reason.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []ReasonCode
	ast.Inspect(f, func(n ast.Node) bool {
		vs, ok := n.(*ast.ValueSpec)
		if !ok || vs.Type == nil || len(vs.Values) != 1 {
			return true
		}
		if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != "ReasonCode" {
			return true
		}
		if lit, ok := vs.Values[0].(*ast.BasicLit); ok {
			v, err := strconv.Unquote(lit.Value)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, ReasonCode(v))
		}
		return true
	})
	if len(out) < 10 {
		t.Fatalf("found %d reason codes in reason.go; the parser is broken", len(out))
	}
	return out
}

// Every reason code is documented for scripts in docs/plan-format.md.
func TestReasonCodesAreDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../docs/plan-format.md")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[ReasonCode]bool{}
	for _, c := range reasonCodes(t) {
		if seen[c] {
			t.Errorf("code %s declared twice", c)
		}
		seen[c] = true
		if !strings.Contains(string(doc), "| `"+string(c)+"` |") {
			t.Errorf("docs/plan-format.md does not list reason code %s", c)
		}
	}
}

// Every rule is named in docs/plan-format.md's table of rules.
func TestRulesAreDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../docs/plan-format.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range allRules() {
		if !strings.Contains(string(doc), "| `"+r.name+"` |") {
			t.Errorf("docs/plan-format.md does not name rule %q", r.name)
		}
	}
}
