package plan

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/certplan/certplan/pkg/spec"
)

// InitialPredecessor is the predecessor of a certificate's first order.
const InitialPredecessor = "initial"

// SpecDigest is "sha256:<hex>" of the canonical JSON of
// {"product": PRODUCT, "shaping": {PATH: VALUE, ...}}, where the shaping map
// holds the value at each of the family's shaping paths that the order body
// sets. Non-shaping fields do not affect it.
func SpecDigest(c *spec.Certificate) string {
	return digest(map[string]any{
		"product": string(c.Product),
		"shaping": shapingValues(familyOf(c.Product), c.Order),
	})
}

// RequestDigest is "sha256:<hex>" of the canonical JSON of a request body
// (sorted keys; secrets render as "(sensitive)").
func RequestDigest(body map[string]any) string {
	return digest(body)
}

// AlternativeOrderID derives the idempotency key of an intended order:
// "cp" + the first 62 hex digits of sha256(name \x00 product \x00 specDigest
// \x00 predecessor), 64 lowercase alphanumerics. predecessor is the decimal id
// of the order being renewed or replaced, or "initial".
func AlternativeOrderID(name string, product spec.Product, specDigest, predecessor string) string {
	h := sha256.New()
	h.Write([]byte(name))
	h.Write([]byte{0})
	h.Write([]byte(product))
	h.Write([]byte{0})
	h.Write([]byte(specDigest))
	h.Write([]byte{0})
	h.Write([]byte(predecessor))
	return "cp" + hex.EncodeToString(h.Sum(nil))[:62]
}

// predecessorKey renders an order id for AlternativeOrderID.
func predecessorKey(orderID int64) string {
	if orderID == 0 {
		return InitialPredecessor
	}
	return strconv.FormatInt(orderID, 10)
}

// shapingValues returns the body's value at each shaping path it sets.
func shapingValues(f spec.Family, body map[string]any) map[string]any {
	out := map[string]any{}
	for i, segs := range shapingSegments[f] {
		if v, ok := lookupSegments(body, segs); ok {
			if nv, keep := normalizeShaping(f, shapingFields[f][i], v); keep {
				out[shapingFields[f][i]] = nv
			}
		}
	}
	return out
}

// lookupPath returns the value at a dotted path of nested objects.
func lookupPath(body map[string]any, path string) (any, bool) {
	return lookupSegments(body, strings.Split(path, "."))
}

// lookupSegments returns the value at a path given as its segments.
func lookupSegments(body map[string]any, segs []string) (any, bool) {
	var cur any = body
	for _, seg := range segs {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[seg]; !ok {
			return nil, false
		}
	}
	return cur, true
}

func digest(v any) string {
	sum := sha256.Sum256(canonicalJSON(v))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// canonicalJSON encodes v with sorted object keys. Values that cannot be
// encoded (none of a JSON-shaped body) encode as their error text, so that a
// digest never panics and never collides with a valid value.
func canonicalJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		return []byte("!error: " + err.Error())
	}
	return b
}

// sameJSON reports whether two values have the same canonical JSON.
func sameJSON(a, b any) bool {
	return string(canonicalJSON(a)) == string(canonicalJSON(b))
}
