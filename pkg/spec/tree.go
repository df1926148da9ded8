package spec

import (
	"strconv"
	"strings"
)

// nodeKind is the shape of a tree node.
type nodeKind uint8

const (
	kindScalar nodeKind = iota
	kindMap
	kindList
)

// tree is a YAML value with the position of every node, so that problems found
// in the JSON-shaped value can be reported at file:line:column. Trees are
// immutable once built: merging shares unchanged subtrees. Thousands of them
// are held at once, so the layout is compact.
type tree struct {
	file            string // the file the node is in
	line, col       int32  // where the value starts
	keyLine, keyCol int32  // where the key naming this value is (map entries only)
	kind            nodeKind

	entries []entry        // kindMap: in document order, keys unique
	index   map[string]int // kindMap with many entries: key -> position in entries
	items   []*tree        // kindList
	value   any            // kindScalar: string, int, float64, bool or nil
	raw     string         // kindScalar: the YAML text of a value that is not a string
}

// entry is one key and value of a map node.
type entry struct {
	key string
	val *tree
}

func newTree(kind nodeKind, p Pos) *tree {
	return &tree{kind: kind, file: p.File, line: int32(p.Line), col: int32(p.Col)}
}

// pos is where the value starts.
func (t *tree) pos() Pos { return Pos{File: t.file, Line: int(t.line), Col: int(t.col)} }

// keyPos is where the key naming the value is; zero for list items and roots.
func (t *tree) keyPos() Pos {
	if t.keyLine == 0 {
		return Pos{}
	}
	return Pos{File: t.file, Line: int(t.keyLine), Col: int(t.keyCol)}
}

func (t *tree) setKeyPos(p Pos) { t.keyLine, t.keyCol = int32(p.Line), int32(p.Col) }

// field returns the map entry k, or nil.
func (t *tree) field(k string) *tree {
	if t == nil || t.kind != kindMap {
		return nil
	}
	if t.index != nil {
		if i, ok := t.index[k]; ok {
			return t.entries[i].val
		}
		return nil
	}
	for _, e := range t.entries {
		if e.key == k {
			return e.val
		}
	}
	return nil
}

// indexThreshold is the number of entries from which a map node keeps an
// index, so that huge (hostile) mappings stay linear to process.
const indexThreshold = 16

// addEntry appends an entry to a map node under construction.
func (t *tree) addEntry(k string, v *tree) {
	t.entries = append(t.entries, entry{k, v})
	switch {
	case t.index != nil:
		t.index[k] = len(t.entries) - 1
	case len(t.entries) > indexThreshold:
		t.index = make(map[string]int, len(t.entries)*2)
		for i, e := range t.entries {
			t.index[e.key] = i
		}
	}
}

// str returns the scalar string value and whether t is one.
func (t *tree) str() (string, bool) {
	if t == nil || t.kind != kindScalar {
		return "", false
	}
	s, ok := t.value.(string)
	return s, ok
}

// reportPos is where a problem with this value is reported: the key for a map
// entry (so "unknown field" and "missing field" point at a name), else the value.
func (t *tree) reportPos() Pos {
	if t.keyLine != 0 {
		return t.keyPos()
	}
	return t.pos()
}

// toJSON converts the tree to JSON-shaped Go values (map[string]any, []any,
// string, int, float64, bool, nil). Every call builds new maps and slices.
func (t *tree) toJSON() any {
	switch t.kind {
	case kindMap:
		m := make(map[string]any, len(t.entries))
		for _, e := range t.entries {
			m[e.key] = e.val.toJSON()
		}
		return m
	case kindList:
		l := make([]any, len(t.items))
		for i, it := range t.items {
			l[i] = it.toJSON()
		}
		return l
	}
	return t.value
}

// lookup follows a JSON pointer ("/spec/order/certificate") and returns the
// deepest node reached and whether the whole pointer resolved.
func (t *tree) lookup(ptr string) (*tree, bool) {
	cur := t
	for _, seg := range splitPointer(ptr) {
		var next *tree
		switch cur.kind {
		case kindMap:
			next = cur.field(seg)
		case kindList:
			if i, err := strconv.Atoi(seg); err == nil && i >= 0 && i < len(cur.items) {
				next = cur.items[i]
			}
		}
		if next == nil {
			return cur, false
		}
		cur = next
	}
	return cur, true
}

// splitPointer splits a JSON pointer into unescaped segments.
func splitPointer(ptr string) []string {
	ptr = strings.TrimPrefix(ptr, "/")
	if ptr == "" {
		return nil
	}
	segs := strings.Split(ptr, "/")
	for i, s := range segs {
		if strings.Contains(s, "~") {
			segs[i] = strings.NewReplacer("~1", "/", "~0", "~").Replace(s)
		}
	}
	return segs
}

// joinPointer appends an escaped segment to a JSON pointer.
func joinPointer(ptr, seg string) string {
	if strings.ContainsAny(seg, "~/") {
		seg = strings.NewReplacer("~", "~0", "/", "~1").Replace(seg)
	}
	return ptr + "/" + seg
}

// dottedPath renders a JSON pointer as a field path: spec.order.dns_names[0].
func dottedPath(ptr string) string {
	var b strings.Builder
	for _, seg := range splitPointer(ptr) {
		if _, err := strconv.Atoi(seg); err == nil {
			b.WriteString("[" + seg + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(seg)
	}
	return b.String()
}

// intValue returns the scalar integer value and whether t is one.
func (t *tree) intValue() (int, bool) {
	if t == nil || t.kind != kindScalar {
		return 0, false
	}
	n, ok := t.value.(int)
	return n, ok
}
