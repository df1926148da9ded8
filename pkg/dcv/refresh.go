package dcv

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/certplan/certplan/pkg/certcentral"
	"github.com/certplan/certplan/pkg/lifecycle"
	"github.com/certplan/certplan/pkg/state"
)

// ValueAPI is what Refresh needs of CertCentral; *certcentral.Client has it.
type ValueAPI interface {
	GetDCVRandomValue(ctx context.Context, orderID int64) (*certcentral.DCVRandomValue, error)
}

// RefreshStats says what Refresh did.
type RefreshStats struct {
	Orders int // orders whose DCV facts were set
	Calls  int // dcv-random-value calls
	// Problems are orders whose value could not be had (the call failed, or
	// the value is not a plain token): their records are not shown, and
	// nothing else depends on them. Safe to print.
	Problems []string
}

// Refresh brings the DCV facts of the state's current orders up to date in
// facts (refreshed order facts by id, as plan.Refresh returns them), so that
// plan shows and apply records them:
//
//   - an order that awaits validation (pending, reissue_pending) with a token
//     method gets its method, its names (from the submitted request) with
//     the statuses last seen, and its random value. The value comes from the
//     facts (order info), else the state; only when it is missing, of
//     unknown expiry or expired is it fetched, with one dcv-random-value
//     call for the order: no call per name, and none while it is valid;
//   - an order now issued whose names the state saw pending has them marked
//     approved, validated when the certificate became valid (its valid_from:
//     the day it was issued, a conservative start for reuse periods).
//
// Orders not in facts (not refreshed) are left alone, and so is the DCV of
// every other order (apply keeps the state's). A failed call, or a value
// that is not a plain token, leaves the order without a value and is listed
// in the stats' Problems: a plan must not fail for it. Only a cancelled
// context is an error. now is the planning clock.
func Refresh(ctx context.Context, api ValueAPI, st *state.State, facts map[int64]state.OrderFacts, now time.Time) (RefreshStats, error) {
	var stats RefreshStats
	if st == nil {
		return stats, nil
	}
	for _, name := range st.Names() {
		cur := st.Certificates[name]
		if cur == nil || cur.OrderID == 0 {
			continue
		}
		f, ok := facts[cur.OrderID]
		if !ok {
			continue
		}
		seen := f.DCV
		f.DCV = nil
		switch {
		case Awaiting(f.Status):
			d := awaitingDCV(cur, seen, now)
			if d == nil {
				break
			}
			if d.RandomValue == "" || d.ValueExpires == nil || !now.Before(*d.ValueExpires) {
				if api == nil {
					break
				}
				stats.Calls++
				v, err := api.GetDCVRandomValue(ctx, cur.OrderID)
				if err != nil {
					if ctx.Err() != nil {
						return stats, err
					}
					stats.Problems = append(stats.Problems, Safe(fmt.Sprintf("%s: the DCV random value of order %d could not be read: %v", name, cur.OrderID, err)))
					d.RandomValue, d.ValueExpires = "", nil
					f.DCV = d
					break
				}
				d.RandomValue = v.Value
				exp, ok := v.Expires()
				if !ok {
					exp = now.Add(certcentral.DCVRandomValueLife)
				}
				exp = exp.UTC()
				d.ValueExpires = &exp
			}
			if d.RandomValue != "" && !SafeValue(d.RandomValue) {
				stats.Problems = append(stats.Problems, fmt.Sprintf("%s: CertCentral returned a DCV random value for order %d that is not a plain token (%s); certplan will not publish it",
					name, cur.OrderID, Safe(d.RandomValue)))
				d.RandomValue, d.ValueExpires = "", nil
			}
			f.DCV = d
		case f.Status == state.StatusIssued && cur.DCV != nil && hasUnapproved(cur.DCV):
			d := cur.DCV.Clone()
			at := now
			if t, err := time.Parse(time.DateOnly, f.ValidFrom); err == nil && t.Before(now) {
				at = t
			}
			for i := range d.Names {
				if d.Names[i].Status != certcentral.DCVNameApproved {
					d.Names[i].Status = certcentral.DCVNameApproved
					d.Names[i].ValidatedAt = &at
				}
			}
			f.DCV = d
		}
		if f.DCV != nil {
			stats.Orders++
		}
		facts[cur.OrderID] = f
	}
	return stats, nil
}

// awaitingDCV is the DCV of an order awaiting validation: the state's,
// updated with what order info said (seen) and the submitted request's
// names; nil when its method is not a token method.
func awaitingDCV(cur *state.Certificate, seen *state.DCV, now time.Time) *state.DCV {
	d := cur.DCV.Clone()
	if d == nil {
		d = &state.DCV{}
	}
	if seen != nil && seen.Method != "" {
		d.Method = seen.Method
	}
	if d.Method == "" {
		d.Method = RequestMethod(cur.Request)
	}
	if !TokenMethod(d.Method) {
		return nil
	}
	if seen != nil && seen.RandomValue != "" && seen.RandomValue != d.RandomValue {
		// A value the state does not know: its expiry is not known either.
		d.RandomValue, d.ValueExpires = seen.RandomValue, nil
	}
	d.Names = mergeNames(d.Names, RequestNames(cur.Request))
	// A name approved for an earlier certificate of the order counts only
	// while that validation can be reused: else this wait needs it again.
	reuse := lifecycle.DefaultDCVReuse()
	for i := range d.Names {
		n := &d.Names[i]
		if n.Status == certcentral.DCVNameApproved && (n.ValidatedAt == nil || !reuse.Reusable(*n.ValidatedAt, now)) {
			n.Status, n.CheckedAt = "", nil
		}
	}
	return d
}

// mergeNames lists names in the request's order, keeping what was known of
// each; without request names the known ones stay.
func mergeNames(known []state.DCVName, names []string) []state.DCVName {
	if len(names) == 0 {
		return known
	}
	byName := map[string]state.DCVName{}
	for _, n := range known {
		byName[strings.ToLower(n.Name)] = n
	}
	out := make([]state.DCVName, 0, len(names))
	for _, n := range names {
		if k, ok := byName[strings.ToLower(n)]; ok {
			k.Name = n
			out = append(out, k)
			continue
		}
		out = append(out, state.DCVName{Name: n})
	}
	return out
}

func hasUnapproved(d *state.DCV) bool {
	for _, n := range d.Names {
		if n.Status != certcentral.DCVNameApproved {
			return true
		}
	}
	return false
}

// Recorded returns d (not modified) updated with what a check found: the
// names the reply (or a validated order) approves are approved and validated
// at the check, the others pending; CheckedAt is the check's time. d must
// be the DCV the checked Pending was made from.
func Recorded(d *state.DCV, o Outcome) *state.DCV {
	out := d.Clone()
	if out == nil || o.CheckedAt.IsZero() {
		return out
	}
	at := o.CheckedAt.UTC()
	out.CheckedAt = &at
	approved := map[string]bool{}
	for _, n := range o.ApprovedNames() {
		approved[n] = true
	}
	listed := map[string]string{}
	if o.Reply != nil {
		for _, n := range o.Reply.DNSNameValidations {
			listed[BaseDomain(n.DNSName)] = n.Status
		}
	}
	for i := range out.Names {
		n := &out.Names[i]
		domain := BaseDomain(n.Name)
		n.CheckedAt = &at
		switch {
		case approved[domain]:
			if n.Status != certcentral.DCVNameApproved || n.ValidatedAt == nil {
				n.ValidatedAt = &at
			}
			n.Status = certcentral.DCVNameApproved
		case listed[domain] != "":
			n.Status = Safe(listed[domain])
		default:
			n.Status = certcentral.DCVNamePending
		}
	}
	return out
}
