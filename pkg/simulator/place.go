package simulator

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/certplan/certplan/pkg/certcentral"
	"github.com/certplan/certplan/pkg/product"
)

// maxBody caps request bodies.
const maxBody = 1 << 20

// decodeObject reads a JSON object body with numbers as json.Number.
func decodeObject(w http.ResponseWriter, r *http.Request) (map[string]any, error) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	if m == nil {
		return nil, errors.New("body is not a JSON object")
	}
	if dec.More() {
		return nil, errors.New("trailing data after the JSON object")
	}
	return m, nil
}

func (s *Server) lookups() lookups {
	return lookups{
		orderExists: func(id int64) bool { return s.st.get(id) != nil },
		byThumbprint: func(tp string) int64 {
			if o := s.st.byThumbprint(tp); o != nil {
				return o.ID
			}
			return 0
		},
	}
}

// placeOrder is POST /order/certificate/{product}.
func (s *Server) placeOrder(w http.ResponseWriter, r *http.Request) {
	prod := product.Product(r.PathValue("product"))
	fam, ok := v2Products()[prod]
	if !ok {
		writeErrors(w, apiV2, http.StatusNotFound, apiError{Code: codeNotFoundProduct, Message: "unknown product " + strconv.Quote(string(prod))})
		return
	}
	body, err := decodeObject(w, r)
	if err != nil {
		writeErrors(w, apiV2, http.StatusBadRequest, apiError{Code: codeBadRequestFormat, Message: "the request body is not a valid JSON object"})
		return
	}

	s.mu.Lock()
	now := s.clockLocked()
	p, errs := validateV2(prod, fam, body, now, s.lookups())
	if p.altID != "" && s.opts.UniqueAlternativeIDs && len(s.st.byAlternativeID(p.altID)) > 0 {
		errs = append(errs, apiError{Code: codeDuplicateAltID, Message: "alternative_order_id is already assigned to an order in this account"})
	}
	if len(errs) > 0 {
		s.mu.Unlock()
		writeErrors(w, apiV2, http.StatusBadRequest, errs...)
		return
	}
	o, resp, issueErr := s.commitV2(p, body, fam, now)
	s.respondCommitted(w, o, apiV2, issueErr, contentJSON, resp)
}

// respondCommitted ends an order POST (v1 or v2) once the order is
// committed. s.mu is held on entry and released here. It applies the
// drop-after-commit fault, counts the order, and answers 201, or 500 when the
// certificate could not be issued.
func (s *Server) respondCommitted(w http.ResponseWriter, o *order, dialect api, issueErr error, contentType string, resp any) {
	fault := s.faults.takeAfterCommit()
	o.ResponseDropped = fault == dropResponse
	s.changed()
	s.mu.Unlock()

	s.stats.update(func(st *Stats) { st.OrdersPlaced++ })
	switch fault {
	case dropResponse:
		s.dropConnection(w)
		return
	case gatewayTimeout:
		// The gateway gave up while the backend committed: the order
		// exists, the client sees a 504 page.
		s.serverError(w, dialect, http.StatusGatewayTimeout)
		return
	case garbled:
		// A success whose body cannot be read (cut short).
		w.Header().Set("Content-Type", contentType)
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write([]byte(`{"id":`))
		return
	}
	if issueErr != nil {
		writeErrors(w, dialect, http.StatusInternalServerError, apiError{Code: codeServerError, Message: "order committed but the certificate could not be issued"})
		return
	}
	writeJSON(w, http.StatusCreated, contentType, resp)
}

// commitV2 stores a validated order, links a renewal and applies the approval
// mode. Callers hold s.mu.
func (s *Server) commitV2(p placement, body map[string]any, fam product.Family, now time.Time) (*order, certcentral.PlaceOrderResponse, error) {
	o := &order{
		ID:                 s.st.nextID(),
		Product:            p.product,
		AlternativeOrderID: p.altID,
		Body:               redactBody(body),
		RequestID:          s.st.nextID(),
		CertificateID:      s.st.nextID(),
		CreatedAt:          now,
		OrderValidFrom:     now,
		OrderValidTill:     p.orderTill,
		CertLifetime:       p.certLife,
		RenewalOfOrderID:   p.renewalOf,
		CommonName:         p.commonName,
		DNSNames:           p.dnsNames,
		SignatureHash:      p.sigHash,
		CSR:                p.csrPEM,
		Organization:       p.org.name,
		SubjectEmail:       p.subjectEmail,
		AutoReissue:        p.autoReissue,
		AutoRenew:          p.autoRenew,
	}
	if o.tls() {
		o.PurchasedNames = sanNames(o.CommonName, o.DNSNames)
	}
	var newOrg *certcentral.IDRef
	if p.org.id == 0 {
		newOrg = &certcentral.IDRef{ID: s.st.orgID(p.org.name, p.org.forceNew)}
	}
	if fam == product.FamilyDocumentSigning {
		o.CommonName = p.subjectName
		if p.useOrgAsCN {
			o.CommonName = p.org.name
			if o.CommonName == "" {
				o.CommonName = "Organization " + strconv.FormatInt(p.org.id, 10)
			}
		}
	}
	if old := s.st.get(p.renewalOf); old != nil {
		old.RenewedOrderID = o.ID
	}
	s.st.add(o)
	err := s.admit(o, now)

	resp := certcentral.PlaceOrderResponse{
		ID:           o.ID,
		Requests:     []certcentral.Request{{ID: o.RequestID, Status: o.RequestStatus}},
		Organization: newOrg,
		// While the order waits for domain validation.
		DCVRandomValue: awaitingValue(o),
	}
	if o.RequestStatus == requestApproved {
		resp.CertificateID = o.CertificateID
	}
	if o.Status == statusIssued && o.tls() {
		resp.CertificateChain = s.chain(o)
	}
	if o.tls() {
		seen := map[int64]bool{}
		for _, n := range sanNames(o.CommonName, o.DNSNames) {
			if name, id := s.st.domainID(n); !seen[id] {
				seen[id] = true
				resp.Domains = append(resp.Domains, certcentral.Domain{ID: id, Name: name})
			}
		}
	}
	return o, resp, err
}

// dropConnection closes the connection without a response: the client sees a
// reset or EOF although the order exists.
func (s *Server) dropConnection(w http.ResponseWriter) {
	s.stats.update(func(st *Stats) { st.Dropped++ })
	if rec, ok := w.(*recorder); ok {
		rec.dropped = true
		s.logRequest(rec) // before the client can see the connection close
	}
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler) // HTTP/2: abort the stream instead
	}
	_ = conn.Close()
}
