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

// Approve issues an order waiting for approval (status needs_approval or
// pending), or the reissue a reissue_pending order waits for.
func (s *Server) Approve(orderID int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.st.get(orderID)
	if o == nil {
		return fmt.Errorf("approve order %d: no such order", orderID)
	}
	s.approveDCV(o, s.clockLocked())
	if p := o.pendingReissue(); p != nil {
		if err := s.issueReissue(o, p, s.clockLocked()); err != nil {
			return fmt.Errorf("approve reissue of order %d: %w", orderID, err)
		}
		s.changed()
		return nil
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

// Reject rejects what an order waits for: its pending reissue (the order
// goes back to issued with its current certificate), or the order itself
// (status and request rejected).
func (s *Server) Reject(orderID int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.st.get(orderID)
	if o == nil {
		return fmt.Errorf("reject order %d: no such order", orderID)
	}
	switch p := o.pendingReissue(); {
	case p != nil:
		rejectReissue(o, p)
	case o.Status == statusNeedsApproval || o.Status == statusPending:
		o.Status, o.RequestStatus, o.AutoApproveAt = statusRejected, requestRejected, time.Time{}
	default:
		return fmt.Errorf("reject order %d: nothing awaits approval (status %s)", orderID, o.Status)
	}
	endDCVWait(o)
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
	if status != statusPending && status != statusReissue {
		endDCVWait(o)
	}
	s.changed()
	return nil
}

// AdvanceClock moves the simulator clock forward (or back, for negative d)
// and processes the events that became due (delayed approvals,
// auto-reissues), each at its own time.
func (s *Server) AdvanceClock(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.ClockSkew += d
	s.changed()
	s.advance(s.clockLocked())
}

// SetClock sets the simulator time to t (the clock runs on from there) and
// processes the events that became due.
func (s *Server) SetClock(t time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.ClockSkew = t.Sub(s.now())
	s.changed()
	s.advance(s.clockLocked())
}

// tick processes the events due by now; every API request calls it.
func (s *Server) tick() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance(s.clockLocked())
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

func (s *Server) adminReject(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r, "id")
	if !ok {
		adminError(w, http.StatusNotFound, codeNotFoundOrder, "order id must be a positive integer")
		return
	}
	if err := s.Reject(id); err != nil {
		adminError(w, s.adminStatusFor(id), "cannot_reject", err.Error())
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
	s.advance(now)
	v := s.infoView(s.st.get(id), now)
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

// adminClock is POST /_sim/clock with one of {"advance":"720h"} (add to the
// offset), {"offset":"-24h"} (set the offset) or
// {"now":"2027-01-01T00:00:00Z"} (set the time).
func (s *Server) adminClock(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Advance string `json:"advance"`
		Offset  string `json:"offset"`
		Now     string `json:"now"`
	}
	const want = `want one of {"advance":"720h"}, {"offset":"720h"} or {"now":"2027-01-01T00:00:00Z"}`
	err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody)).Decode(&req)
	set := 0
	for _, v := range []string{req.Advance, req.Offset, req.Now} {
		if v != "" {
			set++
		}
	}
	if err != nil || set != 1 {
		adminError(w, http.StatusBadRequest, codeBadRequestFormat, want)
		return
	}
	if req.Now != "" {
		t, err := time.Parse(time.RFC3339, req.Now)
		if err != nil {
			adminError(w, http.StatusBadRequest, "invalid_value:clock", fmt.Sprintf("%q is not an RFC 3339 time such as 2027-01-01T00:00:00Z", req.Now))
			return
		}
		s.SetClock(t)
		writeJSON(w, http.StatusOK, contentJSON, s.clockState())
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
		s.advance(s.clockLocked())
		s.mu.Unlock()
	}
	writeJSON(w, http.StatusOK, contentJSON, s.clockState())
}

func (s *Server) adminCA(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/x-pem-file")
	_, _ = w.Write(s.CACertPEM())
}
