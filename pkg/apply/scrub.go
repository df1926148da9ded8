package apply

import (
	"sort"
	"strings"

	"github.com/certplan/certplan/pkg/spec"
)

// scrub removes the values of the order's secrets (card number, CVV, ...)
// from a message before it is journaled or shown. The client already strips
// the API key and card-like digit runs from server errors; this also catches
// a short CVV or a card number written with separators, should CertCentral
// ever echo one back.
func scrub(order map[string]any, msg string) string {
	if msg == "" {
		return msg // a successful order: no secret to read again
	}
	var values []string
	for _, ref := range spec.SecretRefs(order) {
		v, err := ref.Resolve()
		if err != nil || len(v) < 3 {
			continue
		}
		values = append(values, v)
	}
	// Longest first, so a value containing another is removed whole.
	sort.Slice(values, func(i, j int) bool { return len(values[i]) > len(values[j]) })
	for _, v := range values {
		msg = strings.ReplaceAll(msg, v, spec.Sensitive)
	}
	return msg
}
