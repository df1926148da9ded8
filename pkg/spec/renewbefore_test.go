package spec

import (
	"strings"
	"testing"

	"github.com/certplan/certplan/pkg/lifecycle"
)

// Complete orders per family (the first line is line 8 of the file).
const (
	validPrivate = `certificate:
  common_name: shop.example.com
  dns_names: [www.shop.example.com]
  csr: {file: csr.pem}
  signature_hash: sha256
order_validity: {years: 1}
organization: {id: 1}
`
	validDocSign = `certificate: {signature_hash: sha256}
cs_provisioning_method: none
order_validity: {years: 1}
organization: {id: 1}
subject: {name: Jane Doe, job_title: Signer, phone: "+1 555 0100", email: jane@example.com}
`
	validLegacy = `csr: {file: csr.pem}
validity: 1
common_name: shop.example.com
sans: [www.shop.example.com]
org_name: Example
org_addr1: 1 Road
org_city: Lehi
org_state: UT
org_zip: "84043"
org_country: us
org_contact_firstname: A
org_contact_lastname: B
org_contact_email: a@example.com
org_contact_telephone: "801-555-0100"
`
)

// renewBefore at least as long as the certificate makes every run buy: a
// 20-day private order with the default 30d bought a certificate on each of
// five applies. It is an error at validate time for every product family,
// judged against the certificate's length: the order's for private SSL and
// document signing, the order's bounded by the public TLS cap for Secure
// Site and legacy SSL.
func TestRenewBeforeAsLongAsTheCertificate(t *testing.T) {
	now := day(2026, 11, 23) // public TLS capped at 199 days
	tests := []struct {
		name, product, order string
		edit                 [2]string // replace edit[0] by edit[1] in the order
		spec                 []string
		want                 string // "" for a valid certificate
	}{
		{name: "private order of 20 days, default 30d", product: "private_ssl_flex", order: validPrivate,
			edit: [2]string{"{years: 1}", "{days: 20}"},
			want: "a.yaml:5:1: spec.renewBefore: renewBefore 30d is as long as the certificate can be (the order (order_validity) runs 20 days)"},
		{name: "private order of 31 days, default 30d", product: "private_ssl_flex", order: validPrivate,
			edit: [2]string{"{years: 1}", "{days: 31}"}},
		{name: "private order to a near custom date", product: "private_ssl_plus", order: validPrivate,
			edit: [2]string{"{years: 1}", `{custom_expiration_date: "13 DEC 2026"}`},
			want: "renewBefore 30d is as long as the certificate can be (the order (order_validity) runs 21 days)"},
		{name: "private one year, renewBefore a year", product: "private_ssl_flex", order: validPrivate,
			spec: []string{"renewBefore: 365d"},
			want: "a.yaml:7:3: spec.renewBefore: renewBefore 365d is as long as the certificate can be (the order (order_validity) runs 365 days)"},
		{name: "document signing one year, renewBefore 400d", product: "document_signing_org_1", order: validDocSign,
			spec: []string{"renewBefore: 400d"},
			want: "renewBefore 400d is as long as the certificate can be (the order (order_validity) runs 365 days)"},
		{name: "document signing one year, 60d", product: "document_signing_org_1", order: validDocSign,
			spec: []string{"renewBefore: 60d"}},
		{name: "legacy two years, capped certificate", product: "legacy_ssl", order: validLegacy,
			edit: [2]string{"validity: 1", "validity: 2"}, spec: []string{"renewBefore: 200d"},
			want: "renewBefore 200d is as long as the certificate can be (public TLS certificates issued on 2026-11-23 are capped at 199 days)"},
		{name: "legacy one year, 30d", product: "legacy_ssl", order: validLegacy},
		{name: "Secure Site short order", product: "ssl_securesite_flex", order: validSecureSite,
			edit: [2]string{"{years: 1}", "{days: 20}"},
			want: "renewBefore 30d is as long as the certificate can be (the order (order_validity) runs 20 days)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			order := tt.order
			if tt.edit[0] != "" {
				if !strings.Contains(order, tt.edit[0]) {
					t.Fatalf("order lacks %q", tt.edit[0])
				}
				order = strings.Replace(order, tt.edit[0], tt.edit[1], 1)
			}
			doc := withSpec(certYAML("a", tt.product, order), tt.spec...)
			res := loadWithIn(t, LoadOptions{Now: now, Caps: lifecycle.DefaultCaps()},
				map[string]string{"csr.pem": "@csr:rsa2048.csr", "a.yaml": doc})
			var errs []string
			for _, d := range res.Diagnostics {
				if d.Severity == SeverityError {
					errs = append(errs, d.String())
				}
			}
			switch {
			case tt.want == "" && len(errs) > 0:
				t.Fatalf("errors %q, want none", errs)
			case tt.want != "" && (len(errs) != 1 || !strings.Contains(errs[0], tt.want)):
				t.Fatalf("errors %q, want one containing %q", errs, tt.want)
			case (len(res.Certificates) == 1) != (tt.want == ""):
				t.Fatalf("%d certificates", len(res.Certificates))
			}
		})
	}
}
