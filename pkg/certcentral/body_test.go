package certcentral_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/certplan/certplan/pkg/certcentral"
	"github.com/certplan/certplan/pkg/spec"
)

var update = flag.Bool("update", false, "rewrite testdata golden files")

// Test-only payment data (a public test card number). Tests assert these never
// reach errors or logs.
const (
	testCardNumber = "4111111111111111"
	testCardCVV    = "9731"
)

const testCSR = "-----BEGIN CERTIFICATE REQUEST-----\nMIICvDCCAaQCAQAwdzELMAkGA1UEBhMCVVMxDTALBgNVBAgMBFV0YWgxDzANBgNV\n-----END CERTIFICATE REQUEST-----\n"

func cardSecrets(t *testing.T) {
	t.Setenv("CP_TEST_CARD_NUMBER", testCardNumber)
	t.Setenv("CP_TEST_CARD_CVV", testCardCVV)
}

func envSecret(name string) spec.Secret { return spec.Secret{Ref: spec.SecretRef{Env: name}} }

// bodyExample is a representative validated manifest order for one product,
// shaped as pkg/spec produces it (YAML ints are int, lists []any, secrets spec.Secret).
type bodyExample struct {
	order     map[string]any
	altID     string
	renewalOf int64
}

func bodyExamples() map[spec.Product]bodyExample {
	const alt = "cp3f1d0b6a9e2c4f5a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f"
	return map[spec.Product]bodyExample{
		spec.SecureSiteFlex: {altID: alt, order: map[string]any{
			"certificate": map[string]any{
				"common_name":     "shop.example.com",
				"dns_names":       []any{"www.shop.example.com", "shop.example.com"},
				"csr":             testCSR,
				"signature_hash":  "sha256",
				"server_platform": map[string]any{"id": -1},
				"cert_validity":   map[string]any{"days": 199},
			},
			"order_validity":                map[string]any{"years": 1},
			"organization":                  map[string]any{"id": 123456},
			"comments":                      "Ordered by certplan for <web> & friends",
			"auto_renew":                    0,
			"disable_renewal_notifications": true,
			"additional_emails":             []any{"ops@example.com"},
			"dcv_method":                    "dns-txt-token",
			"skip_approval":                 true,
			"container":                     map[string]any{"id": json.Number("7")},
			"custom_fields":                 []any{map[string]any{"metadata_id": float64(12), "value": "cost-center-42"}},
			"technical_contact":             map[string]any{"first_name": "Grace", "last_name": "Hopper", "email": "grace@example.com"},
			"payment_method":                "card",
			"credit_card": map[string]any{
				"number":           envSecret("CP_TEST_CARD_NUMBER"),
				"cvv":              envSecret("CP_TEST_CARD_CVV"),
				"expiration_month": "08",
				"expiration_year":  2027,
				"cardholder_name":  "Ada Lovelace",
			},
			"billing_address": map[string]any{"address": "1 Main St", "city": "Lehi", "state": "UT", "country": "us", "zip": "84043"},
		}},
		spec.PrivateSSLFlex: {altID: alt, renewalOf: 987654, order: map[string]any{
			"certificate": map[string]any{
				"common_name":    "intranet.corp.example",
				"dns_names":      []any{"wiki.corp.example"},
				"csr":            testCSR,
				"signature_hash": "sha384",
			},
			"order_validity": map[string]any{"years": 2},
			"organization":   map[string]any{"id": 654321},
			"payment_method": "balance",
		}},
		spec.PrivateSSLPlus: {altID: alt, order: map[string]any{
			"certificate":    map[string]any{"common_name": "plus.corp.example", "csr": testCSR, "signature_hash": "sha256"},
			"order_validity": map[string]any{"days": 365},
			"organization":   map[string]any{"id": 654321},
		}},
		spec.PrivateSSLWildcard: {altID: alt, order: map[string]any{
			"certificate":    map[string]any{"common_name": "*.corp.example", "csr": testCSR, "signature_hash": "sha256", "server_platform": map[string]any{"id": 2}},
			"order_validity": map[string]any{"years": 1},
			"organization":   map[string]any{"id": 654321},
			"auto_renew":     1,
		}},
		spec.PrivateSSLMultiDomain: {altID: alt, order: map[string]any{
			"certificate": map[string]any{
				"common_name":        "a.corp.example",
				"dns_names":          []any{"b.corp.example", "c.corp.example"},
				"csr":                testCSR,
				"signature_hash":     "sha512",
				"organization_units": []any{"Platform"},
				"ca_cert_id":         "ABCDEF0123",
			},
			"order_validity": map[string]any{"years": 3},
			"organization":   map[string]any{"id": 654321},
			"payment_method": "profile",
			"disable_ct":     false,
		}},
		spec.DocumentSigningOrg1: {altID: alt, order: map[string]any{
			"certificate":            map[string]any{"csr": testCSR, "signature_hash": "sha256"},
			"cs_provisioning_method": "email",
			"use_org_as_common_name": false,
			"order_validity":         map[string]any{"years": 1},
			"organization":           map[string]any{"id": 123456},
			"subject":                map[string]any{"name": "Ada Lovelace", "job_title": "Signer", "phone": "555-0100", "email": "ada@example.com"},
		}},
		spec.DocumentSigningOrg2: {altID: alt, order: map[string]any{
			"certificate":            map[string]any{"signature_hash": "sha256"},
			"cs_provisioning_method": "ship_token",
			"order_validity":         map[string]any{"years": 3},
			"organization":           map[string]any{"id": 123456},
			"subject":                map[string]any{"name": "Ada Lovelace", "job_title": "Signer", "phone": "555-0100", "email": "ada@example.com"},
			"ship_info":              map[string]any{"name": "Ada Lovelace", "addr1": "1 Main St", "city": "Lehi", "state": "UT", "zip": "84043", "country": "us", "method": "standard"},
			"user_id_assignments":    []any{101, 102},
		}},
		spec.LegacySSL: {order: map[string]any{
			"csr":                   testCSR,
			"validity":              2,
			"common_name":           "www.example.com",
			"sans":                  []any{"example.com", "shop.example.com"},
			"server_type":           -1,
			"org_name":              "Tampa Bay Cray LLC",
			"org_addr1":             "1234 Sesame Street",
			"org_city":              "Tampa",
			"org_state":             "FL",
			"org_zip":               "33615",
			"org_country":           "us",
			"org_contact_firstname": "Joe",
			"org_contact_lastname":  "Bloggs",
			"org_contact_email":     "joe@example.com",
			"org_contact_telephone": "555-123-1234",
			"ev":                    false,
		}},
	}
}

// buildExample renders the body the client sends for an example.
func buildExample(t *testing.T, p spec.Product, ex bodyExample) []byte {
	t.Helper()
	if p.IsLegacy() {
		// v1 bodies are encoded by PlaceLegacyOrder: capture what goes on the wire.
		flat, err := certcentral.BuildLegacyBody(ex.order)
		if err != nil {
			t.Fatalf("BuildLegacyBody: %v", err)
		}
		api := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 201, `{"order_id":1}`) })
		if _, err := api.client(t).PlaceLegacyOrder(context.Background(), flat); err != nil {
			t.Fatalf("PlaceLegacyOrder: %v", err)
		}
		return api.requests()[0].Body
	}
	b, err := certcentral.BuildOrderBody(p, ex.order, ex.altID, ex.renewalOf)
	if err != nil {
		t.Fatalf("BuildOrderBody: %v", err)
	}
	return b
}

func goldenPath(p spec.Product) string { return filepath.Join("testdata", "bodies", string(p)+".json") }

// TestGoldenBodies is the contract test: the exact JSON sent for each product
// equals the reviewed golden body (stored indented; compared compacted, so
// key order, number literals and types must match byte for byte).
func TestGoldenBodies(t *testing.T) {
	cardSecrets(t)
	examples := bodyExamples()
	for _, p := range spec.Products() {
		t.Run(string(p), func(t *testing.T) {
			ex, ok := examples[p]
			if !ok {
				t.Fatalf("no example order for product %s", p)
			}
			got := buildExample(t, p, ex)
			path := goldenPath(p)
			if *update {
				var pretty bytes.Buffer
				if err := json.Indent(&pretty, got, "", "  "); err != nil {
					t.Fatal(err)
				}
				pretty.WriteByte('\n')
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, pretty.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			golden, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("read golden (run with -update to create): %v", err)
			}
			var want bytes.Buffer
			if err := json.Compact(&want, golden); err != nil {
				t.Fatalf("golden %s: %v", path, err)
			}
			if !bytes.Equal(got, want.Bytes()) {
				t.Errorf("body differs from %s (run go test -update after checking the docs)\n got: %s\nwant: %s", path, got, want.Bytes())
			}
		})
	}
}

// TestGoldenBodiesUseDocumentedFields checks every key of every golden body
// against the field list and JSON type of the product's reference page.
func TestGoldenBodiesUseDocumentedFields(t *testing.T) {
	for _, p := range spec.Products() {
		t.Run(string(p), func(t *testing.T) {
			fam, _ := p.Family()
			fields := documentedFields[fam]
			if fields == nil {
				t.Fatalf("no documented field list for family %s", fam)
			}
			data, err := os.ReadFile(goldenPath(p))
			if err != nil {
				t.Fatal(err)
			}
			dec := json.NewDecoder(bytes.NewReader(data))
			dec.UseNumber()
			var body map[string]any
			if err := dec.Decode(&body); err != nil {
				t.Fatal(err)
			}
			walkJSON("", body, func(path string, v any) {
				want, ok := fields[path]
				if !ok {
					t.Errorf("%s: not a documented request field of %s", path, fam)
					return
				}
				if got := kindOf(v); got != want {
					t.Errorf("%s: JSON %s, the docs say %s", path, got, want)
				}
			})
		})
	}
}

func walkJSON(path string, v any, visit func(string, any)) {
	switch t := v.(type) {
	case map[string]any:
		for k, c := range t {
			p := k
			if path != "" {
				p = path + "." + k
			}
			visit(p, c)
			walkJSON(p, c, visit)
		}
	case []any:
		for _, c := range t {
			visit(path+"[]", c)
			walkJSON(path+"[]", c, visit)
		}
	}
}

func kindOf(v any) string {
	switch t := v.(type) {
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case string:
		return "string"
	case bool:
		return "bool"
	case json.Number:
		if _, err := t.Int64(); err == nil {
			return "int"
		}
		return "number"
	case nil:
		return "null"
	}
	return "unknown"
}

func TestBuildOrderBodyNumbers(t *testing.T) {
	order := map[string]any{
		"order_validity": map[string]any{"years": json.Number("3")},
		"organization":   map[string]any{"id": float64(123456)},
		"container":      map[string]any{"id": uint32(9)},
		"auto_renew":     int8(1),
		"validity_years": int64(2),
		"ratio":          1.5,
		"big":            json.Number("12345678901234"),
	}
	got, err := certcentral.BuildOrderBody(spec.SecureSiteFlex, order, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"auto_renew":1,"big":12345678901234,"container":{"id":9},"order_validity":{"years":3},"organization":{"id":123456},"ratio":1.5,"validity_years":2}`
	if string(got) != want {
		t.Errorf("body\n got %s\nwant %s", got, want)
	}
}

func TestBuildOrderBodySecrets(t *testing.T) {
	cardSecrets(t)
	dir := t.TempDir()
	cvvFile := filepath.Join(dir, "cvv")
	if err := os.WriteFile(cvvFile, []byte(testCardCVV+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	order := map[string]any{
		"payment_method": "card",
		"credit_card": map[string]any{
			"number":           envSecret("CP_TEST_CARD_NUMBER"),
			"cvv":              &spec.Secret{Ref: spec.SecretRef{File: cvvFile}},
			"expiration_month": envSecret("CP_TEST_EXP_MONTH"),
			"expiration_year":  "2027",
		},
	}
	t.Setenv("CP_TEST_EXP_MONTH", "09")
	got, err := certcentral.BuildOrderBody(spec.PrivateSSLFlex, order, "cpabc", 0)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"alternative_order_id":"cpabc","credit_card":{"cvv":9731,"expiration_month":9,"expiration_year":2027,"number":"4111111111111111"},"payment_method":"card"}`
	if string(got) != want {
		t.Errorf("body\n got %s\nwant %s", got, want)
	}
	// The input keeps its references: secrets are resolved into a copy.
	if _, ok := order["credit_card"].(map[string]any)["number"].(spec.Secret); !ok {
		t.Error("BuildOrderBody replaced the secret reference in its input")
	}
}

func TestBuildOrderBodyErrors(t *testing.T) {
	t.Setenv("CP_TEST_BAD_CVV", "97x1")
	t.Setenv("CP_TEST_CARD_NUMBER", testCardNumber)
	tests := []struct {
		name      string
		product   spec.Product
		order     map[string]any
		alt       string
		renewal   int64
		wantField string
		wantIn    string
	}{
		{name: "secret not set", order: map[string]any{"credit_card": map[string]any{"number": envSecret("CP_TEST_UNSET_VAR")}},
			wantField: "credit_card.number", wantIn: "CP_TEST_UNSET_VAR"},
		{name: "secret file missing", order: map[string]any{"credit_card": map[string]any{"cvv": spec.Secret{Ref: spec.SecretRef{File: "/nonexistent/cvv"}}}},
			wantField: "credit_card.cvv", wantIn: "/nonexistent/cvv"},
		{name: "cvv not a number", order: map[string]any{"credit_card": map[string]any{"number": envSecret("CP_TEST_CARD_NUMBER"), "cvv": envSecret("CP_TEST_BAD_CVV")}},
			wantField: "credit_card.cvv", wantIn: "must be an integer"},
		{name: "expiration month a float", order: map[string]any{"credit_card": map[string]any{"expiration_month": 8.5}},
			wantField: "credit_card.expiration_month", wantIn: "must be an integer"},
		{name: "legacy product", product: spec.LegacySSL, order: map[string]any{}, wantField: "product"},
		{name: "alternative_order_id in order", order: map[string]any{"alternative_order_id": "x"}, wantField: "alternative_order_id"},
		{name: "alternative id not alphanumeric", order: map[string]any{}, alt: "cp-123", wantField: "alternative_order_id"},
		{name: "alternative id too long", order: map[string]any{}, alt: strings.Repeat("a", 65), wantField: "alternative_order_id"},
		{name: "negative renewal", order: map[string]any{}, renewal: -1, wantField: "renewal_of_order_id"},
		{name: "unsupported type", order: map[string]any{"certificate": map[string]any{"dns_names": []any{struct{}{}}}}, wantField: "certificate.dns_names[0]"},
		{name: "not finite", order: map[string]any{"x": json.Number("1e999")}, wantField: "x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := tt.product
			if p == "" {
				p = spec.SecureSiteFlex
			}
			_, err := certcentral.BuildOrderBody(p, tt.order, tt.alt, tt.renewal)
			var be *certcentral.BuildError
			if !errors.As(err, &be) {
				t.Fatalf("err = %v, want *BuildError", err)
			}
			if be.Field != tt.wantField {
				t.Errorf("field %q, want %q (err %v)", be.Field, tt.wantField, err)
			}
			if !strings.Contains(err.Error(), tt.wantIn) {
				t.Errorf("error %q does not mention %q", err, tt.wantIn)
			}
			if !certcentral.NothingCreated(err) {
				t.Error("a build error must count as nothing created")
			}
			for _, secret := range []string{testCardNumber, "97x1"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error shows a secret value: %v", err)
				}
			}
		})
	}
}

func TestBuildOrderBodyRenewalMatchingOrderIsKept(t *testing.T) {
	got, err := certcentral.BuildOrderBody(spec.PrivateSSLFlex, map[string]any{"renewal_of_order_id": 42}, "", 42)
	if err != nil || string(got) != `{"renewal_of_order_id":42}` {
		t.Errorf("got %s, %v", got, err)
	}
}

func TestBuildLegacyBody(t *testing.T) {
	got, err := certcentral.BuildLegacyBody(map[string]any{
		"validity":    2,
		"ev":          true,
		"sans":        []any{"a.example.com", "b.example.com"},
		"server_type": json.Number("-1"),
		"org_zip":     float64(33615),
		"org_unit":    nil,
		"common_name": "www.example.com",
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"validity": "2", "ev": "true", "sans": "a.example.com,b.example.com", "server_type": "-1", "org_zip": "33615", "common_name": "www.example.com"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	for name, order := range map[string]map[string]any{
		"nested object": {"org": map[string]any{"name": "x"}},
		"nested list":   {"sans": []any{[]any{"a"}}},
		"empty name":    {"": "x"},
	} {
		if _, err := certcentral.BuildLegacyBody(order); err == nil || !certcentral.NothingCreated(err) {
			t.Errorf("%s: err = %v, want a build error", name, err)
		}
	}
}

func TestBuildOrderBodyIsDeterministic(t *testing.T) {
	cardSecrets(t)
	ex := bodyExamples()[spec.SecureSiteFlex]
	first := buildExample(t, spec.SecureSiteFlex, ex)
	for i := 0; i < 20; i++ {
		if got := buildExample(t, spec.SecureSiteFlex, ex); !bytes.Equal(got, first) {
			t.Fatalf("build %d differs:\n%s\n%s", i, got, first)
		}
	}
	var keys []string
	var body map[string]json.RawMessage
	_ = json.Unmarshal(first, &body)
	for k := range body {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for i := 1; i < len(keys); i++ {
		if bytes.Index(first, []byte(`"`+keys[i-1]+`":`)) > bytes.Index(first, []byte(`"`+keys[i]+`":`)) {
			t.Errorf("keys not sorted: %s before %s", keys[i], keys[i-1])
		}
	}
}

func TestBuildOrderBodyRenewalLink(t *testing.T) {
	tests := []struct {
		name    string
		product spec.Product
		order   map[string]any
		renewal int64
		want    any // nil: absent
	}{
		{"plan renewal sent", spec.SecureSiteFlex, map[string]any{}, 6, float64(6)},
		{"plan renewal wins over a manifest's first-order link", spec.PrivateSSLFlex, map[string]any{"renewal_of_order_id": 5}, 6, float64(6)},
		{"manifest link kept for a first order", spec.SecureSiteFlex, map[string]any{"renewal_of_order_id": 5}, 0, float64(5)},
		{"document signing renewals are not linked (undocumented field)", spec.DocumentSigningOrg1, map[string]any{}, 6, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := certcentral.BuildOrderBody(tt.product, tt.order, "", tt.renewal)
			if err != nil {
				t.Fatal(err)
			}
			var m map[string]any
			if err := json.Unmarshal(b, &m); err != nil {
				t.Fatal(err)
			}
			if got := m["renewal_of_order_id"]; got != tt.want {
				t.Errorf("renewal_of_order_id = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestBuildBodiesFollowTheDocsToTheLetter(t *testing.T) {
	t.Setenv("CVV_ZERO", "012")
	_, err := certcentral.BuildOrderBody(spec.SecureSiteFlex, map[string]any{
		"payment_method": "card",
		"credit_card":    map[string]any{"cvv": spec.Secret{Ref: spec.SecretRef{Env: "CVV_ZERO"}}},
	}, "", 0)
	var be *certcentral.BuildError
	if !errors.As(err, &be) || be.Field != "credit_card.cvv" || strings.Contains(err.Error(), "012") {
		t.Errorf("a CVV with a leading zero: err = %v, want a BuildError on credit_card.cvv that does not echo it", err)
	}

	b, err := certcentral.BuildOrderBody(spec.SecureSiteFlex, map[string]any{"renewed_thumbprint": strings.Repeat("a", 40)}, "", 42)
	if err != nil || strings.Contains(string(b), "renewed_thumbprint") || !strings.Contains(string(b), `"renewal_of_order_id":42`) {
		t.Errorf("a planned renewal must carry only its own link: %s (%v)", b, err)
	}

	legacy, err := certcentral.BuildLegacyBody(map[string]any{"org_country": "US"})
	if err != nil || legacy["org_country"] != "us" {
		t.Errorf("org_country = %q (%v), want the documented lowercase", legacy["org_country"], err)
	}
}
