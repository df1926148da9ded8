package certcentral_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/certplan/certplan/pkg/certcentral"
	"github.com/certplan/certplan/pkg/spec"
)

// TestRequestShapes checks method, path, query, headers and decoding of every
// v2 endpoint.
func TestRequestShapes(t *testing.T) {
	orderBody := []byte(`{"certificate":{"common_name":"a.example.com"},"order_validity":{"years":1}}`)
	tests := []struct {
		name      string
		call      func(context.Context, *certcentral.Client) (any, error)
		respond   string
		status    int
		method    string
		path      string
		query     string
		body      []byte
		accept    string
		want      any
		wantCalls int64
	}{
		{
			name: "place order",
			call: func(ctx context.Context, c *certcentral.Client) (any, error) {
				return c.PlaceOrder(ctx, spec.SecureSiteFlex, orderBody)
			},
			status:  201,
			respond: `{"id":1001,"requests":[{"id":2001,"status":"approved"}],"certificate_id":3001,"certificate_chain":[{"subject_common_name":"a.example.com","pem":"PEM"}],"domains":[{"id":5,"name":"a.example.com"}]}`,
			method:  "POST", path: "/services/v2/order/certificate/ssl_securesite_flex", body: orderBody,
			want: &certcentral.PlaceOrderResponse{ID: 1001, Requests: []certcentral.Request{{ID: 2001, Status: "approved"}}, CertificateID: 3001,
				CertificateChain: []certcentral.ChainCert{{SubjectCommonName: "a.example.com", PEM: "PEM"}}, Domains: []certcentral.Domain{{ID: 5, Name: "a.example.com"}}},
		},
		{
			name: "place order, pending approval",
			call: func(ctx context.Context, c *certcentral.Client) (any, error) {
				return c.PlaceOrder(ctx, spec.PrivateSSLPlus, orderBody)
			},
			status:  201,
			respond: `{"id":1002,"requests":[{"id":2002,"status":"pending"}]}`,
			method:  "POST", path: "/services/v2/order/certificate/private_ssl_plus", body: orderBody,
			want: &certcentral.PlaceOrderResponse{ID: 1002, Requests: []certcentral.Request{{ID: 2002, Status: "pending"}}},
		},
		{
			name:    "order info",
			call:    func(ctx context.Context, c *certcentral.Client) (any, error) { return c.OrderInfo(ctx, 1001) },
			respond: `{"id":1001,"status":"issued","alternative_order_id":"cpabc","order_valid_till":"2027-11-20","is_renewal":true,"renewal_of_order_id":900,"product":{"name_id":"ssl_securesite_flex"},"certificate":{"id":3001,"common_name":"a.example.com","dns_names":["a.example.com"],"valid_till":"2026-12-01","days_remaining":11},"requests":[{"id":2001,"status":"approved"}],"unknown_field":{"x":1}}`,
			method:  "GET", path: "/services/v2/order/certificate/1001",
			want: &certcentral.Order{ID: 1001, Status: "issued", AlternativeOrderID: "cpabc", OrderValidTill: "2027-11-20", IsRenewal: true, RenewalOfOrderID: 900,
				Product:     certcentral.ProductRef{NameID: "ssl_securesite_flex"},
				Certificate: certcentral.OrderCertificate{ID: 3001, CommonName: "a.example.com", DNSNames: []string{"a.example.com"}, ValidTill: "2026-12-01", DaysRemaining: 11},
				Requests:    []certcentral.Request{{ID: 2001, Status: "approved"}}},
		},
		{
			name: "list orders with every filter",
			call: func(ctx context.Context, c *certcentral.Client) (any, error) {
				return c.ListOrders(ctx, certcentral.ListFilter{IDs: []int64{1, 2, 3}, Statuses: []string{"pending", "issued"}, ProductNameID: "ssl_securesite_flex", ValidTillBefore: "2026-12-01"})
			},
			respond: `{"orders":[{"id":1,"status":"pending","product":{"name_id":"ssl_securesite_flex"},"certificate":{}}],"page":{"total":1,"limit":1000,"offset":0}}`,
			method:  "GET", path: "/services/v2/order/certificate",
			query: "filters%5Bid%5D=1,2,3&filters%5Bstatus%5D=pending,issued&filters%5Bproduct_name_id%5D=ssl_securesite_flex&filters%5Bvalid_till%5D=%3C%3D2026-12-01&offset=0&limit=1000",
			want:  []certcentral.Order{{ID: 1, Status: "pending", Product: certcentral.ProductRef{NameID: "ssl_securesite_flex"}}},
		},
		{
			name: "list orders without filters",
			call: func(ctx context.Context, c *certcentral.Client) (any, error) {
				return c.ListOrders(ctx, certcentral.ListFilter{})
			},
			respond: `{"orders":[],"page":{"total":0}}`,
			method:  "GET", path: "/services/v2/order/certificate", query: "offset=0&limit=1000",
			want: []certcentral.Order(nil),
		},
		{
			name: "orders by alternate id",
			call: func(ctx context.Context, c *certcentral.Client) (any, error) {
				return c.OrdersByAlternateID(ctx, "cpABC123")
			},
			respond: `{"orders":[{"order_id":1001,"certificate_id":3001,"status":"issued"},{"order_id":1005,"status":"pending"}],"page":{"total":2}}`,
			method:  "GET", path: "/services/v2/order/alternate/cpABC123",
			want: []certcentral.AlternateOrder{{OrderID: 1001, CertificateID: 3001, Status: "issued"}, {OrderID: 1005, Status: "pending"}},
		},
		{
			name: "orders by alternate id: empty list is none",
			call: func(ctx context.Context, c *certcentral.Client) (any, error) {
				return c.OrdersByAlternateID(ctx, "cpnone")
			},
			respond: `{"orders":[],"page":{"total":0}}`,
			method:  "GET", path: "/services/v2/order/alternate/cpnone",
			want: []certcentral.AlternateOrder(nil),
		},
		{
			name: "orders by alternate id: 404 is none",
			call: func(ctx context.Context, c *certcentral.Client) (any, error) {
				return c.OrdersByAlternateID(ctx, "cpgone")
			},
			status:  404,
			respond: `{"errors":[{"code":"not_found|order","message":"Order not found"}]}`,
			method:  "GET", path: "/services/v2/order/alternate/cpgone",
			want: []certcentral.AlternateOrder(nil),
		},
		{
			name: "download certificate",
			call: func(ctx context.Context, c *certcentral.Client) (any, error) {
				return c.DownloadCertificate(ctx, 3001, certcentral.FormatPEMAll)
			},
			respond: "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
			method:  "GET", path: "/services/v2/certificate/3001/download/format/pem_all", accept: "*/*",
			want: []byte("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"),
		},
		{
			name: "download by order",
			call: func(ctx context.Context, c *certcentral.Client) (any, error) {
				return c.DownloadByOrder(ctx, 1001, certcentral.FormatP7B)
			},
			respond: "p7b-bytes",
			method:  "GET", path: "/services/v2/certificate/download/order/1001/format/p7b", accept: "*/*",
			want: []byte("p7b-bytes"),
		},
		{
			name:    "chain",
			call:    func(ctx context.Context, c *certcentral.Client) (any, error) { return c.Chain(ctx, 3001) },
			respond: `{"intermediates":[{"subject_common_name":"DigiCert TLS RSA SHA256 2020 CA1","pem":"PEM1"}]}`,
			method:  "GET", path: "/services/v2/certificate/3001/chain",
			want: []certcentral.ChainCert{{SubjectCommonName: "DigiCert TLS RSA SHA256 2020 CA1", PEM: "PEM1"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
				status := tt.status
				if status == 0 {
					status = 200
				}
				writeJSON(w, status, tt.respond)
			})
			c := api.client(t)
			got, err := tt.call(context.Background(), c)
			if err != nil {
				t.Fatalf("call: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("result (-want +got):\n%s", diff)
			}
			reqs := api.requests()
			if len(reqs) != 1 {
				t.Fatalf("server saw %d requests, want 1", len(reqs))
			}
			if c.Calls() != 1 {
				t.Errorf("Calls() = %d, want 1", c.Calls())
			}
			r := reqs[0]
			if r.Method != tt.method || r.Path != tt.path || r.RawQuery != tt.query {
				t.Errorf("request %s %s?%s, want %s %s?%s", r.Method, r.Path, r.RawQuery, tt.method, tt.path, tt.query)
			}
			if string(r.Body) != string(tt.body) {
				t.Errorf("body %q, want %q", r.Body, tt.body)
			}
			accept := tt.accept
			if accept == "" {
				accept = "application/json"
			}
			wantHeaders := map[string]string{
				"X-Dc-Devkey":   testKey,
				"User-Agent":    "certplan/test",
				"Accept":        accept,
				"Authorization": "",
				"Content-Type":  "",
			}
			if tt.body != nil {
				wantHeaders["Content-Type"] = "application/json"
			}
			for h, want := range wantHeaders {
				if got := r.Header.Get(h); got != want {
					t.Errorf("header %s = %q, want %q", h, got, want)
				}
			}
		})
	}
}

func TestListOrdersPagesThroughEveryPage(t *testing.T) {
	const total = 2500
	api := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		offset, _ := strconv.Atoi(r.URL.Query().Get("offset"))
		limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
		var orders []string
		// Orders that match the status filter asked for (the client drops
		// any that do not).
		for id := offset + 1; id <= min(offset+limit, total); id++ {
			orders = append(orders, fmt.Sprintf(`{"id":%d,"status":"revoked"}`, id))
		}
		writeJSON(w, 200, fmt.Sprintf(`{"orders":[%s],"page":{"total":%d,"limit":%d,"offset":%d}}`, strings.Join(orders, ","), total, limit, offset))
	})
	c := api.client(t)
	got, err := c.ListOrders(context.Background(), certcentral.ListFilter{Statuses: []string{"revoked", "rejected", "canceled"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != total {
		t.Fatalf("got %d orders, want %d", len(got), total)
	}
	for i, o := range got {
		if o.ID != int64(i+1) {
			t.Fatalf("order %d has id %d, want %d (pages out of order or repeated)", i, o.ID, i+1)
		}
	}
	var offsets []string
	for _, r := range api.requests() {
		q := r.URL().Query()
		offsets = append(offsets, q.Get("offset"))
		if q.Get("limit") != "1000" || q.Get("filters[status]") != "revoked,rejected,canceled" {
			t.Errorf("page query %q lacks limit=1000 or the status filter", r.RawQuery)
		}
	}
	if diff := cmp.Diff([]string{"0", "1000", "2000"}, offsets); diff != "" {
		t.Errorf("offsets (-want +got):\n%s", diff)
	}
}

func TestListOrdersStopsOnEmptyPage(t *testing.T) {
	api := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("offset") == "0" {
			writeJSON(w, 200, `{"orders":[{"id":1},{"id":2}],"page":{"total":50}}`)
			return
		}
		writeJSON(w, 200, `{"orders":[],"page":{"total":50}}`)
	})
	got, err := api.client(t).ListOrders(context.Background(), certcentral.ListFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || len(api.requests()) != 2 {
		t.Errorf("got %d orders in %d calls, want 2 in 2", len(got), len(api.requests()))
	}
}

func TestListOrdersSplitsManyIDs(t *testing.T) {
	api := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		ids := strings.Split(r.URL.Query().Get("filters[id]"), ",")
		var orders []string
		for _, id := range ids {
			orders = append(orders, fmt.Sprintf(`{"id":%s}`, id))
		}
		writeJSON(w, 200, fmt.Sprintf(`{"orders":[%s],"page":{"total":%d}}`, strings.Join(orders, ","), len(ids)))
	})
	ids := make([]int64, 2500)
	for i := range ids {
		ids[i] = int64(100000 + i)
	}
	got, err := api.client(t).ListOrders(context.Background(), certcentral.ListFilter{IDs: ids})
	if err != nil {
		t.Fatal(err)
	}
	reqs := api.requests()
	if len(got) != len(ids) || len(reqs) != 3 {
		t.Fatalf("got %d orders in %d calls, want %d in 3", len(got), len(reqs), len(ids))
	}
	for i, r := range reqs {
		n := len(strings.Split(r.URL().Query().Get("filters[id]"), ","))
		if want := []int{1000, 1000, 500}[i]; n != want {
			t.Errorf("call %d carried %d ids, want %d", i, n, want)
		}
	}
}

func TestLegacyOrder(t *testing.T) {
	api := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/vnd.digicert.rest-v1+json")
		w.WriteHeader(201)
		fmt.Fprint(w, `{"order_id":12345}`)
	})
	c := api.client(t)
	id, err := c.PlaceLegacyOrder(context.Background(), map[string]string{"validity": "2", "common_name": "www.example.com", "ev": "false"})
	if err != nil {
		t.Fatal(err)
	}
	if id != 12345 {
		t.Errorf("order id %d, want 12345", id)
	}
	r := api.requests()[0]
	if r.Method != "POST" || r.Path != "/order/ssl" {
		t.Errorf("request %s %s, want POST /order/ssl", r.Method, r.Path)
	}
	wantAuth := "Basic " + base64.StdEncoding.EncodeToString([]byte(testAccountID+":"+testKey))
	for h, want := range map[string]string{
		"Authorization": wantAuth,
		"Content-Type":  "application/vnd.digicert.rest-v1+json",
		"Accept":        "application/vnd.digicert.rest-v1+json",
		"User-Agent":    "certplan/test",
		"X-Dc-Devkey":   "",
	} {
		if got := r.Header.Get(h); got != want {
			t.Errorf("header %s = %q, want %q", h, got, want)
		}
	}
	if want := `{"common_name":"www.example.com","ev":"false","validity":"2"}`; string(r.Body) != want {
		t.Errorf("body %s, want %s", r.Body, want)
	}
}

func TestLegacyOrderPathConfigurable(t *testing.T) {
	api := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 201, `{"order_id":"77"}`) })
	c := api.client(t, func(cfg *certcentral.Config) { cfg.LegacyOrderPath = "/rest/v1/order/ssl" })
	id, err := c.PlaceLegacyOrder(context.Background(), map[string]string{"validity": "1"})
	if err != nil || id != 77 {
		t.Fatalf("PlaceLegacyOrder = %d, %v; want 77", id, err)
	}
	if p := api.requests()[0].Path; p != "/rest/v1/order/ssl" {
		t.Errorf("path %s, want /rest/v1/order/ssl", p)
	}
}

func TestLegacyOrderNeedsAccountID(t *testing.T) {
	api := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) { t.Error("request sent") })
	c := api.client(t, func(cfg *certcentral.Config) { cfg.AccountID = "" })
	_, err := c.PlaceLegacyOrder(context.Background(), map[string]string{"validity": "1"})
	if err == nil || !certcentral.NothingCreated(err) || !strings.Contains(err.Error(), "DIGICERT_ACCOUNT_ID") {
		t.Errorf("err = %v, want a build error naming DIGICERT_ACCOUNT_ID", err)
	}
}

// TestErrorResponses checks how error bodies become APIErrors.
func TestErrorResponses(t *testing.T) {
	tests := []struct {
		name        string
		legacy      bool
		status      int
		contentType string
		body        string
		wantErrors  []certcentral.ErrorDetail
		wantCode    string
		wantInError string
	}{
		{
			name: "v2 list", status: 400, contentType: "application/json",
			body:       `{"errors":[{"code":"invalid_value:validity_years","message":"Validity years must be 1-3"},{"code":"csr_invalid_cannot_parse","message":"CSR"}]}`,
			wantErrors: []certcentral.ErrorDetail{{Code: "invalid_value:validity_years", Message: "Validity years must be 1-3"}, {Code: "csr_invalid_cannot_parse", Message: "CSR"}},
			wantCode:   "invalid_value", wantInError: "HTTP 400 Bad Request: invalid_value:validity_years: Validity years must be 1-3; csr_invalid_cannot_parse: CSR",
		},
		{
			name: "v2 errors as an object", status: 403, contentType: "application/json",
			body:       `{"errors":{"code":"access_denied|missing_permission","message":"no"}}`,
			wantErrors: []certcentral.ErrorDetail{{Code: "access_denied", Detail: "missing_permission", Message: "no"}},
			wantCode:   "access_denied|missing_permission", wantInError: "HTTP 403 Forbidden: access_denied|missing_permission: no",
		},
		{
			name: "v2 not found product", status: 404, contentType: "application/json",
			body:       `{"errors":[{"code":"not_found|product","message":"Product not found"}]}`,
			wantErrors: []certcentral.ErrorDetail{{Code: "not_found", Detail: "product", Message: "Product not found"}},
			wantCode:   "not_found", wantInError: "not_found|product",
		},
		{
			name: "v1 description", legacy: true, status: 400, contentType: "application/vnd.digicert.error+json",
			body:       `{"errors":[{"code":"required_param:org_name","description":"Organization name is required"}]}`,
			wantErrors: []certcentral.ErrorDetail{{Code: "required_param:org_name", Message: "Organization name is required"}},
			wantCode:   "required_param", wantInError: "POST /order/ssl: HTTP 400",
		},
		{
			name: "html gateway page", status: 502, contentType: "text/html",
			body:        "<html><body>Bad gateway</body></html>",
			wantInError: `HTTP 502 Bad Gateway: "<html><body>Bad gateway</body></html>"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", tt.contentType)
				w.WriteHeader(tt.status)
				fmt.Fprint(w, tt.body)
			})
			c := api.client(t, func(cfg *certcentral.Config) { cfg.RetryMax = -1 })
			var err error
			if tt.legacy {
				_, err = c.PlaceLegacyOrder(context.Background(), map[string]string{"validity": "1"})
			} else {
				_, err = c.PlaceOrder(context.Background(), spec.SecureSiteFlex, []byte(`{}`))
			}
			var ae *certcentral.APIError
			if !errors.As(err, &ae) {
				t.Fatalf("err = %v (%T), want *APIError", err, err)
			}
			if ae.StatusCode != tt.status {
				t.Errorf("status %d, want %d", ae.StatusCode, tt.status)
			}
			if diff := cmp.Diff(tt.wantErrors, ae.Errors); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
			if tt.wantCode != "" && !ae.HasCode(tt.wantCode) {
				t.Errorf("HasCode(%q) = false", tt.wantCode)
			}
			if !strings.Contains(err.Error(), tt.wantInError) {
				t.Errorf("error %q does not contain %q", err, tt.wantInError)
			}
		})
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  certcentral.Config
		want string
	}{
		{"no key", certcentral.Config{}, "DIGICERT_API_KEY"},
		{"key with newline", certcentral.Config{APIKey: testKey + "\n"}, "control characters"},
		{"plain http elsewhere", certcentral.Config{APIKey: testKey, Endpoint: "http://example.com/services/v2"}, "loopback"},
		{"plain http legacy", certcentral.Config{APIKey: testKey, LegacyEndpoint: "http://api.example.com"}, "loopback"},
		{"bad limit", certcentral.Config{APIKey: testKey, Limits: []certcentral.Limit{{Requests: 0}}}, "positive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := certcentral.New(tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New() error = %v, want one containing %q", err, tt.want)
			}
			if strings.Contains(err.Error(), testKey) {
				t.Errorf("error shows the API key: %v", err)
			}
		})
	}
}

func TestBadArgumentsSendNothing(t *testing.T) {
	api := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) { t.Errorf("request sent: %s %s", r.Method, r.URL) })
	c := api.client(t)
	ctx := context.Background()
	calls := []func() error{
		func() error { _, err := c.PlaceOrder(ctx, spec.LegacySSL, []byte(`{}`)); return err },
		func() error { _, err := c.PlaceOrder(ctx, spec.SecureSiteFlex, []byte(`{not json`)); return err },
		func() error { _, err := c.OrderInfo(ctx, 0); return err },
		func() error { _, err := c.OrdersByAlternateID(ctx, ""); return err },
		func() error { _, err := c.DownloadCertificate(ctx, -1, "pem_all"); return err },
		func() error { _, err := c.DownloadByOrder(ctx, 5, ""); return err },
		func() error { _, err := c.Chain(ctx, 0); return err },
		func() error {
			_, err := c.ListOrders(ctx, certcentral.ListFilter{ValidTillBefore: "01 Dec 2026"})
			return err
		},
		func() error {
			_, err := c.ListOrders(ctx, certcentral.ListFilter{Statuses: []string{"a,b"}})
			return err
		},
	}
	for i, call := range calls {
		err := call()
		var be *certcentral.BuildError
		if !errors.As(err, &be) || !certcentral.NothingCreated(err) {
			t.Errorf("call %d: err = %v, want a *BuildError", i, err)
		}
	}
	if c.Calls() != 0 {
		t.Errorf("Calls() = %d, want 0", c.Calls())
	}
}

func TestSuccessWithUnreadableBodyIsOutcomeUnknown(t *testing.T) {
	for name, body := range map[string]string{"not json": "<html>ok</html>", "no id": `{"requests":[]}`} {
		t.Run(name, func(t *testing.T) {
			api := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 201, body) })
			_, err := api.client(t).PlaceOrder(context.Background(), spec.SecureSiteFlex, []byte(`{}`))
			var re *certcentral.RequestError
			if !errors.As(err, &re) || re.Stage != certcentral.StageResponse {
				t.Fatalf("err = %v, want a RequestError at StageResponse", err)
			}
			if !certcentral.OutcomeUnknown(err) || certcentral.NothingCreated(err) || certcentral.IsRetryable(err) {
				t.Errorf("classification: unknown=%v nothing=%v retryable=%v, want true false false",
					certcentral.OutcomeUnknown(err), certcentral.NothingCreated(err), certcentral.IsRetryable(err))
			}
		})
	}
}

func TestRedirectsAreNotFollowed(t *testing.T) {
	other := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, `{}`) })
	api := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/steal", http.StatusFound)
	})
	_, err := api.client(t).OrderInfo(context.Background(), 1)
	var ae *certcentral.APIError
	if !errors.As(err, &ae) || ae.StatusCode != http.StatusFound {
		t.Fatalf("err = %v, want an APIError with 302", err)
	}
	if n := len(other.requests()); n != 0 {
		t.Errorf("redirect target received %d requests (with the API key)", n)
	}
}

func TestPlaceOrderToleratesOddPropertyTypes(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusCreated)
		// The docs type domains[].name as int; an id must still make it an order.
		_, _ = w.Write([]byte(`{"id": 4242, "domains": [{"id": 1, "name": 17}], "requests": [{"id": 9, "status": "pending"}]}`))
	}))
	defer srv.Close()
	c, err := certcentral.New(certcentral.Config{Endpoint: srv.URL + "/services/v2", APIKey: "k", Limits: []certcentral.Limit{}})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.PlaceOrder(context.Background(), spec.SecureSiteFlex, []byte(`{}`))
	if err != nil || resp.ID != 4242 || len(resp.Requests) != 1 || resp.Requests[0].Status != "pending" {
		t.Fatalf("PlaceOrder = %+v, %v; want order 4242 with its request", resp, err)
	}
}
