package spec

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"strings"
	"sync"

	"github.com/certplan/certplan/schemas"
	"github.com/santhosh-tekuri/jsonschema/v5"
)

// manifestSchema is the entry point; schemaParts are the files it references.
// They are picked by name, so the generated bundle (BundleFile), which is
// embedded too, is never loaded a second time.
const manifestSchema = "manifest.schema.json"

var schemaParts = []string{
	"common.schema.json",
	"securesite.schema.json",
	"private_ssl.schema.json",
	"document_signing.schema.json",
	"legacy_ssl.schema.json",
}

// BundleFile is the committed output of BundledSchema, under schemas/.
const BundleFile = "certplan.schema.json"

// validator holds the compiled manifest schema and the raw schema documents
// (by $id), which turn validation errors into human messages.
type validator struct {
	schema *jsonschema.Schema
	raw    map[string]any
	// hasDeprecated says, per compiled subschema, whether a deprecated
	// schema is reachable from it (read-only after newValidator); see deprecated.go.
	hasDeprecated map[*jsonschema.Schema]bool
	// deprecatedNames are the field names whose schema is deprecated somewhere;
	// deprecatedAnywhere is set when a deprecated schema is not tied to a name.
	deprecatedNames    map[string]bool
	deprecatedAnywhere bool
	// dispatch validates Certificates faster when the schema's product
	// dispatch has the expected shape; nil otherwise. See dispatch.go.
	dispatch *dispatch
}

var (
	defaultOnce      sync.Once
	defaultValidator *validator
	defaultErr       error
)

// embeddedValidator compiles the embedded schemas once per process.
func embeddedValidator() (*validator, error) {
	defaultOnce.Do(func() {
		defaultValidator, defaultErr = newValidator(schemas.FS, schemas.BaseURL)
	})
	return defaultValidator, defaultErr
}

// newValidator compiles manifest.schema.json and its parts from fsys. Every
// file's $id is baseURL + its name.
func newValidator(fsys fs.FS, baseURL string) (*validator, error) {
	c := jsonschema.NewCompiler()
	c.Draft = jsonschema.Draft2020
	c.ExtractAnnotations = true // for "deprecated" and descriptions
	c.AssertFormat = true
	v := &validator{raw: map[string]any{}}
	for _, name := range append([]string{manifestSchema}, schemaParts...) {
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("load schema %s: %w", name, err)
		}
		doc, err := decodeJSON(data)
		if err != nil {
			return nil, fmt.Errorf("load schema %s: %w", name, err)
		}
		url := baseURL + name
		v.raw[url] = doc
		if err := c.AddResource(url, bytes.NewReader(data)); err != nil {
			return nil, fmt.Errorf("load schema %s: %w", name, err)
		}
	}
	s, err := c.Compile(baseURL + manifestSchema)
	if err != nil {
		return nil, fmt.Errorf("compile schemas: %w", err)
	}
	v.schema = s
	v.markDeprecated()
	manifest, _ := fs.ReadFile(fsys, manifestSchema)
	if v.dispatch, err = newDispatch(c, v.raw, manifest, baseURL); err != nil {
		return nil, fmt.Errorf("compile schemas: %w", err)
	}
	return v, nil
}

func decodeJSON(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return nil, err
	}
	return doc, nil
}

// rawAt resolves an absolute keyword location ("https://.../x.json#/a/b") in
// the raw schema documents.
func (v *validator) rawAt(loc string) (any, bool) {
	url, ptr, _ := strings.Cut(loc, "#")
	cur, ok := v.raw[url]
	if !ok {
		return nil, false
	}
	for _, seg := range splitPointer(ptr) {
		switch c := cur.(type) {
		case map[string]any:
			cur, ok = c[seg]
		case []any:
			var i int
			if _, err := fmt.Sscanf(seg, "%d", &i); err != nil || i < 0 || i >= len(c) {
				return nil, false
			}
			cur = c[i]
		default:
			return nil, false
		}
		if !ok {
			return nil, false
		}
	}
	return cur, true
}

// BundledSchema returns the schema for editors (yaml-language-server):
// manifest.schema.json with the other schemas embedded under "$defs" (keyed
// by file name) and every reference rewritten to point inside the one
// document, so editors that do not resolve embedded "$id"s still follow it.
// Its $id is BundleID, and it is the one schema with keywords only editors
// read (EditorKeywords; see editor.go).
//
// It is made for editing, not for deciding: fields a Defaults document may
// supply (organization, signature_hash, ...) are not required in it, so a
// manifest that relies on certplan.yaml shows no false "missing property".
// `certplan validate` checks the merged manifests against the real schemas.
func BundledSchema() ([]byte, error) {
	return bundle(schemas.FS)
}

func bundle(fsys fs.FS) ([]byte, error) {
	data, err := fs.ReadFile(fsys, manifestSchema)
	if err != nil {
		return nil, fmt.Errorf("bundle schemas: %w", err)
	}
	top, err := decodeOrdered(data)
	if err != nil {
		return nil, fmt.Errorf("bundle schemas: %s: %w", manifestSchema, err)
	}
	if err := addHints(manifestSchema, top); err != nil {
		return nil, fmt.Errorf("bundle schemas: %w", err)
	}
	top.set("$id", BundleID)
	rewriteRefs(top, "")
	defs, _ := top.get("$defs").(*orderedObject)
	if defs == nil {
		defs = &orderedObject{}
		top.set("$defs", defs)
	}
	for _, name := range schemaParts {
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("bundle schemas: %w", err)
		}
		part, err := decodeOrdered(data)
		if err != nil {
			return nil, fmt.Errorf("bundle schemas: %s: %w", name, err)
		}
		if defs.get(name) != nil {
			return nil, fmt.Errorf("bundle schemas: %s already has a $defs entry %q", manifestSchema, name)
		}
		part.remove("$schema")
		part.remove("$id")
		if err := addHints(name, part); err != nil {
			return nil, fmt.Errorf("bundle schemas: %w", err)
		}
		rewriteRefs(part, name)
		relaxRequired(part, false)
		defs.set(name, part)
	}
	if err := defaultsOrder(top); err != nil {
		return nil, err
	}
	if err := annotateProperties(top); err != nil {
		return nil, fmt.Errorf("bundle schemas: %w", err)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(top); err != nil {
		return nil, fmt.Errorf("bundle schemas: %w", err)
	}
	return buf.Bytes(), nil
}

// rewriteRefs points every "$ref" of a schema embedded as $defs[self] ("" for
// the top document) inside the bundle: "#/x" becomes "#/$defs/self/x" and
// "other.schema.json#/x" becomes "#/$defs/other.schema.json/x".
func rewriteRefs(v any, self string) {
	switch t := v.(type) {
	case *orderedObject:
		for _, k := range t.keys {
			if ref, ok := t.vals[k].(string); ok && k == "$ref" {
				file, frag, _ := strings.Cut(ref, "#")
				switch {
				case file == "" && self != "":
					t.vals[k] = "#/$defs/" + self + frag
				case file != "":
					t.vals[k] = "#/$defs/" + file + frag
				}
				continue
			}
			rewriteRefs(t.vals[k], self)
		}
	case []any:
		for _, c := range t {
			rewriteRefs(c, self)
		}
	}
}

// relaxRequired drops "required" everywhere but inside an "if" (where it is
// a condition, not a demand): Defaults may supply the fields.
func relaxRequired(v any, inIf bool) {
	switch t := v.(type) {
	case *orderedObject:
		if !inIf {
			t.remove("required")
		}
		for _, k := range t.keys {
			relaxRequired(t.vals[k], inIf || k == "if")
		}
	case []any:
		for _, c := range t {
			relaxRequired(c, inIf)
		}
	}
}
