package simulator

import (
	"encoding/pem"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// validationCase is one request body and the answer the order pages imply.
type validationCase struct {
	name    string
	product string
	body    map[string]any
	raw     []byte // sent instead of body when set
	status  int
	codes   []string // error codes, any order; empty for success
}

func ok(name, product string, body map[string]any) validationCase {
	return validationCase{name: name, product: product, body: body, status: http.StatusCreated}
}

func bad(name, product string, body map[string]any, codes ...string) validationCase {
	return validationCase{name: name, product: product, body: body, status: http.StatusBadRequest, codes: codes}
}

// tamperedCSR is a CSR whose signature no longer verifies.
func tamperedCSR(t *testing.T) string {
	csr, _ := testCSR(t)
	b, _ := pem.Decode([]byte(csr))
	der := slices.Clone(b.Bytes)
	der[len(der)-3] ^= 0xff
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}))
}

func securesiteCases(t *testing.T) []validationCase {
	const p = "ssl_securesite_flex"
	b := secureSiteBody(t)
	newOrg := map[string]any{"name": "Example Inc", "address": "1 Main St", "city": "Lehi", "state": "UT", "zip": "84043", "country": "us", "telephone": "555-0100"}
	card := map[string]any{"number": "4111111111111111", "expiration_month": 12, "expiration_year": 2030, "cvv": 123, "cardholder_name": "Jane Doe"}
	billing := map[string]any{"address": "1 Main St", "city": "Lehi", "state": "UT", "zip": "84043", "country": "us"}
	noValidity := edit(b, "order_validity", nil)
	return []validationCase{
		ok("valid", p, b),
		ok("valid deprecated validity_years", p, edit(noValidity, "validity_years", 2)),
		ok("valid deprecated custom_expiration_date", p, edit(noValidity, "custom_expiration_date", "2027-01-15")),
		ok("valid order_validity days 1095", p, edit(b, "order_validity", map[string]any{"days": 1095})),
		ok("valid order_validity custom date", p, edit(b, "order_validity", map[string]any{"custom_expiration_date": "01 JUN 2027"})),
		ok("valid cert_validity days 90", p, edit(b, "certificate.cert_validity", map[string]any{"days": 90})),
		ok("valid cert_validity years 1 in a 2-year order", p, edit(edit(b, "certificate.cert_validity", map[string]any{"years": 1}), "order_validity.years", 2)),
		ok("valid cert_validity custom date", p, edit(b, "certificate.cert_validity", map[string]any{"custom_expiration_date": "01 JAN 2027"})),
		ok("valid new organization", p, edit(b, "organization", newOrg)),
		ok("valid card payment", p, edit(edit(edit(b, "payment_method", "card"), "credit_card", card), "billing_address", billing)),
		ok("valid alternative_order_id of 64 characters", p, edit(b, "alternative_order_id", strings.Repeat("a1", 32))),
		ok("valid order contacts", p, edit(edit(b, "organization_contact", map[string]any{"first_name": "A", "last_name": "B", "email": "a@example.com"}), "technical_contact", map[string]any{"first_name": "C", "last_name": "D", "email": "c@example.com", "telephone": "555"})),

		bad("missing certificate", p, edit(b, "certificate", nil), "required_param:certificate"),
		bad("missing common_name", p, edit(b, "certificate.common_name", nil), "required_param:certificate.common_name"),
		bad("blank common_name", p, edit(b, "certificate.common_name", "  "), "required_param:certificate.common_name"),
		bad("common_name is a URL", p, edit(b, "certificate.common_name", "https://www.example.com/"), "invalid_value:certificate.common_name"),
		bad("missing csr", p, edit(b, "certificate.csr", nil), "required_param:certificate.csr"),
		bad("unparseable csr", p, edit(b, "certificate.csr", "not a csr"), "csr_invalid_cannot_parse"),
		bad("csr with a broken signature", p, edit(b, "certificate.csr", tamperedCSR(t)), "csr_invalid_cannot_parse"),
		bad("missing signature_hash", p, edit(b, "certificate.signature_hash", nil), "required_param:certificate.signature_hash"),
		bad("signature_hash md5", p, edit(b, "certificate.signature_hash", "md5"), "invalid_value:certificate.signature_hash"),
		bad("server_platform id as string", p, edit(b, "certificate.server_platform.id", "2"), "invalid_value:certificate.server_platform.id"),
		bad("dns_names not an array", p, edit(b, "certificate.dns_names", "example.com"), "invalid_value:certificate.dns_names"),
		bad("dns_names item not a string", p, edit(b, "certificate.dns_names", []any{1}), "invalid_value:certificate.dns_names"),
		bad("no validity at all", p, noValidity, "required_param:order_validity"),
		bad("deprecated validity_days is private SSL only", p, edit(noValidity, "validity_days", 30), "required_param:order_validity"),
		bad("order_validity empty", p, edit(b, "order_validity", map[string]any{}), "required_param:order_validity.years"),
		bad("order_validity not an object", p, edit(b, "order_validity", 1), "invalid_value:order_validity"),
		bad("order_validity years 0", p, edit(b, "order_validity.years", 0), "invalid_value:order_validity.years"),
		bad("order_validity years 4", p, edit(b, "order_validity.years", 4), "invalid_value:order_validity.years"),
		bad("order_validity years as string", p, edit(b, "order_validity.years", "1"), "invalid_value:order_validity.years"),
		bad("order_validity years fractional", p, edit(b, "order_validity.years", 1.5), "invalid_value:order_validity.years"),
		bad("order_validity days 1096", p, edit(b, "order_validity", map[string]any{"days": 1096}), "invalid_value:order_validity.days"),
		bad("order custom date in the past", p, edit(b, "order_validity", map[string]any{"custom_expiration_date": "09 JUN 2025"}), "invalid_value:order_validity.custom_expiration_date"),
		bad("order custom date beyond three years", p, edit(b, "order_validity", map[string]any{"custom_expiration_date": "01 APR 2029"}), "invalid_value:order_validity.custom_expiration_date"),
		bad("order custom date in ISO format", p, edit(b, "order_validity", map[string]any{"custom_expiration_date": "2027-06-01"}), "invalid_value:order_validity.custom_expiration_date"),
		bad("deprecated validity_years 4", p, edit(noValidity, "validity_years", 4), "invalid_value:validity_years"),
		bad("deprecated custom_expiration_date in dd MMM yyyy", p, edit(noValidity, "custom_expiration_date", "01 JUN 2027"), "invalid_value:custom_expiration_date"),
		bad("cert_validity days 398", p, edit(b, "certificate.cert_validity", map[string]any{"days": 398}), "invalid_value:certificate.cert_validity.days"),
		bad("cert_validity years 2", p, edit(b, "certificate.cert_validity", map[string]any{"years": 2}), "invalid_value:certificate.cert_validity.years"),
		bad("cert_validity beyond the order", p, edit(edit(b, "order_validity", map[string]any{"days": 100}), "certificate.cert_validity", map[string]any{"days": 200}), "cert_validity_exceeds_order_validity"),
		bad("cert custom date beyond 397 days", p, edit(b, "certificate.cert_validity", map[string]any{"custom_expiration_date": "01 JUN 2027"}), "invalid_value:certificate.cert_validity.custom_expiration_date"),
		bad("missing organization", p, edit(b, "organization", nil), "required_param:organization"),
		bad("organization id as string", p, edit(b, "organization.id", "123456"), "invalid_value:organization.id"),
		bad("organization id 0", p, edit(b, "organization.id", 0), "invalid_value:organization.id"),
		bad("new organization incomplete", p, edit(b, "organization", map[string]any{"name": "Example Inc"}),
			"required_param:organization.address", "required_param:organization.city", "required_param:organization.country"),
		bad("new organization contact incomplete", p, edit(edit(b, "organization", newOrg), "organization.contacts", []any{map[string]any{"contact_type": "organization_contact", "first_name": "A"}}),
			"required_param:organization.contacts[0].email", "required_param:organization.contacts[0].job_title",
			"required_param:organization.contacts[0].last_name", "required_param:organization.contacts[0].telephone"),
		bad("card without card or billing address", p, edit(b, "payment_method", "card"), "required_param:credit_card", "required_param:billing_address"),
		bad("card with bad card fields", p, edit(edit(edit(b, "payment_method", "card"),
			"credit_card", map[string]any{"number": "12", "expiration_month": 13, "expiration_year": 30, "cvv": "123", "cardholder_name": ""}),
			"billing_address", map[string]any{}),
			"invalid_value:credit_card.number", "invalid_value:credit_card.expiration_month", "invalid_value:credit_card.expiration_year",
			"invalid_value:credit_card.cvv", "required_param:credit_card.cardholder_name",
			"required_param:billing_address.address", "required_param:billing_address.city", "required_param:billing_address.country"),
		bad("unknown payment method", p, edit(b, "payment_method", "bitcoin"), "invalid_value:payment_method"),
		bad("order contact without email", p, edit(b, "organization_contact", map[string]any{"first_name": "A", "last_name": "B"}), "required_param:organization_contact.email"),
		bad("alternative_order_id with a dash", p, edit(b, "alternative_order_id", "cp-123"), "invalid_value:alternative_order_id"),
		bad("alternative_order_id of 65 characters", p, edit(b, "alternative_order_id", strings.Repeat("a", 65)), "invalid_value:alternative_order_id"),
		bad("renewal of an unknown order", p, edit(b, "renewal_of_order_id", 99), "invalid_value:renewal_of_order_id"),
		bad("renewal of an unknown thumbprint", p, edit(b, "renewed_thumbprint", strings.Repeat("AB", 20)), "invalid_value:renewed_thumbprint"),
		bad("unknown dcv_method", p, edit(b, "dcv_method", "carrier-pigeon"), "invalid_value:dcv_method"),
		bad("auto_renew 2", p, edit(b, "auto_renew", 2), "invalid_value:auto_renew"),
		bad("additional_emails not emails", p, edit(b, "additional_emails", []any{"ops@example.com", "nope"}), "invalid_value:additional_emails[1]"),
		bad("every problem at once", p, edit(edit(edit(b, "certificate.csr", nil), "order_validity.years", 9), "payment_method", "bitcoin"),
			"invalid_value:order_validity.years", "invalid_value:payment_method", "required_param:certificate.csr"),
	}
}

func privateSSLCases(t *testing.T) []validationCase {
	b := privateSSLBody(t)
	var out []validationCase
	for _, p := range []string{"private_ssl_flex", "private_ssl_plus", "private_ssl_wildcard", "private_ssl_multi_domain"} {
		out = append(out, ok("valid", p, b))
	}
	const p = "private_ssl_plus"
	noValidity := edit(b, "order_validity", nil)
	return append(out,
		ok("valid deprecated validity_days", p, edit(noValidity, "validity_days", 30)),
		ok("valid deprecated validity_years", p, edit(noValidity, "validity_years", 3)),
		ok("valid order_validity days", p, edit(b, "order_validity", map[string]any{"days": 400})),
		bad("missing common_name", p, edit(b, "certificate.common_name", nil), "required_param:certificate.common_name"),
		bad("signature_hash sha1", p, edit(b, "certificate.signature_hash", "sha1"), "invalid_value:certificate.signature_hash"),
		bad("order_validity years 4", p, edit(b, "order_validity.years", 4), "invalid_value:order_validity.years"),
		bad("deprecated validity_days 0", p, edit(noValidity, "validity_days", 0), "invalid_value:validity_days"),
		bad("missing csr and organization", p, edit(edit(b, "certificate.csr", nil), "organization", nil), "required_param:certificate.csr", "required_param:organization"),
	)
}

func documentSigningCases(t *testing.T) []validationCase {
	b := documentSigningBody(t)
	noCSR := edit(b, "certificate.csr", nil)
	ship := map[string]any{"name": "Jane Doe", "addr1": "1 Main St", "city": "Lehi", "state": "UT", "zip": "84043", "country": "us", "method": "standard"}
	const p = "document_signing_org_2"
	return []validationCase{
		ok("valid", "document_signing_org_1", b),
		ok("valid", p, b),
		ok("valid ship_token without csr", p, edit(edit(noCSR, "cs_provisioning_method", "ship_token"), "ship_info", ship)),
		ok("valid without provisioning method or csr", p, edit(noCSR, "cs_provisioning_method", nil)),
		ok("valid deprecated validity_years 3", p, edit(edit(b, "order_validity", nil), "validity_years", 3)),
		ok("valid subject as common name", p, edit(b, "use_org_as_common_name", false)),
		bad("email provisioning without csr", p, noCSR, "required_param:certificate.csr"),
		bad("signature_hash sha384", p, edit(b, "certificate.signature_hash", "sha384"), "invalid_value:certificate.signature_hash"),
		bad("missing signature_hash", p, edit(b, "certificate.signature_hash", nil), "required_param:certificate.signature_hash"),
		bad("unknown provisioning method", p, edit(b, "cs_provisioning_method", "pigeon"), "invalid_value:cs_provisioning_method"),
		bad("missing subject", p, edit(b, "subject", nil), "required_param:subject"),
		bad("subject incomplete", p, edit(b, "subject", map[string]any{"name": "Jane Doe"}),
			"required_param:subject.email", "required_param:subject.job_title", "required_param:subject.phone"),
		bad("subject email invalid", p, edit(b, "subject.email", "jane"), "invalid_value:subject.email"),
		bad("order_validity days only", p, edit(b, "order_validity", map[string]any{"days": 30}), "required_param:order_validity.years"),
		bad("order_validity years 4", p, edit(b, "order_validity.years", 4), "invalid_value:order_validity.years"),
		bad("deprecated validity_years 4", p, edit(edit(b, "order_validity", nil), "validity_years", 4), "invalid_value:validity_years"),
		bad("no validity", p, edit(b, "order_validity", nil), "required_param:order_validity"),
		bad("ship_info incomplete", p, edit(b, "ship_info", map[string]any{"name": "Jane", "method": "overnight"}),
			"invalid_value:ship_info.method", "required_param:ship_info.addr1", "required_param:ship_info.city",
			"required_param:ship_info.country", "required_param:ship_info.state", "required_param:ship_info.zip"),
		bad("use_org_as_common_name as string", p, edit(b, "use_org_as_common_name", "yes"), "invalid_value:use_org_as_common_name"),
		bad("missing organization", p, edit(b, "organization", nil), "required_param:organization"),
		bad("missing certificate", p, edit(b, "certificate", nil), "required_param:certificate"),
	}
}

func requestFormatCases(t *testing.T) []validationCase {
	b := secureSiteBody(t)
	return []validationCase{
		{name: "unknown product", product: "ssl_plus", body: b, status: http.StatusNotFound, codes: []string{"not_found|product"}},
		{name: "legacy product is not a v2 product", product: "legacy_ssl", body: b, status: http.StatusNotFound, codes: []string{"not_found|product"}},
		{name: "malformed JSON", product: "ssl_securesite_flex", raw: []byte(`{"certificate":`), status: http.StatusBadRequest, codes: []string{"bad_request_format"}},
		{name: "JSON array", product: "ssl_securesite_flex", raw: []byte(`[]`), status: http.StatusBadRequest, codes: []string{"bad_request_format"}},
		{name: "JSON null", product: "ssl_securesite_flex", raw: []byte(`null`), status: http.StatusBadRequest, codes: []string{"bad_request_format"}},
		{name: "trailing data", product: "ssl_securesite_flex", raw: []byte(`{} {}`), status: http.StatusBadRequest, codes: []string{"bad_request_format"}},
	}
}

// TestValidationMatrix sends every case to a simulator and checks the status
// and the exact set of error codes; the full error bodies are golden.
func TestValidationMatrix(t *testing.T) {
	s := newSim(t, Options{})
	var cases []validationCase
	cases = append(cases, securesiteCases(t)...)
	cases = append(cases, privateSSLCases(t)...)
	cases = append(cases, documentSigningCases(t)...)
	cases = append(cases, requestFormatCases(t)...)

	var golden strings.Builder
	for _, tc := range cases {
		t.Run(tc.product+"/"+tc.name, func(t *testing.T) {
			var body any = tc.body
			if tc.raw != nil {
				body = tc.raw
			}
			r := s.do("POST", "/services/v2/order/certificate/"+tc.product, body)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
			}
			if tc.status == http.StatusCreated {
				var out orderResponse
				r.decode(t, &out)
				if out.ID == 0 || len(out.Requests) != 1 {
					t.Fatalf("success body lacks id or requests: %s", r.body)
				}
				return
			}
			want := slices.Sorted(slices.Values(tc.codes))
			if got := r.codes(t); !slices.Equal(got, want) {
				t.Errorf("codes %q, want %q", got, want)
			}
			if ct := r.header.Get("Content-Type"); ct != contentJSON {
				t.Errorf("Content-Type %q, want %q", ct, contentJSON)
			}
			fmt.Fprintf(&golden, "=== %s %s\n%d %s", tc.product, tc.name, r.status, r.body)
		})
	}
	checkGolden(t, "validation.golden", golden.String())
	// No rejected request may leave an order behind.
	created := 0
	for _, tc := range cases {
		if tc.status == http.StatusCreated {
			created++
		}
	}
	if got := len(s.s.Orders()); got != created {
		t.Errorf("%d orders stored, want %d (one per accepted case)", got, created)
	}
}

func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden %s: %v (run go test -update)", path, err)
	}
	if string(want) != got {
		t.Errorf("%s differs from the golden file (run go test -update and review the diff)\n--- got:\n%s", path, got)
	}
}
