package simulator

import (
	"time"
)

// eventQueue remembers when the earliest time-driven event is due, so that
// requests do not scan every order when nothing is due.
type eventQueue struct {
	next time.Time
	has  bool
}

type eventKind int

const (
	evApproveOrder   eventKind = iota // delay mode: issue the order
	evApproveReissue                  // delay mode: issue the pending reissue
	evAutoReissue                     // auto_reissue: reissue the newest certificate
)

// maxEventsPerAdvance bounds one advance (a clock moved by decades over many
// auto-reissuing orders); the rest is processed on the next request.
const maxEventsPerAdvance = 100000

// advance processes every event due at or before now, earliest first (ties:
// the lower order id first), each at its own time: a jump of the clock by a
// year gives the same certificates, dates and ids as stepping through it day
// by day. It runs on every API request and whenever the clock is set.
// Callers hold s.mu.
func (s *Server) advance(now time.Time) {
	if !s.dirty.Load() && (!s.events.has || now.Before(s.events.next)) {
		return
	}
	for range maxEventsPerAdvance {
		s.dirty.Store(false)
		var (
			due     *order
			dueAt   time.Time
			dueKind eventKind
			next    time.Time
			hasNext bool
		)
		for _, o := range s.st.Orders {
			at, kind, ok := s.orderEvent(o)
			if !ok {
				continue
			}
			if at.After(now) {
				if !hasNext || at.Before(next) {
					next, hasNext = at, true
				}
				continue
			}
			if due == nil || at.Before(dueAt) {
				due, dueAt, dueKind = o, at, kind
			}
		}
		if due == nil {
			s.events = eventQueue{next: next, has: hasNext}
			return
		}
		s.fire(due, dueAt, dueKind)
		s.changed()
	}
	s.dirty.Store(true) // not done: continue on the next request
}

// orderEvent returns o's next time-driven event, if it has one.
func (s *Server) orderEvent(o *order) (time.Time, eventKind, bool) {
	if o.Status == statusNeedsApproval && !o.AutoApproveAt.IsZero() {
		return o.AutoApproveAt, evApproveOrder, true
	}
	if o.Status == statusReissue {
		if p := o.pendingReissue(); p != nil && !p.AutoApproveAt.IsZero() {
			return p.AutoApproveAt, evApproveReissue, true
		}
		return time.Time{}, 0, false
	}
	if at, ok := s.autoReissueAt(o); ok {
		return at, evAutoReissue, true
	}
	return time.Time{}, 0, false
}

// autoReissueAt is when CertCentral requests the next auto-reissue of o: 30
// days before the newest certificate expires (at once if it is shorter than
// that), as long as the order is issued, has no reissue pending, still runs
// then, and the new certificate would end later than the current one.
func (s *Server) autoReissueAt(o *order) (time.Time, bool) {
	if !o.AutoReissue || o.Status != statusIssued || !reissuable(o) || o.pendingReissue() != nil {
		return time.Time{}, false
	}
	cur := o.current()
	if !cur.issued() {
		return time.Time{}, false
	}
	at := cur.NotAfter.Add(-autoReissueBefore)
	if at.Before(cur.IssuedAt) {
		at = cur.IssuedAt
	}
	if !at.Before(o.OrderValidTill) || !s.certEnd(o, at, 0).After(cur.NotAfter) {
		return time.Time{}, false
	}
	return at, true
}

// fire processes one event at its time. A failure (a stored CSR that no
// longer parses) clears the event, so it is not retried forever.
func (s *Server) fire(o *order, at time.Time, kind eventKind) {
	switch kind {
	case evApproveOrder:
		if err := s.issue(o, at); err != nil {
			o.AutoApproveAt = time.Time{}
		}
	case evApproveReissue:
		if p := o.pendingReissue(); p != nil {
			if err := s.issueReissue(o, p, at); err != nil {
				rejectReissue(o, p)
			}
		}
	case evAutoReissue:
		cur := o.current()
		rq := reissueRequest{commonName: cur.cn, dnsNames: cur.dnsNames, csrPEM: cur.csr, sigHash: cur.sigHash}
		rec, err := s.commitReissue(o, rq, nil, at, true)
		if err != nil {
			rejectReissue(o, rec)
			o.AutoReissue = false // stop: the next attempt would fail the same way
		}
		s.stats.update(func(st *Stats) { st.AutoReissues++ })
	}
}
