package plan

import (
	"sort"

	"github.com/certplan/certplan/pkg/spec"
)

// ownedFields are request fields certplan sets itself at submit time; they
// are never part of a diff.
var ownedFields = map[string]bool{"alternative_order_id": true, "renewal_of_order_id": true, "renewed_thumbprint": true}

// diffBodies compares a previously submitted body (nil for a create) with a
// new one, field by field: objects are walked, anything else (strings,
// numbers, lists) is compared whole by canonical JSON. Absent fields are nil.
// Secrets on either side render as "(sensitive)". Entries are sorted by path.
func diffBodies(before, after map[string]any) []DiffEntry {
	b := flatten(before)
	a := flatten(after)
	out := []DiffEntry{}
	for p, av := range a {
		bv, ok := b[p]
		if !ok {
			out = append(out, DiffEntry{Path: p, Before: nil, After: av})
			continue
		}
		if !sameJSON(av, bv) {
			out = append(out, DiffEntry{Path: p, Before: bv, After: av})
		}
	}
	for p, bv := range b {
		if _, ok := a[p]; !ok {
			out = append(out, DiffEntry{Path: p, Before: bv, After: nil})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// flatten maps each leaf of a body to its dotted path; empty objects are
// leaves. Secrets become "(sensitive)" and certplan-owned fields are dropped.
func flatten(body map[string]any) map[string]any {
	out := map[string]any{}
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		switch t := v.(type) {
		case map[string]any:
			if len(t) == 0 && prefix != "" {
				out[prefix] = t
				return
			}
			for k, c := range t {
				if prefix == "" && ownedFields[k] {
					continue
				}
				p := k
				if prefix != "" {
					p = prefix + "." + k
				}
				walk(p, c)
			}
		case spec.Secret, *spec.Secret:
			out[prefix] = spec.Sensitive
		default:
			out[prefix] = t
		}
	}
	if body != nil {
		walk("", body)
	}
	return out
}

// changedShaping names the shaping fields whose values differ between two bodies.
func changedShaping(f spec.Family, before, after map[string]any) []string {
	var out []string
	for _, p := range shapingFields[f] {
		bv, bok := lookupPath(before, p)
		av, aok := lookupPath(after, p)
		if bok {
			bv, bok = normalizeShaping(f, p, bv)
		}
		if aok {
			av, aok = normalizeShaping(f, p, av)
		}
		if bok != aok || (bok && !sameJSON(av, bv)) {
			out = append(out, p)
		}
	}
	return out
}

// changedTopLevel lists the top-level fields (sorted) that differ between two
// bodies, ignoring certplan-owned fields.
func changedTopLevel(before, after map[string]any) []string {
	var out []string
	for k, av := range after {
		if ownedFields[k] {
			continue
		}
		if bv, ok := before[k]; !ok || !sameJSON(av, bv) {
			out = append(out, k)
		}
	}
	for k := range before {
		if _, ok := after[k]; !ok && !ownedFields[k] {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}
