package spec

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The dispatch shortcut must find exactly the problems the whole schema finds.
func TestDispatchMatchesFullSchema(t *testing.T) {
	v, err := embeddedValidator()
	if err != nil {
		t.Fatal(err)
	}
	if v.dispatch == nil {
		t.Fatal("the schemas' product dispatch was not recognised: Certificates are validated the slow way (see dispatch.go)")
	}
	if len(v.dispatch.families) != len(Products()) {
		t.Errorf("dispatch covers %d products, want %d", len(v.dispatch.families), len(Products()))
	}
	docs := []string{
		certYAML("a", "ssl_securesite_flex", validSecureSite),
		certYAML("a", "ssl_securesite_flex", strings.Replace(validSecureSite, "{years: 1}", "{years: 9}", 1)+"foo: 1\n"),
		certYAML("a", "private_ssl_wildcard", validSecureSite+"validity_days: 3\n"),
		certYAML("a", "document_signing_org_2", "certificate: {csr: x}\n"),
		certYAML("a", "legacy_ssl", "csr: x\nvalidity: 3\n"),
		certYAML("A", "no_such_product", "x: 1\n"),
		"apiVersion: certplan/v1\nkind: Certificate\nmetadata: {name: a}\nspec: {product: ssl_securesite_flex, order: [1]}\n",
		"apiVersion: certplan/v1\nkind: Certificate\nmetadata: {name: a}\nspec: {product: ssl_securesite_flex}\n",
		"apiVersion: certplan/v1\nkind: Certificate\nmetadata: {name: a}\nspec: {product: 5, order: {}}\n",
		"apiVersion: certplan/v1\nkind: Certificate\nspec: [1]\n",
	}
	for _, pattern := range []string{"testdata/golden/*/*/*.yaml", "testdata/golden/*/*/*/*.yml", "../../examples/certs/*.yaml"} {
		files, _ := filepath.Glob(pattern)
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			docs = append(docs, string(data))
		}
	}
	checked := 0
	for i, text := range docs {
		parsed, _ := parseYAML("x.yaml", []byte(text))
		for _, d := range parsed {
			inst := d.root.toJSON()
			x := explainer{v: v, doc: d.root, inst: inst, file: "x.yaml"}
			var full, split []Diagnostic
			if err := v.schema.Validate(inst); err != nil {
				full = sortDiagnostics(x.diagnostics(err, nil))
			}
			if err := v.validateCertificate(d.root.toJSON()); err != nil {
				split = sortDiagnostics(x.diagnostics(err, nil))
			}
			if diff := cmp.Diff(diagStrings(full), diagStrings(split)); diff != "" {
				t.Errorf("document %d: whole schema vs dispatch (-full +dispatch):\n%s", i, diff)
			}
			checked++
		}
	}
	if checked < 15 {
		t.Errorf("only %d documents checked", checked)
	}
}

// A dispatch of another shape is not taken apart: the whole schema is used.
func TestDispatchEntryShapes(t *testing.T) {
	ok := map[string]any{
		"if":   map[string]any{"properties": map[string]any{"product": map[string]any{"const": "p"}}, "required": []any{"product"}},
		"then": map[string]any{"properties": map[string]any{"order": map[string]any{"$ref": "f.schema.json"}}},
	}
	if products, ref, matched := dispatchEntry(ok); !matched || ref != "f.schema.json" || !cmp.Equal(products, []string{"p"}) {
		t.Fatalf("dispatchEntry(expected shape) = %v, %q, %v", products, ref, matched)
	}
	variants := []func(m map[string]any){
		func(m map[string]any) { m["else"] = map[string]any{} },
		func(m map[string]any) { m["if"].(map[string]any)["required"] = []any{"kind"} },
		func(m map[string]any) {
			m["if"].(map[string]any)["properties"].(map[string]any)["kind"] = map[string]any{"const": "x"}
		},
		func(m map[string]any) {
			m["then"].(map[string]any)["properties"].(map[string]any)["order"] = map[string]any{"$ref": "f.schema.json", "type": "object"}
		},
		func(m map[string]any) { m["then"].(map[string]any)["required"] = []any{"order"} },
		func(m map[string]any) {
			m["then"].(map[string]any)["properties"].(map[string]any)["order"] = map[string]any{"$ref": "#/$defs/x"}
		},
	}
	for i, change := range variants {
		m := deepCopyJSON(ok).(map[string]any)
		change(m)
		if _, _, matched := dispatchEntry(m); matched {
			t.Errorf("variant %d matched, want the whole schema used", i)
		}
	}
}

func deepCopyJSON(v any) any {
	switch t := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, c := range t {
			out[k] = deepCopyJSON(c)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, c := range t {
			out[i] = deepCopyJSON(c)
		}
		return out
	}
	return v
}
