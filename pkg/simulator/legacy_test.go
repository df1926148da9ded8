package simulator

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"slices"
	"sort"
	"testing"
	"time"
)

func TestLegacyOrder(t *testing.T) {
	s := newSim(t, Options{})
	r := s.v1("001007", testKey, legacyBody(t))
	if r.status != http.StatusCreated || r.header.Get("Content-Type") != contentV1 {
		t.Fatalf("v1 order: %d %s %s", r.status, r.header.Get("Content-Type"), r.body)
	}
	var out struct {
		OrderID int64 `json:"order_id"`
	}
	r.decode(t, &out)
	if out.OrderID == 0 {
		t.Fatalf("no order_id: %s", r.body)
	}

	// Visible through v2, without an alternative id.
	info := s.info(out.OrderID)
	if info.Product.NameID != "legacy_ssl" || info.AlternativeOrderID != "" || info.Status != "issued" {
		t.Errorf("v2 view of the v1 order: %+v", info)
	}
	if !slices.Equal(info.Certificate.DNSNames, []string{"legacy.example.com", "www.legacy.example.com"}) {
		t.Errorf("names %q", info.Certificate.DNSNames)
	}
	// validity "1": a one-year order and certificate.
	if info.OrderValidTill != "2027-03-01" || info.Certificate.ValidTill != "2027-03-01" {
		t.Errorf("validity: order till %s, certificate till %s", info.OrderValidTill, info.Certificate.ValidTill)
	}
	orders := s.s.Orders()
	if len(orders) != 1 || !orders[0].Legacy || orders[0].Body["org_name"] != "Tampa Bay Cray LLC" {
		t.Errorf("admin view: %+v", orders)
	}

	// validity "2": the certificate is capped at 397 days.
	r = s.v1("001007", testKey, edit(legacyBody(t), "validity", "2"))
	r.decode(t, &out)
	if info := s.info(out.OrderID); info.OrderValidTill != "2028-03-01" || info.Certificate.ValidTill != testNow.Add(397*24*time.Hour).Format("2006-01-02") {
		t.Errorf("validity 2: order till %s, certificate till %s", info.OrderValidTill, info.Certificate.ValidTill)
	}
}

func TestLegacyNamesFromCSR(t *testing.T) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	csr := makeCSR(k, "fromcsr.example.com", []string{"fromcsr.example.com", "alt.example.com"})
	s := newSim(t, Options{})
	r := s.v1("1", testKey, edit(edit(edit(legacyBody(t), "csr", csr), "common_name", nil), "sans", nil))
	var out struct {
		OrderID int64 `json:"order_id"`
	}
	r.decode(t, &out)
	info := s.info(out.OrderID)
	if info.Certificate.CommonName != "fromcsr.example.com" || !slices.Equal(info.Certificate.DNSNames, []string{"fromcsr.example.com", "alt.example.com"}) {
		t.Errorf("names decoded from the CSR: %q %q", info.Certificate.CommonName, info.Certificate.DNSNames)
	}
}

func TestLegacyValidation(t *testing.T) {
	b := legacyBody(t)
	tests := []struct {
		name   string
		body   any
		status int
		codes  []string
	}{
		{"missing org_name", edit(b, "org_name", nil), 400, []string{"required_param:org_name"}},
		{"missing csr and validity", edit(edit(b, "csr", nil), "validity", nil), 400, []string{"required_param:csr", "required_param:validity"}},
		{"validity 3", edit(b, "validity", "3"), 400, []string{"invalid_value:validity"}},
		{"validity as a number", edit(b, "validity", 1), 400, []string{"invalid_value:validity"}},
		{"unparseable csr", edit(b, "csr", "nope"), 400, []string{"csr_invalid_cannot_parse"}},
		{"country of three letters", edit(b, "org_country", "usa"), 400, []string{"invalid_value:org_country"}},
		{"bad contact email", edit(b, "org_contact_email", "joe"), 400, []string{"invalid_value:org_contact_email"}},
		{"ev without telephone and job title", edit(b, "ev", "true"), 400, []string{"required_param:org_contact_job_title", "required_param:telephone"}},
		{"ev value other than false means ev", edit(b, "ev", "yes"), 400, []string{"required_param:org_contact_job_title", "required_param:telephone"}},
		{"ev false", edit(b, "ev", "false"), 201, nil},
		{"ev with telephone and job title", edit(edit(edit(b, "ev", "true"), "telephone", "5551234"), "org_contact_job_title", "CTO"), 201, nil},
		{"uppercase country as in the sample", edit(b, "org_country", "US"), 201, nil},
		{"every required parameter missing", map[string]any{}, 400, func() []string {
			var out []string
			for _, k := range v1Required {
				out = append(out, "required_param:"+k)
			}
			sort.Strings(out)
			return out
		}()},
		{"malformed JSON", []byte(`{"csr":`), 400, []string{"bad_request_format"}},
	}
	s := newSim(t, Options{})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := s.v1("1", testKey, tc.body)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
			}
			if tc.status == http.StatusCreated {
				return
			}
			if ct := r.header.Get("Content-Type"); ct != contentV1Error {
				t.Errorf("content type %q, want %q", ct, contentV1Error)
			}
			var body struct {
				Errors []map[string]string `json:"errors"`
			}
			if err := json.Unmarshal(r.body, &body); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range body.Errors {
				if e["description"] == "" || e["message"] != "" {
					t.Errorf("v1 errors carry description, not message: %v", e)
				}
				got = append(got, e["code"])
			}
			sort.Strings(got)
			if !slices.Equal(got, tc.codes) {
				t.Errorf("codes %q, want %q", got, tc.codes)
			}
		})
	}

	// The v1 content type is required.
	r, err := s.send("POST", "/order/ssl", b, func(h http.Header) {
		h.Set("Content-Type", "application/json")
		(&http.Request{Header: h}).SetBasicAuth("1", testKey)
	})
	if err != nil || r.status != http.StatusUnsupportedMediaType {
		t.Errorf("application/json to v1: %d %v", r.status, err)
	}
}
