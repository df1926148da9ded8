package simulator

import (
	"crypto/x509"
	"strconv"
	"time"

	"github.com/certplan/certplan/pkg/product"
)

// placement is a validated v2 order request.
type placement struct {
	product    product.Product
	commonName string
	dnsNames   []string // without the common name
	csr        *x509.CertificateRequest
	csrPEM     string
	sigHash    string
	orderTill  time.Time
	certLife   time.Duration
	altID      string
	renewalOf  int64
	org        organizationRef

	autoReissue bool // Secure Site only: the product with plans
	autoRenew   bool

	// document signing
	subjectName  string
	subjectEmail string
	useOrgAsCN   bool
}

// lookups give validation read access to the store.
type lookups struct {
	orderExists  func(id int64) bool
	byThumbprint func(tp string) int64 // order id, 0 = none
}

// validateV2 checks an order body for prod as its order page describes and
// returns every problem found.
func validateV2(prod product.Product, fam product.Family, m map[string]any, now time.Time, lk lookups) (placement, []apiError) {
	c := &checker{}
	body := obj{m: m, c: c}
	p := placement{product: prod}
	switch fam {
	case product.FamilySecureSite, product.FamilyPrivateSSL:
		tlsOrder(body, fam, now, &p)
	case product.FamilyDocumentSigning:
		documentSigningOrder(body, now, &p)
	}
	p.org, _ = organization(body)
	commonOptional(body)
	p.altID = alternativeOrderID(body)
	p.renewalOf = renewal(body, lk.orderExists, lk.byThumbprint).orderID
	return p, c.errs
}

// tlsOrder checks the Secure Site OV and Private SSL bodies.
func tlsOrder(body obj, fam product.Family, now time.Time, p *placement) {
	cert, hasCert := body.object("certificate", true)
	if hasCert {
		if cn, ok := cert.str("common_name", true); ok && hostname(cert, "common_name", cn) {
			p.commonName = cn
		}
		if names, ok := cert.strings("dns_names"); ok {
			for i, n := range names {
				if hostname(cert, "dns_names["+strconv.Itoa(i)+"]", n) {
					p.dnsNames = append(p.dnsNames, n)
				}
			}
		}
		p.csr, p.csrPEM, _ = csrField(cert, true)
		p.sigHash, _ = cert.oneOf("signature_hash", true, "sha256", "sha384", "sha512")
		cert.strings("organization_units")
		if sp, ok := cert.object("server_platform", false); ok {
			sp.integer("id", true)
		}
		cert.str("profile_option", false)
		cert.str("ca_cert_id", false)
	}

	till, orderOK := orderValidity(body, now, fam == product.FamilyPrivateSSL)
	p.orderTill = till
	p.certLife = till.Sub(now) // private SSL: the certificate is valid as long as the order
	if fam == product.FamilySecureSite {
		p.certLife = certLifetime(cert, now, till, orderOK)
		v, _ := body.intRange("auto_reissue", false, 0, 1, "allowed values: 0 or 1")
		p.autoReissue = v == 1
		body.oneOf("dcv_method", false, "email", "dns-txt-token", "dns-cname-token", "http-token")
		body.boolean("apply_cr_discount")
		body.str("serial_number", false)
		body.str("locale", false)
		body.intRange("server_licenses", false, 1, 1<<31-1, "must be a positive integer")
		body.str("certificate_dcv_scope", false)
	}
	renew, _ := body.intRange("auto_renew", false, 0, 1, "allowed values: 0 or 1")
	p.autoRenew = renew == 1
	body.str("custom_renewal_message", false)
	body.boolean("disable_renewal_notifications")
	body.boolean("disable_ct")
	if emails, ok := body.strings("additional_emails"); ok {
		for i, e := range emails {
			if !validEmail(e) {
				body.c.add(invalid("additional_emails["+strconv.Itoa(i)+"]", "must be an email address"))
			}
		}
	}
}

// documentSigningOrder checks the document signing body.
func documentSigningOrder(body obj, now time.Time, p *placement) {
	method, _ := body.oneOf("cs_provisioning_method", false, "ship_token", "client_app", "email", "none")
	if cert, ok := body.object("certificate", true); ok {
		p.csr, p.csrPEM, _ = csrField(cert, method == "email")
		p.sigHash, _ = cert.oneOf("signature_hash", true, "sha256")
		if sp, ok := cert.object("server_platform", false); ok {
			sp.integer("id", true)
		}
	}
	p.useOrgAsCN = true
	if b, ok := body.boolean("use_org_as_common_name"); ok {
		p.useOrgAsCN = b
	}
	p.orderTill, _ = documentSigningValidity(body, now)
	p.certLife = p.orderTill.Sub(now)
	if subj, ok := body.object("subject", true); ok {
		p.subjectName, _ = subj.str("name", true)
		subj.str("job_title", true)
		subj.str("phone", true)
		p.subjectEmail, _ = email(subj, "email", true)
	}
	if ship, ok := body.object("ship_info", false); ok {
		for _, k := range []string{"name", "addr1", "city", "state", "zip", "country"} {
			ship.str(k, true)
		}
		ship.str("addr2", false)
		ship.oneOf("method", true, "standard", "expedited")
	}
	body.integers("user_id_assignments")
}
