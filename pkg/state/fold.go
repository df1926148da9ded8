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
//     to current. An outcome for the current order only updates its facts.
//     Product, spec digest, request digest and request come from the outcome
//     record, else its intent (same name and key), else (same order only) the
//     certificate as it was.
//   - failure with nothing_created: resolves the intent, no state change.
//   - failure with unknown_outcome (legacy v1): the certificate's current
//     order becomes an "unknown_outcome" entry without order id (the previous
//     order moves to History); plan refuses to order it again until
//     `state set-order` or `state rm`.
//   - failure with neither flag: the outcome is not known yet; the intent
//     stays open and the next run resumes it.
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
		ok = ok && intent.key() == r.key()
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
			continue // outcome still unknown: the intent stays open
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
	if facts.AlternativeOrderID == "" {
		facts.AlternativeOrderID = r.key()
	}
	old := s.Certificates[r.Name]
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

// makeCurrent installs c, carrying facts, as name's current order. Orders
// are identified by id (0 for an unknown-outcome entry, which never enters
// History). The old current order moves to History; an order in History
// moves back to current with its original Since. This "move to the end"
// rule is what makes Fold idempotent.
func (s *State) makeCurrent(name string, old, c *Certificate, action Action, facts OrderFacts, at time.Time) {
	at = at.UTC()
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

	if old != nil && old.OrderID == facts.OrderID {
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
		for _, h := range old.History {
			if facts.OrderID != 0 && h.OrderID == facts.OrderID {
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
