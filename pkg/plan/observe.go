package plan

import (
	"slices"
	"time"

	"github.com/certplan/certplan/pkg/state"
)

// observed is what is known about a current order: the state's record,
// overridden by refreshed facts where there are some.
type observed struct {
	status         state.OrderStatus
	validTill      string
	orderValidTill string
	since          *time.Time
	renewedOutside bool  // renewed by an order certplan does not know
	renewedBy      int64 // that order, when the API names it
	// renewedByCertplan is the renewal of the current order that another
	// state placed: the order's alternative_order_id is the key certplan
	// derives for this certificate's renewal of the current order, so the
	// state planned from is behind (a branch behind main). 0 otherwise.
	renewedByCertplan int64
	// reissued is set when refresh found another certificate on the same
	// order (a reissue certplan did not make: CertCentral's auto_reissue,
	// or the console).
	reissued *reissueSeen
	// dcv is the order's domain validation: refreshed facts, else the state's.
	dcv *state.DCV
}

// reissueSeen is a certificate that replaced the state's on the same order.
type reissueSeen struct {
	from, to  int64 // certificate ids: the state's, the order's now
	validTill string
}

// observe merges the state record with the refreshed facts of its order and
// reports what changed outside certplan as drift.
// autoReissue says the manifest sets auto_reissue: 1, so that a certificate
// CertCentral reissued is expected rather than drift. ownKeys are the keys
// certplan would derive for a renewal of the current order: a renewal
// carrying one of them was placed by certplan from another copy of the state.
func (pl planner) observe(name string, cur *state.Certificate, autoReissue bool, ownKeys []string) (observed, []Drift) {
	obs := observed{
		status:         cur.Status,
		validTill:      cur.ValidTill,
		orderValidTill: cur.OrderValidTill,
		since:          cur.StatusSince,
		dcv:            cur.DCV,
	}
	if obs.since == nil {
		// Older records: when the order became current, else the last update.
		for _, t := range []time.Time{cur.Since, cur.UpdatedAt} {
			if !t.IsZero() {
				obs.since = &t
				break
			}
		}
	}
	fact, ok := pl.facts[cur.OrderID]
	if !ok || cur.OrderID == 0 {
		return obs, nil
	}
	if fact.DCV != nil {
		obs.dcv = fact.DCV
	}
	var drift []Drift
	api := fact.Status
	if api != "" && api != cur.Status {
		obs.status = api
		obs.since = nil // the API does not say since when
		if !expectedTransition(cur.Status, api) {
			drift = append(drift, Drift{
				Name: name, OrderID: cur.OrderID, Field: "status",
				State: string(cur.Status), API: string(api),
				Message: statusDriftMessage(cur.OrderID, cur.Status, api),
			})
		}
	}
	if fact.CertificateID != 0 && cur.CertificateID != 0 && fact.CertificateID != cur.CertificateID && !api.Dead() {
		// Another certificate on the same order: reissued outside this
		// certplan. It is adopted (apply journals the refreshed facts) and
		// never blocks anything: a reissue costs nothing. With auto_reissue
		// it is what the manifest asked for, noted on the change, not drift.
		if cur.Status != state.StatusReissuePending {
			obs.reissued = &reissueSeen{from: cur.CertificateID, to: fact.CertificateID, validTill: fact.ValidTill}
		}
		if fact.ValidTill != "" {
			obs.validTill = fact.ValidTill
		}
		// A reissue the state knows to be under way (reissue_pending, as
		// apply records its own) is expected too.
		if !autoReissue && cur.Status != state.StatusReissuePending {
			msg := sprintf("order %d was reissued outside certplan: certificate %d replaces %d", cur.OrderID, fact.CertificateID, cur.CertificateID)
			if fact.ValidTill != "" {
				msg += ", valid till " + fact.ValidTill
			}
			drift = append(drift, Drift{
				Name: name, OrderID: cur.OrderID, Field: "certificate_id",
				State: sprintf("%d", cur.CertificateID), API: sprintf("%d", fact.CertificateID),
				Message: msg + "; certplan adopts it",
			})
		}
	} else if v := fact.ValidTill; v != "" {
		if cur.ValidTill != "" && v != cur.ValidTill && cur.Status == state.StatusIssued && api == state.StatusIssued {
			drift = append(drift, Drift{
				Name: name, OrderID: cur.OrderID, Field: "valid_till",
				State: cur.ValidTill, API: v,
				Message: sprintf("the certificate of order %d changed outside certplan (reissued?): valid till %s, state says %s", cur.OrderID, v, cur.ValidTill),
			})
		}
		obs.validTill = v
	}
	if v := fact.OrderValidTill; v != "" {
		obs.orderValidTill = v
	}
	if fact.IsRenewed && fact.RenewedOrderID != 0 && !pl.known[fact.RenewedOrderID] {
		if by, ok := pl.facts[fact.RenewedOrderID]; ok && by.AlternativeOrderID != "" && slices.Contains(ownKeys, by.AlternativeOrderID) {
			obs.renewedByCertplan = fact.RenewedOrderID
			return obs, drift
		}
	}
	if fact.IsRenewed && !pl.known[fact.RenewedOrderID] {
		obs.renewedOutside = true
		obs.renewedBy = fact.RenewedOrderID
		d := Drift{Name: name, OrderID: cur.OrderID, Field: "renewed_order_id", State: "", API: "", Message: ""}
		if fact.RenewedOrderID != 0 {
			d.API = sprintf("%d", fact.RenewedOrderID)
		}
		d.Message = renewedOutsideMessage(name, cur.OrderID, fact.RenewedOrderID)
		drift = append(drift, d)
	}
	return obs, drift
}

// expectedTransition reports whether a status change is the ordinary life of
// an order certplan placed (validation, issuance, expiry) rather than drift.
func expectedTransition(from, to state.OrderStatus) bool {
	switch {
	case from == to:
		return true
	case from.InFlight():
		// DigiCert validating, issuing or rejecting what certplan ordered.
		return to.InFlight() || to == state.StatusIssued || to == state.StatusRejected
	case from == state.StatusIssued:
		return to == state.StatusExpired
	case from == state.StatusExpired:
		return to == state.StatusIssued // the API reports expired orders as issued
	}
	return false
}

func statusDriftMessage(id int64, from, to state.OrderStatus) string {
	if to.Dead() {
		return sprintf("order %d was %s outside certplan (state: %s); a new certificate will be ordered", id, to, from)
	}
	return sprintf("order %d changed from %s to %s outside certplan", id, from, to)
}

func renewedOutsideMessage(name string, id, by int64) string {
	if by == 0 {
		return sprintf("order %d was renewed outside certplan; nothing is ordered until the renewal is adopted: find it in CertCentral and run `certplan state set-order %s ORDER_ID`", id, name)
	}
	return sprintf("order %d was renewed outside certplan as order %d; nothing is ordered until it is adopted: `certplan state set-order %s %d`", id, by, name, by)
}
