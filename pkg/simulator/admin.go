package simulator

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Orders returns every order placed, in order, for tests and the admin API.
func (s *Server) Orders() []ReceivedOrder {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.settleAll(s.clockLocked())
	out := make([]ReceivedOrder, 0, len(s.st.Orders))
	for _, o := range s.st.Orders {
		out = append(out, o.received())
	}
	return out
}

// SetFaults replaces the injected faults (and reseeds the 5xx choice).
func (s *Server) SetFaults(f Faults) { s.faults.set(f) }

// Faults returns the active faults; Burst429 and DropAfterCommit are what is left.
func (s *Server) Faults() Faults { return s.faults.get() }

// Approve issues an order waiting for approval (status needs_approval or pending).
func (s *Server) Approve(orderID int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.st.get(orderID)
	if o == nil {
		return fmt.Errorf("approve order %d: no such order", orderID)
	}
	if o.Status != statusNeedsApproval && o.Status != statusPending {
		return fmt.Errorf("approve order %d: status is %s, not needs_approval or pending", orderID, o.Status)
	}
	if err := s.issue(o, s.clockLocked()); err != nil {
		return fmt.Errorf("approve order %d: %w", orderID, err)
	}
	s.changed()
	return nil
}

// SetStatus forces an order's status, e.g. "revoked" for drift tests. Setting
// "issued" on an order without a certificate issues one; "rejected" also
// rejects its request.
func (s *Server) SetStatus(orderID int64, status string) error {
	if !slices.Contains(knownStatuses, status) {
		return fmt.Errorf("set status of order %d: unknown status %q (want one of %s)", orderID, status, strings.Join(knownStatuses, ", "))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.st.get(orderID)
	if o == nil {
		return fmt.Errorf("set status of order %d: no such order", orderID)
	}
	switch {
	case status == statusIssued && len(o.Cert) == 0 && o.CSR != "":
		if err := s.issue(o, s.clockLocked()); err != nil {
			return fmt.Errorf("set status of order %d: %w", orderID, err)
		}
	case status == statusRejected:
		o.Status, o.RequestStatus = status, requestRejected
	default:
		o.Status = status
	}
	s.changed()
	return nil
}

// AdvanceClock moves the simulator clock forward (or back, for negative d).
func (s *Server) AdvanceClock(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.ClockSkew += d
	s.changed()
}

// Now returns the simulator time (Options.Now plus the clock offset).
func (s *Server) Now() time.Time { return s.clock() }

func adminError(w http.ResponseWriter, status int, code, msg string) {
	writeErrors(w, apiAdmin, status, apiError{Code: code, Message: msg})
}

func (s *Server) adminOrders(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, contentJSON, struct {
		Orders []ReceivedOrder `json:"orders"`
	}{s.Orders()})
}

func (s *Server) adminStats(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, contentJSON, s.Stats())
}

func (s *Server) adminGetFaults(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, contentJSON, s.Faults())
}

func (s *Server) adminSetFaults(w http.ResponseWriter, r *http.Request) {
	var f Faults
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody)).Decode(&f); err != nil {
		adminError(w, http.StatusBadRequest, codeBadRequestFormat, "faults: "+err.Error())
		return
	}
	s.SetFaults(f)
	writeJSON(w, http.StatusOK, contentJSON, s.Faults())
}

func (s *Server) adminApprove(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r, "id")
	if !ok {
		adminError(w, http.StatusNotFound, codeNotFoundOrder, "order id must be a positive integer")
		return
	}
	if err := s.Approve(id); err != nil {
		adminError(w, s.adminStatusFor(id), "cannot_approve", err.Error())
		return
	}
	s.writeOrder(w, id)
}

func (s *Server) adminStatus(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r, "id")
	if !ok {
		adminError(w, http.StatusNotFound, codeNotFoundOrder, "order id must be a positive integer")
		return
	}
	var req struct {
		Status string `json:"status"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody)).Decode(&req); err != nil {
		adminError(w, http.StatusBadRequest, codeBadRequestFormat, `want {"status":"revoked"}`)
		return
	}
	if err := s.SetStatus(id, req.Status); err != nil {
		adminError(w, s.adminStatusFor(id), "invalid_value:status", err.Error())
		return
	}
	s.writeOrder(w, id)
}

// adminStatusFor is 404 for an unknown order, else 400.
func (s *Server) adminStatusFor(id int64) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.st.get(id) == nil {
		return http.StatusNotFound
	}
	return http.StatusBadRequest
}

func (s *Server) writeOrder(w http.ResponseWriter, id int64) {
	s.mu.Lock()
	now := s.clockLocked()
	v := s.view(s.st.get(id), now)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, contentJSON, v)
}

type clockResponse struct {
	Now    time.Time `json:"now"`
	Offset string    `json:"offset"`
}

func (s *Server) clockState() clockResponse {
	s.mu.Lock()
	defer s.mu.Unlock()
	return clockResponse{Now: s.clockLocked(), Offset: s.st.ClockSkew.String()}
}

func (s *Server) adminGetClock(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, contentJSON, s.clockState())
}

// adminClock is POST /_sim/clock {"advance":"720h"} or {"offset":"-24h"}.
func (s *Server) adminClock(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Advance string `json:"advance"`
		Offset  string `json:"offset"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody)).Decode(&req); err != nil || (req.Advance == "") == (req.Offset == "") {
		adminError(w, http.StatusBadRequest, codeBadRequestFormat, `want {"advance":"720h"} or {"offset":"720h"}`)
		return
	}
	val := req.Advance + req.Offset
	d, err := time.ParseDuration(val)
	if err != nil {
		adminError(w, http.StatusBadRequest, "invalid_value:clock", fmt.Sprintf("%q is not a Go duration such as 720h", val))
		return
	}
	if req.Advance != "" {
		s.AdvanceClock(d)
	} else {
		s.mu.Lock()
		s.st.ClockSkew = d
		s.changed()
		s.mu.Unlock()
	}
	writeJSON(w, http.StatusOK, contentJSON, s.clockState())
}

func (s *Server) adminCA(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/x-pem-file")
	_, _ = w.Write(s.CACertPEM())
}
