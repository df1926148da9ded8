package certcentral

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// DCV methods (dcv_method) of public TLS orders.
const (
	DCVEmail    = "email"
	DCVDNSTXT   = "dns-txt-token"
	DCVDNSCNAME = "dns-cname-token"
	DCVHTTP     = "http-token"
)

// DCV statuses of check-dcv: dcv_status "valid" once every name is
// validated; a name's status is "approved" once it is, "pending" before.
const (
	DCVStatusValid  = "valid"
	DCVNameApproved = "approved"
	DCVNamePending  = "pending"
)

// DCVRandomValueLife is how long a DCV random value stays valid (30 days).
const DCVRandomValueLife = 30 * 24 * time.Hour

// The errors check-dcv answers while it cannot find the record.
const (
	codeInvalidDNSTXT   = "invalid_dns_txt"
	codeFileValueAbsent = "file_random_value_not_found"
)

// DCVRandomValue is the order's random value for domain validation, as
// PUT /order/certificate/{order_id}/dcv-random-value returns it.
type DCVRandomValue struct {
	Value string `json:"dcv_random_value"`
	// ExpirationDate is ISO 8601 in UTC; see Expires.
	ExpirationDate string `json:"expiration_date,omitempty"`
}

// Expires is when the value stops being accepted; ok is false when the reply
// had no readable expiration_date. A bare date is read as its end.
func (v DCVRandomValue) Expires() (time.Time, bool) { return ParseValidTill(v.ExpirationDate) }

// DNSNameValidation is one name of a check-dcv reply.
type DNSNameValidation struct {
	DNSName string `json:"dns_name"`
	Status  string `json:"status"` // approved, pending (compare, do not enumerate)
}

// CheckDCVResponse is the reply of PUT /order/certificate/{order_id}/check-dcv.
type CheckDCVResponse struct {
	OrderStatus        string              `json:"order_status,omitempty"`
	CertificateID      int64               `json:"certificate_id,omitempty"`
	DCVStatus          string              `json:"dcv_status,omitempty"`
	DNSNameValidations []DNSNameValidation `json:"dns_name_validations,omitempty"`
}

// Validated reports whether the reply says every checked name is validated:
// dcv_status "valid", or every listed name "approved".
func (r *CheckDCVResponse) Validated() bool {
	if r == nil {
		return false
	}
	if strings.EqualFold(r.DCVStatus, DCVStatusValid) {
		return true
	}
	if len(r.DNSNameValidations) == 0 {
		return false
	}
	for _, n := range r.DNSNameValidations {
		if !strings.EqualFold(n.Status, DCVNameApproved) {
			return false
		}
	}
	return true
}

// GetDCVRandomValue returns the order's DCV random value
// (PUT /order/certificate/{order_id}/dcv-random-value): the same value while
// it is valid, a new one once it expired (values live 30 days). Like every
// call other than GET it is retried only on 429; it is safe to send again.
func (c *Client) GetDCVRandomValue(ctx context.Context, orderID int64) (*DCVRandomValue, error) {
	if orderID <= 0 {
		return nil, buildErr("order_id", "must be positive, got %d", orderID)
	}
	r := request{method: http.MethodPut, path: "/order/certificate/" + strconv.FormatInt(orderID, 10) + "/dcv-random-value"}
	data, err := c.do(ctx, r)
	if err != nil {
		return nil, err
	}
	var out DCVRandomValue
	if err := c.decodeLenient(r, data, &out); err != nil {
		return nil, err
	}
	if strings.TrimSpace(out.Value) == "" {
		return nil, &RequestError{Method: r.method, Path: r.path, Stage: StageResponse, Err: errors.New("response carries no dcv_random_value")}
	}
	return &out, nil
}

// CheckDCV asks CertCentral to check the domain validation of an order now
// (PUT /order/certificate/{order_id}/check-dcv), for every name of the order.
// It does not reset CertCentral's own polling. A record that CertCentral
// cannot see yet is an *APIError for which IsDCVNotFound is true
// (invalid_dns_txt; file_random_value_not_found for http-token); a reply may
// also list names still pending (see CheckDCVResponse.Validated).
func (c *Client) CheckDCV(ctx context.Context, orderID int64) (*CheckDCVResponse, error) {
	if orderID <= 0 {
		return nil, buildErr("order_id", "must be positive, got %d", orderID)
	}
	r := request{method: http.MethodPut, path: "/order/certificate/" + strconv.FormatInt(orderID, 10) + "/check-dcv"}
	data, err := c.do(ctx, r)
	if err != nil {
		return nil, err
	}
	var out CheckDCVResponse
	if len(strings.TrimSpace(string(data))) == 0 {
		return &out, nil
	}
	if err := c.decodeLenient(r, data, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// decodeLenient decodes a reply, skipping (and logging) properties of an
// unexpected type rather than failing the whole reply.
func (c *Client) decodeLenient(r request, data []byte, v any) error {
	if err := json.Unmarshal(data, v); err != nil {
		var typeErr *json.UnmarshalTypeError
		if !errors.As(err, &typeErr) {
			return &RequestError{Method: r.method, Path: r.path, Stage: StageResponse, Err: fmt.Errorf("decode response: %w", err)}
		}
		c.logDecodeSkip(r, typeErr)
	}
	return nil
}

// IsDCVNotFound reports CertCentral's answer that it cannot find the
// validation record yet: invalid_dns_txt (DNS methods) or
// file_random_value_not_found (http-token). It is worth asking again once
// DNS caches have expired.
func IsDCVNotFound(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.StatusCode >= 400 && ae.StatusCode < 500 &&
		(ae.HasCode(codeInvalidDNSTXT) || ae.HasCode(codeFileValueAbsent))
}
