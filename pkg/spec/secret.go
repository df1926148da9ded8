package spec

import (
	"fmt"
	"os"
	"strings"
)

// Sensitive is what a secret value renders as anywhere outside the HTTP request.
const Sensitive = "(sensitive)"

// SecretRef says where a secret lives: an environment variable or a file. The
// reference itself is not secret and may be stored in plan files.
type SecretRef struct {
	Env  string `json:"env,omitempty"`
	File string `json:"file,omitempty"` // made absolute at load time (a manifest names it relative to itself)
}

func (r SecretRef) String() string {
	if r.Env != "" {
		return "env " + r.Env
	}
	return "file " + r.File
}

// Resolve reads the secret value. Errors never contain the value. A file is
// read only if it is a regular file (not followed through a symbolic link)
// of at most MaxSecretFileSize bytes; an empty value, from a file or from
// the environment, is an unset secret.
func (r SecretRef) Resolve() (string, error) {
	switch {
	case r.Env != "":
		v, ok := os.LookupEnv(r.Env)
		if !ok || v == "" {
			return "", fmt.Errorf("secret from environment variable %s: not set (export it before apply)", r.Env)
		}
		return v, nil
	case r.File != "":
		return resolveSecretFile(r.File)
	}
	return "", fmt.Errorf("empty secret reference")
}

// Secret is a secret value inside Certificate.Order. It marshals as "(sensitive)"
// so that no state, plan or log can ever carry the value; the value is read with
// Ref.Resolve at the moment the HTTP request is built.
type Secret struct {
	Ref SecretRef
}

// MarshalJSON renders the secret as "(sensitive)".
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + Sensitive + `"`), nil }

func (s Secret) String() string { return Sensitive }

// GoString keeps %#v from printing the reference details into logs.
func (s Secret) GoString() string { return Sensitive }

// SecretRefs returns every secret in an order body by dotted path
// (e.g. "credit_card.number").
func SecretRefs(order map[string]any) map[string]SecretRef {
	out := map[string]SecretRef{}
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		switch t := v.(type) {
		case Secret:
			out[prefix] = t.Ref
		case *Secret:
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

// InjectSecrets puts Secret values back at the given dotted paths of a body
// decoded from a plan file (where they were stored as "(sensitive)"). Only map
// paths are supported; secrets never live inside lists.
func InjectSecrets(order map[string]any, refs map[string]SecretRef) error {
	for path, ref := range refs {
		parts := strings.Split(path, ".")
		m := order
		for i, p := range parts {
			if i == len(parts)-1 {
				m[p] = Secret{Ref: ref}
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
