package spec

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// A Defaults field that a product's orders do not have is reported in the
// Defaults file, and says how to fix it: scope the Defaults with
// spec.products (or take the product out of the list).
func TestDefaultsFieldThatDoesNotFitAProduct(t *testing.T) {
	legacy := certYAML("www", "legacy_ssl", validLegacy)
	res := loadIn(t, map[string]string{
		"csr.pem": "@csr:rsa2048.csr",
		"certplan.yaml": "apiVersion: certplan/v1\nkind: Defaults\nspec:\n  order:\n" +
			"    organization: {id: 1}\n    payment_method: balance\n",
		"scoped.yaml": "apiVersion: certplan/v1\nkind: Defaults\nspec:\n  products: [private_ssl_flex, legacy_ssl]\n  order:\n" +
			"    comments: hello\n",
		"a.yaml": legacy,
		"b.yaml": strings.Replace(legacy, "name: www", "name: www2", 1),
	})
	every := `this Defaults document applies to every product; list the products whose orders take this field in its spec.products (as in certplan init's certplan.yaml)`
	want := []string{
		`certplan.yaml:5:5: spec.order: unknown field "organization" (merged into Certificates www, www2, of product legacy_ssl): ` + every,
		`certplan.yaml:6:5: spec.order: unknown field "payment_method" (merged into Certificates www, www2, of product legacy_ssl): ` + every,
		`scoped.yaml:6:5: spec.order: unknown field "comments" (merged into Certificates www, www2, of product legacy_ssl): this Defaults document lists legacy_ssl in spec.products, whose orders have no such field; take legacy_ssl out of spec.products, or set the field in Defaults for the products that take it`,
	}
	if diff := cmp.Diff(want, diagStrings(res.Diagnostics)); diff != "" {
		t.Errorf("diagnostics (-want +got):\n%s", diff)
	}
}
