package certcentral

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/certplan/certplan/pkg/product"
	"github.com/certplan/certplan/pkg/secret"
)

// maxAlternativeOrderIDLen is the documented maximum length of alternative_order_id.
const maxAlternativeOrderIDLen = 64

// integerCardFields are the credit_card fields the docs type as integer; a
// value given as a string (a literal or a resolved secret) is sent as a number.
var integerCardFields = []string{"cvv", "expiration_month", "expiration_year"}

// BuildOrderBody renders the v2 request body for prod from a validated
// manifest order (spec.Certificate.Order). It resolves secret.Value values (here
// and nowhere earlier), adds alternative_order_id when non-empty and
// renewal_of_order_id when non-zero, keeps integers integers (json.Number and
// integral float64 become ints) and sends credit_card.cvv, expiration_month
// and expiration_year as integers. The output is deterministic (sorted keys).
// Errors are *BuildError and never contain a secret value.
func BuildOrderBody(prod product.Product, order map[string]any, alternativeOrderID string, renewalOfOrderID int64) ([]byte, error) {
	if prod == "" || prod.IsLegacy() {
		return nil, buildErr("product", "%q is not a Services API v2 product", prod)
	}
	if _, ok := order["alternative_order_id"]; ok {
		return nil, buildErr("alternative_order_id", "is set by certplan and must not be in the order")
	}
	if err := checkAlternativeOrderID(alternativeOrderID); err != nil {
		return nil, err
	}
	if renewalOfOrderID < 0 {
		return nil, buildErr("renewal_of_order_id", "must not be negative, got %d", renewalOfOrderID)
	}
	v, err := normalize("", order)
	if err != nil {
		return nil, err
	}
	body, _ := v.(map[string]any)
	if body == nil {
		body = map[string]any{}
	}
	if cc, ok := body["credit_card"].(map[string]any); ok {
		// The docs type the CVV as an integer, so a leading zero would be
		// lost in transit and the card declined; say so instead of sending it.
		if cvv, ok := cc["cvv"].(string); ok && len(cvv) > 1 && strings.HasPrefix(cvv, "0") {
			return nil, buildErr("credit_card.cvv", "starts with 0, which the API's integer CVV cannot carry; pay with payment_method: profile or balance instead")
		}
		for _, k := range integerCardFields {
			if x, ok := cc[k]; ok {
				n, err := toInteger(x)
				if err != nil {
					return nil, &BuildError{Field: "credit_card." + k, Err: err}
				}
				cc[k] = n
			}
		}
	}
	if alternativeOrderID != "" {
		body["alternative_order_id"] = alternativeOrderID
	}
	// The document signing order page does not document renewal_of_order_id,
	// so its renewals are new orders linked only in certplan's state (by the
	// predecessor in the idempotency key and the state history). For the other
	// families the plan's renewal wins over a manifest's renewal_of_order_id,
	// which only ever applies to a certificate's first order.
	if fam, _ := prod.Family(); renewalOfOrderID != 0 && fam != product.FamilyDocumentSigning {
		body["renewal_of_order_id"] = renewalOfOrderID
		// One link only: a manifest's renewed_thumbprint names another order.
		delete(body, "renewed_thumbprint")
	}
	out, err := encodeJSON(body)
	if err != nil {
		return nil, &BuildError{Err: fmt.Errorf("encode body: %w", err)}
	}
	return out, nil
}

func checkAlternativeOrderID(id string) error {
	if len(id) > maxAlternativeOrderIDLen {
		return buildErr("alternative_order_id", "longer than %d characters", maxAlternativeOrderIDLen)
	}
	for _, r := range id {
		if !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9') {
			return buildErr("alternative_order_id", "must be alphanumeric, got %q", id)
		}
	}
	return nil
}

// normalize copies a JSON-shaped value, resolving secrets and turning every
// integral number into int64.
func normalize(path string, v any) (any, error) {
	switch t := v.(type) {
	case nil, string, bool:
		return t, nil
	case secret.Value:
		return resolveSecret(path, t)
	case *secret.Value:
		if t == nil {
			return nil, buildErr(path, "empty secret")
		}
		return resolveSecret(path, *t)
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, c := range t {
			n, err := normalize(join(path, k), c)
			if err != nil {
				return nil, err
			}
			out[k] = n
		}
		return out, nil
	case map[string]string:
		out := make(map[string]any, len(t))
		for k, c := range t {
			out[k] = c
		}
		return out, nil
	case []any:
		out := make([]any, len(t))
		for i, c := range t {
			n, err := normalize(fmt.Sprintf("%s[%d]", path, i), c)
			if err != nil {
				return nil, err
			}
			out[i] = n
		}
		return out, nil
	case []string:
		out := make([]any, len(t))
		for i, c := range t {
			out[i] = c
		}
		return out, nil
	}
	if n, ok, err := number(v); ok {
		if err != nil {
			return nil, &BuildError{Field: path, Err: err}
		}
		return n, nil
	}
	return nil, buildErr(path, "unsupported value of type %T", v)
}

func resolveSecret(path string, s secret.Value) (string, error) {
	v, err := s.Ref.Resolve()
	if err != nil {
		return "", &BuildError{Field: path, Err: err}
	}
	return v, nil
}

// number converts any Go number to int64 when integral, else float64. ok is
// false for non-numbers.
func number(v any) (n any, ok bool, err error) {
	switch t := v.(type) {
	case int:
		return int64(t), true, nil
	case int8:
		return int64(t), true, nil
	case int16:
		return int64(t), true, nil
	case int32:
		return int64(t), true, nil
	case int64:
		return t, true, nil
	case uint:
		return uintNumber(uint64(t))
	case uint8:
		return int64(t), true, nil
	case uint16:
		return int64(t), true, nil
	case uint32:
		return int64(t), true, nil
	case uint64:
		return uintNumber(t)
	case float32:
		return floatNumber(float64(t))
	case float64:
		return floatNumber(t)
	case json.Number:
		if i, err := t.Int64(); err == nil {
			return i, true, nil
		}
		f, err := t.Float64()
		if err != nil {
			return nil, true, fmt.Errorf("not a number")
		}
		return floatNumber(f)
	}
	return nil, false, nil
}

func uintNumber(u uint64) (any, bool, error) {
	if u > math.MaxInt64 {
		return nil, true, fmt.Errorf("number too large")
	}
	return int64(u), true, nil
}

func floatNumber(f float64) (any, bool, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, true, fmt.Errorf("not a finite number")
	}
	if f == math.Trunc(f) && math.Abs(f) < 1<<53 {
		return int64(f), true, nil
	}
	return f, true, nil
}

// toInteger reads a normalized value as an integer. The error never shows the
// value (it may be a card's CVV).
func toInteger(v any) (int64, error) {
	switch t := v.(type) {
	case int64:
		return t, nil
	case string:
		n, err := strconv.ParseInt(strings.TrimSpace(t), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("must be an integer (value not shown)")
		}
		return n, nil
	}
	return 0, fmt.Errorf("must be an integer, got a %s", jsonKind(v))
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case bool:
		return "boolean"
	case int64, float64:
		return "number"
	case map[string]any:
		return "object"
	case []any:
		return "array"
	}
	return fmt.Sprintf("%T", v)
}

func join(prefix, key string) string {
	if prefix == "" {
		return key
	}
	return prefix + "." + key
}

// BuildLegacyBody renders the flat REST v1 parameters: every value a string
// (validity 2 -> "2", ev true -> "true", a sans list -> comma-joined). Null
// values are left out; nested objects are an error (v1 is flat).
func BuildLegacyBody(order map[string]any) (map[string]string, error) {
	keys := make([]string, 0, len(order))
	for k := range order {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make(map[string]string, len(order))
	for _, k := range keys {
		if k == "" {
			return nil, buildErr("", "empty parameter name")
		}
		v, err := normalize(k, order[k])
		if err != nil {
			return nil, err
		}
		if v == nil {
			continue
		}
		if list, ok := v.([]any); ok {
			parts := make([]string, len(list))
			for i, item := range list {
				s, err := legacyScalar(fmt.Sprintf("%s[%d]", k, i), item)
				if err != nil {
					return nil, err
				}
				parts[i] = s
			}
			out[k] = strings.Join(parts, ",")
			continue
		}
		s, err := legacyScalar(k, v)
		if err != nil {
			return nil, err
		}
		if k == "org_country" {
			s = strings.ToLower(s) // "A two character, lowercase abbreviation"
		}
		out[k] = s
	}
	return out, nil
}

func legacyScalar(path string, v any) (string, error) {
	switch t := v.(type) {
	case string:
		return t, nil
	case bool:
		return strconv.FormatBool(t), nil
	case int64:
		return strconv.FormatInt(t, 10), nil
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64), nil
	}
	return "", buildErr(path, "v1 parameters are flat strings, got a %s", jsonKind(v))
}
