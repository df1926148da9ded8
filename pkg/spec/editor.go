package spec

import (
	"fmt"
	"strings"
)

// The editor bundle (BundledSchema) is the one schema file with keywords
// that only editors read. The schemas under schemas/ use standard JSON
// Schema 2020-12 keywords alone, so that any validator loads them, in strict
// mode too; what yaml-language-server reads beyond the standard is added
// here, when the bundle is generated:
//
//   - patternErrorMessage and errorMessage, the messages it shows for a
//     pattern or schema that fails (editorHints below);
//   - for a deprecated field: deprecationMessage (it shows a warning where
//     the field is used) made from the description's "Deprecated: ..." (the
//     advice `certplan validate` gives too), markdownDescription, and
//     doNotSuggest (no completion); a $ref of such a field is inlined,
//     since yaml-language-server moves keywords beside a $ref into an allOf,
//     where completion no longer sees them;
//   - doNotSuggest for a field that must not be set (alternative_order_id);
//   - for a Defaults document, the product schemas of spec.order by
//     spec.products (see defaultsOrder).

// EditorKeywords are the non-standard keywords only the editor bundle has.
var EditorKeywords = []string{"deprecationMessage", "doNotSuggest", "errorMessage", "markdownDescription", "patternErrorMessage"}

// BundleID is the editor bundle's $id: its own, so that the bundle and the
// schemas it is made of load into one validator side by side.
const BundleID = "https://certplan.dev/schemas/" + BundleFile

// editorHints are the messages yaml-language-server shows instead of its
// generic ones, by schema file and JSON pointer into that file as written.
var editorHints = map[string]map[string]string{
	"manifest.schema.json#/$defs/metadata/properties/name": {"patternErrorMessage": "Lower-case letters, digits and dashes, 1 to 63 characters, starting and ending with a letter or digit."},
	"manifest.schema.json#/$defs/renewBefore":              {"patternErrorMessage": "A duration in whole days, hours and minutes, e.g. 30d, 720h or 1d12h."},
	"common.schema.json#/$defs/secretRef":                  {"errorMessage": "Use a secret reference, {env: NAME} or {file: PATH} (exactly one); secrets are never written literally."},
	"common.schema.json#/$defs/secretRef/properties/env":   {"patternErrorMessage": "An environment variable name: letters, digits and _, not starting with a digit."},
	"common.schema.json#/$defs/csr/then":                   {"patternErrorMessage": "An inline CSR must be PEM text starting with -----BEGIN CERTIFICATE REQUEST-----; or use {file: PATH}."},
	"common.schema.json#/$defs/dnsName":                    {"patternErrorMessage": "A domain name such as www.example.com or *.example.com (letters, digits, dashes and dots)."},
	"common.schema.json#/$defs/email":                      {"patternErrorMessage": "An email address such as ops@example.com: a name, @, and a domain name with at least one dot (no IP address, no trailing dot, no quoted name)."},
	"common.schema.json#/$defs/telephone":                  {"patternErrorMessage": "A telephone number: digits with optional leading +, spaces, dots, dashes and parentheses."},
	"common.schema.json#/$defs/countryCode":                {"patternErrorMessage": "A two-letter country code, e.g. us."},
	"common.schema.json#/$defs/customExpirationDate":       {"patternErrorMessage": "A date written dd MMM YYYY, e.g. 09 JUN 2025."},
	"common.schema.json#/$defs/isoDate":                    {"patternErrorMessage": "A date written yyyy-MM-dd, e.g. 2025-06-09."},
	"common.schema.json#/$defs/renewedThumbprint":          {"patternErrorMessage": "A SHA-1 thumbprint: 40 hexadecimal digits."},
}

// addHints sets the editorHints of schema file name (parsed as doc).
func addHints(name string, doc *orderedObject) error {
	for _, loc := range sortedKeys(editorHints) {
		file, ptr, _ := strings.Cut(loc, "#")
		if file != name {
			continue
		}
		target, ok := orderedAt(doc, ptr).(*orderedObject)
		if !ok {
			return fmt.Errorf("editor hint for %s: no schema there", loc)
		}
		for _, k := range sortedKeys(editorHints[loc]) {
			if k == "patternErrorMessage" && target.get("pattern") == nil {
				return fmt.Errorf("editor hint for %s: patternErrorMessage without a pattern", loc)
			}
			target.set(k, editorHints[loc][k])
		}
	}
	return nil
}

// orderedAt resolves a JSON pointer in an ordered document (nil when absent).
func orderedAt(v any, ptr string) any {
	for _, seg := range splitPointer(ptr) {
		switch t := v.(type) {
		case *orderedObject:
			v = t.get(seg)
		case []any:
			var i int
			if _, err := fmt.Sscanf(seg, "%d", &i); err != nil || i < 0 || i >= len(t) {
				return nil
			}
			v = t[i]
		default:
			return nil
		}
	}
	return v
}

// annotateProperties adds the editor keywords of deprecated and forbidden
// fields everywhere in the bundle top.
func annotateProperties(top *orderedObject) error {
	var err error
	var walk func(v any)
	walk = func(v any) {
		switch t := v.(type) {
		case *orderedObject:
			if props, ok := t.get("properties").(*orderedObject); ok {
				for _, name := range props.keys {
					if p, ok := props.get(name).(*orderedObject); ok {
						if e := annotateProperty(top, name, p); e != nil && err == nil {
							err = e
						}
					}
				}
			}
			for _, k := range t.keys {
				walk(t.vals[k])
			}
		case []any:
			for _, c := range t {
				walk(c)
			}
		}
	}
	walk(top)
	return err
}

func annotateProperty(top *orderedObject, name string, p *orderedObject) error {
	if not, ok := p.get("not").(*orderedObject); ok && len(not.keys) == 0 {
		p.set("doNotSuggest", true) // must not be set: never offer it
		return nil
	}
	if dep, _ := p.get("deprecated").(bool); !dep {
		return nil
	}
	if err := inlineRef(top, p); err != nil {
		return fmt.Errorf("deprecated field %s: %w", name, err)
	}
	desc, _ := p.get("description").(string)
	msg := name + " is deprecated."
	if hint := deprecationHint(desc); hint != "" {
		msg = name + " is deprecated: " + hint + "."
	}
	p.set("deprecationMessage", msg)
	p.set("markdownDescription", "**Deprecated.** "+desc)
	p.set("doNotSuggest", true)
	return nil
}

// inlineRef replaces p's $ref (inside the bundle) by the keywords of the
// schema it names that p does not set itself.
func inlineRef(top, p *orderedObject) error {
	for i := 0; i < 16; i++ { // a chain of $refs, bounded
		ref, ok := p.get("$ref").(string)
		if !ok {
			return nil
		}
		target, ok := orderedAt(top, strings.TrimPrefix(ref, "#")).(*orderedObject)
		if !ok || !strings.HasPrefix(ref, "#") {
			return fmt.Errorf("$ref %q does not resolve inside the bundle", ref)
		}
		p.remove("$ref")
		for _, k := range target.keys {
			if _, has := p.vals[k]; !has && k != "title" && k != "examples" {
				p.set(k, target.vals[k])
			}
		}
	}
	return fmt.Errorf("$ref chain longer than 16")
}

// defaultsOrder gives the editor the product schemas for spec.order of a
// Defaults document: the schema of each product spec.products lists (a
// field a listed product's orders lack is reported, as `certplan validate`
// reports it once merged), and, without spec.products (every product), any
// one of them. Required fields are not demanded: Defaults are partial. The
// products come from the Certificate dispatch (certificateSpec's allOf).
func defaultsOrder(top *orderedObject) error {
	defs, _ := top.get("$defs").(*orderedObject)
	cert, _ := orderedAt(defs, "/certificateSpec/allOf").([]any)
	ds, _ := orderedAt(defs, "/defaultsSpec").(*orderedObject)
	if len(cert) == 0 || ds == nil || ds.get("allOf") != nil {
		return fmt.Errorf("bundle schemas: the Certificate dispatch or defaultsSpec is not as expected")
	}
	var entries, anyOf []any
	for _, e := range cert {
		product, _ := orderedAt(e, "/if/properties/product").(*orderedObject)
		ref, _ := orderedAt(e, "/then/properties/order/$ref").(string)
		if product == nil || ref == "" {
			return fmt.Errorf("bundle schemas: a Certificate dispatch entry is not as expected")
		}
		entries = append(entries, obj(
			"if", obj("properties", obj("products", obj("type", "array", "contains", product)), "required", []any{"products"}),
			"then", obj("properties", obj("order", obj("$ref", ref))),
		))
		anyOf = append(anyOf, obj("$ref", ref))
	}
	entries = append(entries, obj(
		"if", obj("not", obj("required", []any{"products"})),
		"then", obj("properties", obj("order", obj("anyOf", anyOf))),
	))
	ds.set("allOf", entries)
	return nil
}

// obj builds an ordered object from key, value pairs.
func obj(kv ...any) *orderedObject {
	o := &orderedObject{}
	for i := 0; i+1 < len(kv); i += 2 {
		o.set(kv[i].(string), kv[i+1])
	}
	return o
}
