package simulator

import (
	"encoding/json"
	"strconv"
	"strings"
)

// checker collects every problem found in a request body.
type checker struct {
	errs []apiError
}

func (c *checker) add(e apiError) { c.errs = append(c.errs, e) }

// obj reads typed fields of one JSON object; path is its dotted prefix.
type obj struct {
	m    map[string]any
	path string
	c    *checker
}

func (o obj) at(key string) string {
	if o.path == "" {
		return key
	}
	return o.path + "." + key
}

// raw returns the value, treating JSON null as absent.
func (o obj) raw(key string) (any, bool) {
	if o.m == nil {
		return nil, false
	}
	v, ok := o.m[key]
	if !ok || v == nil {
		return nil, false
	}
	return v, true
}

func (o obj) has(key string) bool { _, ok := o.raw(key); return ok }

// str reads a string. A required string that is absent or blank is reported.
func (o obj) str(key string, req bool) (string, bool) {
	v, ok := o.raw(key)
	if !ok {
		if req {
			o.c.add(required(o.at(key)))
		}
		return "", false
	}
	s, isStr := v.(string)
	if !isStr {
		o.c.add(invalid(o.at(key), "must be a string"))
		return "", false
	}
	if req && strings.TrimSpace(s) == "" {
		o.c.add(required(o.at(key)))
		return "", false
	}
	return s, true
}

// oneOf reads an optional (or required) string restricted to allowed values.
func (o obj) oneOf(key string, req bool, allowed ...string) (string, bool) {
	s, ok := o.str(key, req)
	if !ok {
		return "", false
	}
	for _, a := range allowed {
		if s == a {
			return s, true
		}
	}
	o.c.add(invalid(o.at(key), "must be one of "+strings.Join(allowed, ", ")))
	return "", false
}

// integer reads a JSON integer (a number without fraction or exponent).
func (o obj) integer(key string, req bool) (int64, bool) {
	v, ok := o.raw(key)
	if !ok {
		if req {
			o.c.add(required(o.at(key)))
		}
		return 0, false
	}
	n, isNum := v.(json.Number)
	if !isNum {
		o.c.add(invalid(o.at(key), "must be an integer"))
		return 0, false
	}
	i, err := n.Int64()
	if err != nil {
		o.c.add(invalid(o.at(key), "must be an integer"))
		return 0, false
	}
	return i, true
}

// intRange reads an integer and checks lo <= value <= hi.
func (o obj) intRange(key string, req bool, lo, hi int64, why string) (int64, bool) {
	i, ok := o.integer(key, req)
	if !ok {
		return 0, false
	}
	if i < lo || i > hi {
		o.c.add(invalid(o.at(key), why))
		return 0, false
	}
	return i, true
}

func (o obj) boolean(key string) (bool, bool) {
	v, ok := o.raw(key)
	if !ok {
		return false, false
	}
	b, isBool := v.(bool)
	if !isBool {
		o.c.add(invalid(o.at(key), "must be true or false"))
		return false, false
	}
	return b, true
}

// object reads a nested object.
func (o obj) object(key string, req bool) (obj, bool) {
	v, ok := o.raw(key)
	if !ok {
		if req {
			o.c.add(required(o.at(key)))
		}
		return obj{path: o.at(key), c: o.c}, false
	}
	m, isObj := v.(map[string]any)
	if !isObj {
		o.c.add(invalid(o.at(key), "must be an object"))
		return obj{path: o.at(key), c: o.c}, false
	}
	return obj{m: m, path: o.at(key), c: o.c}, true
}

// array reads a JSON array.
func (o obj) array(key string) ([]any, bool) {
	v, ok := o.raw(key)
	if !ok {
		return nil, false
	}
	a, isArr := v.([]any)
	if !isArr {
		o.c.add(invalid(o.at(key), "must be an array"))
		return nil, false
	}
	return a, true
}

// strings reads an array of strings.
func (o obj) strings(key string) ([]string, bool) {
	a, ok := o.array(key)
	if !ok {
		return nil, false
	}
	out := make([]string, 0, len(a))
	for _, v := range a {
		s, isStr := v.(string)
		if !isStr {
			o.c.add(invalid(o.at(key), "must be an array of strings"))
			return nil, false
		}
		out = append(out, s)
	}
	return out, true
}

// objects reads an array of objects.
func (o obj) objects(key string) ([]obj, bool) {
	a, ok := o.array(key)
	if !ok {
		return nil, false
	}
	out := make([]obj, 0, len(a))
	for i, v := range a {
		m, isObj := v.(map[string]any)
		path := o.at(key) + "[" + strconv.Itoa(i) + "]"
		if !isObj {
			o.c.add(invalid(path, "must be an object"))
			continue
		}
		out = append(out, obj{m: m, path: path, c: o.c})
	}
	return out, true
}

// integers reads an array of integers.
func (o obj) integers(key string) bool {
	a, ok := o.array(key)
	if !ok {
		return false
	}
	for _, v := range a {
		n, isNum := v.(json.Number)
		if _, err := n.Int64(); !isNum || err != nil {
			o.c.add(invalid(o.at(key), "must be an array of integers"))
			return false
		}
	}
	return true
}
