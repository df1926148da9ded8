package apply

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/certplan/certplan/pkg/certcentral"
	"github.com/certplan/certplan/pkg/plan"
	"github.com/certplan/certplan/pkg/spec"
	"github.com/certplan/certplan/pkg/state"
)

// testCSRs are CSRs for two keys (made once: key generation is slow).
var testCSRs = sync.OnceValue(func() [2]string {
	var out [2]string
	for i := range out {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			panic(err)
		}
		der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
			Subject: pkix.Name{CommonName: "shop.example.com"}, DNSNames: []string{"shop.example.com"}}, key)
		if err != nil {
			panic(err)
		}
		out[i] = string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}))
	}
	return out
})

func digestOf(t testing.TB, csr string) string {
	t.Helper()
	d, err := spec.CSRKeyDigest(csr)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// The fakeAPI's reissue side. An order's certificates are its primary
// (certificate id = order id × 10, CSR unknown to the fake unless set) and
// the reissues committed since, oldest first.

func (f *fakeAPI) reissueState() {
	if f.certs == nil {
		f.certs = map[int64][]certcentral.ReissueCertificate{}
		f.reissueCalls = map[int64]int{}
	}
}

// addOrder puts an issued order with a primary certificate for csr into the fake.
func (f *fakeAPI) addOrder(key string, id int64, csr string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reissueState()
	f.orders[key] = append(f.orders[key], certcentral.AlternateOrder{OrderID: id, Status: "issued", CertificateID: id * 10})
	f.certs[id] = []certcentral.ReissueCertificate{{ID: id * 10, CSR: csr, Status: "issued", ValidFrom: "2026-12-01", ValidTill: "2027-06-18", DateCreated: "2026-12-01T00:00:00+00:00"}}
}

// addCert adds a certificate to an order as another source would (a
// reissue by hand in the console, CertCentral's auto-reissue).
func (f *fakeAPI) addCert(id int64, c certcentral.ReissueCertificate) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reissueState()
	f.certs[id] = append(f.certs[id], c)
}

func (f *fakeAPI) Reissue(_ context.Context, id int64, body []byte) (*certcentral.ReissueResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reissueState()
	f.reissueCalls[id]++
	commit, err := true, error(nil)
	if f.reissue != nil {
		commit, err = f.reissue(id, f.reissueCalls[id])
	}
	var resp *certcentral.ReissueResponse
	if commit {
		var b struct {
			Certificate struct {
				CSR string `json:"csr"`
			} `json:"certificate"`
		}
		_ = json.Unmarshal(body, &b)
		f.nextID++
		c := certcentral.ReissueCertificate{ID: f.nextID * 10, CSR: b.Certificate.CSR, Status: "issued",
			ValidFrom: "2027-05-20", ValidTill: "2027-08-27", DateCreated: "2027-05-20T00:00:0" + string(rune('0'+len(f.certs[id]))) + "+00:00"}
		if f.approval {
			c.Status, c.ValidFrom, c.ValidTill = "pending", "", ""
		}
		f.certs[id] = append(f.certs[id], c)
		f.reissuesCommitted++
		resp = &certcentral.ReissueResponse{ID: id, Requests: []certcentral.Request{{ID: f.nextID, Status: "pending"}}}
		if !f.approval {
			resp.CertificateID = c.ID
			resp.Requests[0].Status = "approved"
		}
	}
	if err != nil {
		return nil, err
	}
	return resp, nil
}

func (f *fakeAPI) ListReissues(_ context.Context, id int64) ([]certcentral.ReissueCertificate, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reissueState()
	if f.listErr != nil {
		return nil, f.listErr
	}
	return slices.Clone(f.certs[id]), nil
}

// reissueView completes order info with the reissues: the newest issued
// certificate is current, and a pending one makes the order reissue_pending.
// Callers hold f.mu.
func (f *fakeAPI) reissueView(o *certcentral.Order) {
	certs := f.certs[o.ID]
	for _, c := range certs {
		if c.Status == "issued" {
			o.Certificate = certcentral.OrderCertificate{ID: c.ID, CSR: c.CSR, ValidFrom: c.ValidFrom, ValidTill: c.ValidTill}
		}
	}
	for _, c := range certs[min(1, len(certs)):] {
		st := "approved"
		switch c.Status {
		case "pending":
			st = "pending"
			o.Status = "reissue_pending"
		case "rejected":
			st = "rejected"
		}
		o.Requests = append(o.Requests, certcentral.Request{ID: c.ID + 1, Type: "reissue", Status: st})
	}
	if f.pendingStatus {
		o.Status = "reissue_pending"
	}
}

func (f *fakeAPI) reissueCount(id int64) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.reissueCalls[id]
}

func reissueChange(csr string) plan.Change {
	return plan.Change{
		Name: "shop", Product: spec.SecureSiteFlex, Action: plan.ActionReissue, OrderID: 7,
		SpecDigest: "sha256:spec", RequestDigest: "sha256:req",
		Request: map[string]any{
			"certificate":    map[string]any{"common_name": "shop.example.com", "csr": csr, "signature_hash": "sha256"},
			"order_validity": map[string]any{"years": 1},
			"organization":   map[string]any{"id": 123456},
		},
	}
}

var (
	err503     = &certcentral.APIError{StatusCode: 503}
	err429     = &certcentral.APIError{StatusCode: 429, Errors: []certcentral.ErrorDetail{{Code: "request_limit_exceeded"}}}
	err400     = &certcentral.APIError{StatusCode: 400, Errors: []certcentral.ErrorDetail{{Code: "invalid_value", Detail: "dns_names"}}}
	errTimeout = &url.Error{Op: "Post", URL: "http://127.0.0.1/services/v2/order/certificate/7/reissue", Err: context.DeadlineExceeded}
)

// TestReissueOutcomes: one reissue per intent, whatever fails. Each case
// runs apply once, and where the intent stays open, once more as the next
// run (resuming with the first intent) would.
func TestReissueOutcomes(t *testing.T) {
	csrs := testCSRs()
	newKey, oldKey := csrs[0], csrs[1]
	tests := []struct {
		name string
		// primaryCSR is the order's current certificate's CSR: the same key
		// as the reissue's when a certificate due by date is reissued with
		// the same CSR.
		primaryCSR string
		setup      func(f *fakeAPI)
		want       Outcome
		wantCalls  int
		wantCerts  int // certificates CertCentral made for this intent
		wantRecs   string
		wantStatus state.OrderStatus
		// then: the next run resumes the open intent, after between(f).
		between    func(f *fakeAPI)
		resumeWant Outcome
		resumeCall int // Reissue calls after the second run, in all
		resumeRecs string
	}{
		{
			name: "issued at once", primaryCSR: oldKey,
			want: OutcomeCreated, wantCalls: 1, wantCerts: 1, wantRecs: "intent,outcome", wantStatus: state.StatusIssued,
		},
		{
			name: "the CSR the order already has is reissued, not taken for done", primaryCSR: newKey,
			want: OutcomeCreated, wantCalls: 1, wantCerts: 1, wantRecs: "intent,outcome", wantStatus: state.StatusIssued,
		},
		{
			name: "approval required: reissue_pending with the new certificate id", primaryCSR: oldKey,
			setup: func(f *fakeAPI) { f.approval = true },
			want:  OutcomeCreated, wantCalls: 1, wantCerts: 1, wantRecs: "intent,outcome", wantStatus: state.StatusReissuePending,
		},
		{
			name: "response lost after commit: found at once and adopted, never re-sent", primaryCSR: newKey,
			setup: func(f *fakeAPI) { f.reissue = func(int64, int) (bool, error) { return true, errLost } },
			want:  OutcomeAdopted, wantCalls: 1, wantCerts: 1, wantRecs: "intent,outcome", wantStatus: state.StatusIssued,
		},
		{
			name: "5xx after commit: adopted", primaryCSR: oldKey,
			setup: func(f *fakeAPI) { f.reissue = func(int64, int) (bool, error) { return true, err503 } },
			want:  OutcomeAdopted, wantCalls: 1, wantCerts: 1, wantRecs: "intent,outcome", wantStatus: state.StatusIssued,
		},
		{
			name: "lost response awaiting approval: adopted as reissue_pending", primaryCSR: newKey,
			setup: func(f *fakeAPI) {
				f.approval = true
				f.reissue = func(int64, int) (bool, error) { return true, errLost }
			},
			want: OutcomeAdopted, wantCalls: 1, wantCerts: 1, wantRecs: "intent,outcome", wantStatus: state.StatusReissuePending,
		},
		{
			name: "5xx before commit: not re-sent in this run; the next run sends it once", primaryCSR: newKey,
			setup: func(f *fakeAPI) {
				f.reissue = func(_ int64, n int) (bool, error) {
					if n == 1 {
						return false, err503
					}
					return true, nil
				}
			},
			want: OutcomeUnresolved, wantCalls: 1, wantCerts: 0, wantRecs: "intent",
			resumeWant: OutcomeCreated, resumeCall: 2, resumeRecs: "intent,outcome",
		},
		{
			name: "timeout after commit: the next run finds it and sends nothing", primaryCSR: newKey,
			setup: func(f *fakeAPI) { f.reissue = func(int64, int) (bool, error) { return true, errTimeout } },
			want:  OutcomeUnresolved, wantCalls: 1, wantCerts: 1, wantRecs: "intent",
			resumeWant: OutcomeAdopted, resumeCall: 1, resumeRecs: "intent,outcome",
		},
		{
			name: "timeout before commit: the next run sends it once", primaryCSR: oldKey,
			setup: func(f *fakeAPI) {
				f.reissue = func(_ int64, n int) (bool, error) {
					if n == 1 {
						return false, errTimeout
					}
					return true, nil
				}
			},
			want: OutcomeUnresolved, wantCalls: 1, wantCerts: 0, wantRecs: "intent",
			resumeWant: OutcomeCreated, resumeCall: 2, resumeRecs: "intent,outcome",
		},
		{
			name: "429: provably nothing created", primaryCSR: oldKey,
			setup: func(f *fakeAPI) { f.reissue = func(int64, int) (bool, error) { return false, err429 } },
			want:  OutcomeFailed, wantCalls: 1, wantCerts: 0, wantRecs: "intent,failure",
		},
		{
			name: "validation error: provably nothing created", primaryCSR: oldKey,
			setup: func(f *fakeAPI) { f.reissue = func(int64, int) (bool, error) { return false, err400 } },
			want:  OutcomeFailed, wantCalls: 1, wantCerts: 0, wantRecs: "intent,failure",
		},
		{
			name: "a reissue from another source is pending: not sent, intent left open, sent once it is done", primaryCSR: oldKey,
			setup: func(f *fakeAPI) {
				f.addCert(7, certcentral.ReissueCertificate{ID: 71, CSR: oldKey, Status: "pending", DateCreated: "2027-05-19T00:00:00+00:00"})
			},
			want: OutcomeUnresolved, wantCalls: 0, wantCerts: 0, wantRecs: "intent",
			between: func(f *fakeAPI) {
				f.mu.Lock()
				f.certs[7][1].Status, f.certs[7][1].ValidTill = "issued", "2027-08-26"
				f.mu.Unlock()
			},
			resumeWant: OutcomeCreated, resumeCall: 1, resumeRecs: "intent,outcome",
		},
		{
			name: "order status reissue_pending alone stops it too", primaryCSR: oldKey,
			setup: func(f *fakeAPI) { f.pendingStatus = true },
			want:  OutcomeUnresolved, wantCalls: 0, wantCerts: 0, wantRecs: "intent",
			between:    func(f *fakeAPI) { f.pendingStatus = false },
			resumeWant: OutcomeCreated, resumeCall: 1, resumeRecs: "intent,outcome",
		},
		{
			name: "the order cannot be read: nothing journaled, nothing sent", primaryCSR: oldKey,
			setup: func(f *fakeAPI) { f.listErr = err503 },
			want:  OutcomeFailed, wantCalls: 0, wantCerts: 0, wantRecs: "",
		},
		{
			name: "an earlier attempt's reissue was rejected: the intent closes, nothing is sent", primaryCSR: oldKey,
			setup: func(f *fakeAPI) {
				f.approval = true
				f.reissue = func(int64, int) (bool, error) { return true, errTimeout }
			},
			want: OutcomeUnresolved, wantCalls: 1, wantCerts: 1, wantRecs: "intent",
			between: func(f *fakeAPI) {
				f.mu.Lock()
				f.certs[7][1].Status = "rejected"
				f.mu.Unlock()
			},
			resumeWant: OutcomeFailed, resumeCall: 1, resumeRecs: "intent,failure",
		},
		{
			name: "resumed, 4xx, and nothing there: closed as nothing created", primaryCSR: oldKey,
			setup: func(f *fakeAPI) {
				f.reissue = func(_ int64, n int) (bool, error) {
					if n == 1 {
						return false, errLost
					}
					return false, err400
				}
			},
			want: OutcomeUnresolved, wantCalls: 1, wantCerts: 0, wantRecs: "intent",
			resumeWant: OutcomeFailed, resumeCall: 2, resumeRecs: "intent,failure",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake()
			f.addOrder("k7", 7, tt.primaryCSR)
			if tt.setup != nil {
				tt.setup(f)
			}
			ch := reissueChange(newKey)
			ch.CSRKeyDigest = digestOf(t, newKey)
			j := &memJournal{}
			rep := Run(context.Background(), &plan.Plan{Changes: []plan.Change{ch}}, Options{API: f, Journal: j, Recovery: noWait()})
			got := rep.Results[0]
			if got.Outcome != tt.want {
				t.Fatalf("outcome %s (%s), want %s", got.Outcome, got.Error, tt.want)
			}
			if n := f.reissueCount(7); n != tt.wantCalls {
				t.Errorf("reissue requests = %d, want %d", n, tt.wantCalls)
			}
			if f.reissuesCommitted != tt.wantCerts {
				t.Errorf("reissues committed = %d, want %d", f.reissuesCommitted, tt.wantCerts)
			}
			if got := strings.Join(j.types(), ","); got != tt.wantRecs {
				t.Fatalf("journal %s, want %s", got, tt.wantRecs)
			}
			if len(j.recs) == 0 {
				return
			}
			in := j.recs[0]
			if in.Action != state.ActionReissue || in.DupCheck != state.DupCheckCSRMatch || in.ReissueOf != 7 ||
				in.CSRKeyDigest != ch.CSRKeyDigest || in.AlternativeOrderID != "k7" || in.ValidateNew() != nil {
				t.Fatalf("intent %+v (%v)", in, in.ValidateNew())
			}
			wantPrior := []int64{70}
			if tt.name == "a reissue from another source is pending: not sent, intent left open, sent once it is done" {
				wantPrior = []int64{70, 71}
			}
			if !slices.Equal(in.PriorCertificateIDs, wantPrior) {
				t.Errorf("prior certificates %v, want %v", in.PriorCertificateIDs, wantPrior)
			}
			if tt.wantStatus != "" {
				checkReissueOutcome(t, f, j.recs[len(j.recs)-1], got, tt.wantStatus)
			}
			if tt.resumeWant == "" {
				if got.Outcome == OutcomeUnresolved {
					t.Fatal("the case leaves the intent open: say what the next run does")
				}
				return
			}

			// The next run: plan resumes the open intent (same order and
			// key digest); apply checks before it sends anything.
			if tt.between != nil {
				tt.between(f)
			}
			resumed := ch
			resumed.Resuming = true
			j2 := &memJournal{}
			rep = Run(context.Background(), &plan.Plan{Changes: []plan.Change{resumed}},
				Options{API: f, Journal: j2, Recovery: noWait(), Pending: map[string]state.Record{"shop": in}})
			got = rep.Results[0]
			if got.Outcome != tt.resumeWant {
				t.Fatalf("resumed: outcome %s (%s), want %s", got.Outcome, got.Error, tt.resumeWant)
			}
			if n := f.reissueCount(7); n != tt.resumeCall {
				t.Errorf("resumed: reissue requests = %d in all, want %d", n, tt.resumeCall)
			}
			if got := strings.Join(j2.types(), ","); got != tt.resumeRecs {
				t.Fatalf("resumed: journal %s, want %s", got, tt.resumeRecs)
			}
			if !slices.Equal(j2.recs[0].PriorCertificateIDs, in.PriorCertificateIDs) {
				t.Errorf("resumed intent has prior certificates %v, want the first intent's %v", j2.recs[0].PriorCertificateIDs, in.PriorCertificateIDs)
			}
			if f.reissuesCommitted > 1 {
				t.Errorf("%d reissues for one intent", f.reissuesCommitted)
			}
			// The first intent and the second run's records fold to one
			// closed reissue.
			s := &state.State{}
			s.Fold(append(append([]state.Record{in}, j.recs[1:]...), j2.recs...))
			if got.Outcome != OutcomeUnresolved {
				if c := s.Certificates["shop"]; got.Outcome != OutcomeFailed && (c == nil || c.CertificateID != got.CertificateID) {
					t.Errorf("folded state %+v, want certificate %d", c, got.CertificateID)
				}
			}
		})
	}
}

// checkReissueOutcome: the outcome names the order, the new certificate
// (never the earlier one) and, once issued, its dates.
func checkReissueOutcome(t *testing.T, f *fakeAPI, out state.Record, res Result, want state.OrderStatus) {
	t.Helper()
	if out.Type != state.RecordOutcome || out.Order == nil || out.ValidateNew() != nil {
		t.Fatalf("last record %+v (%v)", out, out.ValidateNew())
	}
	newest := f.certs[7][len(f.certs[7])-1]
	o := out.Order
	if o.OrderID != 7 || o.CertificateID != newest.ID || o.CertificateID == 70 || o.Status != want || res.CertificateID != newest.ID {
		t.Fatalf("outcome facts %+v (result %+v), want order 7, certificate %d, %s", o, res, newest.ID, want)
	}
	if want == state.StatusIssued && (o.ValidTill != newest.ValidTill || o.ValidFrom != newest.ValidFrom) {
		t.Errorf("dates %s..%s, want the new certificate's %s..%s", o.ValidFrom, o.ValidTill, newest.ValidFrom, newest.ValidTill)
	}
	if want == state.StatusReissuePending && o.ValidTill != "" {
		t.Errorf("a pending certificate has no dates yet, got valid_till %s", o.ValidTill)
	}
	if out.ReissueOf != 7 || out.CSRKeyDigest == "" {
		t.Errorf("outcome does not pair with its intent: %+v", out)
	}
}

// Nothing is sent, and nothing journaled, for a reissue that cannot be
// checked: a CSR the plan's digest does not describe, or a resumed one
// without its first intent.
func TestReissueRefusedBeforeSending(t *testing.T) {
	csrs := testCSRs()
	tests := []struct {
		name string
		edit func(ch *plan.Change, o *Options)
		want Outcome
	}{
		{"digest of another key", func(ch *plan.Change, _ *Options) { ch.CSRKeyDigest = digestOf(t, csrs[1]) }, OutcomeFailed},
		{"no CSR", func(ch *plan.Change, _ *Options) { delete(ch.Request["certificate"].(map[string]any), "csr") }, OutcomeFailed},
		{"unreadable CSR", func(ch *plan.Change, _ *Options) { ch.Request["certificate"].(map[string]any)["csr"] = "csr" }, OutcomeFailed},
		{"no order", func(ch *plan.Change, _ *Options) { ch.OrderID = 0 }, OutcomeFailed},
		{"resumed without its intent", func(ch *plan.Change, _ *Options) { ch.Resuming = true }, OutcomeUnresolved},
		{"resumed with another key's intent", func(ch *plan.Change, o *Options) {
			ch.Resuming = true
			o.Pending = map[string]state.Record{"shop": {Type: state.RecordIntent, Name: "shop", Action: state.ActionReissue,
				ReissueOf: 7, CSRKeyDigest: digestOf(t, csrs[1])}}
		}, OutcomeUnresolved},
		{"journal fails", func(_ *plan.Change, o *Options) { o.Journal = &memJournal{fail: errLost} }, OutcomeFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake()
			f.addOrder("k7", 7, csrs[0])
			ch := reissueChange(csrs[0])
			j := &memJournal{}
			opts := Options{API: f, Journal: j, Recovery: noWait()}
			tt.edit(&ch, &opts)
			rep := Run(context.Background(), &plan.Plan{Changes: []plan.Change{ch}}, opts)
			if got := rep.Results[0]; got.Outcome != tt.want || got.Error == "" {
				t.Errorf("outcome %s (%q), want %s with a reason", got.Outcome, got.Error, tt.want)
			}
			if f.reissueCount(7) != 0 || len(j.recs) != 0 {
				t.Errorf("%d reissues sent, %d records journaled; want none", f.reissueCount(7), len(j.recs))
			}
		})
	}
}

// Without a digest in the plan (a planner that does not fill it), apply
// computes it from the CSR it sends.
func TestReissueDigestFromTheCSR(t *testing.T) {
	f := newFake()
	f.addOrder("k7", 7, testCSRs()[1])
	j := &memJournal{}
	rep := Run(context.Background(), &plan.Plan{Changes: []plan.Change{reissueChange(testCSRs()[0])}}, Options{API: f, Journal: j, Recovery: noWait()})
	if rep.Results[0].Outcome != OutcomeCreated || j.recs[0].CSRKeyDigest != digestOf(t, testCSRs()[0]) {
		t.Fatalf("outcome %+v, intent digest %q", rep.Results[0], j.recs[0].CSRKeyDigest)
	}
}

// approve issues the fake's pending reissue of order id.
func (f *fakeAPI) approve(id int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range f.certs[id] {
		if c := &f.certs[id][i]; c.Status == "pending" {
			c.Status, c.ValidFrom, c.ValidTill = "issued", "2027-05-21", "2027-08-28"
		}
	}
}

// A reissue awaiting approval: apply records the new certificate as
// reissue_pending; while it is pending a refresh (which still sees the
// earlier certificate) changes nothing; `apply --wait`, or a refresh once
// it issued, records its dates; the state keeps the earlier certificate in
// history throughout.
func TestReissueAwaitingApprovalThenIssued(t *testing.T) {
	csrs := testCSRs()
	for _, via := range []string{"wait", "refresh"} {
		t.Run(via, func(t *testing.T) {
			f := newFake()
			f.approval = true
			f.addOrder("k7", 7, csrs[1])
			st := &state.State{}
			st.Fold([]state.Record{
				{Type: state.RecordIntent, Name: "shop", Action: state.ActionCreate, AlternativeOrderID: "k7", DupCheck: state.DupCheckAlternateID},
				{Type: state.RecordOutcome, Name: "shop", Action: state.ActionCreate, AlternativeOrderID: "k7",
					Order: &state.OrderFacts{OrderID: 7, Status: state.StatusIssued, CertificateID: 70, ValidFrom: "2026-12-01", ValidTill: "2027-06-18"}},
			})
			j := &memJournal{}
			rep := Run(context.Background(), &plan.Plan{Changes: []plan.Change{reissueChange(csrs[0])}}, Options{API: f, Journal: j, Recovery: noWait()})
			newID := rep.Results[0].CertificateID
			if rep.Results[0].Status != string(state.StatusReissuePending) || newID == 0 || newID == 70 {
				t.Fatalf("result %+v, want reissue_pending with a new certificate", rep.Results[0])
			}
			st.Fold(j.recs)
			cur := st.Certificates["shop"]
			if cur.CertificateID != newID || cur.Status != state.StatusReissuePending || cur.Action != state.ActionReissue ||
				len(cur.History) != 1 || cur.History[0].CertificateID != 70 || cur.History[0].ValidTill != "2027-06-18" {
				t.Fatalf("after apply: %+v", cur)
			}

			refresh := func() int {
				info, err := f.OrderInfo(context.Background(), 7)
				if err != nil {
					t.Fatal(err)
				}
				rj := &memJournal{}
				n, err := RecordRefresh(rj, st, map[int64]state.OrderFacts{7: FactsFromOrder(info)})
				if err != nil {
					t.Fatal(err)
				}
				st.Fold(rj.recs)
				return n
			}
			if n := refresh(); n != 0 || st.Certificates["shop"].CertificateID != newID {
				t.Fatalf("a refresh while pending wrote %d records; certificate now %d, want %d", n, st.Certificates["shop"].CertificateID, newID)
			}

			f.approve(7)
			switch via {
			case "wait":
				wj := &memJournal{}
				Wait(context.Background(), rep, WaitOptions{API: f, Journal: wj, Timeout: time.Hour,
					Sleep: func(context.Context, time.Duration) error { return nil }})
				if len(wj.recs) != 1 || wj.recs[0].Action != state.ActionReissue || wj.recs[0].ValidateNew() != nil {
					t.Fatalf("wait journaled %+v", wj.recs)
				}
				st.Fold(wj.recs)
			case "refresh":
				if n := refresh(); n != 1 {
					t.Fatalf("refresh after issuance wrote %d records, want 1", n)
				}
			}
			cur = st.Certificates["shop"]
			if cur.CertificateID != newID || cur.Status != state.StatusIssued || cur.ValidTill != "2027-08-28" ||
				len(cur.History) != 1 || cur.History[0].CertificateID != 70 {
				t.Fatalf("after issuance: %+v", cur)
			}
		})
	}
}

// A certificate CertCentral reissued on its own (auto_reissue) is recorded
// as a reissue; the earlier one stays in history.
func TestRecordRefreshAdoptsAReissueByCertCentral(t *testing.T) {
	st := &state.State{Certificates: map[string]*state.Certificate{
		"shop": {OrderID: 7, AlternativeOrderID: "k7", Action: state.ActionCreate, Status: state.StatusIssued, CertificateID: 70, ValidTill: "2027-06-18"},
	}}
	j := &memJournal{}
	n, err := RecordRefresh(j, st, map[int64]state.OrderFacts{7: {OrderID: 7, Status: state.StatusIssued, CertificateID: 71, ValidTill: "2027-09-20"}})
	if err != nil || n != 1 || j.recs[0].Action != state.ActionReissue {
		t.Fatalf("wrote %d records (%v): %+v", n, err, j.recs)
	}
	st.Fold(j.recs)
	if c := st.Certificates["shop"]; c.CertificateID != 71 || c.Action != state.ActionReissue || len(c.History) != 1 || c.History[0].CertificateID != 70 {
		t.Fatalf("state %+v", c)
	}
}
