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

// view renders an order as order info and list entries show it. Callers hold
// s.mu and have settled o. The certificate is the order's current one (the
// newest issued reissue, else the primary).
func (s *Server) view(o *order, now time.Time) certcentral.Order {
	cur := o.current()
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
			ID:            cur.id,
			CommonName:    cur.cn,
			DNSNames:      sanNames(cur.cn, cur.dnsNames),
			SignatureHash: cur.sigHash,
		},
		Requests:        []certcentral.Request{{ID: o.RequestID, Status: o.RequestStatus, Type: requestTypeNew, Date: o.CreatedAt.UTC().Format(dateTime)}},
		IsMultiYearPlan: certcentral.Flag(multiYear(o)),
		AutoReissue:     certcentral.Flag(o.AutoReissue),
		AutoRenew:       certcentral.Flag(o.AutoRenew),
	}
	for _, r := range o.Reissues {
		out.Requests = append(out.Requests, certcentral.Request{ID: r.RequestID, Status: r.RequestStatus, Type: requestTypeReissue, Date: r.CreatedAt.UTC().Format(dateTime)})
	}
	if t := o.lastReissued(); !t.IsZero() {
		out.LastReissuedDate = t.UTC().Format(dateTime)
	}
	if !o.tls() {
		out.Certificate.DNSNames = nil
	}
	dcvView(o, &out, now)
	if cur.issued() {
		out.Certificate.Thumbprint = cur.Thumbprint
		out.Certificate.SerialNumber = cur.Serial
		out.Certificate.ValidFrom = dateOnly(cur.NotBefore)
		out.Certificate.ValidTill = dateOnly(cur.NotAfter)
		out.Certificate.DaysRemaining = daysRemaining(cur.NotAfter, now)
		out.Certificate.DateIssued = cur.IssuedAt.UTC().Format(dateTime)
	}
	return out
}

// infoView is order info: the list view plus the current certificate's CSR
// (left out of lists, which can hold a thousand orders).
func (s *Server) infoView(o *order, now time.Time) certcentral.Order {
	v := s.view(o, now)
	v.Certificate.CSR = o.current().csr
	return v
}

// multiYear is is_multi_year_plan: a Secure Site order that runs longer than
// a year (the simulator's reading: the flag's exact rule is not documented).
func multiYear(o *order) bool {
	return capped(o) && o.OrderValidTill.Sub(o.OrderValidFrom) > 366*day
}

// chain returns the order's current certificate, intermediate and root as
// chain entries.
func (s *Server) chain(o *order) []certcentral.ChainCert {
	cur := o.current()
	return s.chainOf(cur.cn, cur.Cert)
}

// chainOf returns leaf, intermediate and root as chain entries (nil without a leaf).
func (s *Server) chainOf(cn string, leaf []byte) []certcentral.ChainCert {
	if len(leaf) == 0 {
		return nil
	}
	return []certcentral.ChainCert{
		{SubjectCommonName: cn, PEM: pemCert(leaf)},
		{SubjectCommonName: s.ca.inter.Subject.CommonName, PEM: pemCert(s.ca.inter.Raw)},
		{SubjectCommonName: s.ca.root.Subject.CommonName, PEM: pemCert(s.ca.root.Raw)},
	}
}
