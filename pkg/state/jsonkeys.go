package state

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// encoding/json keeps the last of two equal keys in an object, and matches
// struct fields case-insensitively, so `"order_id": 1, "order_id": 2` and
// `"order_id": 1, "Order_ID": 2` both read as order 2 without a word. A state
// file, a journal line or a plan file like that was edited by hand or by an
// attacker, and which value certplan acts on must not be a matter of order.
// KeyChecker finds such objects before the data is decoded.

// DuplicateKeyError says an object holds a key twice (or two keys that
// differ only in letter case, where that is one field to encoding/json).
type DuplicateKeyError struct {
	// Path is the JSON path of the object, "$" for the top level, e.g.
	// $.certificates.shop.
	Path string
	// Key is the key as it occurs the second time; First is its first
	// spelling (equal to Key unless they differ in case).
	Key, First string
	// Line is the 1-based line of the second occurrence (0: not said, as
	// for a journal record, which is one line).
	Line int
}

func (e *DuplicateKeyError) Error() string {
	at := e.Path + "." + pathKey(e.Key)
	if e.Path == "$" {
		at = "$." + pathKey(e.Key)
	}
	if e.Line > 0 {
		at += fmt.Sprintf(" (line %d)", e.Line)
	}
	if e.Key != e.First {
		return fmt.Sprintf("keys %q and %q at %s differ only in case: they name the same field, so one would silently override the other; remove one",
			e.First, e.Key, at)
	}
	return fmt.Sprintf("duplicate key %q at %s: only the last would count; remove the wrong one", e.Key, at)
}

// pathKey renders one key of a JSON path: bare when it is a plain name,
// else quoted in brackets.
func pathKey(k string) string {
	if k == "" {
		return `[""]`
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return "[" + strconv.Quote(k) + "]"
		}
	}
	return k
}

// KeyChecker refuses JSON objects that hold a key twice. Keys are compared
// after unescaping, as encoding/json compares them. In objects that
// encoding/json decodes into structs, keys that differ only in case are
// refused too; objects decoded into maps (certificate names, request bodies)
// are named by FreeForm patterns, where case is significant.
type KeyChecker struct {
	freeForm [][]string
}

// NewKeyChecker returns a checker. Each pattern is a dotted path of keys,
// "*" matching any key or array index, that names an object decoded into a
// map: case-variant keys are allowed in it and everything below it.
func NewKeyChecker(freeForm ...string) *KeyChecker {
	k := &KeyChecker{}
	for _, p := range freeForm {
		k.freeForm = append(k.freeForm, strings.Split(p, "."))
	}
	return k
}

// maxKeyPatterns bounds the patterns a checker tracks (a bit mask per level).
const maxKeyPatterns = 32

// keyFrame is one open object or array.
type keyFrame struct {
	obj      bool
	freeForm bool
	match    uint32 // patterns whose prefix matches the path down to here
	index    int    // arrays: index of the current element
	keyStart int    // objects: the current key's raw bytes (inside the quotes)
	keyEnd   int
	keys     []keyRef // the object's keys so far (reused across objects)
	// big: the object has many keys, and heads maps each sum to the last
	// of its keys with that sum (index+1); keyRef.prev chains the others.
	big   bool
	heads map[uint64]int32
}

// keyRef is one key of an object: its raw bytes in the input (inside the
// quotes) and, when it had escapes, its unescaped value. sum is a hash of
// its case-folded form: keys that are equal, or equal but for case, have
// the same sum.
type keyRef struct {
	start, end int
	unescaped  []byte
	escaped    bool
	sum        uint64
	prev       int32 // big objects: index+1 of the previous key with the same sum
}

// foldSum hashes a key's case-folded form (FNV-1a): ASCII letters
// upper-cased, and other text as foldKey folds it.
func foldSum(b []byte) uint64 {
	sum := uint64(14695981039346656037)
	for i, c := range b {
		if c >= utf8.RuneSelf {
			// foldKey folds ASCII letters to upper case too, so the
			// sum goes on as if the rest had been ASCII all along.
			for _, c := range []byte(foldKey(b[i:])) {
				sum = (sum ^ uint64(c)) * 1099511628211
			}
			return sum
		}
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		sum = (sum ^ uint64(c)) * 1099511628211
	}
	return sum
}

// smallObject is how many keys an object may have before they go into maps.
const smallObject = 32

// maxKeyDepth is encoding/json's own nesting limit: deeper input is refused
// by the decoder, so the scan stops there instead of growing its stack.
const maxKeyDepth = 10000

// Check returns a *DuplicateKeyError for the first object in data that holds
// a key twice, and nil otherwise. It does not validate data: input that is
// not JSON gives nil (or an error about a key before the syntax error), and
// the decoder that reads data next reports the rest. It never panics and
// keeps its own stack, so nesting depth costs memory, not goroutine stack.
func (k *KeyChecker) Check(data []byte) error {
	s := keyScan{k: k, data: data}
	return s.run()
}

type keyScan struct {
	k     *KeyChecker
	data  []byte
	pos   int
	stack []keyFrame
	depth int // frames in use (stack keeps spare frames for reuse)
}

func (s *keyScan) skipSpace() {
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

// scanString moves past a string starting at s.pos (a '"') and returns its
// contents' bounds and whether it holds escapes; ok is false when it does
// not end.
func (s *keyScan) scanString() (start, end int, escaped, ok bool) {
	s.pos++ // opening quote
	start = s.pos
	for s.pos < len(s.data) {
		i := bytes.IndexByte(s.data[s.pos:], '"')
		if i < 0 {
			return 0, 0, false, false
		}
		if j := bytes.IndexByte(s.data[s.pos:s.pos+i], '\\'); j >= 0 {
			escaped = true
			s.pos += j + 2
			continue
		}
		s.pos += i
		end = s.pos
		s.pos++ // closing quote
		return start, end, escaped, true
	}
	return 0, 0, false, false
}

func (s *keyScan) push(obj bool) {
	var parent *keyFrame
	if s.depth > 0 {
		parent = &s.stack[s.depth-1]
	}
	if s.depth == len(s.stack) {
		s.stack = append(s.stack, keyFrame{})
	}
	f := &s.stack[s.depth]
	s.depth++
	f.obj, f.index, f.keys = obj, 0, f.keys[:0]
	f.big = false
	switch {
	case parent == nil:
		f.freeForm = false
		f.match = 1<<min(len(s.k.freeForm), maxKeyPatterns) - 1
	case parent.freeForm:
		f.freeForm, f.match = true, 0
	default:
		f.freeForm, f.match = false, 0
		level := s.depth - 2 // index of this frame's key segment in a pattern
		var seg []byte
		if parent.obj {
			seg = s.data[parent.keyStart:parent.keyEnd]
		}
		for i, p := range s.k.freeForm {
			if i >= maxKeyPatterns || parent.match&(1<<i) == 0 || level >= len(p) {
				continue
			}
			if p[level] != "*" && (!parent.obj || string(seg) != p[level]) {
				continue
			}
			if level == len(p)-1 {
				f.freeForm = true
			} else {
				f.match |= 1 << i
			}
		}
	}
}

func (s *keyScan) run() error {
	const (
		wantValue = iota
		wantKey
		afterValue
	)
	state := wantValue
	for {
		s.skipSpace()
		if s.pos >= len(s.data) {
			return nil
		}
		c := s.data[s.pos]
		switch state {
		case wantValue:
			switch c {
			case '{':
				if s.depth >= maxKeyDepth {
					return nil
				}
				s.pos++
				s.push(true)
				s.skipSpace()
				if s.pos < len(s.data) && s.data[s.pos] == '}' {
					s.pos++
					s.depth--
					state = afterValue
				} else {
					state = wantKey
				}
			case '[':
				if s.depth >= maxKeyDepth {
					return nil
				}
				s.pos++
				s.push(false)
				s.skipSpace()
				if s.pos < len(s.data) && s.data[s.pos] == ']' {
					s.pos++
					s.depth--
					state = afterValue
				}
			case '"':
				if _, _, _, ok := s.scanString(); !ok {
					return nil
				}
				state = afterValue
			default:
				// A number or literal: the decoder checks it.
				start := s.pos
				for s.pos < len(s.data) {
					b := s.data[s.pos]
					if b == ',' || b == ']' || b == '}' || b == ' ' || b == '\t' || b == '\n' || b == '\r' {
						break
					}
					s.pos++
				}
				if s.pos == start {
					return nil // a ',', ']' or '}' where a value belongs
				}
				state = afterValue
			}
		case wantKey:
			if c != '"' || s.depth == 0 {
				return nil
			}
			start, end, escaped, ok := s.scanString()
			if !ok {
				return nil
			}
			if err := s.addKey(start, end, escaped); err != nil {
				return err
			}
			s.skipSpace()
			if s.pos >= len(s.data) || s.data[s.pos] != ':' {
				return nil
			}
			s.pos++
			state = wantValue
		case afterValue:
			if s.depth == 0 {
				return nil // trailing data: the decoder's business
			}
			f := &s.stack[s.depth-1]
			switch {
			case c == ',' && f.obj:
				s.pos++
				state = wantKey
			case c == ',':
				s.pos++
				f.index++
				state = wantValue
			case c == '}' && f.obj, c == ']' && !f.obj:
				s.pos++
				s.depth--
			default:
				return nil
			}
		}
	}
}

// addKey records a key of the innermost object and reports a duplicate.
func (s *keyScan) addKey(start, end int, escaped bool) error {
	f := &s.stack[s.depth-1]
	f.keyStart, f.keyEnd = start, end
	ref := keyRef{start: start, end: end, escaped: escaped}
	if escaped {
		var v string
		if err := json.Unmarshal(s.data[start-1:end+1], &v); err != nil {
			return nil // not a valid string: the decoder says so
		}
		ref.unescaped = []byte(v)
	}
	key := s.keyBytes(ref)
	ref.sum = foldSum(key)
	same := func(prev keyRef) bool {
		pk := s.keyBytes(prev)
		return bytes.Equal(pk, key) || (!f.freeForm && bytes.EqualFold(pk, key))
	}
	if !f.big && len(f.keys) < smallObject {
		for _, prev := range f.keys {
			if prev.sum == ref.sum && same(prev) {
				return s.dup(prev, ref)
			}
		}
		f.keys = append(f.keys, ref)
		return nil
	}
	if !f.big {
		f.big = true
		if f.heads == nil {
			f.heads = map[uint64]int32{}
		}
		clear(f.heads)
		for i := range f.keys {
			f.keys[i].prev = f.heads[f.keys[i].sum]
			f.heads[f.keys[i].sum] = int32(i + 1)
		}
	}
	head := f.heads[ref.sum]
	for i := head; i > 0; i = f.keys[i-1].prev {
		if same(f.keys[i-1]) {
			return s.dup(f.keys[i-1], ref)
		}
	}
	ref.prev = head
	f.keys = append(f.keys, ref)
	f.heads[ref.sum] = int32(len(f.keys))
	return nil
}

func (s *keyScan) keyBytes(r keyRef) []byte {
	if r.escaped {
		return r.unescaped
	}
	return s.data[r.start:r.end]
}

// foldKey is a key's case-folded form: two keys have the same one exactly
// when bytes.EqualFold says they are equal (which is how encoding/json
// matches field names): every rune is replaced by the smallest rune of its
// simple case-folding orbit.
func foldKey(b []byte) string {
	ascii := true
	for _, c := range b {
		if c >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		out := []byte(string(b))
		for i, c := range out {
			if 'a' <= c && c <= 'z' {
				out[i] = c - ('a' - 'A') // the upper case letter is the smallest of its orbit
			}
		}
		return string(out)
	}
	var sb strings.Builder
	for _, r := range string(b) {
		low := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			low = min(low, f)
		}
		sb.WriteRune(low)
	}
	return sb.String()
}

// dup builds the error for a key (second) equal to an earlier one (first)
// in the innermost object.
func (s *keyScan) dup(first, second keyRef) error {
	return &DuplicateKeyError{
		Path:  s.path(),
		Key:   string(s.keyBytes(second)),
		First: string(s.keyBytes(first)),
		Line:  1 + bytes.Count(s.data[:second.start], []byte{'\n'}),
	}
}

// path is the JSON path of the innermost open object.
func (s *keyScan) path() string {
	var b strings.Builder
	b.WriteString("$")
	for i := 0; i < s.depth-1; i++ {
		f := &s.stack[i]
		if !f.obj {
			fmt.Fprintf(&b, "[%d]", f.index)
			continue
		}
		raw := s.data[f.keyStart:f.keyEnd]
		key := string(raw)
		if bytes.IndexByte(raw, '\\') >= 0 {
			_ = json.Unmarshal(s.data[f.keyStart-1:f.keyEnd+1], &key)
		}
		k := pathKey(key)
		if !strings.HasPrefix(k, "[") {
			b.WriteByte('.')
		}
		b.WriteString(k)
	}
	return b.String()
}
