package spec

import (
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v5"
)

// The jsonschema library records "deprecated": true as an annotation but does
// not report its use, so certplan walks the instance along the compiled schema
// and reports every present field whose schema is deprecated. Only subschemas
// from which a deprecated keyword is reachable are visited, so the walk is cheap.

// deprecation is a deprecated field present in an instance.
type deprecation struct {
	ptr  string
	hint string // from the schema description, after "Deprecated:"
}

// markDeprecated computes v.hasDeprecated: for every compiled subschema,
// whether a deprecated schema is reachable from it.
func (v *validator) markDeprecated() {
	children := map[*jsonschema.Schema][]*jsonschema.Schema{}
	var visit func(s *jsonschema.Schema)
	visit = func(s *jsonschema.Schema) {
		if s == nil {
			return
		}
		if _, done := children[s]; done {
			return
		}
		kids := schemaChildren(s)
		children[s] = kids
		for _, k := range kids {
			visit(k)
		}
	}
	visit(v.schema)
	v.hasDeprecated = map[*jsonschema.Schema]bool{}
	for s := range children {
		if s.Deprecated {
			v.hasDeprecated[s] = true
		}
	}
	v.deprecatedNames = map[string]bool{}
	for s := range children {
		for name, ps := range s.Properties {
			if sameInstanceDeprecated(ps, 0) {
				v.deprecatedNames[name] = true
			}
		}
		var others []*jsonschema.Schema
		others = append(others, s.Items2020, s.UnevaluatedProperties, s.UnevaluatedItems, s.Contains)
		others = append(others, s.PrefixItems...)
		for _, c := range s.PatternProperties {
			others = append(others, c)
		}
		if c, ok := s.AdditionalProperties.(*jsonschema.Schema); ok {
			others = append(others, c)
		}
		switch it := s.Items.(type) {
		case *jsonschema.Schema:
			others = append(others, it)
		case []*jsonschema.Schema:
			others = append(others, it...)
		}
		for _, c := range others {
			if sameInstanceDeprecated(c, 0) {
				v.deprecatedAnywhere = true // not tied to a field name: always walk
			}
		}
	}
	for changed := true; changed; {
		changed = false
		for s, kids := range children {
			if v.hasDeprecated[s] {
				continue
			}
			for _, k := range kids {
				if v.hasDeprecated[k] {
					v.hasDeprecated[s] = true
					changed = true
					break
				}
			}
		}
	}
}

// sameInstanceDeprecated reports whether s, or a schema applied to the same
// instance through $ref, allOf, anyOf, oneOf or if/then/else, is deprecated.
func sameInstanceDeprecated(s *jsonschema.Schema, depth int) bool {
	if s == nil || depth > 32 {
		return false
	}
	if s.Deprecated {
		return true
	}
	same := []*jsonschema.Schema{s.Ref, s.DynamicRef, s.RecursiveRef, s.If, s.Then, s.Else}
	same = append(same, s.AllOf...)
	same = append(same, s.AnyOf...)
	same = append(same, s.OneOf...)
	for _, c := range s.DependentSchemas {
		same = append(same, c)
	}
	for _, c := range same {
		if sameInstanceDeprecated(c, depth+1) {
			return true
		}
	}
	return false
}

// mayHaveDeprecated is a cheap pre-check: whether inst has a field whose name
// is deprecated somewhere in the schemas, so the walk can find something.
func (v *validator) mayHaveDeprecated(inst any) bool {
	if v.deprecatedAnywhere {
		return true
	}
	switch t := inst.(type) {
	case map[string]any:
		for k, c := range t {
			if v.deprecatedNames[k] || v.mayHaveDeprecated(c) {
				return true
			}
		}
	case []any:
		for _, c := range t {
			if v.mayHaveDeprecated(c) {
				return true
			}
		}
	}
	return false
}

// schemaChildren lists the subschemas that apply to s's instance or its members.
func schemaChildren(s *jsonschema.Schema) []*jsonschema.Schema {
	var out []*jsonschema.Schema
	add := func(ss ...*jsonschema.Schema) {
		for _, c := range ss {
			if c != nil {
				out = append(out, c)
			}
		}
	}
	add(s.Ref, s.DynamicRef, s.RecursiveRef, s.If, s.Then, s.Else, s.Items2020, s.UnevaluatedProperties, s.UnevaluatedItems, s.Contains)
	add(s.AllOf...)
	add(s.AnyOf...)
	add(s.OneOf...)
	add(s.PrefixItems...)
	for _, c := range s.Properties {
		add(c)
	}
	for _, c := range s.PatternProperties {
		add(c)
	}
	for _, c := range s.DependentSchemas {
		add(c)
	}
	if c, ok := s.AdditionalProperties.(*jsonschema.Schema); ok {
		add(c)
	}
	switch it := s.Items.(type) {
	case *jsonschema.Schema:
		add(it)
	case []*jsonschema.Schema:
		add(it...)
	}
	return out
}

// deprecations returns the deprecated fields present in inst, sorted by pointer.
func (v *validator) deprecations(inst any) []deprecation {
	if !v.mayHaveDeprecated(inst) {
		return nil
	}
	found := map[string]string{}
	v.walkDeprecated(v.schema, inst, "", 0, found)
	out := make([]deprecation, 0, len(found))
	for _, ptr := range sortedKeys(found) {
		out = append(out, deprecation{ptr: ptr, hint: found[ptr]})
	}
	return out
}

func (v *validator) walkDeprecated(s *jsonschema.Schema, val any, ptr string, depth int, found map[string]string) {
	if s == nil || !v.hasDeprecated[s] || depth > 2*maxDepth {
		return
	}
	if s.Deprecated && ptr != "" {
		if _, seen := found[ptr]; !seen {
			found[ptr] = deprecationHint(s.Description)
		}
	}
	next := depth + 1
	for _, r := range []*jsonschema.Schema{s.Ref, s.DynamicRef, s.RecursiveRef} {
		v.walkDeprecated(r, val, ptr, next, found)
	}
	for _, a := range s.AllOf {
		v.walkDeprecated(a, val, ptr, next, found)
	}
	for _, alts := range [][]*jsonschema.Schema{s.AnyOf, s.OneOf} {
		for _, a := range alts {
			if v.hasDeprecated[a] && a.Validate(val) == nil {
				v.walkDeprecated(a, val, ptr, next, found)
			}
		}
	}
	if s.If != nil && (v.hasDeprecated[s.Then] || v.hasDeprecated[s.Else]) {
		if s.If.Validate(val) == nil {
			v.walkDeprecated(s.Then, val, ptr, next, found)
		} else {
			v.walkDeprecated(s.Else, val, ptr, next, found)
		}
	}
	switch t := val.(type) {
	case map[string]any:
		for k, cv := range t {
			child := joinPointer(ptr, k)
			matched := false
			if ps, ok := s.Properties[k]; ok {
				matched = true
				v.walkDeprecated(ps, cv, child, next, found)
			}
			for re, ps := range s.PatternProperties {
				if re.MatchString(k) {
					matched = true
					v.walkDeprecated(ps, cv, child, next, found)
				}
			}
			if ap, ok := s.AdditionalProperties.(*jsonschema.Schema); ok && !matched {
				v.walkDeprecated(ap, cv, child, next, found)
			}
			if ds, ok := s.DependentSchemas[k]; ok {
				v.walkDeprecated(ds, val, ptr, next, found)
			}
		}
	case []any:
		for i, cv := range t {
			child := ptr + "/" + strconv.Itoa(i)
			switch {
			case i < len(s.PrefixItems):
				v.walkDeprecated(s.PrefixItems[i], cv, child, next, found)
			case s.Items2020 != nil:
				v.walkDeprecated(s.Items2020, cv, child, next, found)
			}
			if it, ok := s.Items.(*jsonschema.Schema); ok {
				v.walkDeprecated(it, cv, child, next, found)
			}
		}
	}
}

var deprecatedRE = regexp.MustCompile(`(?i)deprecated[:.]?\s*`)

// deprecationHint extracts the advice after "Deprecated:" in a description.
func deprecationHint(desc string) string {
	loc := deprecatedRE.FindStringIndex(desc)
	if loc == nil {
		return ""
	}
	return strings.TrimSuffix(strings.TrimSpace(desc[loc[1]:]), ".")
}

// deprecationWarnings renders the deprecations of one document.
func deprecationWarnings(doc *tree, deps []deprecation) []Diagnostic {
	out := make([]Diagnostic, 0, len(deps))
	for _, d := range deps {
		node, _ := doc.lookup(d.ptr)
		msg := "deprecated field; it still works, but may be removed"
		if d.hint != "" {
			msg = "deprecated field: " + d.hint
		}
		out = append(out, warningAt(node.reportPos(), dottedPath(d.ptr), "%s", msg))
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}
