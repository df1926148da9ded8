package state

import (
	"bytes"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const (
	digestA = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	digestB = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
)

// reissueIntent is a reissue intent as apply writes it: no key of its own,
// the order and the CSR's key digest instead.
func reissueIntent(name string, order int64, digest string, minute int) Record {
	return Record{
		Type: RecordIntent, Name: name, Action: ActionReissue, DupCheck: DupCheckCSRMatch,
		AlternativeOrderID: "k1", // the order's own key, as order info says; not what pairs the records
		ReissueOf:          order, CSRKeyDigest: digest, PriorCertificateIDs: []int64{order * 10},
		RequestDigest: "rd-re", Product: "ssl_basic", SpecDigest: "sd-re",
		Request: map[string]any{"certificate": map[string]any{"common_name": name + ".example.com", "csr": "new"}},
		Time:    at(minute),
	}
}

// reissueOutcome is what apply journals once the reissue is known: the
// intent with the order's facts, naming the new certificate.
func reissueOutcome(in Record, minute int, f OrderFacts) Record {
	out := in
	out.Type, out.Order, out.Time = RecordOutcome, &f, at(minute)
	return out
}

func TestReissueRecordValidate(t *testing.T) {
	ok := reissueIntent("shop", 1, digestA, 0)
	tests := []struct {
		name  string
		edit  func(r *Record)
		valid bool
	}{
		{"a reissue intent", func(*Record) {}, true},
		{"written before prior certificate ids", func(r *Record) { r.PriorCertificateIDs = nil }, true},
		{"checked by key", func(r *Record) { r.DupCheck = DupCheckAlternateID; r.AlternativeOrderID = "k" }, false},
		{"no check named", func(r *Record) { r.DupCheck = "" }, false},
		{"no order", func(r *Record) { r.ReissueOf = 0 }, false},
		{"negative order", func(r *Record) { r.ReissueOf = -1 }, false},
		{"no digest", func(r *Record) { r.CSRKeyDigest = "" }, false},
		{"digest not hex", func(r *Record) { r.CSRKeyDigest = strings.Repeat("z", 64) }, false},
		{"digest upper case", func(r *Record) { r.CSRKeyDigest = strings.ToUpper(digestA) }, false},
		{"digest too short", func(r *Record) { r.CSRKeyDigest = digestA[:40] }, false},
		{"outcome for the order", func(r *Record) { *r = reissueOutcome(*r, 1, reissued(1, 11, "k1")) }, true},
		{"outcome for another order", func(r *Record) { *r = reissueOutcome(*r, 1, reissued(2, 21, "k2")) }, false},
		{"a refresh's reissue outcome names no intent", func(r *Record) {
			*r = Record{Type: RecordOutcome, Name: "shop", Action: ActionReissue, Order: ptrFacts(reissued(1, 11, "k1"))}
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ok
			r.PriorCertificateIDs = append([]int64(nil), ok.PriorCertificateIDs...)
			tt.edit(&r)
			if err := r.ValidateNew(); (err == nil) != tt.valid {
				t.Errorf("ValidateNew() = %v, want valid %v", err, tt.valid)
			}
		})
	}
}

// A reissue's outcome makes the new certificate of the same order current
// and keeps the earlier one in History; it is paired with its intent by
// order and CSR key, not by key, so a refresh's outcome for the same order
// leaves the reissue open.
func TestFoldReissue(t *testing.T) {
	shop1Hist := HistoryEntry{Action: ActionCreate, OrderID: 1, AlternativeOrderID: "k1", Status: StatusIssued,
		CertificateID: 10, ValidTill: "2027-03-01", At: at(1)}
	in := reissueIntent("shop", 1, digestA, 10)
	newCert := reissued(1, 11, "")
	newCert.AlternativeOrderID = "" // the intent's key (the order's) fills it in
	reissuedShop := func(f OrderFacts, since, updated int) *Certificate {
		f.AlternativeOrderID = "k1"
		c := created("shop", "k1", f, ActionReissue, since, updated)
		c.SpecDigest, c.RequestDigest = "sd-re", "rd-re"
		c.Request = in.Request
		c.History = []HistoryEntry{shop1Hist}
		return c
	}
	pendingCert := OrderFacts{OrderID: 1, Status: StatusReissuePending, CertificateID: 11, OrderValidTill: "2027-03-01"}

	tests := []struct {
		name        string
		recs        []Record
		want        *Certificate
		wantPending bool
	}{
		{
			name: "issued at once",
			recs: []Record{in, reissueOutcome(in, 11, newCert)},
			want: reissuedShop(newCert, 11, 11),
		},
		{
			name: "awaiting approval, then issued (apply --wait)",
			recs: []Record{
				in, reissueOutcome(in, 11, pendingCert),
				{Type: RecordOutcome, Name: "shop", Action: ActionReissue, AlternativeOrderID: "k1", Order: ptrFacts(newCert), Time: at(20)},
			},
			want: func() *Certificate {
				c := reissuedShop(newCert, 11, 20)
				c.StatusSince = ptime(at(20))
				return c
			}(),
		},
		{
			name:        "interrupted: the intent stays open",
			recs:        []Record{in},
			want:        created("shop", "k1", issued(1, "k1"), ActionCreate, 1, 1),
			wantPending: true,
		},
		{
			name: "a refresh's outcome for the order does not close the reissue",
			recs: []Record{in, outcome("shop", ActionCreate, "k1", 11, issued(1, "k1"))},
			want: func() *Certificate {
				c := created("shop", "k1", issued(1, "k1"), ActionCreate, 1, 11)
				c.StatusSince = ptime(at(1))
				return c
			}(),
			wantPending: true,
		},
		{
			name: "a failure for another CSR key does not close it",
			recs: []Record{in, func() Record {
				f := reissueIntent("shop", 1, digestB, 11)
				f.Type, f.NothingCreated = RecordFailure, true
				return f
			}()},
			want:        created("shop", "k1", issued(1, "k1"), ActionCreate, 1, 1),
			wantPending: true,
		},
		{
			name: "nothing created closes it and changes nothing",
			recs: []Record{in, func() Record {
				f := in
				f.Type, f.NothingCreated, f.Error, f.Request = RecordFailure, true, "400", nil
				return f
			}()},
			want: created("shop", "k1", issued(1, "k1"), ActionCreate, 1, 1),
		},
		{
			name: "an ambiguous failure leaves it open",
			recs: []Record{in, func() Record {
				f := in
				f.Type, f.Error = RecordFailure, "timeout"
				return f
			}()},
			want:        created("shop", "k1", issued(1, "k1"), ActionCreate, 1, 1),
			wantPending: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := withShop1()
			_, pending := s.fold(tt.recs)
			if diff := cmp.Diff(tt.want, s.Certificates["shop"]); diff != "" {
				t.Errorf("certificate (-want +got):\n%s", diff)
			}
			p, open := pending["shop"]
			if open != tt.wantPending {
				t.Fatalf("pending = %v (%+v), want %v", open, p, tt.wantPending)
			}
			if open && (p.Action != ActionReissue || p.ReissueOf != 1 || p.CSRKeyDigest != digestA || !cmp.Equal(p.PriorCertificateIDs, []int64{10})) {
				t.Errorf("pending intent %+v lost its reissue fields", p)
			}
			once := mustMarshal(t, s)
			s.Fold(tt.recs)
			if twice := mustMarshal(t, s); !bytes.Equal(once, twice) {
				t.Errorf("second Fold changed the state:\n%s", cmp.Diff(string(once), string(twice)))
			}
		})
	}
}

// An interrupted reissue survives a commit as a kept journal record, with
// the fields the next apply checks it by.
func TestInterruptedReissueSurvivesCommit(t *testing.T) {
	path := tempState(t)
	in := reissueIntent("shop", 1, digestA, 10)
	in.PriorCertificateIDs = []int64{10, 11}
	writeJournal(t, path, intent("shop", ActionCreate, "k1", 0), outcome("shop", ActionCreate, "k1", 1, issued(1, "k1")), in)
	l, err := load(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := commit(path, l); err != nil {
		t.Fatal(err)
	}
	l, err = load(path)
	if err != nil {
		t.Fatal(err)
	}
	p, ok := l.Pending["shop"]
	if !ok || p.Action != ActionReissue || p.DuplicateCheck() != DupCheckCSRMatch || p.ReissueOf != 1 ||
		p.CSRKeyDigest != digestA || !cmp.Equal(p.PriorCertificateIDs, []int64{10, 11}) {
		t.Fatalf("after commit: pending %+v (%v)", p, ok)
	}
	if c := l.State.Certificates["shop"]; c == nil || c.OrderID != 1 || c.CertificateID != 10 {
		t.Fatalf("certificate %+v", c)
	}
}
