package schemas

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v5"
	"go.yaml.in/yaml/v3"
)

// files are the schema files this package must hold (see the package doc).
var files = []string{
	"manifest.schema.json",
	"common.schema.json",
	"securesite.schema.json",
	"private_ssl.schema.json",
	"document_signing.schema.json",
	"legacy_ssl.schema.json",
}

const examplesDir = "../examples"

// compile compiles every schema file from FS and returns them by file name.
func compile(t testing.TB) map[string]*jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.Draft = jsonschema.Draft2020
	c.ExtractAnnotations = true
	for _, name := range files {
		b, err := FS.ReadFile(name)
		if err != nil {
			t.Fatalf("read %s: %v", name, err)
		}
		if err := c.AddResource(BaseURL+name, bytes.NewReader(b)); err != nil {
			t.Fatalf("add %s: %v", name, err)
		}
	}
	out := map[string]*jsonschema.Schema{}
	for _, name := range files {
		s, err := c.Compile(BaseURL + name)
		if err != nil {
			t.Fatalf("compile %s: %v", name, err)
		}
		out[name] = s
	}
	return out
}

func readJSON(t *testing.T, name string) map[string]any {
	t.Helper()
	b, err := FS.ReadFile(name)
	if err != nil {
		t.Fatalf("read %s: %v", name, err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("parse %s: %v", name, err)
	}
	return m
}

func TestSchemaHeaders(t *testing.T) {
	compile(t)
	for _, name := range files {
		m := readJSON(t, name)
		if got := m["$schema"]; got != "https://json-schema.org/draft/2020-12/schema" {
			t.Errorf("%s: $schema = %v", name, got)
		}
		if got := m["$id"]; got != BaseURL+name {
			t.Errorf("%s: $id = %v, want %s", name, got, BaseURL+name)
		}
	}
}

// walk calls fn for every object node of a JSON document with its JSON pointer.
func walk(ptr string, v any, fn func(ptr string, m map[string]any)) {
	switch t := v.(type) {
	case map[string]any:
		fn(ptr, t)
		for k, c := range t {
			walk(ptr+"/"+k, c, fn)
		}
	case []any:
		for i, c := range t {
			walk(fmt.Sprintf("%s/%d", ptr, i), c, fn)
		}
	}
}

// TestEditorFriendly checks what yaml-language-server and readers rely on: every
// declared property (conditionals under allOf only add constraints; a property
// declared as true only names a field for "required") has a description,
// deprecated fields say what to use instead in their description ("Deprecated:
// ...", which certplan's warning and the editor bundle's deprecationMessage
// quote; editor-only keywords are not in these files), patterns use only
// syntax that ECMA-262 and RE2 share, and references are relative.
func TestEditorFriendly(t *testing.T) {
	goOnly := []string{"(?", `\A`, `\z`, `\Q`, `\E`, "[[:", `\p`, `\P`}
	for _, name := range files {
		walk("", readJSON(t, name), func(ptr string, m map[string]any) {
			if props, ok := m["properties"].(map[string]any); ok && !strings.Contains(ptr, "/if") && !strings.Contains(ptr, "/allOf/") {
				for k, p := range props {
					if p == true {
						continue
					}
					pm, _ := p.(map[string]any)
					if _, ok := pm["description"].(string); !ok {
						t.Errorf("%s#%s/properties/%s: no description", name, ptr, k)
					}
				}
			}
			if p, ok := m["pattern"].(string); ok {
				for _, bad := range goOnly {
					if strings.Contains(p, bad) {
						t.Errorf("%s#%s: pattern %q uses %q, which ECMA regexps lack", name, ptr, p, bad)
					}
				}
			}
			if m["deprecated"] == true {
				if d, _ := m["description"].(string); !strings.Contains(d, "Deprecated: ") {
					t.Errorf(`%s#%s: deprecated without "Deprecated: what to use instead" in its description`, name, ptr)
				}
			}
			if r, ok := m["$ref"].(string); ok && strings.Contains(r, "://") {
				t.Errorf("%s#%s: $ref %q must be relative", name, ptr, r)
			}
		})
	}
}

// TestForbiddenAndDeprecated checks the annotations the loader relies on.
func TestForbiddenAndDeprecated(t *testing.T) {
	s := compile(t)
	families := []string{"securesite.schema.json", "private_ssl.schema.json", "document_signing.schema.json", "legacy_ssl.schema.json"}
	for _, name := range families {
		p := s[name].Properties["alternative_order_id"]
		if p == nil || p.Not == nil {
			t.Errorf("%s: alternative_order_id must be {not: {}}", name)
		}
	}
	deprecated := map[string][]string{
		"securesite.schema.json":       {"validity_years", "custom_expiration_date", "certificate.organization_units"},
		"private_ssl.schema.json":      {"validity_years", "validity_days", "custom_expiration_date"},
		"document_signing.schema.json": {"validity_years"},
	}
	for name, paths := range deprecated {
		for _, path := range paths {
			sc := s[name]
			for _, part := range strings.Split(path, ".") {
				sc = sc.Properties[part]
				if sc == nil {
					break
				}
			}
			if sc == nil || !sc.Deprecated {
				t.Errorf("%s: %s should be deprecated", name, path)
			}
		}
	}
	if p := s["private_ssl.schema.json"].Properties["certificate"].Properties["organization_units"]; p == nil || p.Deprecated {
		t.Errorf("private_ssl: certificate.organization_units is not deprecated for private certificates")
	}
}

// toJSON turns a YAML value into the JSON-shaped value the validator expects.
func toJSON(t testing.TB, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var out any
	if err := d.Decode(&out); err != nil {
		t.Fatalf("unmarshal: %v", err)
	}
	return out
}

// mergeUnder merges defaults under m: objects key by key, the manifest wins.
func mergeUnder(defaults, m map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range defaults {
		out[k] = v
	}
	for k, v := range m {
		dm, dok := out[k].(map[string]any)
		mm, mok := v.(map[string]any)
		if dok && mok {
			out[k] = mergeUnder(dm, mm)
			continue
		}
		out[k] = v
	}
	return out
}

type doc struct {
	where string
	body  map[string]any
}

func loadExamples(t *testing.T) (defaults, certs []doc) {
	t.Helper()
	err := filepath.WalkDir(examplesDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == "ci" {
			return filepath.SkipDir
		}
		if d.IsDir() || (!strings.HasSuffix(path, ".yaml") && !strings.HasSuffix(path, ".yml")) {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if !bytes.HasPrefix(b, []byte("# yaml-language-server: $schema=")) {
			t.Errorf("%s: first line must be the yaml-language-server $schema comment", path)
		}
		// yaml-language-server reads the schema line from each document's
		// own header: a document after --- needs one too.
		for i, d := range strings.Split(string(b), "\n---\n")[1:] {
			if !strings.HasPrefix(d, "# yaml-language-server: $schema=") {
				t.Errorf("%s: document %d does not start with the yaml-language-server $schema comment", path, i+2)
			}
		}
		dec := yaml.NewDecoder(bytes.NewReader(b))
		for i := 0; ; i++ {
			var m map[string]any
			if err := dec.Decode(&m); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
			d := doc{fmt.Sprintf("%s#%d", path, i), toJSON(t, m).(map[string]any)}
			if m["kind"] == "Defaults" {
				defaults = append(defaults, d)
			} else {
				certs = append(certs, d)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return defaults, certs
}

// merged returns a Certificate document with every matching Defaults' order merged under it.
func merged(defaults []doc, cert map[string]any) map[string]any {
	spec := cert["spec"].(map[string]any)
	order, _ := spec["order"].(map[string]any)
	for _, d := range defaults {
		ds, _ := d.body["spec"].(map[string]any)
		if ps, ok := ds["products"].([]any); ok && !slices.Contains(ps, spec["product"]) {
			continue
		}
		if do, ok := ds["order"].(map[string]any); ok {
			order = mergeUnder(do, order)
		}
	}
	out := mergeUnder(nil, cert)
	outSpec := mergeUnder(nil, spec)
	outSpec["order"] = order
	out["spec"] = outSpec
	return out
}

func TestExamplesValid(t *testing.T) {
	s := compile(t)["manifest.schema.json"]
	defaults, certs := loadExamples(t)
	if len(defaults) == 0 {
		t.Fatal("no Defaults document in examples")
	}
	for _, d := range defaults {
		if err := s.Validate(d.body); err != nil {
			t.Errorf("%s: %v", d.where, err)
		}
	}
	seen := map[string]bool{}
	for _, c := range certs {
		if err := s.Validate(merged(defaults, c.body)); err != nil {
			t.Errorf("%s: %#v", c.where, err)
		}
		seen[c.body["spec"].(map[string]any)["product"].(string)] = true
	}
	products := readJSON(t, "manifest.schema.json")["$defs"].(map[string]any)["product"].(map[string]any)["enum"].([]any)
	for _, p := range products {
		if !seen[p.(string)] {
			t.Errorf("no example manifest for product %s", p)
		}
	}
}

// legacy_ssl's validity is the order's length in years; the certificate it
// yields is capped at the public TLS maximum, so calling it the
// certificate's validity misleads (the schema, and the reference and the
// editor bundle generated from it).
func TestLegacyValidityIsTheOrders(t *testing.T) {
	desc, _ := readJSON(t, "legacy_ssl.schema.json")["properties"].(map[string]any)["validity"].(map[string]any)["description"].(string)
	if strings.Contains(strings.ToLower(desc), "certificate validity") || !strings.Contains(desc, "order") || !strings.Contains(desc, "capped") {
		t.Errorf("legacy_ssl validity: %q; want the order's length, and the certificate capped", desc)
	}
	for _, f := range []string{"../docs/manifest-reference.md", "certplan.schema.json"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), desc) {
			t.Errorf("%s lacks the description %q: regenerate it (go test ./pkg/spec -run 'TestBundle|TestManifestReference' -update)", f, desc)
		}
	}
}
