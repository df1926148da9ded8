package spec

import (
	"bytes"
	"errors"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// Limits that keep hostile or broken input from exhausting memory or stack.
// Alias expansion is bounded per file, all its documents together, and per
// run, all files together: a budget per document let a 1 MiB file of many
// small documents expand to billions of nodes.
const (
	maxDepth             = 64      // nesting of mappings and lists in one document
	maxAliasExpansion    = 10_000  // nodes produced by expanding YAML aliases, per file
	maxAliasExpansionRun = 250_000 // the same, per run (every file of a Load)
)

// aliasBudget is what alias expansion may still produce: in the file being
// converted, and in the whole run (shared by the files converted in
// parallel).
type aliasBudget struct {
	file int
	run  *atomic.Int64
}

func newRunBudget() *atomic.Int64 {
	var b atomic.Int64
	b.Store(maxAliasExpansionRun)
	return &b
}

// rawDoc is one YAML document of a file, converted to a tree.
type rawDoc struct {
	file  string // display path
	index int    // 0-based position of the document in its file
	root  *tree  // a kindMap tree
}

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parseYAML splits data into documents and converts each to a tree. Problems
// (syntax errors, duplicate keys, alias bombs, non-mapping documents) become
// diagnostics; documents that could not be converted are left out.
func parseYAML(file string, data []byte) (docs []*rawDoc, diags []Diagnostic) {
	return parseYAMLBudget(file, data, newRunBudget())
}

// parseYAMLBudget is parseYAML within a run's alias budget.
func parseYAMLBudget(file string, data []byte, run *atomic.Int64) (docs []*rawDoc, diags []Diagnostic) {
	budget := &aliasBudget{file: maxAliasExpansion, run: run}
	defer func() {
		// yaml.v3 is fuzzed and should not panic, but a manifest must never
		// crash the tool: turn any panic into a diagnostic.
		if r := recover(); r != nil {
			diags = append(diags, errorAt(Pos{File: file}, "", "invalid YAML: the parser failed (%v)", r))
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for index := 0; ; index++ {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			diags = append(diags, yamlError(file, data, err))
			break // the parser cannot resynchronise after a syntax error
		}
		root := &n
		if root.Kind == yaml.DocumentNode {
			if len(root.Content) == 0 {
				continue
			}
			root = root.Content[0]
		}
		if root.Kind == yaml.ScalarNode && root.ShortTag() == "!!null" {
			continue // an empty document, e.g. a trailing "---"
		}
		c := converter{file: file, budget: budget}
		t := c.convert(root)
		diags = append(diags, c.diags...)
		if c.overBudget {
			break // the rest of the file would only spend more
		}
		if c.aborted || t == nil {
			continue
		}
		if t.kind != kindMap {
			diags = append(diags, errorAt(t.pos(), "", "a manifest document must be a mapping with apiVersion, kind, metadata and spec; got %s", describeKind(t)))
			continue
		}
		docs = append(docs, &rawDoc{file: file, index: index, root: t})
	}
	return docs, diags
}

// yamlError turns a yaml.v3 error into a diagnostic at the line, and where it
// can be told the column, of the mistake.
//
// yaml.v3 (go.yaml.in/yaml/v3 is the same parser) names one line in its
// message, and not always the right one: for a parser error it prints the
// 0-based line of the construct being parsed (the mapping or the "{" that
// encloses the mistake), so an unclosed "{" on line 13 is reported as "line
// 12" and a key indented wrongly on line 12 as the line where its mapping
// started; for a scanner error it prints the 1-based line where the token
// started, so a tab on line 13 is reported on the line before. The marks the
// parser had are not exported. So the line is found again: it is the first
// line L such that the file cut after L fails with the very same error. (The
// parse up to the mistake is the same whatever follows it, and a shorter
// file either parses or fails differently.) The search starts at the line
// yaml.v3 named, since no mark is before it, and bisects.
func yamlError(file string, data []byte, err error) Diagnostic {
	full := err.Error()
	msg := strings.TrimPrefix(full, "yaml: ")
	named := 0
	if m := yamlLineRE.FindStringSubmatch(full); m != nil {
		named, _ = strconv.Atoi(m[1])
		msg = m[2]
	}
	if strings.Contains(msg, "control characters") {
		return errorAt(controlCharPos(file, data), "", "invalid YAML: %s", msg)
	}
	if named == 0 && !isParserProblem(msg) {
		// A scanner error always names its line; an error without one comes
		// from later (an unknown alias, say) and is not about a line.
		return errorAt(Pos{File: file}, "", "invalid YAML: %s", msg)
	}
	lines := strings.SplitAfter(string(data), "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	line := errorLine(lines, max(named, 1), full)
	text := ""
	if line >= 1 && line <= len(lines) {
		text = strings.TrimRight(lines[line-1], "\r\n")
	}
	return errorAt(Pos{File: file, Line: line, Col: errorColumn(text, msg)}, "", "invalid YAML: %s", msg)
}

// parserProblems are the problems yaml.v3's parser (rather than its scanner)
// reports; an error without a line is one of these on line 1.
var parserProblems = []string{
	"did not find expected",
	"found duplicate %",
	"found incompatible YAML document",
	"found undefined tag handle",
}

func isParserProblem(msg string) bool {
	for _, p := range parserProblems {
		if strings.HasPrefix(msg, p) {
			return true
		}
	}
	return false
}

// errorLine is the first line L >= from such that lines[:L] fails with the
// error full (see yamlError); len(lines) when no shorter cut does.
func errorLine(lines []string, from int, full string) int {
	fails := func(n int) bool {
		dec := yaml.NewDecoder(strings.NewReader(strings.Join(lines[:n], "")))
		for {
			var node yaml.Node
			err := dec.Decode(&node)
			if err == nil {
				continue
			}
			return !errors.Is(err, io.EOF) && err.Error() == full
		}
	}
	lo, hi := min(from, len(lines)), len(lines)
	for lo < hi {
		mid := lo + (hi-lo)/2
		if fails(mid) {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return hi
}

// errorColumn points into the line of a syntax error where the message
// tells what to look for: the "{" or "[" that is not closed, the tab in the
// indentation, the quote that is not closed; else the line's first
// character.
func errorColumn(text, msg string) int {
	at := -1
	switch {
	case strings.HasSuffix(msg, "',' or '}'"):
		at = strings.LastIndex(text, "{")
	case strings.HasSuffix(msg, "',' or ']'"):
		at = strings.LastIndex(text, "[")
	case strings.Contains(msg, "tab character"):
		at = strings.Index(text, "\t")
	case msg == "found unexpected end of stream":
		at = strings.IndexAny(text, `"'`)
	}
	if at < 0 {
		at = len(text) - len(strings.TrimLeft(text, " \t"))
	}
	return utf8.RuneCountInString(text[:at]) + 1
}

// controlCharPos finds the first character YAML does not allow in a file
// (C0 controls other than tab, LF and CR; DEL; C1 controls), for an error
// yaml.v3 reports without a line.
func controlCharPos(file string, data []byte) Pos {
	line, col := 1, 1
	for _, r := range string(data) {
		switch {
		case r == '\n':
			line, col = line+1, 1
			continue
		case r == '\t' || r == '\r':
		case r < 0x20 || (r >= 0x7f && r <= 0x9f):
			return Pos{File: file, Line: line, Col: col}
		}
		col++
	}
	return Pos{File: file}
}

func describeKind(t *tree) string {
	switch t.kind {
	case kindMap:
		return "a mapping"
	case kindList:
		return "a list"
	}
	return "a scalar value"
}

// converter turns yaml.v3 nodes into trees, checking what yaml.v3 leaves to
// the caller when decoding into nodes.
type converter struct {
	file       string
	diags      []Diagnostic
	budget     *aliasBudget // nodes that alias expansion may still produce
	aborted    bool         // the document is unusable (alias bomb, too deep)
	overBudget bool         // the file's or the run's alias budget is spent
	segs       []string     // JSON pointer segments of the node being converted
}

// path is the dotted field path of the node being converted (for diagnostics only).
func (c *converter) path() string {
	ptr := ""
	for _, s := range c.segs {
		ptr = joinPointer(ptr, s)
	}
	return dottedPath(ptr)
}

func (c *converter) fail(pos Pos, format string, args ...any) *tree {
	c.diags = append(c.diags, errorAt(pos, c.path(), format, args...))
	c.aborted = true
	return nil
}

func (c *converter) pos(n *yaml.Node) Pos { return Pos{File: c.file, Line: n.Line, Col: n.Column} }

// convert converts a document's root node.
func (c *converter) convert(n *yaml.Node) *tree {
	return c.convertNode(n, 0, false)
}

func (c *converter) convertNode(n *yaml.Node, depth int, inAlias bool) *tree {
	if c.aborted {
		return nil
	}
	if depth > maxDepth {
		return c.fail(c.pos(n), "nested deeper than %d levels", maxDepth)
	}
	if inAlias {
		c.budget.file--
		if c.budget.file < 0 {
			c.overBudget = true
			return c.fail(c.pos(n), "YAML aliases expand to more than %d nodes in this file (all its documents together); write the values out or use a kind: Defaults document", maxAliasExpansion)
		}
		if c.budget.run.Add(-1) < 0 {
			c.overBudget = true
			return c.fail(c.pos(n), "YAML aliases expand to more than %d nodes in the files of this run together; write the values out or use kind: Defaults documents", maxAliasExpansionRun)
		}
	}
	switch n.Kind {
	case yaml.AliasNode:
		if n.Alias == nil {
			return c.fail(c.pos(n), "unknown YAML alias *%s", n.Value)
		}
		t := c.convertNode(n.Alias, depth+1, true)
		if t != nil {
			cp := *t
			p := c.pos(n) // report at the use, not at the anchor
			cp.file, cp.line, cp.col = p.File, int32(p.Line), int32(p.Col)
			t = &cp
		}
		return t
	case yaml.MappingNode:
		return c.convertMap(n, depth, inAlias)
	case yaml.SequenceNode:
		t := newTree(kindList, c.pos(n))
		t.items = make([]*tree, 0, len(n.Content))
		for i, item := range n.Content {
			c.segs = append(c.segs, strconv.Itoa(i))
			it := c.convertNode(item, depth+1, inAlias)
			c.segs = c.segs[:len(c.segs)-1]
			if it == nil {
				return nil
			}
			t.items = append(t.items, it)
		}
		return t
	case yaml.ScalarNode:
		t := newTree(kindScalar, c.pos(n))
		t.value = c.scalar(n)
		if _, isString := t.value.(string); !isString {
			t.raw = n.Value
		}
		return t
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return newTree(kindScalar, c.pos(n))
		}
		return c.convertNode(n.Content[0], depth, inAlias)
	}
	return c.fail(c.pos(n), "unsupported YAML node")
}

func (c *converter) convertMap(n *yaml.Node, depth int, inAlias bool) *tree {
	t := newTree(kindMap, c.pos(n))
	t.entries = make([]entry, 0, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		kn, vn := n.Content[i], n.Content[i+1]
		for kn.Kind == yaml.AliasNode && kn.Alias != nil {
			kn = kn.Alias
		}
		kpos := c.pos(n.Content[i])
		if kn.Kind != yaml.ScalarNode {
			c.diags = append(c.diags, errorAt(kpos, c.path(), "mapping keys must be plain strings"))
			continue
		}
		if kn.ShortTag() == "!!merge" {
			c.diags = append(c.diags, errorAt(kpos, c.path(), "YAML merge keys (<<) are not supported; share fields with a kind: Defaults document"))
			continue
		}
		key := kn.Value
		c.segs = append(c.segs, key)
		if first := t.field(key); first != nil {
			c.diags = append(c.diags, errorAt(kpos, c.path(), "duplicate key %q (first at line %d)", key, first.keyLine))
			c.segs = c.segs[:len(c.segs)-1]
			continue
		}
		v := c.convertNode(vn, depth+1, inAlias)
		c.segs = c.segs[:len(c.segs)-1]
		if v == nil {
			return nil
		}
		v.setKeyPos(kpos)
		t.addEntry(key, v)
	}
	return t
}

// scalar converts a resolved YAML scalar to a JSON value.
func (c *converter) scalar(n *yaml.Node) any {
	switch n.ShortTag() {
	case "!!null":
		return nil
	case "!!bool":
		return strings.EqualFold(n.Value, "true")
	case "!!int":
		s := strings.ReplaceAll(n.Value, "_", "")
		if i, err := strconv.ParseInt(s, 0, 64); err == nil && i >= math.MinInt && i <= math.MaxInt {
			return int(i)
		}
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return f
		}
		return n.Value
	case "!!float":
		f, err := strconv.ParseFloat(strings.ReplaceAll(n.Value, "_", ""), 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return n.Value // not representable in JSON: keep the text
		}
		return f
	case "!!str", "!!timestamp", "!!binary":
		return n.Value
	}
	c.diags = append(c.diags, errorAt(c.pos(n), c.path(), "unsupported YAML tag %s", n.Tag))
	return n.Value
}

// utf8Error returns the position of the first byte that is not valid UTF-8.
func utf8Error(file string, data []byte) (Diagnostic, bool) {
	if utf8.Valid(data) {
		return Diagnostic{}, false
	}
	line, col := 1, 1
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && size <= 1 {
			return errorAt(Pos{File: file, Line: line, Col: col}, "",
				"not valid UTF-8 (byte 0x%02x); save the file as UTF-8", data[i]), true
		}
		if r == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
		i += size
	}
	return Diagnostic{}, false
}
