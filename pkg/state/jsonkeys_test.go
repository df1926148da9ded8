package state

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestKeyCheckerFindsDuplicates(t *testing.T) {
	k := NewKeyChecker("certificates.*.request", "maps")
	tests := []struct {
		in   string
		want string // "" means accepted
	}{
		{`{"a": 1, "b": 2}`, ""},
		{`{"a": 1, "a": 2}`, `duplicate key "a" at $.a (line 1)`},
		{"{\n \"a\": {\"x\": 1},\n \"b\": {\"x\": 1, \"y\": [1, {\"z\": 1, \"z\": 2}]}}", `duplicate key "z" at $.b.y[1].z (line 3)`},
		// encoding/json compares keys after unescaping.
		{`{"ab": 1, "a\u0062": 2}`, `duplicate key "ab" at $.ab`},
		// ... and struct fields regardless of case.
		{`{"order_id": 1, "Order_ID": 2}`, `keys "order_id" and "Order_ID" at $.Order_ID (line 1) differ only in case`},
		// Maps may hold keys that differ in case, not equal ones.
		{`{"certificates": {"shop": {"request": {"A": 1, "a": {"B": 1, "b": 2}}}}}`, ""},
		{`{"certificates": {"shop": {"request": {"a": 1, "a": 2}}}}`, `duplicate key "a" at $.certificates.shop.request.a`},
		{`{"certificates": {"shop": {"Status": 1, "status": 2}}}`, `at $.certificates.shop.status`},
		{`{"maps": {"K": 1, "k": 2}}`, ""},
		{`{"other": {"maps": {"K": 1, "k": 2}}}`, `differ only in case`},
		// Keys that are not plain names are quoted in the path.
		{`{"certificates": {"a.b": {"x": 1, "x": 1}}}`, `at $.certificates["a.b"].x`},
		// The same key in sibling objects is fine.
		{`[{"a": 1}, {"a": 1}, {"a": {"a": 1}}]`, ""},
		// Not JSON: left to the decoder.
		{`{"a": 1,, "a": 2}`, ""},
		{`{"a`, ""},
		{`{"a": "x\"`, ""},
		{``, ""},
		{`]]]`, ""},
		{strings.Repeat("[", 20000), ""},
	}
	for _, tt := range tests {
		err := k.Check([]byte(tt.in))
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("Check(%.60q) = %v, want nil", tt.in, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("Check(%.60q) = %v, want an error containing %q", tt.in, err, tt.want)
		}
		var de *DuplicateKeyError
		if err != nil && !errors.As(err, &de) {
			t.Errorf("Check(%.60q) = %T, want *DuplicateKeyError", tt.in, err)
		}
	}
}

// Objects with many keys switch from a list to maps: duplicates are found
// at every size, and a 10,000-key object is not quadratic.
func TestKeyCheckerLargeObjects(t *testing.T) {
	k := NewKeyChecker()
	for _, n := range []int{smallObject - 1, smallObject, smallObject + 1, 10000} {
		var b bytes.Buffer
		b.WriteString("{")
		for i := 0; i < n; i++ {
			if i > 0 {
				b.WriteString(",")
			}
			b.WriteString(`"k` + strings.Repeat("x", i%7) + string(rune('a'+i%26)) + `` + itoa(i) + `": 1`)
		}
		ok := b.String() + "}"
		if err := k.Check([]byte(ok)); err != nil {
			t.Fatalf("%d keys: %v", n, err)
		}
		for _, dup := range []string{`"ka0"`, `"KA0"`, `"\u212aa0"`, `"k` + strings.Repeat("x", (n-1)%7) + string(rune('a'+(n-1)%26)) + itoa(n-1) + `"`} {
			bad := b.String() + "," + dup + ": 2}"
			if err := k.Check([]byte(bad)); err == nil {
				t.Errorf("%d keys, then %s again: accepted", n, dup)
			}
		}
	}
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

// A state file with a key given twice is refused, naming the file, the JSON
// path and the line, instead of acting on whichever value came last.
func TestLoadRefusesDuplicateKeys(t *testing.T) {
	path := filepath.Join(t.TempDir(), "certplan.state.json")
	if err := Save(path, testState()); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// The current order of shop is 202; a second order_id after it would win.
	bad := bytes.Replace(data, []byte(`"order_id": 202,`), []byte(`"order_id": 202,`+"\n"+`      "order_id": 201,`), 1)
	if bytes.Equal(bad, data) {
		t.Fatal("test state has no order 202")
	}
	if err := os.WriteFile(path, bad, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = NewFileBackend(path).Load(t.Context())
	if err == nil {
		t.Fatal("Load accepted a state with order_id twice")
	}
	for _, want := range []string{path, `duplicate key "order_id"`, "$.certificates.shop.order_id", "line "} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
	// Differing only in case is the same field to encoding/json.
	bad = bytes.Replace(data, []byte(`"order_id": 202,`), []byte(`"order_id": 202, "Order_ID": 201,`), 1)
	if _, err := Parse(bad); err == nil || !strings.Contains(err.Error(), "differ only in case") {
		t.Errorf("Parse with order_id and Order_ID: %v", err)
	}
	// A newer format still says "upgrade certplan" first.
	newer := []byte(`{"version": 99, "version": 99, "lineage": "x"}`)
	var ve *VersionError
	if _, err := Parse(newer); !errors.As(err, &ve) {
		t.Errorf("newer format with a duplicate: %v, want a *VersionError", err)
	}
}

// A journal line with a key given twice is corruption, named by file and line.
func TestJournalRefusesDuplicateKeys(t *testing.T) {
	line, err := encodeRecord(outcome("shop", ActionCreate, "k1", 1, issued(201, "k1")))
	if err != nil {
		t.Fatal(err)
	}
	bad := bytes.Replace(line, []byte(`"order_id":201`), []byte(`"order_id":201,"order_id":999`), 1)
	good, _ := encodeRecord(intent("api", ActionCreate, "k2", 0))
	data := append(append(append([]byte{}, good...), bad...), good...)
	_, err = scanJournal("j", data)
	if err == nil || !strings.Contains(err.Error(), `j:2: duplicate key "order_id" at $.order.order_id`) {
		t.Errorf("scanJournal = %v, want the duplicate named at j:2", err)
	}
	if err != nil && strings.Contains(err.Error(), "(line ") {
		t.Errorf("a journal record is one line; the error should not give a line inside it: %v", err)
	}
}

// The checker agrees with a plain json.Decoder.Token walk on valid JSON,
// never panics, and refuses nothing that holds no duplicate.
func FuzzKeyCheck(f *testing.F) {
	for _, s := range []string{`{"a":1,"a":2}`, `{"a":{"b":[{"c":1,"C":2}]}}`, `{"\u0061":1,"a":2}`, `[{}, [], ""]`, `{"a":1}`} {
		f.Add([]byte(s))
	}
	golden, _ := os.ReadFile(filepath.Join("testdata", "state.golden.json"))
	f.Add(golden)
	k := NewKeyChecker()
	f.Fuzz(func(t *testing.T, data []byte) {
		err := k.Check(data)
		if !json.Valid(data) {
			return
		}
		exact, folded := tokenDuplicates(data)
		switch {
		case err == nil && (exact || folded):
			t.Fatalf("missed a duplicate in %q", data)
		case err != nil && !exact && !folded:
			t.Fatalf("refused %q: %v", data, err)
		}
	})
}

// tokenDuplicates is the reference: a json.Decoder.Token walk with a set of
// keys per open object.
func tokenDuplicates(data []byte) (exact, folded bool) {
	dec := json.NewDecoder(bytes.NewReader(data))
	type obj struct {
		keys    []string
		wantKey bool
	}
	var stack []*obj
	for {
		tok, err := dec.Token()
		if err == io.EOF || err != nil {
			return
		}
		var top *obj
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		switch v := tok.(type) {
		case json.Delim:
			switch v {
			case '{':
				if top != nil {
					top.wantKey = true
				}
				stack = append(stack, &obj{wantKey: true})
				continue
			case '[':
				if top != nil {
					top.wantKey = true
				}
				stack = append(stack, nil)
				continue
			default:
				stack = stack[:len(stack)-1]
				continue
			}
		case string:
			if top != nil && top.wantKey {
				for _, k := range top.keys {
					exact = exact || k == v
					folded = folded || bytes.EqualFold([]byte(k), []byte(v))
				}
				top.keys = append(top.keys, v)
				top.wantKey = false
				continue
			}
		}
		if top != nil {
			top.wantKey = true
		}
	}
}
