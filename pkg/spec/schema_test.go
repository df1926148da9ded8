package spec

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/santhosh-tekuri/jsonschema/v5"

	"github.com/certplan/certplan/schemas"
)

// TestBundle keeps schemas/certplan.schema.json equal to BundledSchema().
// Regenerate with: go test ./pkg/spec -run TestBundle -update
func TestBundle(t *testing.T) {
	got, err := BundledSchema()
	if err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "../../schemas/"+BundleFile, got)
}

// TestBundleIsSelfContained compiles the bundle alone, as an editor would,
// and checks it agrees with the loader's schemas on valid and invalid documents.
func TestBundleIsSelfContained(t *testing.T) {
	data, err := BundledSchema()
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.Draft = jsonschema.Draft2020
	c.AssertFormat = true
	const url = "file:///editor/certplan.schema.json" // not the $id: nothing else to resolve against
	if err := c.AddResource(url, bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	bundled, err := c.Compile(url)
	if err != nil {
		t.Fatalf("the bundle does not compile on its own: %v", err)
	}
	v, err := embeddedValidator()
	if err != nil {
		t.Fatal(err)
	}
	docs := map[string]string{
		"valid securesite": certYAML("a", "ssl_securesite_flex", validSecureSite),
		"bad securesite":   certYAML("a", "ssl_securesite_flex", strings.Replace(validSecureSite, "{years: 1}", "{years: 9}", 1)),
		"legacy missing":   certYAML("a", "legacy_ssl", "csr: x\n"),
		"defaults":         defaultsYAML("[private_ssl_flex]", "comments: x\n"),
		"bad kind":         "apiVersion: certplan/v1\nkind: Other\nspec: {}\n",
	}
	for name, doc := range docs {
		parsed, diags := parseYAML("x.yaml", []byte(doc))
		if len(diags) != 0 || len(parsed) != 1 {
			t.Fatalf("%s: %v", name, diags)
		}
		inst := parsed[0].root.toJSON()
		want := v.schema.Validate(inst) == nil
		if got := bundled.Validate(inst) == nil; got != want {
			t.Errorf("%s: bundle says valid=%v, loader says %v", name, got, want)
		}
	}
}

// TestBundleAcceptsExamplesAsWritten: in an editor, manifests that rely on
// certplan.yaml for organization or signature_hash show no false errors,
// while typos are still caught.
func TestBundleAcceptsExamplesAsWritten(t *testing.T) {
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
	bundled, err := c.Compile(url)
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob("../../examples/certs/*.yaml")
	files = append(files, "../../examples/certplan.yaml")
	if len(files) < 8 {
		t.Fatalf("found %d example files", len(files))
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		docs, diags := parseYAML(f, b)
		if len(diags) != 0 {
			t.Fatalf("%s: %v", f, diags)
		}
		for i, d := range docs {
			if err := bundled.Validate(d.root.toJSON()); err != nil {
				t.Errorf("%s document %d: the editor schema reports %v", f, i+1, err)
			}
		}
	}
	typo := certYAML("a", "ssl_securesite_flex", strings.Replace(validSecureSite, "order_validity", "order_valdity", 1))
	docs, _ := parseYAML("typo.yaml", []byte(typo))
	if bundled.Validate(docs[0].root.toJSON()) == nil {
		t.Error("the editor schema accepts an unknown field")
	}
}

// The bundle is embedded too (schemas/*.schema.json): the loader must pick
// the parts by name and never load it, or the $ids would clash.
func TestValidatorIgnoresOtherSchemaFiles(t *testing.T) {
	fsys := fstest.MapFS{BundleFile: {Data: []byte("not JSON at all")}}
	for _, name := range append([]string{manifestSchema}, schemaParts...) {
		data, err := schemas.FS.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		fsys[name] = &fstest.MapFile{Data: data}
	}
	if _, err := newValidator(fsys, schemas.BaseURL); err != nil {
		t.Fatalf("newValidator: %v", err)
	}
	delete(fsys, "common.schema.json")
	if _, err := newValidator(fsys, schemas.BaseURL); err == nil || !strings.Contains(err.Error(), "common.schema.json") {
		t.Errorf("newValidator without common.schema.json: err = %v, want it named", err)
	}
}

// A small schema of our own exercises the explanations the real schemas do
// not use (yet): oneOf, type alternatives, dependentRequired, unevaluatedProperties.
func TestExplainGenericKeywords(t *testing.T) {
	const base = "https://test.invalid/"
	fsys := fstest.MapFS{}
	for _, name := range schemaParts {
		fsys[name] = &fstest.MapFile{Data: []byte(`{"$schema": "https://json-schema.org/draft/2020-12/schema"}`)}
	}
	fsys[manifestSchema] = &fstest.MapFile{Data: []byte(`{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object",
  "properties": {
    "either": {"oneOf": [{"type": "string"}, {"type": "integer"}]},
    "shape": {"oneOf": [
      {"type": "object", "properties": {"id": {"type": "integer"}}, "required": ["id"], "additionalProperties": false},
      {"type": "object", "properties": {"name": {"type": "string"}, "city": {"type": "string"}}, "required": ["name", "city"], "additionalProperties": false}
    ]},
    "pair": {"type": "object", "dependentRequired": {"a": ["b"]}},
    "closed": {"type": "object", "properties": {"x": {}}, "unevaluatedProperties": false},
    "both": {"anyOf": [{"type": "string"}, {"type": "string", "minLength": 2}]},
    "list": {"type": "array", "minItems": 2, "maxItems": 3},
    "tiny": {"type": "string", "maxLength": 2},
    "never": false
  }
}`)}
	v, err := newValidator(fsys, base)
	if err != nil {
		t.Fatal(err)
	}
	doc := `either: [1]
shape: {id: "x"}
pair: {a: 1}
closed: {x: 1, y: 2}
both: 5
list: [1]
tiny: abc
never: 1
`
	parsed, diags := parseYAML("t.yaml", []byte(doc))
	if len(diags) != 0 {
		t.Fatal(diags)
	}
	root := parsed[0].root
	inst := root.toJSON()
	x := explainer{v: v, doc: root, inst: inst, file: "t.yaml"}
	got := diagStrings(sortDiagnostics(x.diagnostics(v.schema.Validate(inst), nil)))
	want := []string{
		"t.yaml:1:9: either: must be a string or an integer, got a list",
		`t.yaml:2:13: shape.id: must be an integer, got "x"`,
		`t.yaml:3:1: pair: missing field "b", required when "a" is set`,
		`t.yaml:4:16: closed: unknown field "y"`,
		"t.yaml:5:7: both: must be a string, got 5",
		"t.yaml:6:7: list: must have at least 2 items",
		"t.yaml:7:7: tiny: must be at most 2 characters long, got 3 characters",
		`t.yaml:8:1: field "never" is not allowed here`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestBundledSchemaFileIsCommitted(t *testing.T) {
	if _, err := os.Stat("../../schemas/" + BundleFile); err != nil {
		t.Fatalf("%v: run go test ./pkg/spec -run TestBundle -update", err)
	}
}
