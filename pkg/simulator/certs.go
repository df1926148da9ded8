package simulator

import (
	"net/http"
	"strings"

	"github.com/certplan/certplan/pkg/certcentral"
)

type chainResponse struct {
	Intermediates []certcentral.ChainCert `json:"intermediates"`
}

// downloadCertificate is GET /certificate/{id}/download/format/{format}.
func (s *Server) downloadCertificate(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r, "id")
	s.mu.Lock()
	var o *order
	if ok {
		o = s.st.getByCertificate(id)
	}
	s.download(w, r, o, id, "no certificate with id "+r.PathValue("id"))
}

// downloadByOrder is GET /certificate/download/order/{id}/format/{format}.
func (s *Server) downloadByOrder(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r, "id")
	s.mu.Lock()
	var o *order
	if ok {
		o = s.st.get(id)
	}
	s.download(w, r, o, 0, "no order with id "+r.PathValue("id"))
}

// download renders a certificate of the order in the requested format: the
// one with certID, or the order's current one for 0. It is called with s.mu
// held and releases it.
func (s *Server) download(w http.ResponseWriter, r *http.Request, o *order, certID int64, notFound string) {
	if o == nil {
		s.mu.Unlock()
		writeErrors(w, apiV2, http.StatusNotFound, apiError{Code: codeNotFoundCertificate, Message: notFound})
		return
	}
	s.settle(o, s.clockLocked())
	c := o.current()
	if certID != 0 {
		c, _ = o.cert(certID)
	}
	leaf, status := c.Cert, o.Status
	inter, root := s.ca.inter.Raw, s.ca.root.Raw
	s.mu.Unlock()
	if len(leaf) == 0 {
		writeErrors(w, apiV2, http.StatusNotFound, apiError{Code: codeNotFoundCertificate, Message: "no certificate has been issued for this order (status " + status + ")"})
		return
	}
	var parts [][]byte
	switch format := r.PathValue("format"); format {
	case certcentral.FormatPEMAll:
		parts = [][]byte{leaf, inter, root}
	case certcentral.FormatPEMNoRoot:
		parts = [][]byte{leaf, inter}
	case certcentral.FormatPEMNoIntermediate:
		parts = [][]byte{leaf, root}
	case certcentral.FormatP7B:
		der, err := degeneratePKCS7([][]byte{leaf, inter, root})
		if err != nil {
			writeErrors(w, apiV2, http.StatusInternalServerError, apiError{Code: codeServerError, Message: "encode p7b"})
			return
		}
		w.Header().Set("Content-Type", "application/x-pkcs7-certificates")
		w.Header().Set("Content-Disposition", `attachment; filename="certificate.p7b"`)
		_, _ = w.Write(der)
		return
	default:
		writeErrors(w, apiV2, http.StatusBadRequest, invalid("format", "must be one of pem_all, pem_noroot, pem_nointermediate, p7b"))
		return
	}
	var b strings.Builder
	for _, p := range parts {
		b.WriteString(pemCert(p))
	}
	w.Header().Set("Content-Type", "application/x-pem-file")
	_, _ = w.Write([]byte(b.String()))
}

// certificateChain is GET /certificate/{id}/chain: the CA certificates above
// the end-entity certificate (intermediate, then root).
func (s *Server) certificateChain(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r, "id")
	s.mu.Lock()
	var o *order
	if ok {
		o = s.st.getByCertificate(id)
	}
	if o == nil {
		s.mu.Unlock()
		writeErrors(w, apiV2, http.StatusNotFound, apiError{Code: codeNotFoundCertificate, Message: "no certificate with id " + r.PathValue("id")})
		return
	}
	s.settle(o, s.clockLocked())
	c, _ := o.cert(id)
	issued := c.issued()
	full := s.chainOf(c.cn, c.Cert)
	status := o.Status
	s.mu.Unlock()
	if !issued {
		writeErrors(w, apiV2, http.StatusNotFound, apiError{Code: codeNotFoundCertificate, Message: "no certificate has been issued for this order (status " + status + ")"})
		return
	}
	writeJSON(w, http.StatusOK, contentJSON, chainResponse{Intermediates: full[1:]})
}
