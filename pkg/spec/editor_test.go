package spec

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v5"
)

func compiledBundle(t *testing.T) *jsonschema.Schema {
	t.Helper()
	data, err := BundledSchema()
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.Draft = jsonschema.Draft2020
	const url = "file:///editor/certplan.schema.json"
	if err := c.AddResource(url, bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile(url)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// In an editor, a Defaults document's spec.order is checked against the
// schemas of the products it lists (every field must fit each of them, as
// certplan validate requires once merged), or, listing none, against any
// product's; fields are not required (Defaults are partial).
func TestBundleChecksDefaultsOrder(t *testing.T) {
	bundled := compiledBundle(t)
	tests := []struct {
		name, products, order string
		valid                 bool
	}{
		{"a v2 field for a v2 product", "[ssl_securesite_flex]", "organization: {id: 1}\npayment_method: balance\n", true},
		{"a bad value", "[ssl_securesite_flex]", "payment_method: bitcoin\n", false},
		{"a misspelled field", "[private_ssl_flex]", "paymnet_method: balance\n", false},
		{"a Secure Site field for private SSL too", "[ssl_securesite_flex, private_ssl_flex]", "dcv_method: email\n", false},
		{"a v2 field for legacy_ssl", "[legacy_ssl]", "organization: {id: 1}\n", false},
		{"a v1 field for legacy_ssl", "[legacy_ssl]", "org_country: us\n", true},
		{"every product: a field of some product", "", "org_country: us\n", true},
		{"every product: a field of none", "", "bogus: 1\n", false},
		{"alternative_order_id", "[private_ssl_flex]", "alternative_order_id: x\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			products := ""
			if tt.products != "" {
				products = "  products: " + tt.products + "\n"
			}
			var b strings.Builder
			b.WriteString("apiVersion: certplan/v1\nkind: Defaults\nspec:\n" + products + "  order:\n")
			for _, l := range strings.Split(strings.TrimRight(tt.order, "\n"), "\n") {
				b.WriteString("    " + l + "\n")
			}
			docs, diags := parseYAML("d.yaml", []byte(b.String()))
			if len(diags) != 0 {
				t.Fatal(diags)
			}
			err := bundled.Validate(docs[0].root.toJSON())
			if (err == nil) != tt.valid {
				t.Errorf("valid = %v, want %v (%v)", err == nil, tt.valid, err)
			}
		})
	}
}

// The bundle carries what yaml-language-server reads beyond the standard,
// and only the bundle: deprecated fields warn with the advice certplan
// gives and are not offered (their $ref inlined, or the language server
// would not see the keywords), forbidden fields are not offered, patterns
// have messages, and the bundle has an $id of its own.
func TestBundleEditorKeywords(t *testing.T) {
	data, err := BundledSchema()
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	if doc["$id"] != BundleID {
		t.Errorf("bundle $id = %v, want %s", doc["$id"], BundleID)
	}
	deprecated, forbidden := 0, 0
	var walk func(ptr string, v any)
	walk = func(ptr string, v any) {
		switch n := v.(type) {
		case map[string]any:
			if props, ok := n["properties"].(map[string]any); ok {
				for name, p := range props {
					pm, _ := p.(map[string]any)
					checkEditorProperty(t, ptr+"/properties/"+name, name, pm, &deprecated, &forbidden)
				}
			}
			for k, c := range n {
				walk(ptr+"/"+k, c)
			}
		case []any:
			for _, c := range n {
				walk(ptr, c)
			}
		}
	}
	walk("", doc)
	if deprecated < 7 || forbidden < 5 {
		t.Errorf("%d deprecated and %d forbidden properties annotated; want at least 7 and 5", deprecated, forbidden)
	}
	name := doc["$defs"].(map[string]any)["metadata"].(map[string]any)["properties"].(map[string]any)["name"].(map[string]any)
	if name["patternErrorMessage"] == nil {
		t.Error("metadata.name has no patternErrorMessage")
	}
}

func checkEditorProperty(t *testing.T, ptr, name string, p map[string]any, deprecated, forbidden *int) {
	if p == nil {
		return
	}
	if not, ok := p["not"].(map[string]any); ok && len(not) == 0 {
		*forbidden++
		if p["doNotSuggest"] != true {
			t.Errorf("%s: a forbidden field without doNotSuggest", ptr)
		}
	}
	if p["deprecated"] != true {
		return
	}
	*deprecated++
	desc, _ := p["description"].(string)
	want := name + " is deprecated: " + deprecationHint(desc) + "."
	if p["deprecationMessage"] != want || p["doNotSuggest"] != true || p["$ref"] != nil || p["markdownDescription"] == nil {
		t.Errorf("%s: deprecationMessage %q (want %q), doNotSuggest %v, $ref %v", ptr, p["deprecationMessage"], want, p["doNotSuggest"], p["$ref"])
	}
	if p["type"] == nil {
		t.Errorf("%s: the inlined schema has no type", ptr)
	}
}
