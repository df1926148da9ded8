package apply

import (
	"reflect"

	"github.com/certplan/certplan/pkg/state"
)

// RecordRefresh journals what a refresh learned about each certificate's
// current order (issued after validation, new dates, revoked in the console,
// a reissue that issued, a new certificate CertCentral reissued on its own,
// recorded as a reissue) so that apply writes it into the state. It returns how many records it
// wrote. Plan never writes; apply does, under the lock. facts are
// plan.Refresh's.
func RecordRefresh(j Journal, st *state.State, facts map[int64]state.OrderFacts) (int, error) {
	if st == nil || len(facts) == 0 {
		return 0, nil
	}
	n := 0
	for _, name := range st.Names() {
		cur := st.Certificates[name]
		f, ok := facts[cur.OrderID]
		if !ok || cur.OrderID == 0 {
			continue
		}
		f = pendingUnlessSaid(f)
		if f.AlternativeOrderID == "" {
			f.AlternativeOrderID = cur.AlternativeOrderID
		}
		if f.Status == state.StatusReissuePending && cur.Status == state.StatusReissuePending &&
			f.CertificateID != cur.CertificateID && earlierCertificate(cur, f.CertificateID) {
			// Until a reissue issues, CertCentral shows the order's earlier
			// certificate: the pending one apply recorded stays current.
			f.CertificateID, f.ValidFrom, f.ValidTill = cur.CertificateID, cur.ValidFrom, cur.ValidTill
		}
		if !factsDiffer(cur, f) {
			continue
		}
		action := cur.Action
		if action == "" {
			action = state.ActionCreate
		}
		if f.CertificateID != 0 && cur.CertificateID != 0 && f.CertificateID != cur.CertificateID && !earlierCertificate(cur, f.CertificateID) {
			// A new certificate on the same order that no apply recorded:
			// reissued by CertCentral (auto_reissue) or by hand.
			action = state.ActionReissue
		}
		rec := state.Record{Type: state.RecordOutcome, Name: name, Action: action,
			AlternativeOrderID: cur.AlternativeOrderID, Product: cur.Product, SpecDigest: cur.SpecDigest,
			RequestDigest: cur.RequestDigest, Order: &f}
		if err := j.Append(rec); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// earlierCertificate reports whether id is one of the earlier certificates
// of cur's order, in its history.
func earlierCertificate(cur *state.Certificate, id int64) bool {
	for _, h := range cur.History {
		if h.OrderID == cur.OrderID && h.CertificateID == id {
			return true
		}
	}
	return false
}

// factsDiffer reports whether the API says something the state does not.
func factsDiffer(cur *state.Certificate, f state.OrderFacts) bool {
	return (f.Status != "" && f.Status != cur.Status) ||
		(f.CertificateID != 0 && f.CertificateID != cur.CertificateID) ||
		(f.ValidTill != "" && f.ValidTill != cur.ValidTill) ||
		(f.ValidFrom != "" && f.ValidFrom != cur.ValidFrom) ||
		(f.OrderValidTill != "" && f.OrderValidTill != cur.OrderValidTill) ||
		(f.DCV != nil && !reflect.DeepEqual(f.DCV, cur.DCV))
}
