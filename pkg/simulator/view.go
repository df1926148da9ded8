package simulator

import (
	"time"

	"github.com/certplan/certplan/pkg/certcentral"
	"github.com/certplan/certplan/pkg/product"
)

// productNames are the display names of the products.
var productNames = map[product.Product]string{
	product.SecureSiteFlex:        "Secure Site OV",
	product.PrivateSSLFlex:        "Private SSL OV",
	product.PrivateSSLPlus:        "Private SSL Plus",
	product.PrivateSSLWildcard:    "Private SSL Wildcard",
	product.PrivateSSLMultiDomain: "Private SSL Multi Domain",
	product.DocumentSigningOrg1:   "Document Signing - Organization (1)",
	product.DocumentSigningOrg2:   "Document Signing - Organization (2)",
	product.LegacySSL:             "SSL Certificate (REST v1)",
}

// dateTime is how date_created is rendered ("2018-10-16T20:05:28+00:00").
const dateTime = "2006-01-02T15:04:05-07:00"

// view renders an order as order info. Callers hold s.mu and have settled o.
func (s *Server) view(o *order, now time.Time) certcentral.Order {
	out := certcentral.Order{
		ID:                 o.ID,
		Status:             o.Status,
		AlternativeOrderID: o.AlternativeOrderID,
		DateCreated:        o.CreatedAt.UTC().Format(dateTime),
		OrderValidFrom:     dateOnly(o.OrderValidFrom),
		OrderValidTill:     dateOnly(o.OrderValidTill),
		IsRenewal:          o.RenewalOfOrderID != 0,
		IsRenewed:          o.RenewedOrderID != 0,
		RenewedOrderID:     o.RenewedOrderID,
		RenewalOfOrderID:   o.RenewalOfOrderID,
		Product:            certcentral.ProductRef{NameID: string(o.Product), Name: productNames[o.Product]},
		Certificate: certcentral.OrderCertificate{
			ID:            o.CertificateID,
			CommonName:    o.CommonName,
			DNSNames:      sanNames(o.CommonName, o.DNSNames),
			SignatureHash: o.SignatureHash,
		},
		Requests: []certcentral.Request{{ID: o.RequestID, Status: o.RequestStatus}},
	}
	if !o.tls() {
		out.Certificate.DNSNames = nil
	}
	if len(o.Cert) > 0 {
		out.Certificate.Thumbprint = o.CertThumbprint
		out.Certificate.SerialNumber = o.CertSerial
		out.Certificate.ValidFrom = dateOnly(o.CertNotBefore)
		out.Certificate.ValidTill = dateOnly(o.CertNotAfter)
		if left := o.CertNotAfter.Sub(now); left > 0 {
			out.Certificate.DaysRemaining = int(left / day)
		}
	}
	return out
}

// chain returns leaf, intermediate and root as chain entries.
func (s *Server) chain(o *order) []certcentral.ChainCert {
	if len(o.Cert) == 0 {
		return nil
	}
	return []certcentral.ChainCert{
		{SubjectCommonName: o.CommonName, PEM: pemCert(o.Cert)},
		{SubjectCommonName: s.ca.inter.Subject.CommonName, PEM: pemCert(s.ca.inter.Raw)},
		{SubjectCommonName: s.ca.root.Subject.CommonName, PEM: pemCert(s.ca.root.Raw)},
	}
}
