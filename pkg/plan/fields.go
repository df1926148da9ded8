package plan

import (
	"strings"

	"github.com/certplan/certplan/pkg/spec"
)

// organizationShaping are the organization fields that end up in the subject
// of an OV certificate (or pick the organization whose details do).
// organization.contacts, .telephone and .skip_duplicate_org_check do not.
var organizationShaping = []string{
	"organization.id",
	"organization.name",
	"organization.assumed_name",
	"organization.address",
	"organization.address2",
	"organization.city",
	"organization.state",
	"organization.zip",
	"organization.country",
}

// shapingFields lists, per family, the request paths that shape the issued
// certificate. A change to any of them (or to the product) is a new
// certificate and so a renewal. Paths match by prefix on segment boundaries:
// "order_validity" covers "order_validity.years". docs/plan-format.md
// explains every choice; fields_test.go classifies every documented field.
var shapingFields = map[spec.Family][]string{
	spec.FamilySecureSite: append([]string{
		"certificate.common_name",
		"certificate.dns_names",
		"certificate.csr",
		"certificate.signature_hash",
		"certificate.cert_validity",
		"certificate.profile_option",
		"certificate.ca_cert_id",
		"disable_ct", // a CT-logged certificate embeds SCTs; one kept out of CT logs does not
	}, organizationShaping...),
	spec.FamilyPrivateSSL: append([]string{
		"certificate.common_name",
		"certificate.dns_names",
		"certificate.csr",
		"certificate.signature_hash",
		"certificate.organization_units", // private certificates carry the OU
		"certificate.profile_option",
		"certificate.ca_cert_id",
		"order_validity",
		"validity_years",
		"validity_days",
		"custom_expiration_date",
		"organization.unit",
	}, organizationShaping...),
	spec.FamilyDocumentSigning: append([]string{
		"certificate.csr",
		"certificate.signature_hash",
		"cs_provisioning_method", // where the key lives: token, client app or CSR
		"use_org_as_common_name",
		"order_validity",
		"validity_years",
		"subject",
	}, organizationShaping...),
	spec.FamilyLegacy: {
		"csr",
		"common_name",
		"sans",
		"validity",
		"org_unit",
		"org_name",
		"org_addr1",
		"org_addr2",
		"org_city",
		"org_state",
		"org_zip",
		"org_country",
		"ev",
	},
}

// nonShapingFields lists, per family, the documented request fields that
// deliberately do not shape the certificate: order handling, notifications,
// payment, contacts, approval and certplan-owned renewal and key fields. They
// never trigger an order; a change takes effect with the next one. The list
// exists for documentation and for the test that every documented field is
// classified exactly once.
var nonShapingFields = map[spec.Family][]string{
	spec.FamilySecureSite: {
		// The order's length is the Multi-year Plan, not the certificate:
		// each certificate is capped at 397 days whatever the plan. Lengthening
		// or shortening the plan takes effect with the next order instead of
		// buying a new plan at once (cert_validity does shape the certificate).
		"order_validity", "validity_years", "custom_expiration_date",
		"certificate.organization_units", // ignored for public TLS certificates (deprecated)
		"certificate.server_platform",
		"organization.unit", "organization.telephone", "organization.contacts", "organization.skip_duplicate_org_check",
		"renewal_of_order_id", "renewed_thumbprint", "alternative_order_id",
		"comments", "apply_cr_discount", "serial_number", "auto_renew", "auto_reissue",
		"custom_renewal_message", "disable_renewal_notifications", "additional_emails", "locale",
		"server_licenses", "payment_method", "credit_card", "billing_address", "vat_number",
		"dcv_method", "certificate_dcv_scope", "skip_approval",
		"organization_contact", "technical_contact", "container", "custom_fields", "enable_guest_access",
	},
	spec.FamilyPrivateSSL: {
		"certificate.server_platform",
		"organization.telephone", "organization.contacts", "organization.skip_duplicate_org_check",
		"renewal_of_order_id", "renewed_thumbprint", "alternative_order_id",
		"comments", "auto_renew", "custom_renewal_message", "disable_renewal_notifications",
		"additional_emails", "payment_method", "credit_card", "billing_address", "vat_number",
		"skip_approval",
		"disable_ct", // private certificates are never CT-logged
		"organization_contact", "technical_contact", "container", "custom_fields", "enable_guest_access",
	},
	spec.FamilyDocumentSigning: {
		"certificate.server_platform",
		"organization.unit", "organization.telephone", "organization.contacts", "organization.skip_duplicate_org_check",
		"alternative_order_id",
		"comments", "organization_contact", "technical_contact", "container",
		"ship_info", // where the token is shipped
		"custom_fields", "user_id_assignments", "skip_approval",
		"payment_method", "credit_card", "billing_address", "vat_number", "enable_guest_access",
	},
	spec.FamilyLegacy: {
		"server_type", "telephone",
		"org_contact_job_title", "org_contact_firstname", "org_contact_lastname",
		"org_contact_email", "org_contact_telephone", "org_contact_telephone_ext",
		"alternative_order_id",
	},
}

// shapingSegments holds shapingFields split at the dots, for lookups.
var shapingSegments = func() map[spec.Family][][]string {
	out := map[spec.Family][][]string{}
	for f, paths := range shapingFields {
		for _, p := range paths {
			out[f] = append(out[f], strings.Split(p, "."))
		}
	}
	return out
}()

// ShapingFields returns the certificate-shaping request paths of a family
// (dotted, matched by prefix on segment boundaries). Unknown families have none.
func ShapingFields(f spec.Family) []string {
	return append([]string(nil), shapingFields[f]...)
}

// NonShapingFields returns the documented request fields of a family that
// deliberately do not shape the certificate.
func NonShapingFields(f spec.Family) []string {
	return append([]string(nil), nonShapingFields[f]...)
}

// IsShaping reports whether a dotted request path (e.g.
// "certificate.dns_names[2]") is, or lies below, a shaping field of the family.
func IsShaping(f spec.Family, path string) bool {
	for _, s := range shapingFields[f] {
		if underPath(path, s) {
			return true
		}
	}
	return false
}

// underPath reports whether path equals prefix or lies below it.
func underPath(path, prefix string) bool {
	if !strings.HasPrefix(path, prefix) {
		return false
	}
	if len(path) == len(prefix) {
		return true
	}
	c := path[len(prefix)]
	return c == '.' || c == '['
}

// familyOf returns the product's family ("" when unknown).
func familyOf(p spec.Product) spec.Family {
	f, _ := p.Family()
	return f
}
