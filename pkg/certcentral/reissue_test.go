package certcentral_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/certplan/certplan/pkg/certcentral"
)

var reissueBody = []byte(`{"certificate":{"common_name":"a.example.com","csr":"CSR","dns_names":["b.example.com"],"signature_hash":"sha256"},"skip_approval":true}`)

func TestReissueRequestAndResponse(t *testing.T) {
	tests := []struct {
		name    string
		status  int
		respond string
		want    *certcentral.ReissueResponse
	}{
		{
			name: "issued at once", status: 201,
			respond: `{"id":1001,"requests":[{"id":2002,"status":"approved"}],"certificate_id":3002,"certificate_chain":[{"subject_common_name":"a.example.com","pem":"PEM"}]}`,
			want: &certcentral.ReissueResponse{ID: 1001, Requests: []certcentral.Request{{ID: 2002, Status: "approved"}}, CertificateID: 3002,
				CertificateChain: []certcentral.ChainCert{{SubjectCommonName: "a.example.com", PEM: "PEM"}}},
		},
		{
			name: "awaiting approval, DCV needed", status: 201,
			respond: `{"id":1001,"requests":[{"id":2002}],"dcv_random_value":"abc123"}`,
			want:    &certcentral.ReissueResponse{ID: 1001, Requests: []certcentral.Request{{ID: 2002}}, DCVRandomValue: "abc123"},
		},
		{
			name: "no id in the body: the order's", status: 200,
			respond: `{"requests":[{"id":2002}]}`,
			want:    &certcentral.ReissueResponse{ID: 1001, Requests: []certcentral.Request{{ID: 2002}}},
		},
		{
			name: "empty body", status: 204,
			want: &certcentral.ReissueResponse{ID: 1001},
		},
		{
			name: "a property of an unexpected type is skipped", status: 201,
			respond: `{"id":1001,"requests":[{"id":2002}],"certificate_id":"soon"}`,
			want:    &certcentral.ReissueResponse{ID: 1001, Requests: []certcentral.Request{{ID: 2002}}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeAPI(t, func(w http.ResponseWriter, _ *http.Request) {
				if tc.status == 204 {
					w.WriteHeader(204)
					return
				}
				writeJSON(w, tc.status, tc.respond)
			})
			got, err := f.client(t).Reissue(context.Background(), 1001, reissueBody)
			if err != nil {
				t.Fatalf("Reissue: %v", err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("response (-want +got):\n%s", diff)
			}
			reqs := f.requests()
			if len(reqs) != 1 {
				t.Fatalf("%d requests", len(reqs))
			}
			r := reqs[0]
			if r.Method != "POST" || r.Path != "/services/v2/order/certificate/1001/reissue" || string(r.Body) != string(reissueBody) ||
				r.Header.Get("X-DC-DEVKEY") != testKey || r.Header.Get("Content-Type") != "application/json" {
				t.Errorf("request: %s %s %s %v", r.Method, r.Path, r.Body, r.Header)
			}
		})
	}
}

func TestReissueFailuresAreClassifiedLikeOrders(t *testing.T) {
	reissue := func(c *certcentral.Client) error {
		_, err := c.Reissue(context.Background(), 1001, reissueBody)
		return err
	}
	issued := status(201, `{"id":1001,"requests":[{"id":2002}]}`)
	tests := []struct {
		name          string
		handler       http.HandlerFunc
		calls         int
		ok            bool
		nothing, lost bool
	}{
		{"429 is retried: it provably created nothing", script(tooMany(""), tooMany(""), issued), 3, true, false, false},
		{"5xx is not retried: the reissue may exist", script(down, issued), 1, false, false, true},
		{"a lost response is not retried", script(func(w http.ResponseWriter) { hangUp(w) }, issued), 1, false, false, true},
		{"a validation error created nothing", script(status(400, `{"errors":[{"code":"required_param:certificate.csr","message":"csr is required"}]}`)), 1, false, true, false},
		{"an unreadable success is outcome-unknown", script(status(201, `<html>ok</html>`)), 1, false, false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeAPI(t, tc.handler)
			err := reissue(f.client(t))
			if (err == nil) != tc.ok {
				t.Fatalf("err = %v, want ok=%v", err, tc.ok)
			}
			if got := len(f.requests()); got != tc.calls {
				t.Errorf("%d calls, want %d", got, tc.calls)
			}
			if err == nil {
				return
			}
			if certcentral.NothingCreated(err) != tc.nothing || certcentral.OutcomeUnknown(err) != tc.lost {
				t.Errorf("NothingCreated %v OutcomeUnknown %v for %v", certcentral.NothingCreated(err), certcentral.OutcomeUnknown(err), err)
			}
		})
	}

	f := newFakeAPI(t, script(issued))
	c := f.client(t)
	for _, bad := range []func() error{
		func() error { _, err := c.Reissue(context.Background(), 0, reissueBody); return err },
		func() error { _, err := c.Reissue(context.Background(), 1001, []byte("{")); return err },
		func() error { _, err := c.ListReissues(context.Background(), -1); return err },
	} {
		var be *certcentral.BuildError
		if err := bad(); !errors.As(err, &be) || !certcentral.NothingCreated(err) {
			t.Errorf("want a BuildError, got %v", err)
		}
	}
	if n := len(f.requests()); n != 0 {
		t.Errorf("%d requests sent for invalid calls", n)
	}
}

func TestListReissuesParsesDefensively(t *testing.T) {
	f := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Method != "GET" || r.URL.Path != "/services/v2/order/certificate/1001/reissue" {
			t.Errorf("request %s %s", r.Method, r.URL.Path)
		}
		writeJSON(w, 200, `{"certificates":[
			{"id":3001,"thumbprint":"AA","serial_number":"0A","common_name":"a.example.com","dns_names":["a.example.com"],"status":"issued","date_created":"2026-03-01T12:00:00+00:00","date_issued":"2026-03-01T12:00:00+00:00","valid_till":"2026-09-16","days_remaining":"12","csr":"CSR1","key_size":2048,"receipt_id":0,"purchased_dns_names":1,"purchased_wildcard_names":"0","archived":"0"},
			{"id":3002,"common_name":"a.example.com","status":"pending","date_created":"2026-09-01 10:00:00","csr":"CSR2","receipt_id":"55501","purchased_dns_names":["c.example.com","d.example.com"]},
			{"id":3001,"serial_number":"0A","thumbprint":"AA","status":"issued"},
			{"id":3009,"serial_number":"0a","thumbprint":"aa","status":"issued"},
			{"id":3003,"status":"revocation_requested","unknown":{"x":[1]}}
		]}`)
	})
	got, err := f.client(t).ListReissues(context.Background(), 1001)
	if err != nil {
		t.Fatal(err)
	}
	want := []certcentral.ReissueCertificate{
		{ID: 3001, Thumbprint: "AA", SerialNumber: "0A", CommonName: "a.example.com", DNSNames: []string{"a.example.com"}, Status: "issued",
			DateCreated: "2026-03-01T12:00:00+00:00", DateIssued: "2026-03-01T12:00:00+00:00", ValidTill: "2026-09-16", CSR: "CSR1", KeySize: 2048,
			ReceiptID: "0", PurchasedDNSNames: 1},
		{ID: 3002, CommonName: "a.example.com", Status: "pending", DateCreated: "2026-09-01 10:00:00", CSR: "CSR2", ReceiptID: "55501", PurchasedDNSNames: 2},
		{ID: 3003, Status: "revocation_requested"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("reissues (-want +got):\n%s", diff)
	}
	if got[0].ReceiptID.Billed() || !got[1].ReceiptID.Billed() {
		t.Error("Billed: receipt 0 is free, another receipt is billed")
	}
	if end, ok := got[0].Expiry(); !ok || !end.Equal(time.Date(2026, 9, 17, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("Expiry = %s, %v", end, ok)
	}
}

func TestOrderPlanFields(t *testing.T) {
	var o certcentral.Order
	raw := `{"id":1001,"status":"issued","order_valid_from":"2026-03-01","order_valid_till":"2029-03-01","is_multi_year_plan":"1","auto_reissue":1,"auto_renew":"0",
		"last_reissued_date":"2026-09-01T10:00:00+00:00","dcv_random_value":"rnd",
		"certificate":{"id":3002,"valid_from":"2026-09-01","valid_till":"2027-03-19","days_remaining":199,"date_issued":"2026-09-01T10:00:00+00:00","csr":"CSR2"},
		"requests":[{"id":2001,"date":"2026-03-01T12:00:00+00:00","type":"new_request","status":"approved"},{"id":2002,"date":"2026-09-01T10:00:00+00:00","type":"reissue","status":"approved","comments":"rotate"}]}`
	if err := json.Unmarshal([]byte(raw), &o); err != nil {
		t.Fatal(err)
	}
	if !o.IsMultiYearPlan || !o.AutoReissue || o.AutoRenew || o.LastReissuedDate == "" || o.DCVRandomValue != "rnd" {
		t.Errorf("flags: %+v", o)
	}
	if o.Certificate.CSR != "CSR2" || o.Certificate.DateIssued == "" || o.Requests[1].Type != "reissue" || o.Requests[1].Comments != "rotate" || o.Requests[0].Date == "" {
		t.Errorf("certificate/requests: %+v %+v", o.Certificate, o.Requests)
	}
	if o.PendingReissue() {
		t.Error("PendingReissue with every request approved")
	}
	if end, ok := o.OrderEnd(); !ok || !end.Equal(time.Date(2029, 3, 2, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("OrderEnd = %s, %v (a bare date runs to the end of that day)", end, ok)
	}
	if end, ok := o.Certificate.Expiry(); !ok || !end.Equal(time.Date(2027, 3, 20, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("Expiry = %s, %v", end, ok)
	}

	for _, tc := range []struct {
		name string
		o    certcentral.Order
		want bool
	}{
		{"reissue_pending", certcentral.Order{Status: "reissue_pending"}, true},
		{"a pending reissue request", certcentral.Order{Status: "issued", Requests: []certcentral.Request{{Type: "reissue", Status: "pending"}}}, true},
		{"a submitted reissue request", certcentral.Order{Status: "issued", Requests: []certcentral.Request{{Type: "reissue", Status: "submitted"}}}, true},
		{"an unknown request status counts as pending", certcentral.Order{Status: "issued", Requests: []certcentral.Request{{Type: "reissue", Status: "on_hold"}}}, true},
		{"a rejected reissue", certcentral.Order{Status: "issued", Requests: []certcentral.Request{{Type: "reissue", Status: "rejected"}}}, false},
		{"a pending new request is not a reissue", certcentral.Order{Status: "needs_approval", Requests: []certcentral.Request{{Type: "new_request", Status: "pending"}}}, false},
		{"requests without a type", certcentral.Order{Status: "issued", Requests: []certcentral.Request{{Status: "pending"}}}, false},
	} {
		if got := tc.o.PendingReissue(); got != tc.want {
			t.Errorf("%s: PendingReissue = %v", tc.name, got)
		}
	}
	if certcentral.KnownStatus("on_hold") || !certcentral.KnownStatus("reissue_pending") {
		t.Error("KnownStatus")
	}
}

func TestLenientScalars(t *testing.T) {
	for in, want := range map[string]bool{`1`: true, `"1"`: true, `true`: true, `"true"`: true, `2`: true,
		`0`: false, `"0"`: false, `false`: false, `""`: false, `null`: false, `"maybe"`: false, `{}`: false} {
		var f certcentral.Flag
		if err := json.Unmarshal([]byte(in), &f); err != nil || bool(f) != want {
			t.Errorf("Flag %s = %v, %v; want %v", in, f, err, want)
		}
	}
	for in, want := range map[string]certcentral.Count{`3`: 3, `"3"`: 3, `["a","b"]`: 2, `[]`: 0, `null`: 0, `"x"`: 0, `-1`: 0, `{}`: 0} {
		var c certcentral.Count
		if err := json.Unmarshal([]byte(in), &c); err != nil || c != want {
			t.Errorf("Count %s = %d, %v; want %d", in, c, err, want)
		}
	}
	for in, want := range map[string]certcentral.LooseString{`"0"`: "0", `0`: "0", `12345`: "12345", `null`: "", `{}`: "", `true`: "true"} {
		var s certcentral.LooseString
		if err := json.Unmarshal([]byte(in), &s); err != nil || s != want {
			t.Errorf("LooseString %s = %q, %v; want %q", in, s, err, want)
		}
	}
	b, _ := json.Marshal(struct {
		A, B certcentral.Flag
	}{true, false})
	if string(b) != `{"A":1,"B":0}` {
		t.Errorf("Flag marshals as %s", b)
	}
}

func TestParseDates(t *testing.T) {
	utc := func(y int, m time.Month, d, h, mi, s int) time.Time { return time.Date(y, m, d, h, mi, s, 0, time.UTC) }
	for _, tc := range []struct {
		in       string
		want     time.Time
		dateOnly bool
		ok       bool
		till     time.Time
	}{
		{"2026-09-16", utc(2026, 9, 16, 0, 0, 0), true, true, utc(2026, 9, 17, 0, 0, 0)},
		{"2026-09-16T12:00:00+00:00", utc(2026, 9, 16, 12, 0, 0), false, true, utc(2026, 9, 16, 12, 0, 0)},
		{"2026-09-16T14:00:00+02:00", utc(2026, 9, 16, 12, 0, 0), false, true, utc(2026, 9, 16, 12, 0, 0)},
		{"2026-09-16T12:00:00Z", utc(2026, 9, 16, 12, 0, 0), false, true, utc(2026, 9, 16, 12, 0, 0)},
		{"2026-09-16 12:00:00", utc(2026, 9, 16, 12, 0, 0), false, true, utc(2026, 9, 16, 12, 0, 0)},
		{" 2026-09-16 ", utc(2026, 9, 16, 0, 0, 0), true, true, utc(2026, 9, 17, 0, 0, 0)},
		{"16 SEP 2026", time.Time{}, false, false, time.Time{}},
		{"", time.Time{}, false, false, time.Time{}},
	} {
		got, dateOnly, ok := certcentral.ParseDate(tc.in)
		if !got.Equal(tc.want) || dateOnly != tc.dateOnly || ok != tc.ok {
			t.Errorf("ParseDate(%q) = %s %v %v", tc.in, got, dateOnly, ok)
		}
		if till, ok := certcentral.ParseValidTill(tc.in); !till.Equal(tc.till) || ok != tc.ok {
			t.Errorf("ParseValidTill(%q) = %s %v", tc.in, till, ok)
		}
	}
}

func TestBuildReissueBody(t *testing.T) {
	order := map[string]any{
		"certificate": map[string]any{
			"common_name":        "a.example.com",
			"dns_names":          []string{"b.example.com"},
			"csr":                "-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----\n",
			"signature_hash":     "sha384",
			"server_platform":    map[string]any{"id": json.Number("2")},
			"ca_cert_id":         "ABC123",
			"cert_validity":      map[string]any{"days": 90},
			"organization_units": []any{"Web"},
		},
		"order_validity": map[string]any{"years": 3},
		"organization":   map[string]any{"id": 123456},
		"payment_method": "balance",
		"auto_reissue":   1,
		"skip_approval":  true,
	}
	got, err := certcentral.BuildReissueBody(order)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"certificate":{"ca_cert_id":"ABC123","common_name":"a.example.com","csr":"-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----\n","dns_names":["b.example.com"],"server_platform":{"id":2},"signature_hash":"sha384"},"skip_approval":true}`
	if string(got) != want {
		t.Errorf("body:\n got %s\nwant %s", got, want)
	}
	minimal := map[string]any{"certificate": map[string]any{"common_name": "a.example.com", "csr": "CSR"}}
	if got, err := certcentral.BuildReissueBody(minimal); err != nil || string(got) != `{"certificate":{"common_name":"a.example.com","csr":"CSR"}}` {
		t.Errorf("minimal: %s %v", got, err)
	}
	for name, bad := range map[string]map[string]any{
		"no certificate":     {"order_validity": map[string]any{"years": 1}},
		"no csr":             {"certificate": map[string]any{"common_name": "a.example.com"}},
		"blank common name":  {"certificate": map[string]any{"common_name": " ", "csr": "CSR"}},
		"skip_approval text": {"certificate": map[string]any{"common_name": "a", "csr": "CSR"}, "skip_approval": "yes"},
	} {
		var be *certcentral.BuildError
		if _, err := certcentral.BuildReissueBody(bad); !errors.As(err, &be) {
			t.Errorf("%s: %v, want a BuildError", name, err)
		}
	}
}

func TestSameCSR(t *testing.T) {
	a := "-----BEGIN CERTIFICATE REQUEST-----\nMIIBAAA\nBBBCCC\n-----END CERTIFICATE REQUEST-----\n"
	for _, b := range []string{
		"-----BEGIN CERTIFICATE REQUEST-----\r\nMIIBAAABBBCCC\r\n-----END CERTIFICATE REQUEST-----",
		"MIIBAAABBBCCC",
		`-----BEGIN CERTIFICATE REQUEST-----\nMIIBAAA\nBBBCCC\n-----END CERTIFICATE REQUEST-----`,
		"-----BEGIN NEW CERTIFICATE REQUEST-----\nMIIB AAA BBB\nCCC\n-----END NEW CERTIFICATE REQUEST-----",
	} {
		if !certcentral.SameCSR(a, b) {
			t.Errorf("SameCSR(%q) = false", strings.ReplaceAll(b, "\n", "|"))
		}
	}
	if certcentral.SameCSR(a, "MIIBAAABBBCCD") || certcentral.SameCSR("", "") {
		t.Error("SameCSR matched a different or empty CSR")
	}
}

func TestSetAutoReissueRequest(t *testing.T) {
	f := newFakeAPI(t, func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(204) })
	c := f.client(t)
	if err := c.SetAutoReissue(context.Background(), 1001, true); err != nil {
		t.Fatal(err)
	}
	if err := c.SetAutoReissue(context.Background(), 1001, false); err != nil {
		t.Fatal(err)
	}
	reqs := f.requests()
	if len(reqs) != 2 || reqs[0].Method != "PUT" || reqs[0].Path != "/services/v2/order/certificate/1001/auto-reissue" ||
		string(reqs[0].Body) != `{"auto_reissue":1}` || string(reqs[1].Body) != `{"auto_reissue":0}` {
		t.Errorf("requests: %+v", reqs)
	}
	var be *certcentral.BuildError
	if err := c.SetAutoReissue(context.Background(), 0, true); !errors.As(err, &be) {
		t.Errorf("order id 0: %v", err)
	}
}
