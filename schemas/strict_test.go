package schemas_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v5"

	"github.com/certplan/certplan/pkg/spec"
	"github.com/certplan/certplan/schemas"
)

// schemaFiles are every *.schema.json of schemas/, the editor bundle
// (spec.BundleFile) included, by name.
func schemaFiles(t *testing.T) map[string][]byte {
	t.Helper()
	names, err := filepath.Glob("*.schema.json")
	if err != nil || len(names) < 7 {
		t.Fatalf("schema files: %v %v", names, err)
	}
	out := map[string][]byte{}
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			t.Fatal(err)
		}
		out[n] = b
	}
	return out
}

// standardKeywords are the keywords of JSON Schema draft 2020-12 (core,
// applicator, unevaluated, validation, meta-data, format annotation,
// content).
var standardKeywords = strings.Fields(`$schema $id $ref $anchor $dynamicRef $dynamicAnchor $vocabulary $comment $defs
	allOf anyOf oneOf not if then else dependentSchemas prefixItems items contains properties patternProperties additionalProperties propertyNames
	unevaluatedItems unevaluatedProperties
	type enum const multipleOf maximum exclusiveMaximum minimum exclusiveMinimum maxLength minLength pattern
	maxItems minItems uniqueItems maxContains minContains maxProperties minProperties required dependentRequired
	title description default deprecated readOnly writeOnly examples format contentEncoding contentMediaType contentSchema`)

// keywordsOf walks a schema and reports every keyword outside allowed, by
// JSON pointer, following the keywords whose values are schemas.
func keywordsOf(ptr string, v any, allowed map[string]bool, bad map[string]string) {
	s, ok := v.(map[string]any)
	if !ok {
		return // a boolean schema
	}
	for k, c := range s {
		at := ptr + "/" + k
		if !allowed[k] {
			bad[at] = k
		}
		switch k {
		case "not", "if", "then", "else", "items", "contains", "additionalProperties", "propertyNames",
			"unevaluatedItems", "unevaluatedProperties", "contentSchema":
			keywordsOf(at, c, allowed, bad)
		case "allOf", "anyOf", "oneOf", "prefixItems":
			list, _ := c.([]any)
			for i, e := range list {
				keywordsOf(fmt.Sprintf("%s/%d", at, i), e, allowed, bad)
			}
		case "$defs", "properties", "patternProperties", "dependentSchemas":
			m, _ := c.(map[string]any)
			for name, e := range m {
				keywordsOf(at+"/"+name, e, allowed, bad)
			}
		}
	}
}

// The published schemas use only standard 2020-12 keywords, so any
// validator loads them (Ajv's strict mode refuses unknown ones); the
// keywords only editors read (patternErrorMessage, deprecationMessage,
// doNotSuggest, ...) are in the generated editor bundle alone.
func TestOnlyStandardKeywords(t *testing.T) {
	std := map[string]bool{}
	for _, k := range standardKeywords {
		std[k] = true
	}
	withEditor := map[string]bool{}
	for k := range std {
		withEditor[k] = true
	}
	for _, k := range spec.EditorKeywords {
		withEditor[k] = true
	}
	for name, data := range schemaFiles(t) {
		var doc any
		if err := json.Unmarshal(data, &doc); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		allowed := std
		if name == spec.BundleFile {
			allowed = withEditor
		}
		bad := map[string]string{}
		keywordsOf("", doc, allowed, bad)
		for _, at := range slices.Sorted(func(yield func(string) bool) {
			for k := range bad {
				if !yield(k) {
					return
				}
			}
		}) {
			t.Errorf("%s#%s: %q is not a JSON Schema 2020-12 keyword", name, at, bad[at])
		}
	}
}

// Every file of schemas/, the editor bundle included, loads into one
// validator: their $ids differ.
func TestSchemasLoadIntoOneValidator(t *testing.T) {
	c := jsonschema.NewCompiler()
	c.Draft = jsonschema.Draft2020
	ids := map[string]string{}
	files := schemaFiles(t)
	for name, data := range files {
		var head struct {
			ID string `json:"$id"`
		}
		if err := json.Unmarshal(data, &head); err != nil || head.ID == "" {
			t.Fatalf("%s: no $id (%v)", name, err)
		}
		if other, dup := ids[head.ID]; dup {
			t.Errorf("%s and %s share the $id %s", name, other, head.ID)
		}
		ids[head.ID] = name
		if err := c.AddResource(head.ID, bytes.NewReader(data)); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	for id, name := range ids {
		if _, err := c.Compile(id); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if ids[schemas.BaseURL+spec.BundleFile] != spec.BundleFile {
		t.Errorf("the bundle's $id is not %s", schemas.BaseURL+spec.BundleFile)
	}
}

// nodeWith returns node and an environment in which require finds each of
// modules, or skips the test. Modules are looked for along NODE_PATH,
// CERTPLAN_NODE_MODULES and npm's global root; install them with e.g.
//
//	npm install --prefix /tmp/tools ajv yaml-language-server
//	CERTPLAN_NODE_MODULES=/tmp/tools/node_modules go test ./schemas
func nodeWith(t *testing.T, modules ...string) (string, []string) {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed")
	}
	paths := filepath.SplitList(os.Getenv("NODE_PATH"))
	if d := os.Getenv("CERTPLAN_NODE_MODULES"); d != "" {
		paths = append([]string{d}, paths...)
	}
	envWith := func(paths []string) []string {
		return append(os.Environ(), "NODE_PATH="+strings.Join(paths, string(os.PathListSeparator)))
	}
	found := func(env []string) bool {
		for _, m := range modules {
			cmd := exec.Command(node, "-e", "require.resolve(process.argv[1])", m)
			cmd.Env = env
			if cmd.Run() != nil {
				return false
			}
		}
		return true
	}
	if env := envWith(paths); found(env) {
		return node, env
	}
	if npm, err := exec.LookPath("npm"); err == nil {
		if out, err := exec.Command(npm, "root", "-g").Output(); err == nil {
			if env := envWith(append(paths, strings.TrimSpace(string(out)))); found(env) {
				return node, env
			}
		}
	}
	t.Skipf("node modules %v not found (set CERTPLAN_NODE_MODULES to the node_modules they are in)", modules)
	return "", nil
}

// Ajv, a validator certplan does not use, compiles every file of schemas/
// in strict mode (the bundle with its editor keywords declared), loads them
// all into one instance, and agrees with certplan on the email rule.
func TestAjvStrict(t *testing.T) {
	node, env := nodeWith(t, "ajv/dist/2020")
	keywords, _ := json.Marshal(spec.EditorKeywords)
	emails := emailCases(t)
	cmd := exec.Command(node, filepath.Join("testdata", "ajv-strict.js"), ".", string(keywords))
	cmd.Env, cmd.Stdin = env, bytes.NewReader(emails)
	out, err := cmd.CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("ajv-strict.js: %v\n%s", err, out)
	}
}

// emailCases is the email table of testdata/emails.json, which
// pkg/spec's TestEmailRule checks against certplan's validator.
func emailCases(t *testing.T) []byte {
	b, err := os.ReadFile(filepath.Join("testdata", "emails.json"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}
