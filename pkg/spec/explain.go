package spec

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/santhosh-tekuri/jsonschema/v5"
)

// problem is one leaf of a schema validation error, in a form that can be
// explained: the keyword that failed, where in the schema, and where in the
// instance.
type problem struct {
	keyword   string // the failing keyword ("maximum", "required", ...), "false" for a false schema, or a synthetic kind below
	schemaLoc string // absolute keyword location
	instance  string // JSON pointer into the instance
	message   string // the library's message, the fallback
	alts      []string
}

// Synthetic problem kinds made when every branch of an anyOf/oneOf fails the same way.
const (
	kwRequiredAny = "required-any" // alts: the fields, one of which is required
	kwTypeAny     = "type-any"     // alts: the accepted types
)

// explainer turns validation errors of one document into diagnostics.
type explainer struct {
	v    *validator
	doc  *tree  // positions
	inst any    // the validated JSON value
	file string // the document's file
	// suggested are the pointers of fields an unknown field was taken for
	// a misspelling of: their "missing required field" says nothing more.
	suggested map[string]bool
}

// objectPos is where a problem with the object at ptr as a whole (a missing
// field) is reported: the object's key, or, when the object came from a
// Defaults document in another file, its nearest ancestor in this document,
// since that is where the field is missing.
func (x *explainer) objectPos(node *tree, ptr string) Pos {
	for node.file != x.file && ptr != "" {
		ptr = ptr[:strings.LastIndex(ptr, "/")]
		node, _ = x.doc.lookup(ptr)
	}
	return node.reportPos()
}

// diagnostics explains err; problems at pointers for which skip returns true
// are dropped (a check of our own already reported them, better).
func (x *explainer) diagnostics(err error, skip func(ptr string) bool) []Diagnostic {
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return []Diagnostic{errorAt(x.doc.pos(), "", "schema validation failed: %v", err)}
	}
	var all []located
	for _, p := range x.leaves(ve) {
		all = append(all, x.explain(p)...)
	}
	var out []Diagnostic
	for _, d := range all {
		// A suggested field is absent: what is said at it is that it is missing.
		if (skip != nil && skip(d.ptr)) || x.suggested[d.ptr] {
			continue
		}
		out = append(out, d.Diagnostic)
	}
	return out
}

// keyword names the keyword that an error is about.
func (x *explainer) keyword(e *jsonschema.ValidationError) string {
	// "additionalProperties": false fails at the object (not a false schema
	// at the member, as "unevaluatedProperties": false does).
	if strings.HasSuffix(e.AbsoluteKeywordLocation, "/additionalProperties") {
		return "additionalProperties"
	}
	if raw, ok := x.v.rawAt(e.AbsoluteKeywordLocation); ok {
		if b, isBool := raw.(bool); isBool && !b {
			return "false"
		}
	}
	_, ptr, _ := strings.Cut(e.AbsoluteKeywordLocation, "#")
	segs := splitPointer(ptr)
	n := len(segs)
	switch {
	case n == 0:
		return ""
	case n >= 3 && (segs[n-3] == "dependentRequired" || segs[n-3] == "dependencies"):
		return "dependentRequired"
	}
	return segs[n-1]
}

// leaves flattens an error tree into its most specific problems. For anyOf and
// oneOf only the branch that fits the instance best is kept, so a user sees
// why their value is wrong rather than a list of every alternative.
func (x *explainer) leaves(e *jsonschema.ValidationError) []problem {
	if len(e.Causes) == 0 {
		return []problem{{keyword: x.keyword(e), schemaLoc: e.AbsoluteKeywordLocation, instance: e.InstanceLocation, message: e.Message}}
	}
	kw := x.keyword(e)
	if kw == "anyOf" || kw == "oneOf" {
		return x.bestBranch(e)
	}
	var out []problem
	for _, c := range e.Causes {
		out = append(out, x.leaves(c)...)
	}
	return out
}

func (x *explainer) bestBranch(e *jsonschema.ValidationError) []problem {
	type branch struct {
		problems  []problem
		shapeMiss bool // failed on the value's type or a const: a different alternative
		depth     int
	}
	branches := make([]branch, len(e.Causes))
	allRequired, allType := true, true
	var fields, types []string
	for i, c := range e.Causes {
		b := branch{problems: x.leaves(c)}
		for _, p := range b.problems {
			if p.keyword == "const" || (p.keyword == "type" && p.instance == e.InstanceLocation) {
				b.shapeMiss = true
			}
			if d := len(splitPointer(p.instance)); d > b.depth {
				b.depth = d
			}
			if p.keyword != "required" || p.instance != e.InstanceLocation {
				allRequired = false
			} else {
				fields = append(fields, x.missingFields(p)...)
			}
			if p.keyword != "type" || p.instance != e.InstanceLocation || len(b.problems) != 1 {
				allType = false
			} else if raw, ok := x.v.rawAt(p.schemaLoc); ok {
				types = append(types, typeNames(raw)...)
			}
		}
		branches[i] = b
	}
	switch {
	case allRequired && len(fields) > 0:
		return []problem{{keyword: kwRequiredAny, instance: e.InstanceLocation, schemaLoc: e.AbsoluteKeywordLocation, alts: uniqueStrings(fields)}}
	case allType && len(types) > 0:
		return []problem{{keyword: kwTypeAny, instance: e.InstanceLocation, schemaLoc: e.AbsoluteKeywordLocation, alts: uniqueStrings(types)}}
	}
	best := 0
	for i := 1; i < len(branches); i++ {
		a, b := branches[i], branches[best]
		switch {
		case a.shapeMiss != b.shapeMiss:
			if !a.shapeMiss {
				best = i
			}
		case a.depth != b.depth:
			if a.depth > b.depth {
				best = i
			}
		case len(a.problems) < len(b.problems):
			best = i
		}
	}
	return branches[best].problems
}

func uniqueStrings(in []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// located is a diagnostic plus the instance pointer it is about.
type located struct {
	Diagnostic
	ptr string
}

// explain renders one problem as one or more diagnostics.
func (x *explainer) explain(p problem) []located {
	node, _ := x.doc.lookup(p.instance)
	value := valueAt(x.inst, p.instance)
	sensitive := isSensitive(p.instance)
	at := func(msg string) []located {
		return []located{{errorAt(node.pos(), dottedPath(p.instance), "%s", msg), p.instance}}
	}
	objPos := x.objectPos(node, p.instance)
	atObject := func(msg string) []located {
		return []located{{errorAt(objPos, dottedPath(p.instance), "%s", msg), p.instance}}
	}
	kwValue, _ := x.v.rawAt(p.schemaLoc)
	got := describeValue(value, sensitive)

	switch p.keyword {
	case "type":
		types := typeNames(kwValue)
		if node.kind == kindScalar && node.raw != "" && !sensitive && len(types) == 1 && types[0] == "string" {
			// 12345, 1e3, true: YAML typed it; quoting keeps the text
			return at(fmt.Sprintf("must be a string, got %s (quote it in YAML to keep it a string)", node.raw))
		}
		return at(fmt.Sprintf("must be %s, got %s", joinTypes(types), got))
	case kwTypeAny:
		return at(fmt.Sprintf("must be %s, got %s", joinTypes(p.alts), got))
	case "const":
		return at(fmt.Sprintf("must be %s, got %s", describeValue(fromRaw(kwValue), false), got))
	case "enum":
		return at("must be one of: " + joinEnum(kwValue))
	case "required":
		var out []located
		cond := x.condition(p.schemaLoc)
		for _, f := range x.missingFields(p) {
			out = append(out, located{errorAt(objPos, dottedPath(p.instance), "missing required field %q%s", f, cond), joinPointer(p.instance, f)})
		}
		return out
	case kwRequiredAny:
		return atObject("missing required field: one of " + quoteList(p.alts, "or"))
	case "dependentRequired":
		_, ptr, _ := strings.Cut(p.schemaLoc, "#")
		segs := splitPointer(ptr)
		field, _ := kwValue.(string)
		if len(segs) >= 2 && field != "" {
			return []located{{errorAt(objPos, dottedPath(p.instance), "missing field %q, required when %q is set", field, segs[len(segs)-2]), joinPointer(p.instance, field)}}
		}
	case "additionalProperties", "unevaluatedProperties":
		if node.kind == kindMap {
			return x.unknownFields(p, node)
		}
	case "false":
		return x.notAllowed(p, node)
	case "minimum":
		return at(fmt.Sprintf("must be >= %s, got %s", rawString(kwValue), got))
	case "maximum":
		return at(fmt.Sprintf("must be <= %s, got %s", rawString(kwValue), got))
	case "exclusiveMinimum":
		return at(fmt.Sprintf("must be > %s, got %s", rawString(kwValue), got))
	case "exclusiveMaximum":
		return at(fmt.Sprintf("must be < %s, got %s", rawString(kwValue), got))
	case "multipleOf":
		return at(fmt.Sprintf("must be a multiple of %s, got %s", rawString(kwValue), got))
	case "minLength":
		if rawString(kwValue) == "1" {
			return at("must not be empty")
		}
		return at(fmt.Sprintf("must be at least %s characters long, got %s", rawString(kwValue), got))
	case "maxLength":
		return at(fmt.Sprintf("must be at most %s characters long, got %d characters", rawString(kwValue), lengthOf(value)))
	case "pattern":
		desc := x.schemaDescription(p.schemaLoc)
		if pat := rawString(kwValue); len(pat) > longPattern && (strings.HasPrefix(desc, "A ") || strings.HasPrefix(desc, "An ")) {
			// The regexp would say less than the description: "must be an email address ...".
			return at(fmt.Sprintf("must be %s, got %s", strings.ToLower(desc[:1])+desc[1:], got))
		}
		msg := fmt.Sprintf("must match %s, got %s", rawString(kwValue), got)
		if desc != "" {
			msg += " (" + desc + ")"
		}
		return at(msg)
	case "format":
		return at(fmt.Sprintf("must be a valid %s, got %s", rawString(kwValue), got))
	case "minItems":
		return at(fmt.Sprintf("must have at least %s %s", rawString(kwValue), plural(rawString(kwValue), "item")))
	case "maxItems":
		return at(fmt.Sprintf("must have at most %s %s, got %d", rawString(kwValue), plural(rawString(kwValue), "item"), lengthOf(value)))
	case "uniqueItems":
		if m := uniqueRE.FindStringSubmatch(p.message); m != nil {
			return at(fmt.Sprintf("must not repeat items: [%s] and [%s] are equal", m[1], m[2]))
		}
		return at("must not repeat items")
	case "minProperties":
		if rawString(kwValue) == "1" {
			return atObject("must not be empty")
		}
		return atObject(fmt.Sprintf("must have at least %s fields", rawString(kwValue)))
	case "maxProperties":
		return atObject(fmt.Sprintf("must have at most %s %s, got %d", rawString(kwValue), plural(rawString(kwValue), "field"), lengthOf(value)))
	case "not":
		return at("is not allowed here")
	case "oneOf":
		return at("matches more than one of the allowed forms; make it match exactly one")
	}
	if strings.Contains(p.schemaLoc, "/propertyNames") {
		return []located{{errorAt(node.reportPos(), dottedPath(p.instance), "invalid key: %s", p.message), p.instance}}
	}
	return at(p.message)
}

// longPattern is the length from which a pattern is explained by its
// schema's description alone.
const longPattern = 60

// sentenceEndRE finds the end of a description's first sentence (not "e.g. 30d").
var sentenceEndRE = regexp.MustCompile(`\.\s+[A-Z]`)

var uniqueRE = regexp.MustCompile(`index (\d+) and (\d+)`)

// missingFields lists the fields a "required" keyword asks for that the
// instance object lacks.
func (x *explainer) missingFields(p problem) []string {
	raw, _ := x.v.rawAt(p.schemaLoc)
	list, _ := raw.([]any)
	obj, _ := valueAt(x.inst, p.instance).(map[string]any)
	var out []string
	for _, f := range list {
		name, ok := f.(string)
		if !ok {
			continue
		}
		if _, present := obj[name]; !present {
			out = append(out, name)
		}
	}
	return out
}

// unknownFields reports each field of the object that the schema (holding the
// additionalProperties/unevaluatedProperties keyword) does not declare.
func (x *explainer) unknownFields(p problem, node *tree) []located {
	parentLoc := p.schemaLoc[:strings.LastIndex(p.schemaLoc, "/")]
	raw, _ := x.v.rawAt(parentLoc)
	schemaObj, _ := raw.(map[string]any)
	props, _ := schemaObj["properties"].(map[string]any)
	patterns, _ := schemaObj["patternProperties"].(map[string]any)
	known := func(k string) bool {
		if _, ok := props[k]; ok {
			return true
		}
		for pat := range patterns {
			if re, err := regexp.Compile(pat); err == nil && re.MatchString(k) {
				return true
			}
		}
		return false
	}
	var out []located
	for _, e := range node.entries {
		if known(e.key) {
			continue
		}
		msg := fmt.Sprintf("unknown field %q", e.key)
		if near := nearest(e.key, sortedKeys(props)); near != "" && node.field(near) == nil {
			msg += fmt.Sprintf(" (did you mean %q?)", near)
			if x.suggested == nil {
				x.suggested = map[string]bool{}
			}
			x.suggested[joinPointer(p.instance, near)] = true
		}
		out = append(out, located{Diagnostic: errorAt(e.val.keyPos(), dottedPath(p.instance), "%s", msg), ptr: joinPointer(p.instance, e.key)})
	}
	if len(out) == 0 { // not ours to work out (e.g. unevaluatedProperties): trust the library
		return []located{{errorAt(node.reportPos(), dottedPath(p.instance), "%s", p.message), p.instance}}
	}
	return out
}

// nearest returns the candidate closest to name when it is a likely
// misspelling (a few letters off, case ignored), else "".
func nearest(name string, candidates []string) string {
	best, bestDist := "", 0
	for _, c := range candidates {
		d := editDistance(strings.ToLower(name), strings.ToLower(c))
		limit := min(2, max(len(c)/4, 1))
		if d <= limit && (best == "" || d < bestDist) {
			best, bestDist = c, d
		}
	}
	return best
}

// editDistance is the Damerau-Levenshtein distance (optimal string
// alignment) of a and b, in bytes: swapped neighbours count as one edit.
func editDistance(a, b string) int {
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}

// notAllowed explains a false schema: a field that must not be present.
func (x *explainer) notAllowed(p problem, node *tree) []located {
	segs := splitPointer(p.instance)
	if len(segs) == 0 {
		return []located{{errorAt(node.pos(), "", "not allowed"), p.instance}}
	}
	name := segs[len(segs)-1]
	parent := p.instance[:strings.LastIndex(p.instance, "/")]
	msg := fmt.Sprintf("field %q is not allowed here", name)
	if strings.HasSuffix(p.schemaLoc, "/additionalProperties") || strings.HasSuffix(p.schemaLoc, "/unevaluatedProperties") {
		msg = fmt.Sprintf("unknown field %q", name)
	}
	return []located{{errorAt(node.reportPos(), dottedPath(parent), "%s", msg), p.instance}}
}

// condition explains why a "required" inside an if/then applies, e.g.
// " (required when payment_method is card)", for the if shapes the schemas
// use: one property with a const, or a field that is absent.
func (x *explainer) condition(requiredLoc string) string {
	thenLoc := requiredLoc[:strings.LastIndex(requiredLoc, "/")]
	if !strings.HasSuffix(thenLoc, "/then") {
		return ""
	}
	raw, _ := x.v.rawAt(strings.TrimSuffix(thenLoc, "/then") + "/if")
	cond, _ := raw.(map[string]any)
	if props, ok := cond["properties"].(map[string]any); ok && len(props) == 1 {
		for name, sub := range props {
			m, _ := sub.(map[string]any) // true names a field without constraining it
			if c, ok := m["const"]; ok {
				return fmt.Sprintf(" (required when %s is %s)", name, rawString(c))
			}
		}
	}
	if not, ok := cond["not"].(map[string]any); ok {
		if req, ok := not["required"].([]any); ok && len(req) == 1 {
			return fmt.Sprintf(" (required when %s is not set)", rawString(req[0]))
		}
	}
	return ""
}

// schemaDescription returns the first sentence of the description of the
// schema object holding the keyword at loc.
func (x *explainer) schemaDescription(loc string) string {
	raw, _ := x.v.rawAt(loc[:strings.LastIndex(loc, "/")])
	obj, _ := raw.(map[string]any)
	desc, _ := obj["description"].(string)
	if loc := sentenceEndRE.FindStringIndex(desc); loc != nil {
		desc = desc[:loc[0]]
	}
	return strings.TrimSuffix(desc, ".")
}

// valueAt returns the instance value at a JSON pointer (nil when absent).
func valueAt(inst any, ptr string) any {
	cur := inst
	for _, seg := range splitPointer(ptr) {
		switch c := cur.(type) {
		case map[string]any:
			cur = c[seg]
		case []any:
			i, err := strconv.Atoi(seg)
			if err != nil || i < 0 || i >= len(c) {
				return nil
			}
			cur = c[i]
		default:
			return nil
		}
	}
	return cur
}

// isSensitive reports whether values at ptr may be secrets (the card number
// and CVV, and anything inside them) and so must never be echoed in a message.
func isSensitive(ptr string) bool {
	segs := splitPointer(ptr)
	for i := 0; i+1 < len(segs); i++ {
		if segs[i] == "credit_card" && (segs[i+1] == "number" || segs[i+1] == "cvv") {
			return true
		}
	}
	return false
}

// describeValue renders a value for "got ..." in a message.
func describeValue(v any, sensitive bool) string {
	switch t := v.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "an object"
	case []any:
		return "a list"
	case bool:
		if sensitive {
			return "a boolean"
		}
		return strconv.FormatBool(t)
	case string:
		if sensitive {
			return "a string"
		}
		if utf8.RuneCountInString(t) > 40 {
			r := []rune(t)
			t = string(r[:40]) + "..."
		}
		return strconv.Quote(t)
	case int:
		if sensitive {
			return "a number"
		}
		return strconv.Itoa(t)
	case float64:
		if sensitive {
			return "a number"
		}
		return strconv.FormatFloat(t, 'g', -1, 64)
	}
	return fmt.Sprintf("%v", v)
}

// fromRaw converts a raw schema value (json.Number) into an instance-like value.
func fromRaw(v any) any {
	if n, ok := v.(json.Number); ok {
		if i, err := n.Int64(); err == nil {
			return int(i)
		}
		f, _ := n.Float64()
		return f
	}
	return v
}

func rawString(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case json.Number:
		return t.String()
	}
	return fmt.Sprint(v)
}

func typeNames(raw any) []string {
	switch t := raw.(type) {
	case string:
		return []string{t}
	case []any:
		var out []string
		for _, e := range t {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

var typeArticles = map[string]string{
	"string":  "a string",
	"integer": "an integer",
	"number":  "a number",
	"boolean": "a boolean (true or false)",
	"object":  "an object",
	"array":   "a list",
	"null":    "null",
}

func joinTypes(types []string) string {
	out := make([]string, len(types))
	for i, t := range types {
		if a, ok := typeArticles[t]; ok {
			out[i] = a
		} else {
			out[i] = t
		}
	}
	return strings.Join(out, " or ")
}

func joinEnum(raw any) string {
	list, _ := raw.([]any)
	out := make([]string, 0, len(list))
	for _, e := range list {
		out = append(out, rawString(e))
	}
	return strings.Join(out, ", ")
}

func quoteList(items []string, conj string) string {
	q := make([]string, len(items))
	for i, s := range items {
		q[i] = strconv.Quote(s)
	}
	if len(q) <= 1 {
		return strings.Join(q, "")
	}
	return strings.Join(q[:len(q)-1], ", ") + " " + conj + " " + q[len(q)-1]
}

func lengthOf(v any) int {
	switch t := v.(type) {
	case string:
		return utf8.RuneCountInString(t)
	case []any:
		return len(t)
	case map[string]any:
		return len(t)
	}
	return 0
}

func plural(n, word string) string {
	if n == "1" {
		return word
	}
	return word + "s"
}

// sortedKeys returns the keys of m in order.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
