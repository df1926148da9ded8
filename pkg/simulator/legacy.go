package simulator

import (
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/certplan/certplan/pkg/product"
)

// v1Required are the required parameters of "Order an SSL Certificate".
var v1Required = []string{
	"csr", "validity", "org_name", "org_addr1", "org_city", "org_state", "org_zip", "org_country",
	"org_contact_firstname", "org_contact_lastname", "org_contact_email", "org_contact_telephone",
}

// v1Optional are its optional parameters.
var v1Optional = []string{
	"common_name", "sans", "server_type", "org_unit", "org_addr2", "telephone",
	"org_contact_job_title", "org_contact_telephone_ext", "ev",
}

// legacyPlacement is a validated v1 order.
type legacyPlacement struct {
	csrPEM     string
	commonName string
	sans       []string
	years      int
	orgName    string
}

// validateV1 checks the flat v1 parameters; every value must be a string.
func validateV1(m map[string]any) (legacyPlacement, []apiError) {
	c := &checker{}
	body := obj{m: m, c: c}
	v := map[string]string{}
	for _, k := range v1Required {
		if s, ok := body.str(k, true); ok {
			v[k] = strings.TrimSpace(s)
		}
	}
	for _, k := range v1Optional {
		if s, ok := body.str(k, false); ok {
			v[k] = strings.TrimSpace(s)
		}
	}
	ev := v["ev"] != "" && !strings.EqualFold(v["ev"], "false")
	if ev {
		for _, k := range []string{"telephone", "org_contact_job_title"} {
			if v[k] == "" {
				c.add(apiError{Code: "required_param:" + k, Message: k + " is required for EV certificates"})
			}
		}
	}
	var p legacyPlacement
	switch v["validity"] {
	case "1":
		p.years = 1
	case "2":
		p.years = 2
	case "":
	default:
		c.add(invalid("validity", `must be "1" or "2"`))
	}
	if cc := v["org_country"]; cc != "" && (len(cc) != 2 || !isAlpha(cc)) {
		c.add(invalid("org_country", "must be a two-letter country code"))
	}
	if e := v["org_contact_email"]; e != "" && !validEmail(e) {
		c.add(invalid("org_contact_email", "must be an email address"))
	}
	if s := v["csr"]; s != "" {
		csr, ok := parseCSR(s)
		if !ok {
			c.add(apiError{Code: codeCSRInvalid, Message: "csr cannot be parsed as a certificate signing request"})
		} else {
			p.csrPEM = s
			p.commonName = v["common_name"]
			if p.commonName == "" {
				p.commonName = csr.Subject.CommonName
			}
			if p.commonName == "" {
				c.add(apiError{Code: "required_param:common_name", Message: "common_name is required when the CSR has no common name"})
			}
			if sans, ok := v["sans"]; ok && sans != "" {
				for _, n := range strings.Split(sans, ",") {
					if n = strings.TrimSpace(n); n != "" {
						p.sans = append(p.sans, n)
					}
				}
			} else {
				p.sans = csr.DNSNames
			}
		}
	}
	p.orgName = v["org_name"]
	return p, c.errs
}

func isAlpha(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return true
}

// placeLegacyOrder is the REST v1 POST /order/ssl.
func (s *Server) placeLegacyOrder(w http.ResponseWriter, r *http.Request) {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != contentV1 {
		writeErrors(w, apiV1, http.StatusUnsupportedMediaType, apiError{Code: codeUnsupportedMediaType, Message: "Content-Type must be " + contentV1})
		return
	}
	body, err := decodeObject(w, r)
	if err != nil {
		writeErrors(w, apiV1, http.StatusBadRequest, apiError{Code: codeBadRequestFormat, Message: "the request body is not a valid JSON object"})
		return
	}
	p, errs := validateV1(body)
	if len(errs) > 0 {
		writeErrors(w, apiV1, http.StatusBadRequest, errs...)
		return
	}

	s.mu.Lock()
	now := s.clockLocked()
	o := s.commitV1(p, body, now)
	issueErr := s.admit(o, now)
	s.respondCommitted(w, o, apiV1, issueErr, contentV1, struct {
		OrderID int64 `json:"order_id"`
	}{o.ID})
}

// commitV1 stores a validated v1 order. Callers hold s.mu.
func (s *Server) commitV1(p legacyPlacement, body map[string]any, now time.Time) *order {
	till := now.AddDate(p.years, 0, 0)
	o := &order{
		ID:             s.st.nextID(),
		Product:        product.LegacySSL,
		Legacy:         true,
		Body:           redactBody(body),
		RequestID:      s.st.nextID(),
		CertificateID:  s.st.nextID(),
		CreatedAt:      now,
		OrderValidFrom: now,
		OrderValidTill: till,
		CertLifetime:   min(till.Sub(now), maxCertLife),
		CommonName:     p.commonName,
		DNSNames:       p.sans,
		SignatureHash:  "sha256",
		CSR:            p.csrPEM,
		Organization:   p.orgName,
	}
	s.st.add(o)
	return o
}
