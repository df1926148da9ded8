package apply

import (
	"testing"

	"github.com/certplan/certplan/pkg/state"
)

func TestRecordRefresh(t *testing.T) {
	st := &state.State{Certificates: map[string]*state.Certificate{
		"issued-now": {OrderID: 1, Status: state.StatusPending, Action: state.ActionCreate, AlternativeOrderID: "k1"},
		"unchanged":  {OrderID: 2, Status: state.StatusIssued, ValidTill: "2027-01-01", CertificateID: 20},
		"revoked":    {OrderID: 3, Status: state.StatusIssued, CertificateID: 30},
		"not-asked":  {OrderID: 4, Status: state.StatusPending},
	}}
	facts := map[int64]state.OrderFacts{
		1:  {OrderID: 1, Status: state.StatusIssued, CertificateID: 10, ValidTill: "2027-11-23"},
		2:  {OrderID: 2, Status: state.StatusIssued, CertificateID: 20, ValidTill: "2027-01-01"},
		3:  {OrderID: 3, Status: state.StatusRevoked, CertificateID: 30},
		99: {OrderID: 99, Status: state.StatusIssued},
	}
	j := &memJournal{}
	n, err := RecordRefresh(j, st, facts)
	if err != nil {
		t.Fatal(err)
	}
	if n != 2 || len(j.recs) != 2 {
		t.Fatalf("wrote %d records, want 2: %+v", n, j.recs)
	}
	got := map[string]state.OrderStatus{}
	for _, r := range j.recs {
		if r.Type != state.RecordOutcome || r.Order == nil || r.Action == "" {
			t.Fatalf("bad record %+v", r)
		}
		got[r.Name] = r.Order.Status
	}
	if got["issued-now"] != state.StatusIssued || got["revoked"] != state.StatusRevoked {
		t.Fatalf("records = %v", got)
	}
	if j.recs[0].AlternativeOrderID != "k1" {
		t.Errorf("record lost the key: %q", j.recs[0].AlternativeOrderID)
	}
	// Folding them brings the state up to date.
	if !st.Fold(j.recs) || st.Certificates["issued-now"].ValidTill != "2027-11-23" || st.Certificates["revoked"].Status != state.StatusRevoked {
		t.Fatalf("fold did not apply the refresh: %+v", st.Certificates)
	}
}
