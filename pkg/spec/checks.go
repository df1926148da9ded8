package spec

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
)

// Checks beyond the schema. Each returns diagnostics and marks the pointers it
// reported errors at as owned, so the schema's (less helpful) errors at the
// same place are dropped.

// secretFields must be secret references; a literal value is an error.
var secretFields = []struct{ name, what string }{
	{"number", "card number"},
	{"cvv", "CVV"},
}

// orderChecks checks a spec.order tree (of a Certificate after merging, or of
// a Defaults document) for fields certplan owns or forbids.
func orderChecks(order *tree, owned map[string]bool) []Diagnostic {
	if order == nil || order.kind != kindMap {
		return nil
	}
	var diags []Diagnostic
	if n := order.field("alternative_order_id"); n != nil {
		ptr := "/spec/order/alternative_order_id"
		owned[ptr] = true
		diags = append(diags, errorAt(n.reportPos(), "spec.order.alternative_order_id",
			"certplan owns alternative_order_id: it derives one per intended order (from the name, product, spec and the order it replaces) and uses it as the idempotency key, so no retry orders twice; remove the field"))
	}
	if n := order.field("auto_renew"); n != nil {
		if v, ok := n.intValue(); ok && v == 1 {
			ptr := "/spec/order/auto_renew"
			owned[ptr] = true
			diags = append(diags, errorAt(n.reportPos(), "spec.order.auto_renew",
				"auto_renew: 1 lets CertCentral buy a new, billed order 30 days before expiry, outside any plan a reviewer approved; certplan plans renewals itself (and reissues within a paid order). Remove the field or set it to 0; auto_reissue: 1 is fine"))
		}
	}
	if cc := order.field("credit_card"); cc != nil && cc.kind == kindMap {
		for _, f := range secretFields {
			n := cc.field(f.name)
			if n == nil || n.kind == kindMap {
				continue
			}
			ptr := "/spec/order/credit_card/" + f.name
			owned[ptr] = true
			diags = append(diags, errorAt(n.pos(), dottedPath(ptr),
				"a literal %s is not allowed in a manifest; use {env: NAME} or {file: PATH} and keep the value out of Git", f.what))
		}
	}
	diags = append(diags, validityCheck(order)...)
	for _, f := range []string{"renewal_of_order_id", "renewed_thumbprint"} {
		if n := order.field(f); n != nil {
			diags = append(diags, warningAt(n.reportPos(), "spec.order."+f,
				"certplan sets renewal_of_order_id itself when it plans a renewal; set %s only to renew an order that certplan did not place", f))
		}
	}
	return diags
}

// validityCheck catches a certificate validity longer than its order's
// ("Cannot exceed order validity period"): the API would reject the order
// (cert_validity_exceeds_order_validity) after merge, when it is too late
// for review. Only years and days are compared; custom dates depend on the
// day of ordering.
func validityCheck(order *tree) []Diagnostic {
	cert := order.field("certificate").field("cert_validity")
	ov := order.field("order_validity")
	if cert.field("custom_expiration_date") != nil || ov.field("custom_expiration_date") != nil {
		return nil // custom dates win over days and years
	}
	certDays, ok1 := validityDays(cert, 365)
	// A year of order may hold a leap day: count the most it can be.
	orderDays, ok2 := validityDays(ov, 366)
	if !ok1 || !ok2 || certDays <= orderDays {
		return nil
	}
	return []Diagnostic{errorAt(cert.reportPos(), "spec.order.certificate.cert_validity",
		"the certificate would be valid %d days but the order at most %d: cert_validity cannot exceed order_validity (the API rejects it with cert_validity_exceeds_order_validity)", certDays, orderDays)}
}

// validityDays reads {days: N} (which wins) or {years: N} as days, counting
// perYear days a year.
func validityDays(v *tree, perYear int) (int, bool) {
	if v == nil || v.kind != kindMap {
		return 0, false
	}
	if d, ok := v.field("days").intValue(); ok {
		return d, true
	}
	if y, ok := v.field("years").intValue(); ok {
		return y * perYear, true
	}
	return 0, false
}

// skipOwned returns a filter for schema problems at or below owned pointers.
func skipOwned(owned map[string]bool) func(ptr string) bool {
	return func(ptr string) bool {
		for p := ptr; p != ""; p = p[:strings.LastIndex(p, "/")] {
			if owned[p] {
				return true
			}
		}
		return false
	}
}

func hasErrors(ds []Diagnostic) bool {
	for _, d := range ds {
		if d.Severity == SeverityError {
			return true
		}
	}
	return false
}

// unwrapPathError drops the path from an *fs.PathError (the caller names it).
func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// buildCertificate turns a validated, merged Certificate document into a
// Certificate. inst is the document's JSON value; its spec.order map becomes
// Certificate.Order (the CSR inlined, secret references made Secret values).
func buildCertificate(root *tree, inst any, csrText string, loc csrLocation) (*Certificate, []Diagnostic) {
	spec := root.field("spec")
	name, _ := root.field("metadata").field("name").str()
	product, _ := spec.field("product").str()
	cert := &Certificate{
		Name:        name,
		Product:     Product(product),
		RenewBefore: DefaultRenewBefore,
		Pos:         root.pos(),
	}
	if labels := root.field("metadata").field("labels"); labels != nil && len(labels.entries) > 0 {
		cert.Labels = map[string]string{}
		for _, e := range labels.entries {
			cert.Labels[e.key], _ = e.val.str()
		}
	}
	if prev := root.field("metadata").field("previousNames"); prev != nil {
		for _, item := range prev.items {
			if n, ok := item.str(); ok {
				if n == name {
					return nil, []Diagnostic{errorAt(item.pos(), "metadata.previousNames", "%q is this certificate's own name: list only names it had before", n)}
				}
				cert.PreviousNames = append(cert.PreviousNames, n)
			}
		}
	}
	if a := spec.field("allowDestructiveReissue"); a != nil {
		cert.AllowDestructiveReissue = a.value == true
	}
	if rb := spec.field("renewBefore"); rb != nil {
		s, _ := rb.str()
		d, err := ParseDuration(s)
		if err != nil {
			return nil, []Diagnostic{errorAt(rb.pos(), "spec.renewBefore", "%v", err)}
		}
		cert.RenewBefore = d
	}
	order, _ := valueAt(inst, "/spec/order").(map[string]any)
	if order == nil {
		return nil, []Diagnostic{errorAt(spec.reportPos(), "spec.order", "missing")}
	}
	if csrText != "" {
		setAt(order, loc.csr, csrText)
	}
	replaceSecrets(spec.field("order"), order, "", loc.csr)
	cert.Order = order
	return cert, nil
}

// setAt sets the value at a JSON pointer inside m (the parents exist).
func setAt(m map[string]any, ptr string, v any) {
	segs := splitPointer(ptr)
	for _, s := range segs[:len(segs)-1] {
		next, ok := m[s].(map[string]any)
		if !ok {
			return
		}
		m = next
	}
	m[segs[len(segs)-1]] = v
}

// replaceSecrets replaces every {env: NAME} / {file: PATH} in m (the JSON
// value of t) by a Secret. File paths are made absolute, relative to the
// directory of the manifest that names them. skip is the CSR's pointer.
func replaceSecrets(t *tree, m map[string]any, ptr, skip string) {
	for _, e := range t.entries {
		k, ct := e.key, e.val
		cptr := joinPointer(ptr, k)
		if cptr == skip {
			continue
		}
		if ref, ok := secretRef(ct); ok {
			m[k] = Secret{Ref: ref}
			continue
		}
		switch cv := m[k].(type) {
		case map[string]any:
			replaceSecrets(ct, cv, cptr, skip)
		case []any:
			for i, it := range ct.items {
				if im, ok := cv[i].(map[string]any); ok && it.kind == kindMap {
					if ref, ok := secretRef(it); ok {
						cv[i] = Secret{Ref: ref}
						continue
					}
					replaceSecrets(it, im, fmt.Sprintf("%s/%d", cptr, i), skip)
				}
			}
		}
	}
}

// secretRef recognises {env: NAME} and {file: PATH}.
func secretRef(t *tree) (SecretRef, bool) {
	if t.kind != kindMap || len(t.entries) != 1 {
		return SecretRef{}, false
	}
	v, ok := t.entries[0].val.str()
	if !ok || v == "" {
		return SecretRef{}, false
	}
	switch t.entries[0].key {
	case "env":
		return SecretRef{Env: v}, true
	case "file":
		p := v
		if !filepath.IsAbs(p) {
			p = filepath.Join(filepath.Dir(t.file), p)
		}
		if abs, err := filepath.Abs(p); err == nil {
			p = abs
		}
		return SecretRef{File: p}, true
	}
	return SecretRef{}, false
}
