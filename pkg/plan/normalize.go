package plan

import (
	"encoding/base64"
	"encoding/pem"
	"sort"
	"strings"

	"github.com/certplan/certplan/pkg/spec"
)

// shapingDefaults are documented defaults of shaping fields: a manifest that
// spells one out describes the same certificate as one that leaves it out.
var shapingDefaults = map[spec.Family]map[string]any{
	spec.FamilySecureSite:      {"disable_ct": false},
	spec.FamilyDocumentSigning: {"use_org_as_common_name": true},
}

// normalizeShaping reduces a shaping value to what the certificate depends
// on, so that equivalent spellings never buy a certificate: DNS names are a
// case-insensitive set (order and duplicates do not matter), a CSR is its DER
// bytes (PEM line wrapping and line endings do not matter), and a documented
// default equals its absence. ok is false when the value should count as
// absent.
func normalizeShaping(f spec.Family, path string, v any) (any, bool) {
	if d, isDefault := shapingDefaults[f][path]; isDefault && sameJSON(v, d) {
		return nil, false
	}
	switch path {
	case "certificate.common_name", "common_name":
		if s, ok := v.(string); ok {
			return strings.ToLower(strings.TrimSpace(s)), true
		}
	case "certificate.dns_names", "sans":
		return nameSet(v), true
	case "certificate.csr", "csr":
		if s, ok := v.(string); ok {
			if block, _ := pem.Decode([]byte(s)); block != nil {
				return "der:" + base64.StdEncoding.EncodeToString(block.Bytes), true
			}
		}
	}
	return v, true
}

// nameSet turns a list of names (or a comma-separated string, as v1 sans may
// be written) into a sorted, lower-cased list without duplicates.
func nameSet(v any) any {
	var names []string
	switch t := v.(type) {
	case []any:
		for _, e := range t {
			s, ok := e.(string)
			if !ok {
				return v // not a list of names: compare as written
			}
			names = append(names, s)
		}
	case []string:
		names = append(names, t...)
	case string:
		names = strings.Split(t, ",")
	default:
		return v
	}
	seen := map[string]bool{}
	out := []any{}
	for _, n := range names {
		n = strings.ToLower(strings.TrimSpace(n))
		if n == "" || seen[n] {
			continue
		}
		seen[n] = true
		out = append(out, n)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].(string) < out[j].(string) })
	return out
}
