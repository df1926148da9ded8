// Package product names the CertCentral products certplan orders and the
// families that share a request schema. It is a leaf: it imports nothing of
// certplan's, so the manifest loader (spec), the HTTP client (certcentral)
// and the simulator can all depend on it without depending on each other.
package product

import "sort"

// Product is a CertCentral product identifier as used in the order URL
// (POST /order/certificate/{product}), or LegacySSL for the REST v1 API.
type Product string

// The seed products certplan knows.
const (
	SecureSiteFlex        Product = "ssl_securesite_flex"
	PrivateSSLFlex        Product = "private_ssl_flex"
	PrivateSSLPlus        Product = "private_ssl_plus"
	PrivateSSLWildcard    Product = "private_ssl_wildcard"
	PrivateSSLMultiDomain Product = "private_ssl_multi_domain"
	DocumentSigningOrg1   Product = "document_signing_org_1"
	DocumentSigningOrg2   Product = "document_signing_org_2"
	LegacySSL             Product = "legacy_ssl"
)

// Family groups products that share one request schema.
type Family string

// Product families; each has one JSON Schema in schemas/.
const (
	FamilySecureSite      Family = "securesite"
	FamilyPrivateSSL      Family = "private_ssl"
	FamilyDocumentSigning Family = "document_signing"
	FamilyLegacy          Family = "legacy_ssl"
)

var productFamilies = map[Product]Family{
	SecureSiteFlex:        FamilySecureSite,
	PrivateSSLFlex:        FamilyPrivateSSL,
	PrivateSSLPlus:        FamilyPrivateSSL,
	PrivateSSLWildcard:    FamilyPrivateSSL,
	PrivateSSLMultiDomain: FamilyPrivateSSL,
	DocumentSigningOrg1:   FamilyDocumentSigning,
	DocumentSigningOrg2:   FamilyDocumentSigning,
	LegacySSL:             FamilyLegacy,
}

// All returns every known product, sorted.
func All() []Product {
	out := make([]Product, 0, len(productFamilies))
	for p := range productFamilies {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// Family returns the product's family and whether the product is known.
func (p Product) Family() (Family, bool) {
	f, ok := productFamilies[p]
	return f, ok
}

// Known reports whether p is one of the seed products.
func (p Product) Known() bool { _, ok := productFamilies[p]; return ok }

// IsLegacy reports whether the product is ordered through REST v1, which has no
// alternative_order_id and so no idempotency key.
func (p Product) IsLegacy() bool { return p == LegacySSL }

// IssuesTLS reports whether orders of this product yield a TLS server certificate
// (and so carry common_name/dns_names and may be issued at once).
func (p Product) IssuesTLS() bool {
	f, _ := p.Family()
	return f == FamilySecureSite || f == FamilyPrivateSSL || f == FamilyLegacy
}

// HasPlans reports whether orders of this product are paid plans that carry
// several certificates: public TLS (Secure Site), whose certificates are
// capped by date (lifecycle.DefaultCaps) while the order runs 1 to 3 years.
// The next certificate of such an order comes from a free reissue; only the
// end of the plan calls for a renewal. Private SSL, document signing and
// legacy v1 orders have no plans: their order validity is the certificate's.
func (p Product) HasPlans() bool {
	f, _ := p.Family()
	return f == FamilySecureSite
}
