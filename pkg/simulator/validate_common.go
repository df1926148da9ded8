package simulator

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"strconv"
	"strings"
)

// maxAltIDLen is the documented maximum length of alternative_order_id.
const maxAltIDLen = 64

// parseCSR accepts a PEM CSR (or bare base64 DER) whose signature verifies.
func parseCSR(s string) (*x509.CertificateRequest, bool) {
	der := []byte(nil)
	if b, _ := pem.Decode([]byte(strings.TrimSpace(s))); b != nil {
		if b.Type != "CERTIFICATE REQUEST" && b.Type != "NEW CERTIFICATE REQUEST" {
			return nil, false
		}
		der = b.Bytes
	} else {
		raw, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(s), ""))
		if err != nil {
			return nil, false
		}
		der = raw
	}
	csr, err := x509.ParseCertificateRequest(der)
	if err != nil || csr.CheckSignature() != nil {
		return nil, false
	}
	return csr, true
}

// csrField reads certificate.csr and reports csr_invalid_cannot_parse.
func csrField(cert obj, req bool) (*x509.CertificateRequest, string, bool) {
	s, ok := cert.str("csr", req)
	if !ok {
		return nil, "", false
	}
	csr, ok := parseCSR(s)
	if !ok {
		cert.c.add(apiError{Code: codeCSRInvalid, Message: cert.at("csr") + " cannot be parsed as a certificate signing request"})
		return nil, "", false
	}
	return csr, s, true
}

func isAlnum(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// alternativeOrderID reads alternative_order_id: alphanumeric, at most 64 characters.
func alternativeOrderID(body obj) string {
	s, ok := body.str("alternative_order_id", false)
	if !ok || s == "" {
		return ""
	}
	if len(s) > maxAltIDLen || !isAlnum(s) {
		body.c.add(invalid("alternative_order_id", "must be alphanumeric and at most 64 characters"))
		return ""
	}
	return s
}

// hostname checks a name loosely: not blank, no whitespace, no URL parts.
func hostname(o obj, key, s string) bool {
	if strings.TrimSpace(s) == "" || len(s) > 253 || strings.ContainsAny(s, " \t\r\n/@") {
		o.c.add(invalid(o.at(key), "must be a domain name"))
		return false
	}
	return true
}

func validEmail(s string) bool {
	at := strings.IndexByte(s, '@')
	return at > 0 && at < len(s)-1 && !strings.ContainsAny(s, " \t\r\n")
}

func email(o obj, key string, req bool) (string, bool) {
	s, ok := o.str(key, req)
	if ok && s != "" && !validEmail(s) {
		o.c.add(invalid(o.at(key), "must be an email address"))
		return "", false
	}
	return s, ok
}

// organizationRef is the organization of an order: an existing id or a new one.
type organizationRef struct {
	id       int64
	name     string // new organization only
	forceNew bool   // skip_duplicate_org_check
}

// organization reads the organization object: either id, or the fields of a
// new organization (name, address, city, country; the Create organization page
// is not in the reference set, so only the fields every country needs).
func organization(body obj) (organizationRef, bool) {
	org, ok := body.object("organization", true)
	if !ok {
		return organizationRef{}, false
	}
	if org.has("id") {
		id, ok := org.integer("id", true)
		if ok && id < 1 {
			org.c.add(invalid(org.at("id"), "must be a positive organization id"))
			return organizationRef{}, false
		}
		return organizationRef{id: id}, ok
	}
	before := len(org.c.errs)
	name, _ := org.str("name", true)
	org.str("address", true)
	org.str("city", true)
	org.str("country", true)
	for _, k := range []string{"assumed_name", "address2", "state", "zip", "telephone"} {
		org.str(k, false)
	}
	force, _ := org.boolean("skip_duplicate_org_check")
	if contacts, ok := org.objects("contacts"); ok {
		for _, ct := range contacts {
			ct.str("contact_type", true)
			if ct.has("user_id") {
				ct.integer("user_id", true)
				continue
			}
			for _, k := range []string{"first_name", "last_name", "job_title", "telephone"} {
				ct.str(k, true)
			}
			email(ct, "email", true)
		}
	}
	return organizationRef{name: name, forceNew: force}, len(org.c.errs) == before
}

// contact checks an order-level organization_contact or technical_contact.
func contact(body obj, key string) {
	ct, ok := body.object(key, false)
	if !ok {
		return
	}
	ct.str("first_name", true)
	ct.str("last_name", true)
	email(ct, "email", true)
	for _, k := range []string{"job_title", "telephone", "telephone_extension"} {
		ct.str(k, false)
	}
}

// payment checks payment_method and, for card, credit_card and billing_address.
// Error messages never contain the card data.
func payment(body obj) {
	method, _ := body.oneOf("payment_method", false, "balance", "profile", "card")
	card := method == "card"
	if cc, ok := body.object("credit_card", card); ok {
		if num, ok := cc.str("number", true); ok {
			digits := strings.ReplaceAll(strings.ReplaceAll(num, " ", ""), "-", "")
			if _, err := strconv.ParseUint(digits, 10, 64); err != nil || len(digits) < 12 || len(digits) > 19 {
				cc.c.add(invalid(cc.at("number"), "must be a card number of 12 to 19 digits"))
			}
		}
		cc.intRange("expiration_month", true, 1, 12, "must be a month from 1 to 12")
		cc.intRange("expiration_year", true, 1000, 9999, "must be a four-digit year")
		cc.intRange("cvv", true, 0, 9999, "must be a three- or four-digit number")
		cc.str("cardholder_name", true)
	}
	if ba, ok := body.object("billing_address", card); ok {
		ba.str("address", true)
		ba.str("city", true)
		ba.str("country", true)
		for _, k := range []string{"address2", "state", "zip"} {
			ba.str(k, false)
		}
	}
}

// commonOptional checks the optional fields every v2 order page shares.
func commonOptional(body obj) {
	contact(body, "organization_contact")
	contact(body, "technical_contact")
	payment(body)
	body.str("comments", false)
	body.str("vat_number", false)
	body.boolean("skip_approval")
	body.intRange("enable_guest_access", false, 0, 1, "allowed values: 0 or 1")
	if c, ok := body.object("container", false); ok {
		c.integer("id", true)
	}
	customFields(body)
}

// customFields accepts an array of {metadata_id, value} (the document signing
// page types it as an object; a single object is accepted too).
func customFields(body obj) {
	if !body.has("custom_fields") {
		return
	}
	if one, ok := body.raw("custom_fields"); ok {
		if _, isObj := one.(map[string]any); isObj {
			cf, _ := body.object("custom_fields", false)
			cf.integer("metadata_id", true)
			cf.str("value", true)
			return
		}
	}
	items, _ := body.objects("custom_fields")
	for _, cf := range items {
		cf.integer("metadata_id", true)
		cf.str("value", true)
	}
}

// renewalRef says which order a renewal renews.
type renewalRef struct {
	orderID int64 // 0 = not a renewal
}

// renewal reads renewal_of_order_id / renewed_thumbprint; both must name an
// existing order (and the same one, when both are given).
func renewal(body obj, lookup func(int64) bool, byThumb func(string) int64) renewalRef {
	var ref renewalRef
	if id, ok := body.integer("renewal_of_order_id", false); ok {
		if !lookup(id) {
			body.c.add(invalid("renewal_of_order_id", "no order with id "+strconv.FormatInt(id, 10)))
		} else {
			ref.orderID = id
		}
	}
	if tp, ok := body.str("renewed_thumbprint", false); ok && tp != "" {
		id := byThumb(tp)
		switch {
		case id == 0:
			body.c.add(invalid("renewed_thumbprint", "no certificate with this thumbprint"))
		case ref.orderID != 0 && ref.orderID != id:
			body.c.add(invalid("renewed_thumbprint", "names a different order than renewal_of_order_id"))
		default:
			ref.orderID = id
		}
	}
	return ref
}
