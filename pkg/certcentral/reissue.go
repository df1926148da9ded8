package certcentral

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// reissueCertificateFields are the certificate fields a reissue carries (the
// reissue page; ca_cert_id is UNCONFIRMED on reissue but harmless).
var reissueCertificateFields = []string{"csr", "common_name", "dns_names", "signature_hash", "server_platform", "ca_cert_id"}

// BuildReissueBody renders the body of a reissue from a manifest order (the
// same map BuildOrderBody takes): certificate.csr, common_name, dns_names,
// signature_hash, server_platform and ca_cert_id where set, and skip_approval
// where the order sets it. Nothing else of the order is sent: a reissue
// changes the certificate, not the plan. csr and common_name are required.
// The output is deterministic (sorted keys).
func BuildReissueBody(order map[string]any) ([]byte, error) {
	cert, ok := order["certificate"].(map[string]any)
	if !ok {
		return nil, buildErr("certificate", "a reissue needs the order's certificate object")
	}
	out := map[string]any{}
	for _, k := range reissueCertificateFields {
		v, present := cert[k]
		if !present || v == nil {
			continue
		}
		n, err := normalize("certificate."+k, v)
		if err != nil {
			return nil, err
		}
		out[k] = n
	}
	for _, k := range []string{"csr", "common_name"} {
		if s, _ := out[k].(string); strings.TrimSpace(s) == "" {
			return nil, buildErr("certificate."+k, "is required for a reissue")
		}
	}
	body := map[string]any{"certificate": out}
	if v, present := order["skip_approval"]; present && v != nil {
		b, ok := v.(bool)
		if !ok {
			return nil, buildErr("skip_approval", "must be true or false, got a %s", jsonKind(v))
		}
		body["skip_approval"] = b
	}
	data, err := encodeJSON(body)
	if err != nil {
		return nil, &BuildError{Err: fmt.Errorf("encode reissue body: %w", err)}
	}
	return data, nil
}

// Reissue requests a new certificate on an order
// (POST /order/certificate/{order_id}/reissue) with a body from
// BuildReissueBody. Like PlaceOrder it is retried only on 429: a reissue has
// no idempotency key, so on any other failure decide with NothingCreated /
// OutcomeUnknown, and after an ambiguous one read the order (PendingReissue)
// and ListReissues (a certificate with the CSR sent) before sending again.
//
// A 2xx answer means the reissue exists: a body without an id reads as the
// order's id; a body that is not JSON at all is a StageResponse error
// (OutcomeUnknown, most likely committed).
func (c *Client) Reissue(ctx context.Context, orderID int64, body []byte) (*ReissueResponse, error) {
	if orderID <= 0 {
		return nil, buildErr("order_id", "must be positive, got %d", orderID)
	}
	if !json.Valid(body) {
		return nil, buildErr("", "reissue body is not valid JSON")
	}
	r := request{method: http.MethodPost, path: "/order/certificate/" + strconv.FormatInt(orderID, 10) + "/reissue", body: body}
	data, err := c.do(ctx, r)
	if err != nil {
		return nil, err
	}
	var out ReissueResponse
	if len(strings.TrimSpace(string(data))) > 0 {
		if err := json.Unmarshal(data, &out); err != nil {
			var typeErr *json.UnmarshalTypeError
			if !errors.As(err, &typeErr) {
				return nil, &RequestError{Method: r.method, Path: r.path, Stage: StageResponse, Err: fmt.Errorf("decode response: %w", err)}
			}
			c.logDecodeSkip(r, typeErr)
		}
	}
	if out.ID == 0 {
		out.ID = orderID
	}
	return &out, nil
}

// ListReissues returns the certificates of an order as
// GET /order/certificate/{order_id}/reissue lists them, oldest first as
// sent. The list may hold the primary certificate, or copies of it: entries
// repeating an earlier id, or an earlier serial number with the same
// thumbprint, are dropped. A property of an unexpected type is skipped (and
// logged), not fatal.
func (c *Client) ListReissues(ctx context.Context, orderID int64) ([]ReissueCertificate, error) {
	if orderID <= 0 {
		return nil, buildErr("order_id", "must be positive, got %d", orderID)
	}
	r := request{method: http.MethodGet, path: "/order/certificate/" + strconv.FormatInt(orderID, 10) + "/reissue"}
	data, err := c.do(ctx, r)
	if err != nil {
		return nil, err
	}
	var out struct {
		Certificates []ReissueCertificate `json:"certificates"`
	}
	if err := json.Unmarshal(data, &out); err != nil {
		var typeErr *json.UnmarshalTypeError
		if !errors.As(err, &typeErr) {
			return nil, &RequestError{Method: r.method, Path: r.path, Stage: StageResponse, Err: fmt.Errorf("decode response: %w", err)}
		}
		c.logDecodeSkip(r, typeErr)
	}
	return dedupeReissues(out.Certificates), nil
}

func dedupeReissues(in []ReissueCertificate) []ReissueCertificate {
	out := make([]ReissueCertificate, 0, len(in))
	ids := map[int64]bool{}
	serials := map[string]bool{}
	for _, rc := range in {
		serial := strings.ToUpper(rc.SerialNumber) + "/" + strings.ToUpper(rc.Thumbprint)
		if rc.ID != 0 && ids[rc.ID] || rc.SerialNumber != "" && serials[serial] {
			continue
		}
		if rc.ID != 0 {
			ids[rc.ID] = true
		}
		if rc.SerialNumber != "" {
			serials[serial] = true
		}
		out = append(out, rc)
	}
	return out
}

// SameCSR reports whether two PEM CSRs are the same request, ignoring line
// breaks, whitespace and the PEM armour (CertCentral strips or rewraps them).
// After an ambiguous reissue, a listed certificate whose csr is the one sent
// means the reissue was committed.
func SameCSR(a, b string) bool {
	na, nb := csrBody(a), csrBody(b)
	return na != "" && na == nb
}

func csrBody(s string) string {
	var b strings.Builder
	for _, line := range strings.Split(strings.ReplaceAll(s, `\n`, "\n"), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "-----") {
			continue
		}
		b.WriteString(strings.Join(strings.Fields(line), ""))
	}
	return b.String()
}

// SetAutoReissue turns CertCentral's own reissues of an order on or off
// (PUT /order/certificate/{order_id}/auto-reissue {"auto_reissue": 0|1}).
// CertCentral ignores the setting for products without plans. Like every
// call other than GET it is retried only on 429; it is idempotent, so after
// any other failure it is safe to send again.
func (c *Client) SetAutoReissue(ctx context.Context, orderID int64, enabled bool) error {
	if orderID <= 0 {
		return buildErr("order_id", "must be positive, got %d", orderID)
	}
	v := 0
	if enabled {
		v = 1
	}
	body, _ := encodeJSON(map[string]int{"auto_reissue": v})
	r := request{method: http.MethodPut, path: "/order/certificate/" + strconv.FormatInt(orderID, 10) + "/auto-reissue", body: body}
	_, err := c.do(ctx, r)
	return err
}
