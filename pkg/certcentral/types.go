// Package certcentral is a typed client for the DigiCert CertCentral Services
// API v2 and the legacy REST v1 order endpoint.
package certcentral

// Request is one request of an order.
type Request struct {
	ID     int64  `json:"id"`
	Status string `json:"status"` // pending|submitted|approved|rejected
	// Order info only: when, and what kind (new_request|reissue|revoke|duplicate).
	Date     string `json:"date,omitempty"`
	Type     string `json:"type,omitempty"`
	Comments string `json:"comments,omitempty"`
}

// ChainCert is one certificate of a returned chain.
type ChainCert struct {
	SubjectCommonName string `json:"subject_common_name"`
	PEM               string `json:"pem"`
}

// IDRef is an object that carries only an id.
type IDRef struct {
	ID int64 `json:"id"`
}

// Domain is a domain returned by order placement.
type Domain struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// PlaceOrderResponse is the body of a successful POST /order/certificate/{product}.
// The API is not consistent about which properties it returns: all but ID may be zero.
type PlaceOrderResponse struct {
	ID               int64       `json:"id"`
	Requests         []Request   `json:"requests,omitempty"`
	CertificateID    int64       `json:"certificate_id,omitempty"`
	CertificateChain []ChainCert `json:"certificate_chain,omitempty"`
	Organization     *IDRef      `json:"organization,omitempty"`
	Domains          []Domain    `json:"domains,omitempty"`
	// DCVRandomValue is present when the order needs domain validation.
	DCVRandomValue string `json:"dcv_random_value,omitempty"`
}

// ProductRef names the product of an order.
type ProductRef struct {
	NameID string `json:"name_id"`
	Name   string `json:"name,omitempty"`
}

// OrderCertificate is the certificate part of order info.
type OrderCertificate struct {
	ID            int64    `json:"id,omitempty"`
	Thumbprint    string   `json:"thumbprint,omitempty"`
	SerialNumber  string   `json:"serial_number,omitempty"`
	CommonName    string   `json:"common_name,omitempty"`
	DNSNames      []string `json:"dns_names,omitempty"`
	ValidFrom     string   `json:"valid_from,omitempty"` // yyyy-MM-dd
	ValidTill     string   `json:"valid_till,omitempty"` // yyyy-MM-dd
	DaysRemaining int      `json:"days_remaining,omitempty"`
	SignatureHash string   `json:"signature_hash,omitempty"`
	DateIssued    string   `json:"date_issued,omitempty"` // date-time, once issued
	CSR           string   `json:"csr,omitempty"`         // order info: the CSR of this certificate
}

// Order is GET /order/certificate/{id}, and one element of the list endpoint.
type Order struct {
	ID                 int64            `json:"id"`
	Status             string           `json:"status"`
	AlternativeOrderID string           `json:"alternative_order_id,omitempty"`
	DateCreated        string           `json:"date_created,omitempty"`
	OrderValidFrom     string           `json:"order_valid_from,omitempty"`
	OrderValidTill     string           `json:"order_valid_till,omitempty"`
	IsRenewal          bool             `json:"is_renewal,omitempty"`
	IsRenewed          bool             `json:"is_renewed,omitempty"`
	RenewedOrderID     int64            `json:"renewed_order_id,omitempty"`
	RenewalOfOrderID   int64            `json:"renewal_of_order_id,omitempty"`
	Product            ProductRef       `json:"product"`
	Certificate        OrderCertificate `json:"certificate"`
	Requests           []Request        `json:"requests,omitempty"`

	// Plans (Multi-year and annual plans) and CertCentral's own automation.
	// The flags come as 0/1, "0"/"1" or booleans; see Flag.
	IsMultiYearPlan Flag `json:"is_multi_year_plan"`
	AutoReissue     Flag `json:"auto_reissue"`
	AutoRenew       Flag `json:"auto_renew"`
	// LastReissuedDate is when the order was last reissued (UNCONFIRMED
	// field: one public client reads it); empty when never or not sent.
	LastReissuedDate string `json:"last_reissued_date,omitempty"`
	// DCVRandomValue is present while domain validation is needed.
	DCVRandomValue string `json:"dcv_random_value,omitempty"`
	// DCVMethod is the order's validation method (email, dns-txt-token,
	// dns-cname-token, http-token).
	DCVMethod string `json:"dcv_method,omitempty"`
}

// Page is the paging block of list responses.
type Page struct {
	Total  int `json:"total"`
	Limit  int `json:"limit"`
	Offset int `json:"offset"`
}

// AlternateOrder is one element of GET /order/alternate/{id}.
type AlternateOrder struct {
	OrderID       int64  `json:"order_id"`
	CertificateID int64  `json:"certificate_id,omitempty"`
	Status        string `json:"status"`
}

// ListFilter selects orders for GET /order/certificate. Zero fields are not sent.
type ListFilter struct {
	IDs           []int64  // filters[id]=1,2,3 (comma separated)
	Statuses      []string // filters[status]=pending,issued
	ProductNameID string
	// ValidTillBefore keeps orders whose certificate valid_till is <= this date
	// (yyyy-MM-dd); sent as filters[valid_till]=<=DATE.
	ValidTillBefore string
}

// Download formats for certificate download.
const (
	FormatPEMAll            = "pem_all"
	FormatPEMNoRoot         = "pem_noroot"
	FormatPEMNoIntermediate = "pem_nointermediate"
	FormatP7B               = "p7b"
)
