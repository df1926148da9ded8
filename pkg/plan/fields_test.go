package plan

import (
	"testing"

	"github.com/certplan/certplan/pkg/spec"
)

var orgFields = []string{
	"organization.id", "organization.name", "organization.assumed_name", "organization.address", "organization.address2",
	"organization.unit", "organization.city", "organization.state", "organization.zip", "organization.country",
	"organization.telephone", "organization.skip_duplicate_org_check", "organization.contacts",
}

// documentedFields are the request fields of each family as the DigiCert
// order pages (and schemas/) document them, objects expanded to the level at
// which certplan classifies them.
var documentedFields = map[spec.Family][]string{
	spec.FamilySecureSite: append([]string{
		"certificate.common_name", "certificate.dns_names", "certificate.csr", "certificate.signature_hash",
		"certificate.organization_units", "certificate.server_platform", "certificate.cert_validity",
		"certificate.profile_option", "certificate.ca_cert_id",
		"order_validity", "validity_years", "custom_expiration_date", "renewal_of_order_id", "renewed_thumbprint",
		"comments", "apply_cr_discount", "serial_number", "auto_renew", "auto_reissue", "custom_renewal_message",
		"disable_renewal_notifications", "additional_emails", "locale", "server_licenses", "payment_method",
		"credit_card", "billing_address", "vat_number", "dcv_method", "certificate_dcv_scope", "skip_approval",
		"disable_ct", "organization_contact", "technical_contact", "container", "custom_fields",
		"enable_guest_access", "alternative_order_id",
	}, orgFields...),
	spec.FamilyPrivateSSL: append([]string{
		"certificate.common_name", "certificate.dns_names", "certificate.csr", "certificate.signature_hash",
		"certificate.ca_cert_id", "certificate.organization_units", "certificate.server_platform", "certificate.profile_option",
		"order_validity", "validity_years", "validity_days", "custom_expiration_date", "renewal_of_order_id",
		"renewed_thumbprint", "comments", "auto_renew", "custom_renewal_message", "disable_renewal_notifications",
		"additional_emails", "payment_method", "credit_card", "billing_address", "vat_number", "skip_approval",
		"disable_ct", "organization_contact", "technical_contact", "container", "custom_fields",
		"enable_guest_access", "alternative_order_id",
	}, orgFields...),
	spec.FamilyDocumentSigning: append([]string{
		"certificate.csr", "certificate.server_platform", "certificate.signature_hash", "cs_provisioning_method",
		"use_org_as_common_name", "order_validity", "validity_years", "comments", "organization_contact",
		"technical_contact", "container", "ship_info", "subject", "custom_fields", "user_id_assignments",
		"skip_approval", "payment_method", "credit_card", "billing_address", "vat_number", "enable_guest_access",
		"alternative_order_id",
	}, orgFields...),
	spec.FamilyLegacy: {
		"csr", "validity", "common_name", "sans", "server_type", "org_unit", "org_name", "org_addr1", "org_addr2",
		"org_city", "org_state", "org_zip", "org_country", "telephone", "org_contact_job_title",
		"org_contact_firstname", "org_contact_lastname", "org_contact_email", "org_contact_telephone",
		"org_contact_telephone_ext", "ev", "alternative_order_id",
	},
}

// Every documented field is classified exactly once, and every classified
// field is documented (no typos in the lists).
func TestEveryDocumentedFieldIsClassified(t *testing.T) {
	for _, p := range spec.Products() {
		f, _ := p.Family()
		t.Run(string(f), func(t *testing.T) {
			documented := map[string]bool{}
			for _, d := range documentedFields[f] {
				documented[d] = true
			}
			nonShaping := map[string]bool{}
			for _, n := range NonShapingFields(f) {
				if nonShaping[n] {
					t.Errorf("%s listed twice as non-shaping", n)
				}
				nonShaping[n] = true
				if !documented[n] {
					t.Errorf("non-shaping %s is not a documented field", n)
				}
			}
			for _, s := range ShapingFields(f) {
				if !documented[s] {
					t.Errorf("shaping %s is not a documented field", s)
				}
			}
			for _, d := range documentedFields[f] {
				if IsShaping(f, d) == nonShaping[d] {
					t.Errorf("%s: shaping=%v non-shaping=%v; classify it exactly once", d, IsShaping(f, d), nonShaping[d])
				}
			}
		})
	}
}

func TestIsShaping(t *testing.T) {
	tests := []struct {
		family spec.Family
		path   string
		want   bool
	}{
		{spec.FamilySecureSite, "certificate.common_name", true},
		{spec.FamilySecureSite, "certificate.dns_names[3]", true},
		{spec.FamilySecureSite, "certificate.csr", true},
		{spec.FamilySecureSite, "certificate.cert_validity.days", true},
		{spec.FamilySecureSite, "order_validity.years", false}, // the plan's length, not the certificate's
		{spec.FamilyPrivateSSL, "order_validity.years", true},  // the certificate's validity too
		{spec.FamilySecureSite, "organization.id", true},
		{spec.FamilySecureSite, "organization.contacts[0].user_id", false},
		{spec.FamilySecureSite, "certificate.organization_units", false},
		{spec.FamilySecureSite, "certificate.server_platform.id", false},
		{spec.FamilySecureSite, "comments", false},
		{spec.FamilySecureSite, "credit_card.number", false},
		{spec.FamilySecureSite, "payment_method", false},
		{spec.FamilySecureSite, "additional_emails", false},
		{spec.FamilySecureSite, "certificate.common_names", false}, // prefix only on segment boundaries
		{spec.FamilySecureSite, "disable_ct", true},
		{spec.FamilyPrivateSSL, "disable_ct", false},
		{spec.FamilyPrivateSSL, "certificate.organization_units", true},
		{spec.FamilyPrivateSSL, "validity_days", true},
		{spec.FamilyDocumentSigning, "subject.email", true},
		{spec.FamilyDocumentSigning, "ship_info.addr1", false},
		{spec.FamilyDocumentSigning, "cs_provisioning_method", true},
		{spec.FamilyLegacy, "sans", true},
		{spec.FamilyLegacy, "org_contact_email", false},
		{"unknown", "certificate.common_name", false},
	}
	for _, tt := range tests {
		if got := IsShaping(tt.family, tt.path); got != tt.want {
			t.Errorf("IsShaping(%s, %s) = %v, want %v", tt.family, tt.path, got, tt.want)
		}
	}
}

func TestShapingFieldsReturnsACopy(t *testing.T) {
	f := ShapingFields(spec.FamilySecureSite)
	f[0] = "changed"
	if ShapingFields(spec.FamilySecureSite)[0] == "changed" {
		t.Error("ShapingFields exposes the package's list")
	}
}
