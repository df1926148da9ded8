package plan

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/certplan/certplan/pkg/atomicfile"
	"github.com/certplan/certplan/pkg/spec"
	"github.com/certplan/certplan/pkg/state"
)

// RenderJSON writes the documented --format json schema (docs/plan-format.md):
// the plan without request bodies and secret references, which only plan
// files carry. The diff shows every field that an order would change.
func RenderJSON(w io.Writer, p *Plan) error {
	if err := checkActions(p); err != nil {
		return fmt.Errorf("render plan: %w", err)
	}
	out := *p
	out.Changes = make([]Change, len(p.Changes))
	for i, c := range p.Changes {
		c.Request = nil
		c.SecretRefs = nil
		if c.Replacement != nil {
			rep := *c.Replacement
			rep.Request, rep.SecretRefs = nil, nil
			c.Replacement = &rep
		}
		out.Changes[i] = c
	}
	b, err := encodeJSON(&out)
	if err != nil {
		return fmt.Errorf("encode plan as JSON: %w", err)
	}
	_, err = w.Write(b)
	return err
}

// WriteFile saves a plan file: the full plan as indented JSON, including the
// request bodies (secrets as "(sensitive)") and the secret references apply
// resolves at submit time. The file is created 0600 and replaced atomically.
func WriteFile(path string, p *Plan) error {
	b, err := encodeJSON(p)
	if err != nil {
		return fmt.Errorf("write plan file %s: encode: %w", path, err)
	}
	if err := atomicfile.WriteFile(path, b, atomicfile.Options{Perm: 0o600, TempPattern: "." + filepath.Base(path) + ".*.tmp"}); err != nil {
		return fmt.Errorf("write plan file %s: %w", path, err)
	}
	return nil
}

// ReadFile loads a plan file written by WriteFile. Numbers stay exact
// (json.Number), and secrets are restored as spec.Secret values from the
// change's secret references. A plan file of another format version is
// refused.
func ReadFile(path string) (*Plan, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read plan file: %w", err)
	}
	return decodePlan(path, b)
}

// planKeys checks plan files for keys given twice. Request bodies, the
// differences shown of them, secret paths and manifest file names are maps:
// keys that differ in case are distinct there.
var planKeys = state.NewKeyChecker("changes.*.request", "changes.*.diff.*.before", "changes.*.diff.*.after",
	"changes.*.secret_refs", "manifest_digests")

// decodePlan parses the content of a plan file; path is for messages.
func decodePlan(path string, b []byte) (*Plan, error) {
	if err := planKeys.Check(b); err != nil {
		return nil, fmt.Errorf("read plan file %s: %w", path, err)
	}
	var head struct {
		FormatVersion *string `json:"format_version"`
	}
	if err := json.Unmarshal(b, &head); err != nil {
		return nil, fmt.Errorf("read plan file %s: not a certplan plan file (%v)", path, err)
	}
	if head.FormatVersion == nil {
		return nil, fmt.Errorf("read plan file %s: no format_version: not a certplan plan file (write one with `certplan plan --out FILE`)", path)
	}
	if *head.FormatVersion != FormatVersion {
		return nil, fmt.Errorf("read plan file %s: format_version %q is not supported by this certplan (it reads %q); plan again with this version", path, *head.FormatVersion, FormatVersion)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var p Plan
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("read plan file %s: %w", path, err)
	}
	for i := range p.Changes {
		c := &p.Changes[i]
		if err := injectSecrets(c); err != nil {
			return nil, fmt.Errorf("read plan file %s: %w", path, err)
		}
		if c.Replacement != nil {
			if c.Replacement.Replacement != nil {
				return nil, fmt.Errorf("read plan file %s: change %q: a replacement carries another", path, c.Name)
			}
			if err := injectSecrets(c.Replacement); err != nil {
				return nil, fmt.Errorf("read plan file %s: the replacement of %w", path, err)
			}
		}
	}
	return &p, nil
}

// injectSecrets restores a change's secrets from its secret references.
func injectSecrets(c *Change) error {
	if len(c.SecretRefs) == 0 {
		return nil
	}
	if c.Request == nil {
		return fmt.Errorf("change %q has secret_refs but no request", c.Name)
	}
	if err := spec.InjectSecrets(c.Request, c.SecretRefs); err != nil {
		return fmt.Errorf("change %q: %w", c.Name, err)
	}
	return nil
}

func encodeJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
