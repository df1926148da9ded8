package plan

import (
	"fmt"
	"math/rand"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/certplan/certplan/pkg/spec"
	"github.com/certplan/certplan/pkg/state"
)

// randomInput builds a random but valid planning input: certificates of
// every family in every situation the planner knows.
func randomInput(t testing.TB, r *rand.Rand) Input {
	st := &state.State{Lineage: "lin", Serial: r.Int63n(100), Certificates: map[string]*state.Certificate{}}
	in := Input{State: st, Pending: map[string]state.Record{}, Facts: map[int64]state.OrderFacts{}, Now: testNow}
	n := 1 + r.Intn(30)
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("cert-%02d", i)
		var c *spec.Certificate
		switch r.Intn(4) {
		case 0:
			c = tlsCert(name)
		case 1:
			c = privateCert(name)
		case 2:
			c = docSigningCert(name)
		default:
			c = legacyCert(name)
		}
		if r.Intn(3) == 0 {
			withCard(c.Order)
		}
		in.Certificates = append(in.Certificates, c)
		id := int64(1000 + i)
		till := dateOf(testNow.Add(time.Duration(r.Intn(800)-100) * day))
		if c.Product.HasPlans() && r.Intn(3) == 0 {
			// A certificate inside a longer plan: due or not, with a new
			// key, added or removed names, or a new organization.
			s := applied(t, c, id, till)
			orderTill, _ := parseDate(till)
			s.OrderValidTill = dateOf(orderTill.Add(time.Duration(r.Intn(400)) * day))
			st.Certificates[name] = s
			switch r.Intn(6) {
			case 0:
				setPath("certificate.csr", csrPEM(name+"-rotated"))(c.Order)
			case 1:
				setPath("certificate.dns_names", []any{"www." + name + ".example.com", "new." + name + ".example.com"})(c.Order)
			case 2:
				setPath("certificate.dns_names", []any{})(c.Order)
				c.AllowDestructiveReissue = r.Intn(2) == 0
			case 3:
				setPath("organization.id", 42)(c.Order)
			case 4:
				c.Order["auto_reissue"] = 1
			}
			continue
		}
		switch r.Intn(9) {
		case 0: // new
		case 1: // issued, maybe in the window
			st.Certificates[name] = applied(t, c, id, till)
		case 2: // shaping change
			st.Certificates[name] = applied(t, c, id, till)
			setPath("order_validity.years", 3)(c.Order)
		case 3: // non-shaping change
			st.Certificates[name] = applied(t, c, id, till)
			c.Order["comments"] = "edited"
		case 4: // in flight
			s := applied(t, c, id, "")
			s.Status = []state.OrderStatus{state.StatusPending, state.StatusNeedsApproval, state.StatusProcessing}[r.Intn(3)]
			st.Certificates[name] = s
		case 5: // dead
			s := applied(t, c, id, till)
			s.Status = []state.OrderStatus{state.StatusRejected, state.StatusCanceled, state.StatusRevoked}[r.Intn(3)]
			st.Certificates[name] = s
		case 6: // interrupted apply
			var renewalOf int64
			action := state.ActionCreate
			if r.Intn(2) == 0 {
				st.Certificates[name] = applied(t, c, id, till)
				action, renewalOf = state.ActionRenew, id
			}
			in.Pending[name] = state.Record{
				Type: state.RecordIntent, Time: testNow.Add(-time.Hour), Name: name, Action: action,
				AlternativeOrderID: key(name, c.Product, SpecDigest(c), renewalOf), Product: string(c.Product),
				SpecDigest: SpecDigest(c), RequestDigest: RequestDigest(c.Order), RenewalOf: renewalOf, Request: roundTrip(t, c.Order),
			}
		case 7: // revoked or renewed in the console
			st.Certificates[name] = applied(t, c, id, till)
			if r.Intn(2) == 0 {
				in.Facts[id] = state.OrderFacts{OrderID: id, Status: state.StatusRevoked}
			} else {
				in.Facts[id] = state.OrderFacts{OrderID: id, Status: state.StatusIssued, IsRenewed: true, RenewedOrderID: 90000 + id}
			}
		case 8: // legacy unknown outcome
			st.Certificates[name] = &state.Certificate{Product: string(c.Product), SpecDigest: SpecDigest(c), Status: state.StatusUnknownOutcome}
		}
	}
	// Orphans.
	for i := 0; i < r.Intn(3); i++ {
		st.Certificates[fmt.Sprintf("orphan-%d", i)] = applied(t, tlsCert("orphan"), int64(5000+i), "2027-01-01")
	}
	r.Shuffle(len(in.Certificates), func(i, j int) { in.Certificates[i], in.Certificates[j] = in.Certificates[j], in.Certificates[i] })
	return in
}

// Planning twice, or with the manifests in another order, gives the same plan.
func TestPropertyPlanIsDeterministic(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	for trial := 0; trial < 200; trial++ {
		in := randomInput(t, r)
		first := Build(in)
		in.Certificates = append([]*spec.Certificate(nil), in.Certificates...)
		r.Shuffle(len(in.Certificates), func(i, j int) { in.Certificates[i], in.Certificates[j] = in.Certificates[j], in.Certificates[i] })
		second := Build(in)
		a, _ := encodeJSON(first)
		b, _ := encodeJSON(second)
		if diff := cmp.Diff(string(a), string(b)); diff != "" {
			t.Fatalf("trial %d: plans differ (-first +second):\n%s", trial, diff)
		}
	}
}

// Build does not modify its input.
func TestPropertyBuildLeavesInputAlone(t *testing.T) {
	r := rand.New(rand.NewSource(2))
	for trial := 0; trial < 50; trial++ {
		in := randomInput(t, r)
		before, _ := encodeJSON(in)
		Build(in)
		after, _ := encodeJSON(in)
		if string(before) != string(after) {
			t.Fatalf("trial %d: Build modified its input", trial)
		}
	}
}

// Applying a plan (in simulation: every create and renew becomes an issued
// order in state, every reissue a new certificate of its order, and
// interrupted intents are resolved) and planning again orders nothing.
func TestPropertyAppliedPlanReplansToNoOp(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	for trial := 0; trial < 200; trial++ {
		in := randomInput(t, r)
		p := Build(in)
		in.State = simulateApply(t, in.State, p, testNow)
		// Apply resolves every interrupted intent but those it must not
		// touch (blocked: a legacy one of unknown outcome).
		for _, ch := range p.Changes {
			if !ch.Blocked {
				delete(in.Pending, ch.Name)
			}
		}
		again := Build(in)
		if again.HasChanges() || again.Summary.Create+again.Summary.Renew+again.Summary.Reissue != 0 {
			var b []byte
			b, _ = encodeJSON(again.Changes)
			t.Fatalf("trial %d: re-plan after apply has changes %+v:\n%s", trial, again.Summary, b)
		}
		if len(again.Changes) != len(p.Changes) || again.Summary.Orphaned != p.Summary.Orphaned {
			t.Fatalf("trial %d: re-plan has %d changes and %d orphans, want %d and %d", trial, len(again.Changes), again.Summary.Orphaned, len(p.Changes), p.Summary.Orphaned)
		}
	}
}

// simulateApply folds a plan's orders into a copy of the state as issued orders.
func simulateApply(t testing.TB, st *state.State, p *Plan, now time.Time) *state.State {
	out := &state.State{Lineage: st.Lineage, Serial: st.Serial + 1, Certificates: map[string]*state.Certificate{}}
	for k, v := range st.Certificates {
		out.Certificates[k] = v
	}
	next := int64(700000)
	for _, ch := range p.Changes {
		if !ch.Blocked && ch.Action == ActionReissue {
			// Same order, a new certificate as planned, the manifest's body.
			old := *out.Certificates[ch.Name]
			old.History = append(append([]state.HistoryEntry(nil), old.History...),
				state.HistoryEntry{OrderID: old.OrderID, CertificateID: old.CertificateID, ValidTill: old.ValidTill, Status: old.Status})
			old.CertificateID += 1000
			old.ValidTill = ch.NextCertificate.ValidTill
			old.SpecDigest, old.RequestDigest, old.Request = ch.SpecDigest, ch.RequestDigest, roundTrip(t, ch.Request)
			out.Certificates[ch.Name] = &old
			continue
		}
		if ch.Blocked || (ch.Action != ActionCreate && ch.Action != ActionRenew) {
			continue
		}
		next++
		var history []state.HistoryEntry
		if old := out.Certificates[ch.Name]; old != nil {
			history = append(append(history, old.History...), state.HistoryEntry{OrderID: old.OrderID, Status: old.Status})
		}
		out.Certificates[ch.Name] = &state.Certificate{
			Product: string(ch.Product), SpecDigest: ch.SpecDigest, RequestDigest: ch.RequestDigest,
			Request: roundTrip(t, ch.Request), OrderID: next, AlternativeOrderID: ch.AlternativeOrderID,
			Status: state.StatusIssued, ValidTill: dateOf(now.Add(397 * day)), UpdatedAt: now, History: history,
		}
	}
	return out
}
