package spec

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"strings"

	"github.com/certplan/certplan/schemas"
)

// ManifestReference renders docs/manifest-reference.md from the embedded
// schemas: the envelope fields, then, per product family, every field path
// under spec.order with its type, whether it is required, its constraints
// (enum, range, length, pattern, format, default), deprecation and
// description. Output is deterministic: fields appear in schema order.
func ManifestReference() ([]byte, error) {
	return manifestReference(schemas.FS)
}

func manifestReference(fsys fs.FS) ([]byte, error) {
	docs := map[string]*orderedObject{}
	for _, name := range append([]string{manifestSchema}, schemaParts...) {
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("manifest reference: %w", err)
		}
		doc, err := decodeOrdered(data)
		if err != nil {
			return nil, fmt.Errorf("manifest reference: %s: %w", name, err)
		}
		docs[name] = doc
	}
	r := &refWalker{docs: docs}
	var b bytes.Buffer
	b.WriteString("# Manifest reference\n\n")
	b.WriteString("<!-- Generated from schemas/*.schema.json by spec.ManifestReference. Do not edit:\n")
	b.WriteString("     regenerate with `go test ./pkg/spec -run TestManifestReference -update`. -->\n\n")
	b.WriteString("Every field a manifest may contain, generated from the JSON Schemas that `certplan validate`\n")
	b.WriteString("checks (`certplan schema` prints them as one file for editors). \"yes\" under *required* means\n")
	b.WriteString("required whenever the enclosing object is present; a field of one variant (e.g. a new versus an\n")
	b.WriteString("existing organization) is required in that variant. Field names under `spec.order` are the\n")
	b.WriteString("CertCentral request fields.\n\n")

	top := r.docs[manifestSchema]
	writeIntro(&b, top)
	b.WriteString("## Envelope\n\n")
	rows := r.fields(manifestSchema, top, "", 0)
	defs, _ := top.get("$defs").(*orderedObject)
	if defs == nil {
		return nil, fmt.Errorf("manifest reference: %s has no $defs", manifestSchema)
	}
	certSpec, _ := defs.get("certificateSpec").(*orderedObject)
	defaultsSpec, _ := defs.get("defaultsSpec").(*orderedObject)
	if certSpec == nil || defaultsSpec == nil {
		return nil, fmt.Errorf("manifest reference: %s lacks certificateSpec or defaultsSpec", manifestSchema)
	}
	writeTable(&b, rows)
	b.WriteString("### spec (kind: Certificate)\n\n")
	writeIntro(&b, certSpec)
	writeTable(&b, r.fields(manifestSchema, certSpec, "spec", 0))
	b.WriteString("### spec (kind: Defaults)\n\n")
	writeIntro(&b, defaultsSpec)
	writeTable(&b, r.fields(manifestSchema, defaultsSpec, "spec", 0))

	families, err := refFamilies(certSpec)
	if err != nil {
		return nil, err
	}
	for _, f := range families {
		doc, ok := r.docs[f.file]
		if !ok {
			return nil, fmt.Errorf("manifest reference: product family schema %s is not loaded", f.file)
		}
		fmt.Fprintf(&b, "## spec.order for %s\n\n", strings.Join(f.products, ", "))
		fmt.Fprintf(&b, "Schema: `schemas/%s`.", f.file)
		if t, _ := doc.get("title").(string); t != "" {
			fmt.Fprintf(&b, " %s.", t)
		}
		b.WriteString("\n\n")
		writeIntro(&b, doc)
		writeTable(&b, r.fields(f.file, doc, "spec.order", 0))
	}
	return b.Bytes(), nil
}

// refFamily is one product family: the products whose spec.order one schema checks.
type refFamily struct {
	products []string
	file     string
}

// refFamilies reads certificateSpec's allOf: each entry maps a product
// const or enum to the schema file of spec.order.
func refFamilies(certSpec *orderedObject) ([]refFamily, error) {
	all, _ := certSpec.get("allOf").([]any)
	var out []refFamily
	for i, e := range all {
		entry, _ := e.(*orderedObject)
		cond := objAt(entry, "if", "properties", "product")
		ref, _ := objAt(entry, "then", "properties", "order").get("$ref").(string)
		if cond == nil || ref == "" {
			return nil, fmt.Errorf("manifest reference: certificateSpec allOf[%d] is not a product -> order schema rule", i)
		}
		var products []string
		if c, ok := cond.get("const").(string); ok {
			products = append(products, c)
		}
		for _, p := range asSlice(cond.get("enum")) {
			if s, ok := p.(string); ok {
				products = append(products, s)
			}
		}
		out = append(out, refFamily{products: products, file: ref})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("manifest reference: certificateSpec has no product families")
	}
	return out, nil
}

// refRow is one field of the reference.
type refRow struct {
	path, types, required, constraints, description string
}

// refWalker walks the raw schema documents, following $ref across files.
type refWalker struct {
	docs map[string]*orderedObject
}

// maxRefDepth bounds nesting, so a recursive schema cannot loop forever.
const maxRefDepth = 12

// resolve follows node's $ref chain. It returns the chain of schemas, the
// outermost first, each with the file it lives in.
func (r *refWalker) resolve(file string, node *orderedObject) []refNode {
	chain := []refNode{{file, node}}
	for i := 0; i < maxRefDepth; i++ {
		ref, _ := node.get("$ref").(string)
		if ref == "" {
			break
		}
		target, ptr, _ := strings.Cut(ref, "#")
		if target != "" {
			file = target
		}
		doc := r.docs[file]
		if doc == nil {
			break
		}
		next := objAt(doc, splitPointer(ptr)...)
		if next == nil {
			break
		}
		node = next
		chain = append(chain, refNode{file, node})
	}
	return chain
}

type refNode struct {
	file string
	node *orderedObject
}

// variants are the schemas whose properties also belong to node: its $ref
// chain and, recursively, its if/then/else, allOf and anyOf/oneOf branches.
func (r *refWalker) variants(file string, node *orderedObject, depth int) []refNode {
	if node == nil || depth > maxRefDepth {
		return nil
	}
	var out []refNode
	for _, l := range r.resolve(file, node) {
		out = append(out, l)
		for _, key := range []string{"then", "else"} {
			if sub, ok := l.node.get(key).(*orderedObject); ok {
				out = append(out, r.variants(l.file, sub, depth+1)...)
			}
		}
		for _, key := range []string{"allOf", "anyOf", "oneOf"} {
			for _, s := range asSlice(l.node.get(key)) {
				if sub, ok := s.(*orderedObject); ok {
					out = append(out, r.variants(l.file, sub, depth+1)...)
				}
			}
		}
	}
	return out
}

// fields lists node's properties (from every variant) under prefix, depth first.
func (r *refWalker) fields(file string, node *orderedObject, prefix string, depth int) []refRow {
	if depth > maxRefDepth {
		return nil
	}
	var rows []refRow
	seen := map[string]bool{}
	for _, v := range r.variants(file, node, depth) {
		props, _ := v.node.get("properties").(*orderedObject)
		if props == nil {
			continue
		}
		required := map[string]bool{}
		for _, q := range asSlice(v.node.get("required")) {
			if s, ok := q.(string); ok {
				required[s] = true
			}
		}
		for _, name := range props.keys {
			prop, _ := props.get(name).(*orderedObject)
			if prop == nil || seen[name] {
				continue
			}
			seen[name] = true
			path := name
			if prefix != "" {
				path = prefix + "." + name
			}
			rows = append(rows, r.row(v.file, prop, path, required[name]))
			rows = append(rows, r.children(v.file, prop, path, depth+1)...)
		}
	}
	return rows
}

// children lists the fields nested in prop: object properties, and those of
// array items as path[].
func (r *refWalker) children(file string, prop *orderedObject, path string, depth int) []refRow {
	rows := r.fields(file, prop, path, depth)
	for _, v := range r.variants(file, prop, depth) {
		items, _ := v.node.get("items").(*orderedObject)
		if items == nil {
			continue
		}
		rows = append(rows, r.fields(v.file, items, path+"[]", depth)...)
		break
	}
	return rows
}

// row describes one property: the first description along its $ref chain
// (the outermost wins), and every type and constraint of its variants.
func (r *refWalker) row(file string, prop *orderedObject, path string, required bool) refRow {
	row := refRow{path: path}
	if required {
		row.required = "yes"
	}
	var types, cons []string
	addType := func(t string) {
		for _, have := range types {
			if have == t {
				return
			}
		}
		types = append(types, t)
	}
	addCons := func(c string) {
		for _, have := range cons {
			if have == c {
				return
			}
		}
		cons = append(cons, c)
	}
	deprecated := ""
	for _, v := range r.variants(file, prop, 0) {
		n := v.node
		if row.description == "" {
			row.description, _ = n.get("description").(string)
		}
		if not, ok := n.get("not").(*orderedObject); ok && len(not.keys) == 0 {
			addCons("must not be set")
		}
		switch t := n.get("type").(type) {
		case string:
			addType(t)
		case []any:
			for _, x := range t {
				if s, ok := x.(string); ok {
					addType(s)
				}
			}
		}
		if items, ok := n.get("items").(*orderedObject); ok {
			for _, it := range r.variants(v.file, items, 0) {
				if t, ok := it.node.get("type").(string); ok {
					addCons("items: " + t)
					break
				}
			}
		}
		if ap, ok := n.get("additionalProperties").(*orderedObject); ok {
			if t, ok := ap.get("type").(string); ok {
				addCons("values: " + t)
			}
		}
		if c, ok := n.vals["const"]; ok {
			addCons("always " + jsonText(c))
		}
		if e := asSlice(n.get("enum")); len(e) > 0 {
			vals := make([]string, len(e))
			for i, x := range e {
				vals[i] = jsonText(x)
			}
			addCons("one of " + strings.Join(vals, ", "))
		}
		addRange(addCons, n, "minimum", "maximum", "")
		addRange(addCons, n, "minLength", "maxLength", "length ")
		addRange(addCons, n, "minItems", "maxItems", "items ")
		addRange(addCons, n, "minProperties", "maxProperties", "keys ")
		if u, _ := n.get("uniqueItems").(bool); u {
			addCons("unique items")
		}
		if p, ok := n.get("pattern").(string); ok {
			addCons("pattern " + jsonText(p))
		}
		if f, ok := n.get("format").(string); ok {
			addCons("format " + f)
		}
		if d, ok := n.vals["default"]; ok {
			addCons("default " + jsonText(d))
		}
		if dep, _ := n.get("deprecated").(bool); dep && deprecated == "" {
			deprecated = "**deprecated**"
			if m, _ := n.get("deprecationMessage").(string); m != "" {
				deprecated += ": " + m
			}
		}
	}
	if deprecated != "" {
		cons = append([]string{deprecated}, cons...)
	}
	if types == nil {
		types = []string{"any"}
	}
	row.types = strings.Join(types, " or ")
	row.constraints = strings.Join(cons, "; ")
	return row
}

// addRange renders a min/max pair as "1..3", ">= 1" or "<= 3".
func addRange(add func(string), n *orderedObject, minKey, maxKey, label string) {
	lo, hasLo := n.get(minKey).(json.Number)
	hi, hasHi := n.get(maxKey).(json.Number)
	switch {
	case hasLo && hasHi:
		add(fmt.Sprintf("%s%s..%s", label, lo, hi))
	case hasLo:
		add(fmt.Sprintf("%s>= %s", label, lo))
	case hasHi:
		add(fmt.Sprintf("%s<= %s", label, hi))
	}
}

// writeIntro writes a schema's description as a paragraph.
func writeIntro(b *bytes.Buffer, node *orderedObject) {
	if d, _ := node.get("description").(string); d != "" {
		b.WriteString(d)
		b.WriteString("\n\n")
	}
}

func writeTable(b *bytes.Buffer, rows []refRow) {
	b.WriteString("| field | type | required | constraints | description |\n")
	b.WriteString("|---|---|---|---|---|\n")
	for _, r := range rows {
		fmt.Fprintf(b, "| `%s` | %s | %s | %s | %s |\n",
			cell(r.path), cell(r.types), cell(r.required), cell(r.constraints), cell(r.description))
	}
	b.WriteString("\n")
}

// cell escapes a table cell: pipes would end it, newlines the row.
func cell(s string) string {
	s = strings.ReplaceAll(s, "|", `\|`)
	return strings.ReplaceAll(s, "\n", " ")
}

// jsonText renders a schema value: strings in code spans, others as JSON.
func jsonText(v any) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Sprint(v)
	}
	return "`" + strings.TrimSuffix(buf.String(), "\n") + "`"
}

// objAt walks object keys from o; nil when a step is missing.
func objAt(o *orderedObject, keys ...string) *orderedObject {
	for _, k := range keys {
		if o == nil {
			return nil
		}
		o, _ = o.get(k).(*orderedObject)
	}
	return o
}

func asSlice(v any) []any {
	s, _ := v.([]any)
	return s
}
