package spec

import (
	"strings"
	"testing"
)

// Dates pass the schema's pattern whether or not the day exists, and
// CertCentral rejected them only at apply time: "31 FEB 2027", a date in the
// past, a date beyond the documented range. Each is an error at validate
// time, judged at the planning date.
func TestDateChecks(t *testing.T) {
	now := day(2026, 11, 23)
	card := `payment_method: card
credit_card:
  number: {env: CARD_NUMBER}
  cvv: {env: CARD_CVV}
  expiration_month: MONTH
  expiration_year: YEAR
  cardholder_name: Jane Doe
billing_address: {address: 1 Road, city: Lehi, country: us}
`
	tests := []struct {
		name, product, order string
		edit                 [2]string
		want                 string // "" for valid
	}{
		{name: "31 FEB", product: "private_ssl_flex", order: validPrivate,
			edit: [2]string{"{years: 1}", `{custom_expiration_date: "31 FEB 2027"}`},
			want: `a.yaml:14:46: spec.order.order_validity.custom_expiration_date: "31 FEB 2027" is not a date: February 2027 has 28 days`},
		{name: "31 Apr, month in title case", product: "ssl_securesite_flex", order: validSecureSite,
			edit: [2]string{"{years: 1}", `{custom_expiration_date: "31 Apr 2027"}`},
			want: `"31 Apr 2027" is not a date: April 2027 has 30 days`},
		{name: "29 FEB of a leap year", product: "private_ssl_flex", order: validPrivate,
			edit: [2]string{"{years: 1}", `{custom_expiration_date: "29 FEB 2028"}`}},
		{name: "in the past", product: "private_ssl_flex", order: validPrivate,
			edit: [2]string{"{years: 1}", `{custom_expiration_date: "01 JAN 2026"}`},
			want: `spec.order.order_validity.custom_expiration_date: "01 JAN 2026" is not after the planning date 2026-11-23: the order would end before it starts`},
		{name: "the planning date itself", product: "private_ssl_flex", order: validPrivate,
			edit: [2]string{"{years: 1}", `{custom_expiration_date: "23 NOV 2026"}`},
			want: `"23 NOV 2026" is not after the planning date 2026-11-23`},
		{name: "Secure Site three years ahead", product: "ssl_securesite_flex", order: validSecureSite,
			edit: [2]string{"{years: 1}", `{custom_expiration_date: "23 NOV 2029"}`}},
		{name: "Secure Site beyond three years", product: "ssl_securesite_flex", order: validSecureSite,
			edit: [2]string{"{years: 1}", `{custom_expiration_date: "24 NOV 2029"}`},
			want: `"24 NOV 2029" is more than three years after the planning date 2026-11-23 (the latest is 23 NOV 2029)`},
		{name: "private SSL has no documented maximum", product: "private_ssl_flex", order: validPrivate,
			edit: [2]string{"{years: 1}", `{custom_expiration_date: "01 JAN 2031"}`}},
		{name: "cert_validity beyond 397 days", product: "ssl_securesite_flex", order: validSecureSite,
			edit: [2]string{"  signature_hash: sha256\norder_validity: {years: 1}", "  signature_hash: sha256\n  cert_validity: {custom_expiration_date: \"31 DEC 2027\"}\norder_validity: {years: 2}"},
			want: `spec.order.certificate.cert_validity.custom_expiration_date: "31 DEC 2027" is more than 397 days after the planning date 2026-11-23 (the latest is 25 DEC 2027)`},
		{name: "deprecated yyyy-MM-dd date that does not exist", product: "ssl_securesite_flex", order: validSecureSite,
			edit: [2]string{"organization: {id: 1}", "organization: {id: 1}\ncustom_expiration_date: \"2027-02-31\""},
			want: `spec.order.custom_expiration_date: "2027-02-31" is not a date: February 2027 has 28 days`},
		{name: "expired card", product: "ssl_securesite_flex", order: validSecureSite + strings.NewReplacer("MONTH", "10", "YEAR", "2026").Replace(card),
			want: `spec.order.credit_card.expiration_year: the card expired at the end of 10/2026, before the planning date 2026-11-23`},
		{name: "card valid this month", product: "ssl_securesite_flex", order: validSecureSite + strings.NewReplacer("MONTH", "11", "YEAR", "2026").Replace(card)},
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
			t.Setenv("CARD_NUMBER", "4111111111111111")
			t.Setenv("CARD_CVV", "123")
			res := loadWithIn(t, LoadOptions{Now: now},
				map[string]string{"csr.pem": "@csr:rsa2048.csr", "a.yaml": withSpec(certYAML("a", tt.product, order), "renewBefore: 1d")})
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
			}
		})
	}
}
