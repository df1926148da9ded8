package plan

import (
	"testing"

	"github.com/certplan/certplan/pkg/spec"
	"github.com/certplan/certplan/pkg/state"
)

// A state entry written before shaping values were normalized has a
// SpecDigest of the raw shaping values, order_validity included. Nothing in
// the manifest changed, so nothing may be re-bought after an upgrade.
func TestDigestFromAnOlderCertplanDoesNotRenew(t *testing.T) {
	c := tlsCert("a", setPath("certificate.dns_names", []any{"www.a.example.com", "a.example.com"}))
	cur := applied(t, c, 100, "2027-11-01")
	var raw = map[string]any{}
	for i, segs := range shapingSegments[spec.FamilySecureSite] {
		if v, ok := lookupSegments(c.Order, segs); ok {
			raw[shapingFields[spec.FamilySecureSite][i]] = v
		}
	}
	raw["order_validity"] = c.Order["order_validity"]
	cur.SpecDigest = digest(map[string]any{"product": string(c.Product), "shaping": raw})
	st := state.New()
	st.Certificates["a"] = cur
	p := Build(Input{Certificates: []*spec.Certificate{c}, State: st, Now: testNow})
	if ch := p.Changes[0]; ch.Action != ActionNoOp {
		t.Errorf("unchanged manifest, old-format digest: got %s (%q), want no-op", ch.Action, ch.Reasons)
	}
}
