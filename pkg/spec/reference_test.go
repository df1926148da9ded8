package spec

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestManifestReference keeps docs/manifest-reference.md in sync with the
// schemas; regenerate it with go test ./pkg/spec -run TestManifestReference -update.
func TestManifestReference(t *testing.T) {
	got, err := ManifestReference()
	if err != nil {
		t.Fatal(err)
	}
	checkGolden(t, filepath.Join("..", "..", "docs", "manifest-reference.md"), got)
}

// TestManifestReferenceContent checks that the generator really walks the
// schemas: $refs across files, variants, arrays, deprecation and every family.
func TestManifestReferenceContent(t *testing.T) {
	got, err := ManifestReference()
	if err != nil {
		t.Fatal(err)
	}
	doc := string(got)
	tests := []struct {
		name string
		want string
	}{
		{"envelope const", "| `apiVersion` | string | yes | always `\"certplan/v1\"` |"},
		{"pattern escaped in table", "| `metadata.name` | string | yes | pattern `\"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$\"` |"},
		{"defaults products", "| `spec.products` | array |  | items: string; items >= 1; unique items |"},
		{"cross-file ref with outer description", "| `spec.order.certificate.common_name` | string | yes | length 1..253; pattern"},
		{"if/then/else variants", "| `spec.order.certificate.csr` | string or object | yes | pattern `\"^-----BEGIN \"` |"},
		{"else branch fields", "| `spec.order.certificate.csr.file` | string | yes | length >= 1 |"},
		{"enum", "| `spec.order.certificate.signature_hash` | string | yes | one of `\"sha256\"`, `\"sha384\"`, `\"sha512\"` |"},
		// The advice is the description's "Deprecated: ..." (deprecationMessage is editor-only, in the bundle).
		{"deprecated first", "| `spec.order.validity_years` | integer |  | **deprecated**; 1..3 | Order length in years, 1 to 3. Deprecated: use order_validity (and certificate.cert_validity). |"},
		{"forbidden field", "| `spec.order.alternative_order_id` | any |  | must not be set |"},
		{"variant fields (new organization)", "| `spec.order.organization.name` | string | yes |"},
		{"array items", "| `spec.order.custom_fields[].metadata_id` | integer | yes | >= 1 |"},
		{"secret ref", "| `spec.order.credit_card.number.env` | string |  | pattern"},
		{"family securesite", "## spec.order for ssl_securesite_flex\n"},
		{"family private", "## spec.order for private_ssl_flex, private_ssl_plus, private_ssl_wildcard, private_ssl_multi_domain\n"},
		{"family document signing", "## spec.order for document_signing_org_1, document_signing_org_2\n"},
		{"family legacy", "## spec.order for legacy_ssl\n"},
		{"legacy enum integer", "| `spec.order.validity` | integer | yes | one of `1`, `2` |"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !strings.Contains(doc, tt.want) {
				t.Errorf("reference lacks %q", tt.want)
			}
		})
	}
}
