package plan_test

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/certplan/certplan/pkg/apply"
	"github.com/certplan/certplan/pkg/plan"
	"github.com/certplan/certplan/pkg/spec"
	"github.com/certplan/certplan/pkg/state"
)

// memJournal numbers and keeps what apply journals.
type memJournal struct{ recs []state.Record }

func (j *memJournal) Append(r state.Record) error {
	r.Seq = int64(len(j.recs) + 1)
	r.Time = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	j.recs = append(j.recs, r)
	return nil
}

// jsonBody is a body as state files carry it.
func jsonBody(t *testing.T, v map[string]any) map[string]any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var out map[string]any
	if err := dec.Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out
}

// A certificate CertCentral reissued on its own (auto_reissue) is seen by
// refresh, noted on the plan rather than reported as drift, journaled by
// apply.RecordRefresh and folded into the state as the current certificate,
// with the earlier one of the same order kept in history; the next plan has
// nothing to say about it. Without auto_reissue the same reissue is drift,
// and adopted all the same.
func TestCertCentralReissueIsAdopted(t *testing.T) {
	for _, auto := range []bool{true, false} {
		name := "without auto_reissue"
		if auto {
			name = "with auto_reissue"
		}
		t.Run(name, func(t *testing.T) {
			now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
			c := &spec.Certificate{Name: "shop", Product: spec.SecureSiteFlex, RenewBefore: spec.DefaultRenewBefore,
				Order: map[string]any{
					"certificate":    map[string]any{"common_name": "shop.example.com", "signature_hash": "sha256"},
					"order_validity": map[string]any{"years": 1},
					"organization":   map[string]any{"id": 1},
				}}
			if auto {
				c.Order["auto_reissue"] = 1
			}
			since := now.Add(-170 * 24 * time.Hour)
			st := &state.State{Version: state.FormatVersion, Lineage: "L", Certificates: map[string]*state.Certificate{"shop": {
				Product: string(c.Product), SpecDigest: plan.SpecDigest(c), RequestDigest: plan.RequestDigest(c.Order),
				Request: jsonBody(t, c.Order), Action: state.ActionCreate, Since: since,
				OrderID: 9, AlternativeOrderID: "cpkey", Status: state.StatusIssued, CertificateID: 11,
				OrderValidTill: "2027-10-10", ValidTill: "2026-12-20", UpdatedAt: since,
			}}}
			facts := map[int64]state.OrderFacts{9: {OrderID: 9, Status: state.StatusIssued, CertificateID: 77,
				ValidFrom: "2026-11-20", ValidTill: "2027-06-07", OrderValidTill: "2027-10-10"}}

			p := plan.Build(plan.Input{Certificates: []*spec.Certificate{c}, State: st, Facts: facts, Now: now})
			ch := p.Changes[0]
			if ch.Action != plan.ActionNoOp || ch.Blocked || p.HasChanges() {
				t.Fatalf("change %+v: want an unblocked no-op", ch)
			}
			wantStatus := "issued, valid till 2027-06-07, paid through 2027-10-10"
			if auto {
				wantStatus += "; reissued by CertCentral (auto_reissue): certificate 77 replaces 11, valid till 2027-06-07"
				if len(p.Drift) != 0 || len(ch.Reasons) != 1 || ch.Reasons[0].Code != plan.ReasonReissuedByCertCentral {
					t.Errorf("drift %+v reasons %+v: want a note and no drift", p.Drift, ch.Reasons)
				}
			} else if len(p.Drift) != 1 || p.Drift[0].Field != "certificate_id" || len(ch.Reasons) != 0 {
				t.Errorf("drift %+v reasons %+v: want certificate_id drift", p.Drift, ch.Reasons)
			}
			if ch.Status != wantStatus {
				t.Errorf("status %q, want %q", ch.Status, wantStatus)
			}

			j := &memJournal{}
			n, err := apply.RecordRefresh(j, st, facts)
			if err != nil || n != 1 {
				t.Fatalf("RecordRefresh: %d records, %v", n, err)
			}
			if !st.Fold(j.recs) {
				t.Fatal("folding the refreshed facts changed nothing")
			}
			cur := st.Certificates["shop"]
			if cur.OrderID != 9 || cur.CertificateID != 77 || cur.ValidTill != "2027-06-07" || cur.SpecDigest != plan.SpecDigest(c) {
				t.Errorf("current %+v: want certificate 77 of order 9", cur)
			}
			if len(cur.History) != 1 || cur.History[0].OrderID != 9 || cur.History[0].CertificateID != 11 || cur.History[0].ValidTill != "2026-12-20" {
				t.Errorf("history %+v: want certificate 11 of order 9", cur.History)
			}
			if st.Fold(j.recs) {
				t.Error("folding the same records again changed the state")
			}

			again := plan.Build(plan.Input{Certificates: []*spec.Certificate{c}, State: st, Facts: facts, Now: now})
			if ch := again.Changes[0]; ch.Action != plan.ActionNoOp || len(ch.Reasons) != 0 || len(again.Drift) != 0 ||
				ch.Status != "issued, valid till 2027-06-07, paid through 2027-10-10" {
				t.Errorf("after adoption: %+v, drift %+v", ch, again.Drift)
			}
		})
	}
}
