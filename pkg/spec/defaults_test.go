package spec

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// defaultsYAML is a Defaults document; products may be empty (every product).
func defaultsYAML(products, order string) string {
	var b strings.Builder
	b.WriteString("apiVersion: certplan/v1\nkind: Defaults\nspec:\n")
	if products != "" {
		b.WriteString("  products: " + products + "\n")
	}
	b.WriteString("  order:\n")
	for _, line := range strings.Split(strings.TrimRight(order, "\n"), "\n") {
		b.WriteString("    " + line + "\n")
	}
	return b.String()
}

// A manifest without organization, signature_hash and payment_method, which
// the Defaults below provide.
const partialSecureSite = `certificate:
  common_name: shop.example.com
  dns_names: [www.shop.example.com]
  csr: {file: csr.pem}
order_validity: {years: 1}
`

func TestDefaultsMerge(t *testing.T) {
	files := map[string]string{
		"certs/csr.pem": "@csr:rsa2048.csr",
		"certplan.yaml": defaultsYAML("", `organization: {id: 1}
payment_method: balance
comments: from all
additional_emails: [all@example.com]
certificate:
  signature_hash: sha256
`) + "---\n" + defaultsYAML("[ssl_securesite_flex]", `comments: from product
additional_emails: [product@example.com]
certificate:
  signature_hash: sha384
`) + "---\n" + defaultsYAML("[private_ssl_flex]", `comments: never for securesite
`),
		"certs/a.yaml": certYAML("shop", "ssl_securesite_flex", partialSecureSite+"additional_emails: [me@example.com, you@example.com]\n"),
		"certs/b.yaml": certYAML("shop-b", "ssl_securesite_flex", partialSecureSite),
	}
	res := loadIn(t, files)
	if len(res.Diagnostics) != 0 {
		t.Fatalf("diagnostics: %v", diagStrings(res.Diagnostics))
	}
	if len(res.Certificates) != 2 {
		t.Fatalf("got %d certificates, want 2", len(res.Certificates))
	}
	a, b := res.Certificates[0].Order, res.Certificates[1].Order
	tests := []struct {
		name      string
		got, want any
	}{
		{"all-product default fills a gap", a["payment_method"], "balance"},
		{"objects merge key by key", a["organization"], map[string]any{"id": 1}},
		{"product default beats all-product default", b["comments"], "from product"},
		{"product default in a nested object", valueAt(b, "/certificate/signature_hash"), "sha384"},
		{"manifest keeps its own nested fields", valueAt(b, "/certificate/common_name"), "shop.example.com"},
		{"lists replace whole (manifest wins)", a["additional_emails"], []any{"me@example.com", "you@example.com"}},
		{"lists replace whole (product default wins)", b["additional_emails"], []any{"product@example.com"}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, tt.got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
	}
}

func TestDefaultsDiagnostics(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  []string
	}{
		{
			name: "a bad default is reported once, in the Defaults file",
			files: map[string]string{
				"certplan.yaml": defaultsYAML("", "organization: {id: 1}\norder_validity: {years: 7}\ncertificate: {signature_hash: sha256}\n"),
				"a.yaml":        certYAML("a", "ssl_securesite_flex", strings.Replace(partialSecureSite, "order_validity: {years: 1}\n", "", 1)),
				"b.yaml":        certYAML("b", "ssl_securesite_flex", strings.Replace(partialSecureSite, "order_validity: {years: 1}\n", "", 1)),
				"csr.pem":       "@csr:rsa2048.csr",
			},
			want: []string{"certplan.yaml:6:29: spec.order.order_validity.years: must be <= 3, got 7 (merged into Certificates a, b)"},
		},
		{
			name: "a field missing from a merged object is reported in the manifest",
			files: map[string]string{
				"certplan.yaml": defaultsYAML("", "organization: {id: 1}\ncertificate: {signature_hash: sha256}\n"),
				"a.yaml":        "apiVersion: certplan/v1\nkind: Certificate\nmetadata: {name: a}\nspec:\n  product: ssl_securesite_flex\n",
			},
			want: []string{
				`a.yaml:4:1: spec.order: missing required field "order_validity"`,
				`a.yaml:4:1: spec.order.certificate: missing required field "common_name"`,
				`a.yaml:4:1: spec.order.certificate: missing required field "csr"`,
			},
		},
		{
			name: "two Defaults for every product setting one field",
			files: map[string]string{
				"certplan.yaml": defaultsYAML("", "payment_method: balance\ncertificate: {signature_hash: sha256}\n"),
				"more.yaml":     defaultsYAML("", "payment_method: profile\ncertificate: {server_platform: {id: 2}}\n"),
			},
			want: []string{"more.yaml:5:5: spec.order.payment_method: also set by the Defaults document at certplan.yaml:5:5 (both apply to every product); set a field once per scope"},
		},
		{
			name: "two Defaults for one product setting one field",
			files: map[string]string{
				"d1.yaml": defaultsYAML("[private_ssl_flex, ssl_securesite_flex]", "certificate: {signature_hash: sha256}\n"),
				"d2.yaml": defaultsYAML("[ssl_securesite_flex, private_ssl_plus]", "certificate: {signature_hash: sha384}\n"),
			},
			want: []string{"d2.yaml:6:19: spec.order.certificate.signature_hash: also set by the Defaults document at d1.yaml:6:19 (both apply to ssl_securesite_flex); set a field once per scope"},
		},
		{
			name: "different scopes do not conflict",
			files: map[string]string{
				"d1.yaml": defaultsYAML("", "payment_method: balance\n"),
				"d2.yaml": defaultsYAML("[ssl_securesite_flex]", "payment_method: profile\n"),
				"d3.yaml": defaultsYAML("[private_ssl_flex]", "payment_method: card\n"),
			},
		},
		{
			name:  "alternative_order_id in Defaults",
			files: map[string]string{"certplan.yaml": defaultsYAML("", "alternative_order_id: x\n")},
			want:  []string{"certplan.yaml:5:5: spec.order.alternative_order_id: certplan owns alternative_order_id: it derives one per intended order (from the name, product, spec and the order it replaces) and uses it as the idempotency key, so no retry orders twice; remove the field"},
		},
		{
			name:  "unknown product in Defaults",
			files: map[string]string{"certplan.yaml": defaultsYAML("[ssl_plus]", "comments: x\n")},
			want:  []string{"certplan.yaml:4:14: spec.products[0]: must be one of: ssl_securesite_flex, private_ssl_flex, private_ssl_plus, private_ssl_wildcard, private_ssl_multi_domain, document_signing_org_1, document_signing_org_2, legacy_ssl"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := loadIn(t, tt.files)
			if diff := cmp.Diff(tt.want, diagStrings(res.Diagnostics), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("diagnostics (-want +got):\n%s", diff)
			}
		})
	}
}

func TestProjectFileIsFoundAboveThePath(t *testing.T) {
	files := map[string]string{
		"certplan.yaml":        defaultsYAML("", "organization: {id: 1}\ncertificate: {signature_hash: sha256}\n"),
		"certs/csr.pem":        "@csr:rsa2048.csr",
		"certs/web/shop.yml":   certYAML("shop", "ssl_securesite_flex", partialSecureSite),
		"certs/.hidden/x.yaml": "not: [valid",
		"certs/web/notes.txt":  "not: [valid",
	}
	files["certs/web/csr.pem"] = files["certs/csr.pem"]
	res := loadIn(t, files, "certs")
	if len(res.Diagnostics) != 0 {
		t.Fatalf("diagnostics: %v", diagStrings(res.Diagnostics))
	}
	wantFiles := []string{"certplan.yaml", "certs/web/shop.yml"}
	if diff := cmp.Diff(wantFiles, res.Files); diff != "" {
		t.Errorf("files (-want +got):\n%s", diff)
	}
	if got := res.Certificates[0].Order["organization"]; !cmp.Equal(got, map[string]any{"id": 1}) {
		t.Errorf("organization = %v, want the project default", got)
	}
}
