package spec

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/certplan/certplan/schemas"
)

// The one email rule, as a table in schemas/testdata/emails.json (address
// -> valid): certplan's validator (Go regexp) applies it through the
// schema's pattern, and so do editors and any other JSON Schema validator
// (ECMA-262 regexps; schemas/strict_test.go checks the same table with
// Ajv): schemas/ asserts no "format": "email", whose meaning differs
// between implementations. A deliverable address: a dot-atom local part, @,
// and a domain name of two or more labels; no IP literal, no single-label
// host, no trailing dot, no quoted local part.
func TestEmailRule(t *testing.T) {
	v, err := embeddedValidator()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join("..", "..", "schemas", "testdata", "emails.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cases map[string]bool
	if err := json.Unmarshal(data, &cases); err != nil {
		t.Fatal(err)
	}
	for _, addr := range []string{"ops@localhost", "a@[127.0.0.1]", "a@example.com.", "jane@example.com"} {
		if _, ok := cases[addr]; !ok {
			t.Errorf("the table lacks %q", addr)
		}
	}
	for addr, want := range cases {
		doc := certYAML("a", "ssl_securesite_flex", validSecureSite+"additional_emails: ["+jsonQuote(addr)+"]\n")
		docs, diags := parseYAML("a.yaml", []byte(doc))
		if len(diags) != 0 {
			t.Fatalf("%q: %v", addr, diags)
		}
		inst := docs[0].root.toJSON()
		err := v.validateCertificate(inst)
		if got := err == nil; got != want {
			t.Errorf("%q: certplan says valid=%v, the rule says %v (%v)", addr, got, want, err)
		}
	}
	common := readSchemaFile(t, "common.schema.json")
	if strings.Contains(common, `"format": "email"`) {
		t.Error(`common.schema.json uses "format": "email", which validators read differently; the pattern is the rule`)
	}
}

func jsonQuote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	return `"` + r.Replace(s) + `"`
}

func readSchemaFile(t *testing.T, name string) string {
	t.Helper()
	b, err := schemas.FS.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// The message says what an address must be, not the regexp.
func TestEmailMessage(t *testing.T) {
	res := loadIn(t, map[string]string{
		"csr.pem": "@csr:rsa2048.csr",
		"a.yaml":  certYAML("a", "ssl_securesite_flex", validSecureSite+"additional_emails: [ops@localhost]\n"),
	})
	want := `a.yaml:15:25: spec.order.additional_emails[0]: must be an email address such as ops@example.com: a name, @, and a domain name with at least one dot (no IP address, no trailing dot, no quoted name), got "ops@localhost"`
	if got := diagStrings(res.Diagnostics); len(got) != 1 || got[0] != want {
		t.Errorf("diagnostics %q, want %q", got, want)
	}
}
