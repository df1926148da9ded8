package plan

import (
	"strings"
	"testing"
	"time"

	"github.com/certplan/certplan/pkg/spec"
	"github.com/certplan/certplan/pkg/state"
)

// An interrupted reissue is planned again as a reissue of the same order,
// resuming, with the journaled CSR key: apply checks the order's
// certificates for it before it sends anything. The rules for a due
// certificate are not asked (the resume rule decides first).
func TestBuildResumesInterruptedReissue(t *testing.T) {
	const digest = "0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f"
	reissueIntent := func(t *testing.T, c *spec.Certificate) state.Record {
		return state.Record{
			Type: state.RecordIntent, Time: time.Date(2026, 11, 22, 18, 4, 5, 0, time.UTC), Name: c.Name,
			Action: state.ActionReissue, DupCheck: state.DupCheckCSRMatch, AlternativeOrderID: "cporderkey",
			ReissueOf: 9, CSRKeyDigest: digest, PriorCertificateIDs: []int64{11},
			Product: string(c.Product), SpecDigest: SpecDigest(c), RequestDigest: RequestDigest(c.Order), Request: roundTrip(t, c.Order),
		}
	}
	tests := []struct {
		name    string
		edit    func(c *spec.Certificate) // the manifest after the interruption
		intent  func(r *state.Record)     // the journaled intent
		state   func(st *state.State)
		check   func(t *testing.T, ch Change) // beyond action, resuming, order and digest
		blocked bool
	}{
		{name: "same manifest", check: func(t *testing.T, ch Change) {
			if csr := ch.Request["certificate"].(map[string]any)["csr"]; csr != csrPEM("a") {
				t.Errorf("csr %v", csr)
			}
		}},
		{name: "the manifest's CSR changed since: the journaled CSR is sent",
			edit: func(c *spec.Certificate) { c.Order["certificate"].(map[string]any)["csr"] = csrPEM("rotated") },
			check: func(t *testing.T, ch Change) {
				if csr := ch.Request["certificate"].(map[string]any)["csr"]; csr != csrPEM("a") {
					t.Errorf("csr %v, want the journaled one (its key digest is the intent's)", csr)
				}
				if len(ch.Reasons) != 2 || ch.Reasons[1].Code != ReasonResumingChangedManifest {
					t.Errorf("reasons %+v", ch.Reasons)
				}
			}},
		{name: "no order named: blocked", intent: func(r *state.Record) { r.ReissueOf = 0 }, blocked: true},
		{name: "the state no longer knows the certificate", state: func(st *state.State) { delete(st.Certificates, "a") },
			check: func(t *testing.T, ch Change) {}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tlsCert("a")
			st := &state.State{Lineage: "L", Certificates: map[string]*state.Certificate{"a": applied(t, c, 9, "2027-10-10")}}
			in := reissueIntent(t, c)
			if tt.state != nil {
				tt.state(st)
			}
			if tt.intent != nil {
				tt.intent(&in)
			}
			if tt.edit != nil {
				tt.edit(c)
			}
			p := Build(Input{Certificates: []*spec.Certificate{c}, State: st, Pending: map[string]state.Record{"a": in}, Now: testNow})
			ch := p.Changes[0]
			if tt.blocked {
				if !ch.Blocked || ch.Applies() || !strings.Contains(ch.Status, "cannot resume") {
					t.Fatalf("change %+v, want blocked", ch)
				}
				return
			}
			if ch.Action != ActionReissue || !ch.Resuming || ch.OrderID != 9 || ch.CSRKeyDigest != digest ||
				ch.AlternativeOrderID != "" || !ch.Applies() || ch.Blocked || p.Summary.Reissue != 1 {
				t.Fatalf("change %+v", ch)
			}
			if ch.Reasons[0].Code != ReasonResuming {
				t.Errorf("reasons %+v", ch.Reasons)
			}
			if ch.Billing == nil || ch.Billing.Kind != BillingFree || ch.Billing.OrderID != 9 {
				t.Errorf("billing %+v", ch.Billing)
			}
			tt.check(t, ch)
		})
	}
}
