package certcentral

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/certplan/certplan/pkg/product"
)

// MaxIDsPerList is the most order ids ListOrders puts in one filters[id]; more
// are split over several calls.
const MaxIDsPerList = 1000

// listPageSize is the limit asked for on every list call (the API's maximum).
const listPageSize = 1000

// PlaceOrder submits a v2 order (POST /order/certificate/{product}) with a body
// from BuildOrderBody. It is never retried except on 429: on any other failure
// use NothingCreated / OutcomeUnknown to decide, and look the
// alternative_order_id up before submitting again.
func (c *Client) PlaceOrder(ctx context.Context, prod product.Product, body []byte) (*PlaceOrderResponse, error) {
	if prod == "" || prod.IsLegacy() {
		return nil, buildErr("product", "%q is not a Services API v2 product (legacy_ssl goes through PlaceLegacyOrder)", prod)
	}
	if !json.Valid(body) {
		return nil, buildErr("", "order body is not valid JSON")
	}
	r := request{method: http.MethodPost, path: "/order/certificate/" + url.PathEscape(string(prod)), body: body}
	data, err := c.do(ctx, r)
	if err != nil {
		return nil, err
	}
	// The order exists once CertCentral answered 2xx with an id. The API is
	// not consistent about the other properties (the docs type
	// domains[].name as int, say): a property of an unexpected type must not
	// turn a placed order into an "unreadable response".
	var out PlaceOrderResponse
	if err := json.Unmarshal(data, &out); err != nil {
		var typeErr *json.UnmarshalTypeError
		if !errors.As(err, &typeErr) || out.ID == 0 {
			return nil, &RequestError{Method: r.method, Path: r.path, Stage: StageResponse, Err: fmt.Errorf("decode response: %w", err)}
		}
		c.logDecodeSkip(r, typeErr)
	}
	if out.ID == 0 {
		return nil, &RequestError{Method: r.method, Path: r.path, Stage: StageResponse, Err: fmt.Errorf("response carries no order id")}
	}
	return &out, nil
}

// OrderInfo returns GET /order/certificate/{id}.
func (c *Client) OrderInfo(ctx context.Context, orderID int64) (*Order, error) {
	if orderID <= 0 {
		return nil, buildErr("order_id", "must be positive, got %d", orderID)
	}
	r := request{method: http.MethodGet, path: "/order/certificate/" + strconv.FormatInt(orderID, 10)}
	data, err := c.do(ctx, r)
	if err != nil {
		return nil, err
	}
	var out Order
	if err := decode(r, data, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ListOrders returns every order matching f (GET /order/certificate), paging
// through all pages with limit=1000. More than MaxIDsPerList ids are split
// into several filtered calls. Orders that do not match f (a server that
// ignores or misreads a filter) are dropped, with a warning: what comes back
// is only ever what was asked for. An asked-for id may still be missing; the
// caller decides what that means (plan.Refresh reads it with OrderInfo).
func (c *Client) ListOrders(ctx context.Context, f ListFilter) ([]Order, error) {
	if err := f.validate(); err != nil {
		return nil, err
	}
	if len(f.IDs) <= MaxIDsPerList {
		return c.listPages(ctx, f)
	}
	var all []Order
	for i := 0; i < len(f.IDs); i += MaxIDsPerList {
		sub := f
		sub.IDs = f.IDs[i:min(i+MaxIDsPerList, len(f.IDs))]
		orders, err := c.listPages(ctx, sub)
		if err != nil {
			return nil, err
		}
		all = append(all, orders...)
	}
	return all, nil
}

// maxListPages bounds one listing whatever the server says: 1,000 pages of
// 1,000 orders, far more than any account certplan manages.
const maxListPages = 1000

// listPages pages through one filtered listing. The number of pages is
// bounded by what the first page announced (its total over its size, plus
// one for orders added while paging) and by maxListPages: a server that keeps
// announcing more orders, or ignores the offset, is stopped with an error
// naming the endpoint instead of paging forever.
func (c *Client) listPages(ctx context.Context, f ListFilter) ([]Order, error) {
	var all []Order
	seen := map[int64]bool{}
	offset, firstTotal, budget := 0, 0, 1
	for page := 1; ; page++ {
		r := request{method: http.MethodGet, path: "/order/certificate", query: f.query(offset, listPageSize)}
		data, err := c.do(ctx, r)
		if err != nil {
			return nil, err
		}
		var resp struct {
			Orders []Order `json:"orders"`
			Page   Page    `json:"page"`
		}
		if err := decode(r, data, &resp); err != nil {
			return nil, err
		}
		if page == 1 {
			firstTotal = resp.Page.Total
			if n := len(resp.Orders); n > 0 {
				budget = min(maxListPages, (firstTotal+n-1)/n+1)
			}
		}
		fresh, unasked := 0, 0
		for _, o := range resp.Orders {
			if o.ID != 0 && seen[o.ID] {
				continue // shifted onto this page by an order added meanwhile
			}
			seen[o.ID] = true
			fresh++
			if !f.matches(o) {
				unasked++
				continue
			}
			all = append(all, o)
		}
		if unasked > 0 {
			c.log.Warn().Str("method", r.method).Str("path", r.path).Int("page", page).Int("ignored", unasked).
				Msg("CertCentral returned orders the filters exclude (filter ignored or misread?); ignored them")
		}
		offset += len(resp.Orders)
		if len(resp.Orders) == 0 || offset >= resp.Page.Total {
			return all, nil
		}
		if fresh == 0 {
			return nil, &RequestError{Method: r.method, Path: r.path, Stage: StageResponse,
				Err: fmt.Errorf("page %d (offset %d) repeats orders already listed: the server ignores the offset, so the listing cannot finish", page, offset-len(resp.Orders))}
		}
		if page >= budget {
			return nil, &RequestError{Method: r.method, Path: r.path, Stage: StageResponse,
				Err: fmt.Errorf("still more orders after %d pages: the first page announced %d, now %d; the listing keeps growing (or the server misreports its total), so certplan stopped rather than page forever; try again later", page, firstTotal, resp.Page.Total)}
		}
	}
}

// matches reports whether o is what f asks for. Fields the order does not
// carry are not held against it. The issued status filter also returns
// expired orders (documented: "includes any order where the certificate has
// been issued, even if the order has expired").
func (f ListFilter) matches(o Order) bool {
	if len(f.IDs) > 0 && !slices.Contains(f.IDs, o.ID) {
		return false
	}
	if len(f.Statuses) > 0 && !slices.Contains(f.Statuses, o.Status) &&
		!(o.Status == "expired" && slices.Contains(f.Statuses, "issued")) {
		return false
	}
	if f.ProductNameID != "" && o.Product.NameID != "" && o.Product.NameID != f.ProductNameID {
		return false
	}
	if vt := o.Certificate.ValidTill; f.ValidTillBefore != "" && len(vt) >= len(time.DateOnly) && vt[:len(time.DateOnly)] > f.ValidTillBefore {
		return false
	}
	return true
}

func (f ListFilter) validate() error {
	for _, id := range f.IDs {
		if id <= 0 {
			return buildErr("filters[id]", "order ids must be positive, got %d", id)
		}
	}
	for _, s := range f.Statuses {
		if s == "" || strings.Contains(s, ",") {
			return buildErr("filters[status]", "invalid status %q", s)
		}
	}
	if strings.Contains(f.ProductNameID, ",") {
		return buildErr("filters[product_name_id]", "invalid product %q", f.ProductNameID)
	}
	if f.ValidTillBefore != "" {
		if _, err := time.Parse(time.DateOnly, f.ValidTillBefore); err != nil {
			return buildErr("filters[valid_till]", "want a yyyy-MM-dd date, got %q", f.ValidTillBefore)
		}
	}
	return nil
}

// query encodes the set filters, then offset and limit. Commas in values stay
// literal (they are legal in a query and keep 1000 ids within URL limits).
func (f ListFilter) query(offset, limit int) string {
	var parts []string
	add := func(k, v string) {
		parts = append(parts, url.QueryEscape(k)+"="+strings.ReplaceAll(url.QueryEscape(v), "%2C", ","))
	}
	if len(f.IDs) > 0 {
		ids := make([]string, len(f.IDs))
		for i, id := range f.IDs {
			ids[i] = strconv.FormatInt(id, 10)
		}
		add("filters[id]", strings.Join(ids, ","))
	}
	if len(f.Statuses) > 0 {
		add("filters[status]", strings.Join(f.Statuses, ","))
	}
	if f.ProductNameID != "" {
		add("filters[product_name_id]", f.ProductNameID)
	}
	if f.ValidTillBefore != "" {
		add("filters[valid_till]", "<="+f.ValidTillBefore)
	}
	add("offset", strconv.Itoa(offset))
	add("limit", strconv.Itoa(limit))
	return strings.Join(parts, "&")
}

// OrdersByAlternateID returns every order carrying altID
// (GET /order/alternate/{id}). Only two answers mean "no order": a 404 whose
// errors carry a not_found code ("not_found", "not_found|order"), and a
// success body with a well-formed, empty "orders" list; both return (nil, nil).
// Anything else that is not a list of orders (a 200 of {} or without
// "orders", a body that carries "errors", an order without an id, a 404
// without the code, such as a proxy's HTML page) is an *InconclusiveError:
// the look-up could not tell, and the caller must not take it for "none".
func (c *Client) OrdersByAlternateID(ctx context.Context, altID string) ([]AlternateOrder, error) {
	if altID == "" {
		return nil, buildErr("alternative_order_id", "must not be empty")
	}
	r := request{method: http.MethodGet, path: "/order/alternate/" + url.PathEscape(altID)}
	data, err := c.do(ctx, r)
	if err != nil {
		var ae *APIError
		if errors.As(err, &ae) && ae.StatusCode == http.StatusNotFound {
			if ae.HasCode("not_found") {
				return nil, nil
			}
			return nil, &InconclusiveError{Method: r.method, Path: r.path,
				Reason: fmt.Sprintf("HTTP 404 without a not_found error code (%s), which is not CertCentral saying that no order carries the id", ae.summary())}
		}
		return nil, err
	}
	var out struct {
		Orders *[]json.RawMessage `json:"orders"`
		Errors json.RawMessage    `json:"errors"`
	}
	if err := decode(r, data, &out); err != nil {
		return nil, err
	}
	inconclusive := func(format string, args ...any) error {
		return &InconclusiveError{Method: r.method, Path: r.path, Reason: fmt.Sprintf(format, args...)}
	}
	if e := bytes.TrimSpace(out.Errors); len(e) > 0 && !bytes.Equal(e, []byte("null")) && !bytes.Equal(e, []byte("[]")) {
		details, _ := parseErrorBody(data, c.secrets()...)
		codes := make([]string, 0, len(details))
		for _, d := range details {
			codes = append(codes, d.FullCode())
		}
		return nil, inconclusive("the success response carries errors %q", codes)
	}
	if out.Orders == nil {
		return nil, inconclusive("the response has no \"orders\" list")
	}
	if len(*out.Orders) == 0 {
		return nil, nil
	}
	orders := make([]AlternateOrder, 0, len(*out.Orders))
	for i, raw := range *out.Orders {
		var o AlternateOrder
		if err := json.Unmarshal(raw, &o); err != nil || o.OrderID <= 0 {
			return nil, inconclusive("orders[%d] carries no usable order_id", i)
		}
		orders = append(orders, o)
	}
	return orders, nil
}

// PlaceLegacyOrder submits a REST v1 order (POST {legacy}/order/ssl) with a
// body from BuildLegacyBody, authenticated with HTTP Basic account_id:api_key.
// Like PlaceOrder it is retried only on 429. v1 has no idempotency key: a
// failure for which OutcomeUnknown is true cannot be recovered automatically.
func (c *Client) PlaceLegacyOrder(ctx context.Context, body map[string]string) (int64, error) {
	if c.accountID == "" {
		return 0, buildErr("", "legacy v1 orders need an account id: set DIGICERT_ACCOUNT_ID")
	}
	data, err := encodeJSON(body)
	if err != nil {
		return 0, buildErr("", "encode legacy body: %v", err)
	}
	r := request{legacy: true, method: http.MethodPost, path: c.legacyOrderPath, body: data}
	resp, err := c.do(ctx, r)
	if err != nil {
		return 0, err
	}
	var out struct {
		OrderID json.RawMessage `json:"order_id"`
	}
	if err := decode(r, resp, &out); err != nil {
		return 0, err
	}
	id, err := strconv.ParseInt(strings.Trim(string(out.OrderID), `"`), 10, 64)
	if err != nil || id <= 0 {
		return 0, &RequestError{Method: r.method, Path: r.path, Stage: StageResponse, Err: fmt.Errorf("response carries no usable order_id")}
	}
	return id, nil
}

// decode reads a JSON success body; a failure means the server answered but
// certplan cannot tell what happened (StageResponse).
// logDecodeSkip notes a response property of an unexpected type that was
// skipped (never the body itself: it may echo request data).
func (c *Client) logDecodeSkip(r request, e *json.UnmarshalTypeError) {
	c.log.Warn().Str("method", r.method).Str("path", r.path).Str("field", e.Field).
		Str("got", e.Value).Msg("skipped a response property of an unexpected type")
}

func decode(r request, data []byte, v any) error {
	if err := json.Unmarshal(data, v); err != nil {
		return &RequestError{Method: r.method, Path: r.path, Stage: StageResponse, Err: fmt.Errorf("decode response: %w", err)}
	}
	return nil
}

// encodeJSON is deterministic JSON (sorted map keys) without HTML escaping
// and without a trailing newline.
func encodeJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

func basicAuth(user, pass string) string {
	return base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))
}
