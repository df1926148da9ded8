package certcentral

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
)

// DownloadCertificate returns a certificate in one of the download formats
// (FormatPEMAll, ...): GET /certificate/{id}/download/format/{format}.
func (c *Client) DownloadCertificate(ctx context.Context, certificateID int64, format string) ([]byte, error) {
	if certificateID <= 0 {
		return nil, buildErr("certificate_id", "must be positive, got %d", certificateID)
	}
	if format == "" {
		return nil, buildErr("format", "must not be empty (e.g. %s)", FormatPEMAll)
	}
	path := "/certificate/" + strconv.FormatInt(certificateID, 10) + "/download/format/" + url.PathEscape(format)
	return c.do(ctx, request{method: http.MethodGet, path: path, accept: "*/*"})
}

// DownloadByOrder returns the order's active certificate:
// GET /certificate/download/order/{order_id}/format/{format}.
func (c *Client) DownloadByOrder(ctx context.Context, orderID int64, format string) ([]byte, error) {
	if orderID <= 0 {
		return nil, buildErr("order_id", "must be positive, got %d", orderID)
	}
	if format == "" {
		return nil, buildErr("format", "must not be empty (e.g. %s)", FormatPEMAll)
	}
	path := "/certificate/download/order/" + strconv.FormatInt(orderID, 10) + "/format/" + url.PathEscape(format)
	return c.do(ctx, request{method: http.MethodGet, path: path, accept: "*/*"})
}

// Chain returns the intermediates of a certificate: GET /certificate/{id}/chain.
func (c *Client) Chain(ctx context.Context, certificateID int64) ([]ChainCert, error) {
	if certificateID <= 0 {
		return nil, buildErr("certificate_id", "must be positive, got %d", certificateID)
	}
	r := request{method: http.MethodGet, path: "/certificate/" + strconv.FormatInt(certificateID, 10) + "/chain"}
	data, err := c.do(ctx, r)
	if err != nil {
		return nil, err
	}
	var out struct {
		Intermediates []ChainCert `json:"intermediates"`
	}
	if err := decode(r, data, &out); err != nil {
		return nil, err
	}
	return out.Intermediates, nil
}
