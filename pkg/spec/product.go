// Package spec loads, merges and validates certplan manifests.
package spec

import "github.com/certplan/certplan/pkg/product"

// Products live in the leaf package pkg/product, so that packages which need
// the product list but not manifests (certcentral, the simulator) need not
// import spec. These aliases keep spec's API unchanged.

// Product is a CertCentral product identifier; see product.Product.
type Product = product.Product

// Family groups products that share one request schema; see product.Family.
type Family = product.Family

// The seed products certplan knows.
const (
	SecureSiteFlex        = product.SecureSiteFlex
	PrivateSSLFlex        = product.PrivateSSLFlex
	PrivateSSLPlus        = product.PrivateSSLPlus
	PrivateSSLWildcard    = product.PrivateSSLWildcard
	PrivateSSLMultiDomain = product.PrivateSSLMultiDomain
	DocumentSigningOrg1   = product.DocumentSigningOrg1
	DocumentSigningOrg2   = product.DocumentSigningOrg2
	LegacySSL             = product.LegacySSL
)

// Product families; each has one JSON Schema in schemas/.
const (
	FamilySecureSite      = product.FamilySecureSite
	FamilyPrivateSSL      = product.FamilyPrivateSSL
	FamilyDocumentSigning = product.FamilyDocumentSigning
	FamilyLegacy          = product.FamilyLegacy
)

// Products returns every known product, sorted.
func Products() []Product { return product.All() }
