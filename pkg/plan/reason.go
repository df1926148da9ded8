package plan

import (
	"encoding/json"
	"fmt"
)

// ReasonCode names why a change was planned as it was. Codes are stable:
// scripts may match on them (`.changes[].reasons[].code` in --format json),
// whereas the message is for people and may be reworded. docs/plan-format.md
// lists them all.
type ReasonCode string

// Reason codes, grouped by the action they explain.
const (
	// create
	ReasonNewCertificate  ReasonCode = "new_certificate"  // the name is not in the state
	ReasonPredecessorDead ReasonCode = "predecessor_dead" // the current order was rejected, canceled or revoked

	// renew
	ReasonProductChanged ReasonCode = "product_changed" // the manifest names another product
	ReasonShapingChanged ReasonCode = "shaping_changed" // a certificate-shaping field changed (one reason per field)
	ReasonRenewalWindow  ReasonCode = "renewal_window"  // now is inside renewBefore of the expiry, or past it
	// renew, products with plans
	ReasonOrganizationChanged ReasonCode = "organization_changed" // an organization field changed (one reason per field)
	ReasonNotReissuable       ReasonCode = "not_reissuable"       // a shaping field a reissue cannot carry changed (cert_validity, profile_option, disable_ct)
	ReasonOrderEnding         ReasonCode = "order_ending"         // the order (the paid plan) ends inside renewBefore, or has ended

	// reissue (products with plans)
	ReasonReissueDue         ReasonCode = "reissue_due"          // the certificate is inside renewBefore of its expiry (or past it) and the order runs on
	ReasonKeyRotated         ReasonCode = "key_rotated"          // certificate.csr changed
	ReasonNamesAdded         ReasonCode = "names_added"          // names were added: billed pro rata
	ReasonNamesRemoved       ReasonCode = "names_removed"        // names were removed or the common name changed: destructive
	ReasonAutoReissueOverdue ReasonCode = "auto_reissue_overdue" // auto_reissue: 1, yet the certificate is within 7 days of expiry

	// create or renew completing an interrupted apply
	ReasonResuming                ReasonCode = "resuming"                  // an intent without outcome is completed with its key
	ReasonResumingChangedManifest ReasonCode = "resuming_changed_manifest" // ... as journaled, though the manifest changed since

	// no-op
	ReasonInFlight          ReasonCode = "in_flight"           // the current order awaits approval, validation or issuance
	ReasonDeferredChanges   ReasonCode = "deferred_changes"    // manifest changes wait until the order in flight is issued
	ReasonImportedOrder     ReasonCode = "imported_order"      // the order was imported; the manifest is taken to describe it
	ReasonNonShapingChanged ReasonCode = "non_shaping_changed" // only fields that do not shape the certificate changed
	ReasonUnhandledStatus   ReasonCode = "unhandled_status"    // the order has a status certplan does not act on
	ReasonStateBehind       ReasonCode = "state_behind"        // certplan renewed the order from a newer state (main): rebase
	// no-op notes, products with plans
	ReasonReissuedByCertCentral ReasonCode = "reissued_by_certcentral" // auto_reissue: 1 and refresh found a new certificate on the order
	ReasonAutoReissueExpected   ReasonCode = "auto_reissue_expected"   // auto_reissue: 1 and the certificate is due: CertCentral reissues it
	// reissue, renew or no-op note, products with plans
	ReasonDCVLapses ReasonCode = "dcv_lapses" // a domain validation can no longer be reused when the next certificate is due

	// no-op, blocked until a person acts
	ReasonUnknownOutcome            ReasonCode = "unknown_outcome"                 // a legacy order may or may not exist
	ReasonRenewedOutside            ReasonCode = "renewed_outside"                 // the order was renewed outside certplan
	ReasonDestructiveNotAllowed     ReasonCode = "destructive_reissue_not_allowed" // a reissue would remove names and spec.allowDestructiveReissue is not set
	ReasonInterruptedLegacy         ReasonCode = "interrupted_legacy"              // an interrupted legacy order has no key to look up
	ReasonInterruptedWithoutKey     ReasonCode = "interrupted_without_key"         // the interrupted intent has no alternative_order_id
	ReasonInterruptedWithoutRequest ReasonCode = "interrupted_without_request"     // the manifest changed and the journal has no body
	ReasonInterruptedWithoutSecret  ReasonCode = "interrupted_without_secret"      // the journaled body needs a secret the manifest dropped
	ReasonNotReviewed               ReasonCode = "not_reviewed"                    // apply --reviewed: the reviewed plan did not show this order
	ReasonHeldBack                  ReasonCode = "held_back"                       // apply --only: this run does not place this action
	ReasonLiveOrderExists           ReasonCode = "live_order_exists"               // the state is new or lost and CertCentral lists a live order with the product and names
)

// Reason is one cause of a change: a stable code and the sentence shown to people.
type Reason struct {
	Code    ReasonCode `json:"code"`
	Message string     `json:"message"`
}

// reason builds a Reason with a formatted message.
func reason(code ReasonCode, format string, args ...any) Reason {
	return Reason{Code: code, Message: fmt.Sprintf(format, args...)}
}

// UnmarshalJSON reads a reason object, or a plain string as plan files
// written before reasons had codes carry them (the code stays empty).
func (r *Reason) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var msg string
		if err := json.Unmarshal(b, &msg); err != nil {
			return err
		}
		*r = Reason{Message: msg}
		return nil
	}
	type plain Reason // without this method
	return json.Unmarshal(b, (*plain)(r))
}

// messages are the reasons' sentences, in order.
func messages(rs []Reason) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.Message
	}
	return out
}
