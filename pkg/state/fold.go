package state

import (
	"bytes"
	"encoding/json"
	"time"
)

// Fold applies journal records to s, in order, and reports whether the
// snapshot changed. It is pure (no I/O) and idempotent: folding the same
// records again, as happens when a crash hits between writing the snapshot
// and removing the journal, changes nothing. Invalid records are skipped
// (the journal reader rejects them before they get here).
//
//   - intent: no state change; it waits for its outcome or failure.
//   - outcome: the order becomes the certificate's current order. A different
//     current order moves to History; an order already in History moves back
//     to current. An outcome for the current order only updates its facts,
//     unless it names another certificate of it (a reissue): then the
//     earlier certificate moves to History, and the new one is current.
//     Product, spec digest, request digest and request come from the outcome
//     record, else its intent (same name and key), else (same order only) the
//     certificate as it was.
//   - failure with nothing_created: resolves the intent, no state change.
//   - failure with unknown_outcome (legacy v1): the certificate's current
//     order becomes an "unknown_outcome" entry without order id (the previous
//     order moves to History); plan refuses to order it again until
//     `state set-order` or `state rm`.
//   - failure with neither flag: the outcome is not known yet; the intent
//     stays open and the next run resumes it. Its last_attempt, if later
//     than the intent's, is copied onto the open intent (which the journal
//     keeps when it is retired), so that the next run knows how old the
//     attempt is.
//
// An outcome or failure resolves the open intent of its name when it is
// about the same request: the same key, or for a reissue the same order and
// CSR key digest (Record.resolvedBy).
func (s *State) Fold(recs []Record) (changed bool) {
	changed, _ = s.fold(recs)
	return changed
}

// fold is Fold that also returns the intents left open, by certificate name.
func (s *State) fold(recs []Record) (bool, map[string]Record) {
	if s.Certificates == nil {
		s.Certificates = map[string]*Certificate{}
	}
	pending := map[string]Record{}
	before := map[string][]byte{} // each touched certificate as it was
	touch := func(name string) {
		if _, ok := before[name]; !ok {
			before[name] = certJSON(s.Certificates[name])
		}
	}
	for _, r := range recs {
		if r.Validate() != nil {
			continue
		}
		if r.Type == RecordIntent {
			pending[r.Name] = r
			continue
		}
		intent, ok := pending[r.Name]
		ok = ok && intent.resolvedBy(r)
		if !ok {
			intent = Record{}
		}
		switch {
		case r.Type == RecordOutcome:
			touch(r.Name)
			s.applyOutcome(r, intent)
		case r.Unknown:
			touch(r.Name)
			s.applyUnknown(r, intent)
		case r.NothingCreated:
		default:
			// The outcome is still unknown: the intent stays open, and
			// remembers when its last attempt ended.
			if ok && r.LastAttempt != nil && (intent.LastAttempt == nil || r.LastAttempt.After(*intent.LastAttempt)) {
				at := r.LastAttempt.UTC()
				intent.LastAttempt = &at
				pending[r.Name] = intent
			}
			continue
		}
		if ok {
			delete(pending, r.Name)
		}
	}
	changed := false
	for name, b := range before {
		changed = changed || !bytes.Equal(b, certJSON(s.Certificates[name]))
	}
	return changed, pending
}

// certJSON is a certificate as the snapshot would hold it, for comparison.
func certJSON(c *Certificate) []byte {
	b, err := json.Marshal(c)
	if err != nil {
		return []byte("unencodable") // an unencodable request: never equal to a valid one
	}
	return b
}

func (s *State) applyOutcome(r, intent Record) {
	facts := *r.Order
	old := s.Certificates[r.Name]
	if facts.AlternativeOrderID == "" {
		facts.AlternativeOrderID = r.key()
	}
	c := &Certificate{}
	if old != nil && old.OrderID == facts.OrderID {
		describeFrom(c, old)
	}
	describe(c, intent)
	describe(c, r)
	s.makeCurrent(r.Name, old, c, r.Action, facts, r.Time)
}

func (s *State) applyUnknown(r, intent Record) {
	old := s.Certificates[r.Name]
	c := &Certificate{}
	if old != nil && old.OrderID == 0 {
		describeFrom(c, old)
	}
	describe(c, intent)
	describe(c, r)
	facts := OrderFacts{Status: StatusUnknownOutcome, AlternativeOrderID: r.key()}
	s.makeCurrent(r.Name, old, c, r.Action, facts, r.Time)
}

// describe copies what a record says about the certificate (as opposed to
// the order): the non-empty ones win.
func describe(c *Certificate, r Record) {
	if r.Product != "" {
		c.Product = r.Product
	}
	if r.SpecDigest != "" {
		c.SpecDigest = r.SpecDigest
	}
	if r.RequestDigest != "" {
		c.RequestDigest = r.RequestDigest
	}
	if len(r.Request) > 0 {
		c.Request = r.Request
	}
}

func describeFrom(c, old *Certificate) {
	c.Product, c.SpecDigest, c.RequestDigest, c.Request = old.Product, old.SpecDigest, old.RequestDigest, old.Request
}

// makeCurrent installs c, carrying facts, as name's current order.
//
// Entries (the current one and those in History) are identified by order id
// and certificate id, so that a second certificate on the same order (a
// reissue) does not overwrite the first. A certificate id of 0 is "not
// known yet" and matches any certificate of the same order; it never
// replaces a known one. Order id 0 is an unknown-outcome entry, which never
// enters History.
//
// Facts for the current entry update it in place. Otherwise the current
// entry moves to the end of History, and an entry already in History comes
// back to current with its original Since. This "move to the end" rule is
// what makes Fold idempotent.
//
// Facts without a certificate id for an order that is not current, while
// History holds several certificates of that order, are ambiguous: they go
// to the least recently current one. certplan does not write such facts (an
// order's certificate id, once known, is never reported as unknown again),
// and Fold is idempotent for every journal without them.
func (s *State) makeCurrent(name string, old, c *Certificate, action Action, facts OrderFacts, at time.Time) {
	at = at.UTC()
	back := -1 // the History entry that becomes current again
	if old != nil && !sameEntry(old.OrderID, old.CertificateID, facts) {
		back = historyIndex(old.History, facts)
	}
	if facts.CertificateID == 0 {
		switch {
		case old != nil && back < 0 && sameEntry(old.OrderID, old.CertificateID, facts):
			facts.CertificateID = old.CertificateID
		case back >= 0:
			facts.CertificateID = old.History[back].CertificateID
		}
	}
	c.Action = action
	c.OrderID = facts.OrderID
	c.AlternativeOrderID = facts.AlternativeOrderID
	c.RequestID = facts.RequestID
	c.RequestStatus = facts.RequestStatus
	c.Status = facts.Status
	c.CertificateID = facts.CertificateID
	c.OrderValidFrom = facts.OrderValidFrom
	c.OrderValidTill = facts.OrderValidTill
	c.ValidFrom = facts.ValidFrom
	c.ValidTill = facts.ValidTill
	c.UpdatedAt = at
	// Facts without DCV keep what was known of the same order's validation
	// (a reissue reuses it: reuse periods count from when it was done), and
	// facts with DCV keep when each name was validated.
	c.DCV = facts.DCV.Clone()
	if old != nil && old.OrderID == facts.OrderID && facts.OrderID != 0 {
		if c.DCV == nil {
			c.DCV = old.DCV.Clone()
		} else {
			c.DCV.keepValidated(old.DCV)
		}
	}

	if old != nil && sameEntry(old.OrderID, old.CertificateID, facts) {
		c.Since = old.Since
		c.History = old.History
		c.StatusSince = old.StatusSince
		if old.Status != c.Status || c.StatusSince == nil {
			c.StatusSince = &at
		}
		s.Certificates[name] = c
		return
	}

	c.Since = at
	c.StatusSince = &at
	if old != nil {
		var hist []HistoryEntry
		for i, h := range old.History {
			if i == back {
				c.Since = h.At // back to current: it has been ours since then
				continue
			}
			hist = append(hist, h)
		}
		if old.OrderID != 0 {
			hist = append(hist, historyEntry(old))
		}
		c.History = hist
	}
	s.Certificates[name] = c
}

// sameEntry reports whether an entry for (orderID, certID) is the one facts
// are about: the same order, and the same certificate where both are known.
func sameEntry(orderID, certID int64, facts OrderFacts) bool {
	return orderID == facts.OrderID && (certID == 0 || facts.CertificateID == 0 || certID == facts.CertificateID)
}

// historyIndex finds the History entry facts are about: the one with the
// same order and certificate id (0 included), else the first (least
// recently current) one of the same order where either certificate id is
// not known; -1 if none, and always for order 0.
func historyIndex(hist []HistoryEntry, facts OrderFacts) int {
	if facts.OrderID == 0 {
		return -1
	}
	loose := -1
	for i, h := range hist {
		if h.OrderID != facts.OrderID {
			continue
		}
		if h.CertificateID == facts.CertificateID {
			return i
		}
		if loose < 0 && sameEntry(h.OrderID, h.CertificateID, facts) {
			loose = i
		}
	}
	return loose
}

func historyEntry(c *Certificate) HistoryEntry {
	at := c.Since
	if at.IsZero() {
		at = c.UpdatedAt
	}
	return HistoryEntry{
		Action:             c.Action,
		OrderID:            c.OrderID,
		AlternativeOrderID: c.AlternativeOrderID,
		Status:             c.Status,
		CertificateID:      c.CertificateID,
		ValidTill:          c.ValidTill,
		At:                 at,
	}
}
