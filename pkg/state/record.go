package state

import (
	"errors"
	"fmt"
)

// Validate checks that a journal record is one this certplan can fold. An
// unknown type or action means the journal was written by a newer certplan.
func (r Record) Validate() error {
	if r.Name == "" {
		return errors.New("record has no certificate name")
	}
	switch r.Type {
	case RecordIntent, RecordOutcome, RecordFailure:
	default:
		return fmt.Errorf("unknown record type %q (written by a newer certplan?)", r.Type)
	}
	switch r.Action {
	case ActionCreate, ActionRenew, ActionReissue, ActionImport:
	default:
		return fmt.Errorf("%s record for %s has unknown action %q", r.Type, r.Name, r.Action)
	}
	switch r.DupCheck {
	case "", DupCheckAlternateID, DupCheckCSRMatch, DupCheckNone:
	default:
		return fmt.Errorf("%s record for %s has unknown dup_check %q (written by a newer certplan?)", r.Type, r.Name, r.DupCheck)
	}
	if r.ReissueOf < 0 {
		return fmt.Errorf("%s record for %s has reissue_of_order_id %d", r.Type, r.Name, r.ReissueOf)
	}
	if r.CSRKeyDigest != "" && !isHexDigest(r.CSRKeyDigest) {
		return fmt.Errorf("%s record for %s has csr_key_digest %q, want 64 lower-case hex digits", r.Type, r.Name, r.CSRKeyDigest)
	}
	switch r.Type {
	case RecordIntent:
		if r.DupCheck == DupCheckAlternateID && r.AlternativeOrderID == "" {
			return fmt.Errorf("intent for %s has dup_check %q but no alternative_order_id", r.Name, r.DupCheck)
		}
		if r.Action == ActionReissue {
			// Without these an interrupted reissue could not be checked
			// before it is sent again.
			switch {
			case r.DupCheck != DupCheckCSRMatch:
				return fmt.Errorf("reissue intent for %s has dup_check %q, want %q", r.Name, r.DupCheck, DupCheckCSRMatch)
			case r.ReissueOf == 0:
				return fmt.Errorf("reissue intent for %s names no reissue_of_order_id", r.Name)
			case r.CSRKeyDigest == "":
				return fmt.Errorf("reissue intent for %s has no csr_key_digest", r.Name)
			}
		}
	case RecordOutcome:
		if r.Order == nil {
			return fmt.Errorf("outcome record for %s has no order", r.Name)
		}
		if r.Order.OrderID <= 0 {
			return fmt.Errorf("outcome record for %s has order id %d", r.Name, r.Order.OrderID)
		}
		if r.ReissueOf != 0 && r.Order.OrderID != r.ReissueOf {
			return fmt.Errorf("outcome record for %s reissues order %d but names order %d", r.Name, r.ReissueOf, r.Order.OrderID)
		}
	case RecordFailure:
		if r.NothingCreated && r.Unknown {
			return fmt.Errorf("failure record for %s says both nothing_created and unknown_outcome", r.Name)
		}
	}
	return nil
}

// ValidateNew checks a record about to be written: Validate, and every
// intent must name its duplicate check (only records written by format
// version 1 may lack it).
func (r Record) ValidateNew() error {
	if err := r.Validate(); err != nil {
		return err
	}
	if r.Type == RecordIntent && r.DupCheck == "" {
		return fmt.Errorf("intent for %s names no dup_check (%s, %s or %s)", r.Name, DupCheckAlternateID, DupCheckCSRMatch, DupCheckNone)
	}
	return nil
}

// DuplicateCheck is how this intent is checked for duplicates: its DupCheck,
// or for a record written by format version 1, which had none, what that
// version inferred: an intent without a key is a legacy v1 order (none),
// any other looks its key up (alternate_id).
func (r Record) DuplicateCheck() DupCheck {
	switch {
	case r.DupCheck != "":
		return r.DupCheck
	case r.key() == "":
		return DupCheckNone
	}
	return DupCheckAlternateID
}

// resolves reports whether r, an outcome or a failure, answers the intent
// in. A reissue is answered by a reissue record for the same order and CSR
// key, and answers nothing else (a refresh's outcome for the same order does
// not close an interrupted reissue); any other intent by a record with the
// same key.
func (in Record) resolvedBy(r Record) bool {
	if in.Action == ActionReissue || r.Action == ActionReissue {
		return in.Action == r.Action && in.ReissueOf == r.ReissueOf && in.CSRKeyDigest == r.CSRKeyDigest
	}
	return in.key() == r.key()
}

func isHexDigest(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// key is the idempotency key a record is about: its alternative_order_id,
// or the order's when an outcome leaves the top-level one empty. Legacy v1
// records have none (""), and pair with each other by name alone.
func (r Record) key() string {
	if r.AlternativeOrderID == "" && r.Order != nil {
		return r.Order.AlternativeOrderID
	}
	return r.AlternativeOrderID
}
