package schemas

import (
	"errors"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v5"
	"go.yaml.in/yaml/v3"
)

// Complete, valid documents per family that the cases below edit.
var bases = map[string]string{
	"securesite": `
apiVersion: certplan/v1
kind: Certificate
metadata: {name: t}
spec:
  product: ssl_securesite_flex
  order:
    certificate: {common_name: a.example.com, csr: {file: a.csr}, signature_hash: sha256}
    order_validity: {years: 1}
    organization: {id: 1}
`,
	"private": `
apiVersion: certplan/v1
kind: Certificate
metadata: {name: t}
spec:
  product: private_ssl_flex
  order:
    certificate: {common_name: a.corp.example.com, csr: {file: a.csr}, signature_hash: sha256}
    order_validity: {years: 1}
    organization: {id: 1}
`,
	"docsign": `
apiVersion: certplan/v1
kind: Certificate
metadata: {name: t}
spec:
  product: document_signing_org_1
  order:
    certificate: {signature_hash: sha256}
    cs_provisioning_method: none
    order_validity: {years: 1}
    organization: {id: 1}
    subject: {name: Jane Doe, job_title: Signer, phone: "+1 555 0100", email: jane@example.com}
`,
	"legacy": `
apiVersion: certplan/v1
kind: Certificate
metadata: {name: t}
spec:
  product: legacy_ssl
  order:
    csr: {file: a.csr}
    validity: 1
    org_name: Example Corp
    org_addr1: 1 Main St
    org_city: Springfield
    org_state: UT
    org_zip: "84043"
    org_country: us
    org_contact_firstname: Joe
    org_contact_lastname: Bloggs
    org_contact_email: joe@example.com
    org_contact_telephone: "555-123-1234"
`,
	"defaults": `
apiVersion: certplan/v1
kind: Defaults
spec:
  products: [ssl_securesite_flex]
  renewBefore: 30d
  order:
    organization: {id: 1}
`,
}

// edit sets (or with del, removes) the value at a dotted path, creating objects on the way.
type edit struct {
	path string
	val  any
}

type del struct{}

func y(s string) any {
	var v any
	if err := yaml.Unmarshal([]byte(s), &v); err != nil {
		panic(err)
	}
	return v
}

func apply(doc map[string]any, e edit) {
	parts := strings.Split(e.path, ".")
	m := doc
	for _, p := range parts[:len(parts)-1] {
		next, ok := m[p].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[p] = next
		}
		m = next
	}
	last := parts[len(parts)-1]
	if _, ok := e.val.(del); ok {
		delete(m, last)
		return
	}
	m[last] = e.val
}

const card = `
payment_method: card
credit_card: {number: {env: CARD_NUMBER}, cvv: {file: /run/secrets/cvv}, expiration_month: 12, expiration_year: 2030, cardholder_name: Jane Doe}
billing_address: {address: 1 Main St, city: Springfield, country: us}
`

func TestCases(t *testing.T) {
	s := compile(t)["manifest.schema.json"]
	o := "spec.order."
	cases := []struct {
		name  string
		base  string
		edits []edit
		// wantAt is the instance location of an expected leaf error and wantKw
		// the end of its keyword location; wantAt "" with wantKw "" means valid.
		wantAt, wantKw string
	}{
		// valid documents
		{name: "securesite base", base: "securesite"},
		{name: "private base", base: "private"},
		{name: "private plus", base: "private", edits: []edit{{"spec.product", "private_ssl_plus"}}},
		{name: "private wildcard", base: "private", edits: []edit{{"spec.product", "private_ssl_wildcard"}, {o + "certificate.common_name", "*.corp.example.com"}}},
		{name: "private multi domain", base: "private", edits: []edit{{"spec.product", "private_ssl_multi_domain"}, {o + "certificate.dns_names", y("[b.corp.example.com, c.corp.example.com]")}}},
		{name: "docsign base", base: "docsign"},
		{name: "docsign org 2 by email with csr", base: "docsign", edits: []edit{{"spec.product", "document_signing_org_2"}, {o + "cs_provisioning_method", "email"}, {o + "certificate.csr", y("{file: a.csr}")}}},
		{name: "docsign ship_token with ship_info", base: "docsign", edits: []edit{{o + "cs_provisioning_method", "ship_token"}, {o + "ship_info", y("{name: Jane, addr1: 1 Main St, city: S, state: UT, zip: '84043', country: us, method: expedited}")}}},
		{name: "legacy base", base: "legacy"},
		{name: "legacy ev with telephone and title", base: "legacy", edits: []edit{{o + "ev", true}, {o + "telephone", "555 123 0000"}, {o + "org_contact_job_title", "CTO"}, {o + "sans", y("[b.example.com]")}, {o + "server_type", 2}}},
		{name: "defaults", base: "defaults"},
		{name: "defaults without products or metadata", base: "defaults", edits: []edit{{"spec.products", del{}}}},
		{name: "order_validity days 1095", base: "securesite", edits: []edit{{o + "order_validity", y("{days: 1095}")}}},
		{name: "order_validity date", base: "securesite", edits: []edit{{o + "order_validity", y("{custom_expiration_date: 09 JUN 2025}")}}},
		{name: "order_validity title-case date", base: "securesite", edits: []edit{{o + "order_validity", y("{custom_expiration_date: 09 Jun 2025}")}}},
		{name: "cert_validity", base: "securesite", edits: []edit{{o + "certificate.cert_validity", y("{years: 1, days: 397}")}}},
		{name: "inline pem", base: "securesite", edits: []edit{{o + "certificate.csr", "-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----\n"}}},
		{name: "card payment", base: "securesite", edits: []edit{{o + "payment_method", "card"}, {o + "credit_card", y(card).(map[string]any)["credit_card"]}, {o + "billing_address", y(card).(map[string]any)["billing_address"]}}},
		{name: "card month as reference", base: "private", edits: []edit{{o + "payment_method", "card"}, {o + "credit_card", y(card).(map[string]any)["credit_card"]}, {o + "credit_card.expiration_month", y("{env: CARD_MONTH}")}, {o + "billing_address", y(card).(map[string]any)["billing_address"]}}},
		{name: "new organization", base: "securesite", edits: []edit{{o + "organization", y("{name: Example Corp, address: 1 Main St, city: S, state: UT, zip: '84043', country: us, telephone: '555-0100', skip_duplicate_org_check: true, contacts: [{contact_type: organization_contact, user_id: 7}, {contact_type: technical_contact, first_name: A, last_name: B, job_title: C, telephone: '555', email: a@example.com}]}")}}},
		{name: "existing organization with ev approver", base: "securesite", edits: []edit{{o + "organization.contacts", y("[{contact_type: ev_approver, user_id: 9}]")}}},
		{name: "deprecated fields", base: "securesite", edits: []edit{{o + "validity_years", 2}, {o + "custom_expiration_date", "2025-06-09"}, {o + "certificate.organization_units", y("[IT]")}}},
		{name: "private deprecated fields", base: "private", edits: []edit{{o + "validity_days", 200}, {o + "custom_expiration_date", "2025-06-09"}}},
		{name: "renewal fields", base: "securesite", edits: []edit{{o + "renewal_of_order_id", 42}, {o + "renewed_thumbprint", strings.Repeat("aB", 20)}}},
		{name: "renewBefore compound", base: "securesite", edits: []edit{{"spec.renewBefore", "1d12h"}}},
		{name: "labels", base: "securesite", edits: []edit{{"metadata.labels", y("{team: web, app.kubernetes.io/name: shop}")}}},

		// envelope
		{"bad apiVersion", "securesite", []edit{{"apiVersion", "certplan/v2"}}, "/apiVersion", "const"},
		{"bad kind", "securesite", []edit{{"kind", "Order"}}, "/kind", "enum"},
		{"bad name", "securesite", []edit{{"metadata.name", "Bad_Name"}}, "/metadata/name", "pattern"},
		{"name too long", "securesite", []edit{{"metadata.name", strings.Repeat("a", 64)}}, "/metadata/name", "pattern"},
		{"certificate without metadata", "securesite", []edit{{"metadata", del{}}}, "", "required"},
		{"unknown top-level field", "securesite", []edit{{"status", "x"}}, "", "additionalProperties"},
		{"unknown spec field", "securesite", []edit{{"spec.renew_before", "30d"}}, "/spec", "additionalProperties"},
		{"label value not a string", "securesite", []edit{{"metadata.labels", y("{tier: 1}")}}, "/metadata/labels/tier", "type"},
		{"unknown product", "securesite", []edit{{"spec.product", "ssl_plus"}}, "/spec/product", "enum"},
		{"missing order", "securesite", []edit{{"spec.order", del{}}}, "/spec", "required"},
		{"renewBefore words", "securesite", []edit{{"spec.renewBefore", "30 days"}}, "/spec/renewBefore", "pattern"},
		{"renewBefore seconds", "securesite", []edit{{"spec.renewBefore", "30s"}}, "/spec/renewBefore", "pattern"},
		{"defaults unknown product", "defaults", []edit{{"spec.products", y("[ssl_plus]")}}, "/spec/products/0", "enum"},
		{"defaults order not an object", "defaults", []edit{{"spec.order", "x"}}, "/spec/order", "type"},
		{"defaults unknown field", "defaults", []edit{{"spec.product", "ssl_securesite_flex"}}, "/spec", "additionalProperties"},
		{"defaults alternative_order_id", "defaults", []edit{{"spec.order.alternative_order_id", "x"}}, "/spec/order/alternative_order_id", "not"},

		// securesite
		{"unknown order field", "securesite", []edit{{o + "colour", "blue"}}, "/spec/order", "additionalProperties"},
		{"unknown certificate field", "securesite", []edit{{o + "certificate.cn", "a"}}, "/spec/order/certificate", "additionalProperties"},
		{"missing csr", "securesite", []edit{{o + "certificate.csr", del{}}}, "/spec/order/certificate", "required"},
		{"missing organization", "securesite", []edit{{o + "organization", del{}}}, "/spec/order", "required"},
		{"missing order_validity", "securesite", []edit{{o + "order_validity", del{}}}, "/spec/order", "required"},
		{"years 4", "securesite", []edit{{o + "order_validity.years", 4}}, "/spec/order/order_validity/years", "maximum"},
		{"years 0", "securesite", []edit{{o + "order_validity.years", 0}}, "/spec/order/order_validity/years", "minimum"},
		{"days 1096", "securesite", []edit{{o + "order_validity", y("{days: 1096}")}}, "/spec/order/order_validity/days", "maximum"},
		{"empty order_validity", "securesite", []edit{{o + "order_validity", y("{}")}}, "/spec/order/order_validity", "required"},
		{"iso date in order_validity", "securesite", []edit{{o + "order_validity", y("{custom_expiration_date: '2025-06-09'}")}}, "/spec/order/order_validity/custom_expiration_date", "pattern"},
		{"one-digit day", "securesite", []edit{{o + "order_validity", y("{custom_expiration_date: 9 JUN 2025}")}}, "/spec/order/order_validity/custom_expiration_date", "pattern"},
		{"deprecated date in new format", "securesite", []edit{{o + "custom_expiration_date", "09 JUN 2025"}}, "/spec/order/custom_expiration_date", "pattern"},
		{"validity_years 4", "securesite", []edit{{o + "validity_years", 4}}, "/spec/order/validity_years", "maximum"},
		{"cert_validity years 2", "securesite", []edit{{o + "certificate.cert_validity", y("{years: 2}")}}, "/spec/order/certificate/cert_validity/years", "const"},
		{"cert_validity days 398", "securesite", []edit{{o + "certificate.cert_validity", y("{days: 398}")}}, "/spec/order/certificate/cert_validity/days", "maximum"},
		{"signature_hash md5", "securesite", []edit{{o + "certificate.signature_hash", "md5"}}, "/spec/order/certificate/signature_hash", "enum"},
		{"auto_renew 2", "securesite", []edit{{o + "auto_renew", 2}}, "/spec/order/auto_renew", "enum"},
		{"auto_reissue boolean", "securesite", []edit{{o + "auto_reissue", true}}, "/spec/order/auto_reissue", "type"},
		{"guest access 5", "securesite", []edit{{o + "enable_guest_access", 5}}, "/spec/order/enable_guest_access", "enum"},
		{"dcv_method", "securesite", []edit{{o + "dcv_method", "dns"}}, "/spec/order/dcv_method", "enum"},
		{"bad common_name", "securesite", []edit{{o + "certificate.common_name", "bad name!"}}, "/spec/order/certificate/common_name", "pattern"},
		{"duplicate dns_names", "securesite", []edit{{o + "certificate.dns_names", y("[b.example.com, b.example.com]")}}, "/spec/order/certificate/dns_names", "uniqueItems"},
		{"bad email", "securesite", []edit{{o + "additional_emails", y("[not-an-email]")}}, "/spec/order/additional_emails/0", "pattern"},
		{"csr not pem", "securesite", []edit{{o + "certificate.csr", "MIIB..."}}, "/spec/order/certificate/csr", "pattern"},
		{"csr wrong key", "securesite", []edit{{o + "certificate.csr", y("{path: a.csr}")}}, "/spec/order/certificate/csr", "required"},
		{"bad thumbprint", "securesite", []edit{{o + "renewed_thumbprint", "abc"}}, "/spec/order/renewed_thumbprint", "pattern"},
		{"renewal_of_order_id 0", "securesite", []edit{{o + "renewal_of_order_id", 0}}, "/spec/order/renewal_of_order_id", "minimum"},
		{"alternative_order_id securesite", "securesite", []edit{{o + "alternative_order_id", "mine"}}, "/spec/order/alternative_order_id", "not"},
		{"alternative_order_id private", "private", []edit{{o + "alternative_order_id", "mine"}}, "/spec/order/alternative_order_id", "not"},
		{"alternative_order_id docsign", "docsign", []edit{{o + "alternative_order_id", "mine"}}, "/spec/order/alternative_order_id", "not"},
		{"alternative_order_id legacy", "legacy", []edit{{o + "alternative_order_id", "mine"}}, "/spec/order/alternative_order_id", "not"},

		// payment
		{"card without card details", "securesite", []edit{{o + "payment_method", "card"}}, "/spec/order", "required"},
		{"unknown payment method", "securesite", []edit{{o + "payment_method", "cash"}}, "/spec/order/payment_method", "enum"},
		{"literal card number", "securesite", []edit{{o + "payment_method", "card"}, {o + "credit_card", y(card).(map[string]any)["credit_card"]}, {o + "credit_card.number", "4111111111111111"}, {o + "billing_address", y(card).(map[string]any)["billing_address"]}}, "/spec/order/credit_card/number", "type"},
		{"literal cvv", "docsign", []edit{{o + "credit_card", y(card).(map[string]any)["credit_card"]}, {o + "credit_card.cvv", 123}}, "/spec/order/credit_card/cvv", "type"},
		{"secret ref with env and file", "private", []edit{{o + "credit_card", y(card).(map[string]any)["credit_card"]}, {o + "credit_card.number", y("{env: A, file: b}")}}, "/spec/order/credit_card/number", "maxProperties"},
		{"empty secret ref", "private", []edit{{o + "credit_card", y(card).(map[string]any)["credit_card"]}, {o + "credit_card.number", y("{}")}}, "/spec/order/credit_card/number", "minProperties"},
		{"bad env name", "private", []edit{{o + "credit_card", y(card).(map[string]any)["credit_card"]}, {o + "credit_card.number", y("{env: 1BAD}")}}, "/spec/order/credit_card/number/env", "pattern"},
		{"month 13", "securesite", []edit{{o + "credit_card", y(card).(map[string]any)["credit_card"]}, {o + "credit_card.expiration_month", 13}}, "/spec/order/credit_card/expiration_month", "maximum"},
		{"billing without city", "securesite", []edit{{o + "billing_address", y("{address: 1 Main St, country: us}")}}, "/spec/order/billing_address", "required"},

		// organization and contacts
		{"organization id with details", "securesite", []edit{{o + "organization.name", "Example"}}, "/spec/order/organization", "additionalProperties"},
		{"organization id 0", "securesite", []edit{{o + "organization.id", 0}}, "/spec/order/organization/id", "minimum"},
		{"new organization without telephone", "securesite", []edit{{o + "organization", y("{name: Example Corp, address: 1 Main St, city: S, state: UT, zip: '84043', country: us}")}}, "/spec/order/organization", "required"},
		{"new contact without email", "securesite", []edit{{o + "organization.contacts", y("[{contact_type: technical_contact, first_name: A, last_name: B, job_title: C, telephone: '555'}]")}}, "/spec/order/organization/contacts/0", "required"},
		{"order contact without email", "private", []edit{{o + "technical_contact", y("{first_name: A, last_name: B}")}}, "/spec/order/technical_contact", "required"},
		{"numeric telephone", "private", []edit{{o + "technical_contact", y("{first_name: A, last_name: B, email: a@example.com, telephone: 5550100}")}}, "/spec/order/technical_contact/telephone", "type"},

		// private SSL
		{"private cert_validity", "private", []edit{{o + "certificate.cert_validity", y("{years: 1}")}}, "/spec/order/certificate", "additionalProperties"},
		{"private dcv_method", "private", []edit{{o + "dcv_method", "email"}}, "/spec/order", "additionalProperties"},
		{"private validity_days 0", "private", []edit{{o + "validity_days", 0}}, "/spec/order/validity_days", "minimum"},
		{"private years 4", "private", []edit{{o + "order_validity.years", 4}}, "/spec/order/order_validity/years", "maximum"},

		// document signing
		{"docsign sha384", "docsign", []edit{{o + "certificate.signature_hash", "sha384"}}, "/spec/order/certificate/signature_hash", "const"},
		{"docsign without subject", "docsign", []edit{{o + "subject", del{}}}, "/spec/order", "required"},
		{"docsign subject without phone", "docsign", []edit{{o + "subject.phone", del{}}}, "/spec/order/subject", "required"},
		{"docsign email without csr", "docsign", []edit{{o + "cs_provisioning_method", "email"}}, "/spec/order/certificate", "required"},
		{"docsign provisioning fax", "docsign", []edit{{o + "cs_provisioning_method", "fax"}}, "/spec/order/cs_provisioning_method", "enum"},
		{"docsign ship overnight", "docsign", []edit{{o + "ship_info", y("{name: J, addr1: 1 Main St, city: S, state: UT, zip: '1', country: us, method: overnight}")}}, "/spec/order/ship_info/method", "enum"},
		{"docsign validity in days", "docsign", []edit{{o + "order_validity", y("{days: 30}")}}, "/spec/order/order_validity", "additionalProperties"},
		{"docsign common_name", "docsign", []edit{{o + "certificate.common_name", "a.example.com"}}, "/spec/order/certificate", "additionalProperties"},
		{"docsign use_org_as_common_name string", "docsign", []edit{{o + "use_org_as_common_name", "yes"}}, "/spec/order/use_org_as_common_name", "type"},
		{"docsign validity_years 4", "docsign", []edit{{o + "validity_years", 4}}, "/spec/order/validity_years", "enum"},

		// legacy v1
		{"legacy validity 3", "legacy", []edit{{o + "validity", 3}}, "/spec/order/validity", "enum"},
		{"legacy validity as string", "legacy", []edit{{o + "validity", "1"}}, "/spec/order/validity", "type"},
		{"legacy country USA", "legacy", []edit{{o + "org_country", "USA"}}, "/spec/order/org_country", "pattern"},
		{"legacy ev without telephone", "legacy", []edit{{o + "ev", true}, {o + "org_contact_job_title", "CTO"}}, "/spec/order", "required"},
		{"legacy ev as string", "legacy", []edit{{o + "ev", "true"}}, "/spec/order/ev", "type"},
		{"legacy numeric zip", "legacy", []edit{{o + "org_zip", 84043}}, "/spec/order/org_zip", "type"},
		{"legacy sans as string", "legacy", []edit{{o + "sans", "a.example.com,b.example.com"}}, "/spec/order/sans", "type"},
		{"legacy payment", "legacy", []edit{{o + "payment_method", "balance"}}, "/spec/order", "additionalProperties"},
		{"legacy missing org_name", "legacy", []edit{{o + "org_name", del{}}}, "/spec/order", "required"},
		{"legacy v2 field", "legacy", []edit{{o + "organization", y("{id: 1}")}}, "/spec/order", "additionalProperties"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			doc := y(bases[tc.base]).(map[string]any)
			for _, e := range tc.edits {
				apply(doc, e)
			}
			err := s.Validate(toJSON(t, doc))
			if tc.wantKw == "" {
				if err != nil {
					t.Fatalf("want valid, got %#v", err)
				}
				return
			}
			var ve *jsonschema.ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("want a validation error at %q (%s), got %v", tc.wantAt, tc.wantKw, err)
			}
			for _, leaf := range leaves(ve) {
				if leaf.InstanceLocation == tc.wantAt && strings.HasSuffix(leaf.KeywordLocation, "/"+tc.wantKw) {
					return
				}
			}
			t.Errorf("no %s error at %q in %#v", tc.wantKw, tc.wantAt, err)
		})
	}
}

func leaves(e *jsonschema.ValidationError) []*jsonschema.ValidationError {
	if len(e.Causes) == 0 {
		return []*jsonschema.ValidationError{e}
	}
	var out []*jsonschema.ValidationError
	for _, c := range e.Causes {
		out = append(out, leaves(c)...)
	}
	return out
}
