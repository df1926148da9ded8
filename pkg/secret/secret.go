// Package secret holds secrets by reference. A secret in an order body is a
// Value, which only says where the secret lives (an environment variable or
// a file) and renders as "(sensitive)" everywhere; the secret itself is read
// (Ref.Resolve) only when the HTTP request is built. It is a leaf: it imports
// nothing of certplan's, so the manifest loader (spec), the planner and the
// HTTP client (certcentral) share it without depending on each other.
package secret

import (
	"fmt"
	"os"
	"strings"
)

// Sensitive is what a secret value renders as anywhere outside the HTTP request.
const Sensitive = "(sensitive)"

// Ref says where a secret lives: an environment variable or a file. The
// reference itself is not secret and may be stored in plan files.
type Ref struct {
	Env  string `json:"env,omitempty"`
	File string `json:"file,omitempty"` // made absolute at load time (a manifest names it relative to itself)
}

func (r Ref) String() string {
	if r.Env != "" {
		return "env " + r.Env
	}
	return "file " + r.File
}

// Resolve reads the secret value. Errors never contain the value. A file is
// read only if it is a regular file (not followed through a symbolic link
// at its path) of at most MaxFileSize bytes; an empty value, from a file or
// from the environment, is an unset secret.
func (r Ref) Resolve() (string, error) {
	switch {
	case r.Env != "":
		v, ok := os.LookupEnv(r.Env)
		if !ok || v == "" {
			return "", fmt.Errorf("secret from environment variable %s: not set (export it before apply)", r.Env)
		}
		return v, nil
	case r.File != "":
		return resolveFile(r.File)
	}
	return "", fmt.Errorf("empty secret reference")
}

// Value is a secret inside an order body (a manifest's spec.order). It
// marshals as "(sensitive)" so that no state, plan or log can ever carry the
// secret; the secret is read with Ref.Resolve at the moment the HTTP request
// is built.
type Value struct {
	Ref Ref
}

// MarshalJSON renders the secret as "(sensitive)".
func (s Value) MarshalJSON() ([]byte, error) { return []byte(`"` + Sensitive + `"`), nil }

func (s Value) String() string { return Sensitive }

// GoString keeps %#v from printing the reference details into logs.
func (s Value) GoString() string { return Sensitive }

// Refs returns every secret in an order body by dotted path
// (e.g. "credit_card.number").
func Refs(order map[string]any) map[string]Ref {
	out := map[string]Ref{}
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		switch t := v.(type) {
		case Value:
			out[prefix] = t.Ref
		case *Value:
			out[prefix] = t.Ref
		case map[string]any:
			for k, c := range t {
				p := k
				if prefix != "" {
					p = prefix + "." + k
				}
				walk(p, c)
			}
		case []any:
			for i, c := range t {
				walk(fmt.Sprintf("%s[%d]", prefix, i), c)
			}
		}
	}
	walk("", order)
	return out
}

// Inject puts Values back at the given dotted paths of a body decoded from a
// plan file (where they were stored as "(sensitive)"). Only map paths are
// supported; secrets never live inside lists.
func Inject(order map[string]any, refs map[string]Ref) error {
	for path, ref := range refs {
		parts := strings.Split(path, ".")
		m := order
		for i, p := range parts {
			if i == len(parts)-1 {
				m[p] = Value{Ref: ref}
				break
			}
			next, ok := m[p].(map[string]any)
			if !ok {
				return fmt.Errorf("secret path %s: %s is not an object", path, p)
			}
			m = next
		}
	}
	return nil
}
