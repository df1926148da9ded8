package plan

import (
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
}

// observe merges the state record with the refreshed facts of its order and
// reports what changed outside certplan as drift.
func (pl planner) observe(name string, cur *state.Certificate) (observed, []Drift) {
	obs := observed{
		status:         cur.Status,
		validTill:      cur.ValidTill,
		orderValidTill: cur.OrderValidTill,
		since:          cur.StatusSince,
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
	if v := fact.ValidTill; v != "" {
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
