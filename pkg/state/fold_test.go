package state

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var many = flag.Bool("many", false, "run the random idempotency tests 300,000 times each")

func req(name string) map[string]any {
	return map[string]any{"certificate": map[string]any{"common_name": name + ".example.com"}}
}

// created is the certificate an intent+outcome pair for a fresh create gives.
func created(name, key string, f OrderFacts, action Action, since, updated int) *Certificate {
	return &Certificate{
		Product: "ssl_basic", SpecDigest: "sd-" + key, RequestDigest: "rd-" + key, Request: req(name),
		Action: action, Since: at(since),
		OrderID: f.OrderID, AlternativeOrderID: f.AlternativeOrderID, RequestID: f.RequestID, RequestStatus: f.RequestStatus,
		Status: f.Status, CertificateID: f.CertificateID,
		OrderValidFrom: f.OrderValidFrom, OrderValidTill: f.OrderValidTill, ValidFrom: f.ValidFrom, ValidTill: f.ValidTill,
		StatusSince: ptime(at(updated)), UpdatedAt: at(updated),
	}
}

func withShop1() *State {
	s := New()
	s.Fold([]Record{intent("shop", ActionCreate, "k1", 0), outcome("shop", ActionCreate, "k1", 1, issued(1, "k1"))})
	return s
}

func TestFold(t *testing.T) {
	shop1 := created("shop", "k1", issued(1, "k1"), ActionCreate, 1, 1)
	shop1Hist := HistoryEntry{Action: ActionCreate, OrderID: 1, AlternativeOrderID: "k1", Status: StatusIssued,
		CertificateID: 10, ValidTill: "2027-03-01", At: at(1)}

	tests := []struct {
		name        string
		initial     func() *State
		recs        []Record
		want        map[string]*Certificate
		wantPending map[string]string // name -> key
		wantChanged bool
	}{
		{
			name:        "create",
			initial:     New,
			recs:        []Record{intent("shop", ActionCreate, "k1", 0), outcome("shop", ActionCreate, "k1", 1, issued(1, "k1"))},
			want:        map[string]*Certificate{"shop": shop1},
			wantChanged: true,
		},
		{
			name:        "intent without outcome is pending (resume)",
			initial:     New,
			recs:        []Record{intent("shop", ActionCreate, "k1", 0)},
			want:        map[string]*Certificate{},
			wantPending: map[string]string{"shop": "k1"},
		},
		{
			name:    "renew moves the old order to history",
			initial: withShop1,
			recs:    []Record{intent("shop", ActionRenew, "k2", 10), outcome("shop", ActionRenew, "k2", 11, pendingFacts(2, "k2"))},
			want: map[string]*Certificate{"shop": func() *Certificate {
				c := created("shop", "k2", pendingFacts(2, "k2"), ActionRenew, 11, 11)
				c.History = []HistoryEntry{shop1Hist}
				return c
			}()},
			wantChanged: true,
		},
		{
			name:    "outcome for the current order updates facts (apply --wait)",
			initial: New,
			recs: []Record{
				intent("shop", ActionCreate, "k1", 0),
				outcome("shop", ActionCreate, "k1", 1, pendingFacts(1, "k1")),
				// --wait repeats neither intent fields nor the top-level key.
				{Type: RecordOutcome, Name: "shop", Action: ActionCreate, Order: ptrFacts(issued(1, "k1")), Time: at(5)},
			},
			want: map[string]*Certificate{"shop": func() *Certificate {
				c := created("shop", "k1", issued(1, "k1"), ActionCreate, 1, 5)
				return c
			}()},
			wantChanged: true,
		},
		{
			name:    "same status again keeps status_since",
			initial: withShop1,
			recs:    []Record{outcome("shop", ActionCreate, "k1", 9, issued(1, "k1"))},
			want: map[string]*Certificate{"shop": func() *Certificate {
				c := created("shop", "k1", issued(1, "k1"), ActionCreate, 1, 1)
				c.UpdatedAt = at(9)
				return c
			}()},
			wantChanged: true,
		},
		{
			name:    "outcome without intent takes the record's own fields",
			initial: New,
			recs: []Record{func() Record {
				r := intent("shop", ActionCreate, "k1", 3)
				r.Type, r.Order = RecordOutcome, ptrFacts(issued(1, "k1"))
				return r
			}()},
			want:        map[string]*Certificate{"shop": created("shop", "k1", issued(1, "k1"), ActionCreate, 3, 3)},
			wantChanged: true,
		},
		{
			name:        "failure nothing_created resolves the intent, no change",
			initial:     withShop1,
			recs:        []Record{intent("shop", ActionRenew, "k2", 10), failure("shop", ActionRenew, "k2", 11, true, false)},
			want:        map[string]*Certificate{"shop": shop1},
			wantChanged: false,
		},
		{
			name:        "failure with unknown result keeps the intent open",
			initial:     withShop1,
			recs:        []Record{intent("shop", ActionRenew, "k2", 10), failure("shop", ActionRenew, "k2", 11, false, false)},
			want:        map[string]*Certificate{"shop": shop1},
			wantPending: map[string]string{"shop": "k2"},
		},
		{
			name:    "legacy unknown outcome on a renewal keeps the old order in history",
			initial: withShop1,
			recs:    []Record{intent("shop", ActionRenew, "", 10), failure("shop", ActionRenew, "", 11, false, true)},
			want: map[string]*Certificate{"shop": {
				Product: "ssl_basic", SpecDigest: "sd-", RequestDigest: "rd-", Request: req("shop"),
				Action: ActionRenew, Since: at(11), Status: StatusUnknownOutcome,
				StatusSince: ptime(at(11)), UpdatedAt: at(11), History: []HistoryEntry{shop1Hist},
			}},
			wantChanged: true,
		},
		{
			name:    "legacy unknown outcome on a create",
			initial: New,
			recs:    []Record{intent("old", ActionCreate, "", 10), failure("old", ActionCreate, "", 11, false, true)},
			want: map[string]*Certificate{"old": {
				Product: "ssl_basic", SpecDigest: "sd-", RequestDigest: "rd-", Request: req("old"),
				Action: ActionCreate, Since: at(11), Status: StatusUnknownOutcome,
				StatusSince: ptime(at(11)), UpdatedAt: at(11),
			}},
			wantChanged: true,
		},
		{
			name:    "an outcome for another key leaves the intent open",
			initial: New,
			recs:    []Record{intent("shop", ActionCreate, "k1", 0), outcome("shop", ActionCreate, "other", 1, issued(1, "other"))},
			want: map[string]*Certificate{"shop": {
				Action: ActionCreate, Since: at(1), OrderID: 1, AlternativeOrderID: "other", Status: StatusIssued,
				CertificateID: 10, OrderValidFrom: "2026-03-01", OrderValidTill: "2027-03-01", ValidFrom: "2026-03-01",
				ValidTill: "2027-03-01", StatusSince: ptime(at(1)), UpdatedAt: at(1),
			}},
			wantPending: map[string]string{"shop": "k1"},
			wantChanged: true,
		},
		{
			name:        "a later intent for the same name replaces the open one",
			initial:     New,
			recs:        []Record{intent("shop", ActionCreate, "k1", 0), intent("shop", ActionCreate, "k2", 1)},
			want:        map[string]*Certificate{},
			wantPending: map[string]string{"shop": "k2"},
		},
		{
			name:    "an order from history becomes current again with its since",
			initial: withShop1,
			recs: []Record{
				outcome("shop", ActionRenew, "k2", 10, issued(2, "k2")),
				outcome("shop", ActionCreate, "k1", 20, issued(1, "k1")),
			},
			want: map[string]*Certificate{"shop": func() *Certificate {
				c := created("shop", "k1", issued(1, "k1"), ActionCreate, 1, 20)
				c.Product, c.SpecDigest, c.RequestDigest, c.Request = "", "", "", nil
				c.History = []HistoryEntry{{Action: ActionRenew, OrderID: 2, AlternativeOrderID: "k2", Status: StatusIssued,
					CertificateID: 20, ValidTill: "2027-03-01", At: at(10)}}
				return c
			}()},
			wantChanged: true,
		},
		{
			name:    "a second certificate on the same order keeps the first in history",
			initial: withShop1,
			recs:    []Record{outcome("shop", ActionCreate, "k1", 20, reissued(1, 11, "k1"))},
			want: map[string]*Certificate{"shop": func() *Certificate {
				c := created("shop", "k1", reissued(1, 11, "k1"), ActionCreate, 20, 20)
				c.History = []HistoryEntry{shop1Hist}
				return c
			}()},
			wantChanged: true,
		},
		{
			name:    "an unknown certificate id does not replace a known one",
			initial: withShop1,
			recs:    []Record{outcome("shop", ActionCreate, "k1", 9, pendingFacts(1, "k1"))},
			want: map[string]*Certificate{"shop": func() *Certificate {
				c := created("shop", "k1", pendingFacts(1, "k1"), ActionCreate, 1, 9)
				c.CertificateID = 10
				return c
			}()},
			wantChanged: true,
		},
		{
			name:    "an earlier certificate of the order comes back with its since",
			initial: withShop1,
			recs: []Record{
				outcome("shop", ActionCreate, "k1", 20, reissued(1, 11, "k1")),
				outcome("shop", ActionCreate, "k1", 30, issued(1, "k1")),
			},
			want: map[string]*Certificate{"shop": func() *Certificate {
				c := created("shop", "k1", issued(1, "k1"), ActionCreate, 1, 30)
				c.History = []HistoryEntry{{Action: ActionCreate, OrderID: 1, AlternativeOrderID: "k1", Status: StatusIssued,
					CertificateID: 11, ValidTill: "2027-09-01", At: at(20)}}
				return c
			}()},
			wantChanged: true,
		},
		{
			name:    "invalid records are skipped",
			initial: New,
			recs: []Record{
				{Type: "checkpoint", Name: "shop", Action: ActionCreate, Time: at(1)},
				{Type: RecordOutcome, Name: "shop", Action: ActionCreate, Time: at(1)}, // no order
				{Type: RecordOutcome, Action: ActionCreate, Order: ptrFacts(issued(1, "k")), Time: at(1)},
				{Type: RecordOutcome, Name: "shop", Action: "destroy", Order: ptrFacts(issued(1, "k")), Time: at(1)},
			},
			want: map[string]*Certificate{},
		},
		{
			name:    "several certificates interleaved",
			initial: New,
			recs: []Record{
				intent("a", ActionCreate, "ka", 0), intent("b", ActionCreate, "kb", 0),
				outcome("b", ActionCreate, "kb", 1, issued(2, "kb")), outcome("a", ActionCreate, "ka", 2, issued(1, "ka")),
			},
			want: map[string]*Certificate{
				"a": created("a", "ka", issued(1, "ka"), ActionCreate, 2, 2),
				"b": created("b", "kb", issued(2, "kb"), ActionCreate, 1, 1),
			},
			wantChanged: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tt.initial()
			changed, pending := s.fold(tt.recs)
			if diff := cmp.Diff(tt.want, s.Certificates); diff != "" {
				t.Errorf("certificates (-want +got):\n%s", diff)
			}
			gotPending := map[string]string{}
			for name, r := range pending {
				if r.Type != RecordIntent || r.Name != name {
					t.Errorf("pending[%s] = %+v, want its intent", name, r)
				}
				gotPending[name] = r.AlternativeOrderID
			}
			if tt.wantPending == nil {
				tt.wantPending = map[string]string{}
			}
			if diff := cmp.Diff(tt.wantPending, gotPending); diff != "" {
				t.Errorf("pending (-want +got):\n%s", diff)
			}
			if changed != tt.wantChanged {
				t.Errorf("changed = %v, want %v", changed, tt.wantChanged)
			}

			// Idempotent: folding the same records again changes nothing.
			once := mustMarshal(t, s)
			if s.Fold(tt.recs) {
				t.Errorf("second Fold reported a change")
			}
			if twice := mustMarshal(t, s); !bytes.Equal(once, twice) {
				t.Errorf("second Fold changed the state:\n%s", cmp.Diff(string(once), string(twice)))
			}
		})
	}
}

func ptrFacts(f OrderFacts) *OrderFacts { return &f }

// fmtRecs lists records one a line, for failure messages.
func fmtRecs(recs []Record) string {
	var b strings.Builder
	for _, r := range recs {
		fmt.Fprintf(&b, "  %s %s %s %s key=%q", r.Time.Format("15:04"), r.Type, r.Name, r.Action, r.AlternativeOrderID)
		if r.Order != nil {
			fmt.Fprintf(&b, " order=%d cert=%d %s till=%q", r.Order.OrderID, r.Order.CertificateID, r.Order.Status, r.Order.ValidTill)
		}
		if r.Unknown || r.NothingCreated {
			fmt.Fprintf(&b, " unknown=%v nothing_created=%v", r.Unknown, r.NothingCreated)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// reissued is order id's second certificate, certID, valid for longer.
func reissued(id, certID int64, key string) OrderFacts {
	f := issued(id, key)
	f.CertificateID, f.ValidFrom, f.ValidTill = certID, "2026-09-01", "2027-09-01"
	return f
}

// A crash after the snapshot is written replays the whole journal on top of
// it; every record sequence must then leave the state as it was.
func TestFoldIdempotentOnPrefixes(t *testing.T) {
	recs := []Record{
		intent("shop", ActionCreate, "k1", 0),
		outcome("shop", ActionCreate, "k1", 1, pendingFacts(1, "k1")),
		outcome("shop", ActionCreate, "k1", 2, issued(1, "k1")),
		intent("shop", ActionRenew, "k2", 3),
		outcome("shop", ActionRenew, "k2", 4, issued(2, "k2")),
		intent("legacy", ActionCreate, "", 5),
		failure("legacy", ActionCreate, "", 6, false, true),
		intent("legacy", ActionCreate, "", 7),
		outcome("legacy", ActionCreate, "", 8, issued(3, "")),
		outcome("shop", ActionCreate, "k1", 9, issued(1, "k1")),
		failure("legacy", ActionRenew, "", 10, false, true),
		// A second and third certificate on order 2 (reissues), facts
		// without a certificate id, and the first certificate again.
		outcome("shop", ActionRenew, "k2", 11, reissued(2, 21, "k2")),
		outcome("shop", ActionRenew, "k2", 12, pendingFacts(2, "k2")),
		outcome("shop", ActionRenew, "k2", 13, reissued(2, 22, "k2")),
		outcome("shop", ActionRenew, "k2", 14, issued(2, "k2")),
		outcome("shop", ActionCreate, "k1", 15, pendingFacts(1, "k1")),
	}
	for i := 0; i <= len(recs); i++ {
		for j := i; j <= len(recs); j++ {
			s := withShop1()
			s.Fold(recs[:i])
			s.Fold(recs[i:j])
			once := mustMarshal(t, s)
			s.Fold(recs[i:j])
			if twice := mustMarshal(t, s); !bytes.Equal(once, twice) {
				t.Fatalf("folding records[%d:%d] twice differs from once:\n%s", i, j, cmp.Diff(string(once), string(twice)))
			}
		}
	}
}

func TestSetOrder(t *testing.T) {
	s := withShop1()
	imported := issued(7, "")
	if err := s.SetOrder("shop", imported, "", at(30)); err != nil {
		t.Fatal(err)
	}
	c := s.Certificates["shop"]
	if c.OrderID != 7 || c.Action != ActionImport || c.Product != "ssl_basic" || c.SpecDigest != "sd-k1" || !c.Since.Equal(at(30)) {
		t.Errorf("after set-order: %+v", c)
	}
	if len(c.History) != 1 || c.History[0].OrderID != 1 || c.History[0].Action != ActionCreate {
		t.Errorf("history = %+v, want the create of order 1", c.History)
	}
	// Back to order 1: it leaves the history and keeps its since.
	if err := s.SetOrder("shop", issued(1, "k1"), "ssl_other", at(40)); err != nil {
		t.Fatal(err)
	}
	c = s.Certificates["shop"]
	if c.OrderID != 1 || c.Product != "ssl_other" || !c.Since.Equal(at(1)) || len(c.History) != 1 || c.History[0].OrderID != 7 {
		t.Errorf("after set-order back: %+v", c)
	}
	// The same order again only updates facts and keeps the action.
	if err := s.SetOrder("shop", issued(1, "k1"), "", at(50)); err != nil {
		t.Fatal(err)
	}
	if c = s.Certificates["shop"]; c.Action != ActionImport || !c.UpdatedAt.Equal(at(50)) || len(c.History) != 1 {
		t.Errorf("after set-order same: %+v", c)
	}
	// Import of a new name.
	if err := s.SetOrder("new", pendingFacts(9, ""), "ssl_basic", at(60)); err != nil {
		t.Fatal(err)
	}
	if c = s.Certificates["new"]; c.OrderID != 9 || c.Action != ActionImport || c.SpecDigest != "" || c.Status != StatusPending {
		t.Errorf("imported: %+v", c)
	}
	for _, bad := range []struct {
		name string
		id   int64
	}{{"", 1}, {"x", 0}, {"x", -3}} {
		if err := s.SetOrder(bad.name, OrderFacts{OrderID: bad.id}, "", at(0)); err == nil {
			t.Errorf("SetOrder(%q, %d) succeeded", bad.name, bad.id)
		}
	}
}

func TestNamesAndRemove(t *testing.T) {
	s := New()
	for _, n := range []string{"c", "a", "b"} {
		s.Certificates[n] = &Certificate{}
	}
	if got := s.Names(); !cmp.Equal(got, []string{"a", "b", "c"}) {
		t.Errorf("Names = %v", got)
	}
	if !s.Remove("b") || s.Remove("b") {
		t.Error("Remove(b) should succeed once")
	}
	if got := s.Names(); !cmp.Equal(got, []string{"a", "c"}) {
		t.Errorf("Names after Remove = %v", got)
	}
}

// Random record sequences (seeded): folding any of them twice equals once,
// from an empty state and from one with history.
func TestFoldIdempotentRandom(t *testing.T) {
	trials := 3000
	if *many {
		trials = 300_000
	}
	rng := rand.New(rand.NewPCG(1, 2))
	pick := func(xs ...string) string { return xs[rng.IntN(len(xs))] }
	statuses := []OrderStatus{StatusPending, StatusIssued, StatusRevoked, StatusNeedsApproval}
	actions := []Action{ActionCreate, ActionRenew, ActionImport}
	for trial := 0; trial < trials; trial++ {
		n := 1 + rng.IntN(10)
		recs := make([]Record, n)
		for i := range recs {
			r := Record{
				Name:               pick("shop", "api"),
				Action:             actions[rng.IntN(len(actions))],
				AlternativeOrderID: pick("", "k1", "k2"),
				Time:               at(rng.IntN(20)),
				Product:            pick("", "p1", "p2"),
				SpecDigest:         pick("", "s1"),
			}
			switch rng.IntN(4) {
			case 0:
				r.Type = RecordIntent
			case 1, 2:
				r.Type = RecordOutcome
				f := OrderFacts{OrderID: int64(1 + rng.IntN(4)), Status: statuses[rng.IntN(len(statuses))], ValidTill: pick("", "2027-01-01")}
				r.Order = &f
			default:
				r.Type = RecordFailure
				r.NothingCreated = rng.IntN(3) == 0
				r.Unknown = !r.NothingCreated && rng.IntN(2) == 0
			}
			recs[i] = r
		}
		for _, s := range []*State{New(), withShop1()} {
			s.Fold(recs)
			once := mustMarshal(t, s)
			if s.Fold(recs) {
				t.Errorf("trial %d: second Fold reported a change", trial)
			}
			if twice := mustMarshal(t, s); !bytes.Equal(once, twice) {
				t.Fatalf("trial %d: not idempotent for\n%s\nonce:\n%s\ndiff (-once +twice):\n%s", trial, fmtRecs(recs), once, cmp.Diff(string(once), string(twice)))
			}
		}
	}
}

// Random journals with several certificates per order (reissues), shaped as
// certplan writes them: times advance, an order's facts have no certificate
// id until one is known and then one of its known certificates or a new
// one. Folding any of them twice equals once.
func TestFoldIdempotentRandomReissues(t *testing.T) {
	trials := 3000
	if *many {
		trials = 300_000
	}
	rng := rand.New(rand.NewPCG(3, 4))
	statuses := []OrderStatus{StatusPending, StatusIssued, StatusRevoked, StatusReissuePending}
	actions := []Action{ActionCreate, ActionRenew, ActionImport}
	orders := map[string][]int64{"shop": {1, 2, 3}, "api": {5, 6, 7}}
	for trial := 0; trial < trials; trial++ {
		certs := map[int64][]int64{1: {10}} // known certificates by order (withShop1 has order 1's)
		n := 1 + rng.IntN(12)
		recs := make([]Record, n)
		for i := range recs {
			name := []string{"shop", "api"}[rng.IntN(2)]
			r := Record{Name: name, Action: actions[rng.IntN(len(actions))], Time: at(i),
				AlternativeOrderID: []string{"", "k1", "k2"}[rng.IntN(3)]}
			switch rng.IntN(5) {
			case 0:
				r.Type = RecordIntent
			case 1, 2, 3:
				r.Type = RecordOutcome
				id := orders[name][rng.IntN(3)]
				f := OrderFacts{OrderID: id, Status: statuses[rng.IntN(len(statuses))]}
				known := certs[id]
				switch {
				case len(known) == 0 && rng.IntN(2) == 0: // not issued yet
				case len(known) == 0 || rng.IntN(3) == 0: // a new certificate
					f.CertificateID = id*100 + int64(len(known))
					certs[id] = append(known, f.CertificateID)
				default:
					f.CertificateID = known[rng.IntN(len(known))]
				}
				if f.CertificateID != 0 {
					f.ValidTill = fmt.Sprintf("2027-01-%02d", 1+f.CertificateID%28)
				}
				r.Order = &f
			default:
				r.Type = RecordFailure
				r.NothingCreated = rng.IntN(3) == 0
				r.Unknown = !r.NothingCreated && rng.IntN(2) == 0
			}
			recs[i] = r
		}
		for _, s := range []*State{New(), withShop1()} {
			s.Fold(recs)
			once := mustMarshal(t, s)
			if s.Fold(recs) {
				t.Errorf("trial %d: second Fold reported a change", trial)
			}
			if twice := mustMarshal(t, s); !bytes.Equal(once, twice) {
				t.Fatalf("trial %d: not idempotent for\n%s\nonce:\n%s\ndiff (-once +twice):\n%s", trial, fmtRecs(recs), once, cmp.Diff(string(once), string(twice)))
			}
		}
	}
}

// A failure whose outcome is unknown leaves its intent open and gives it
// the attempt's time (last_attempt), the latest one winning; a file
// backend keeps it on the intent when it retires the journal, so the next
// run knows how old the attempt is (issue 11, item 1).
func TestFoldCarriesLastAttempt(t *testing.T) {
	unknownAt := func(minute int) Record {
		f := failure("shop", ActionCreate, "k1", minute, false, false)
		f.LastAttempt = ptime(at(minute))
		return f
	}
	s := New()
	_, pending := s.fold([]Record{intent("shop", ActionCreate, "k1", 0), unknownAt(2), unknownAt(5), unknownAt(3),
		func() Record { f := unknownAt(9); f.AlternativeOrderID = "other"; return f }()})
	in, open := pending["shop"]
	if !open || in.LastAttempt == nil || !in.LastAttempt.Equal(at(5)) || !in.Time.Equal(at(0)) {
		t.Fatalf("pending %+v, want the intent of minute 0 with last_attempt at minute 5", in)
	}

	b := NewFileBackend(filepath.Join(t.TempDir(), "certplan.state.json"))
	ctx := context.Background()
	j, err := b.OpenJournal(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []Record{intent("shop", ActionCreate, "k1", 0), unknownAt(4)} {
		if err := j.Append(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	l, err := b.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Commit(ctx, l); err != nil {
		t.Fatal(err)
	}
	if l, err = b.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if in := l.Pending["shop"]; l.Replayed != 1 || in.LastAttempt == nil || !in.LastAttempt.Equal(at(4)) {
		t.Fatalf("after the journal was retired: %d records, pending %+v; want the intent alone, with last_attempt at minute 4", l.Replayed, in)
	}
}
