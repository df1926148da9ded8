package dcv

import (
	"time"

	"github.com/certplan/certplan/pkg/lifecycle"
)

// LapsesAt is the first instant at which a validation completed at done can
// no longer be reused under the dated reuse table (lifecycle.DefaultDCVReuse):
// the validation is reusable at t while t - done <= the period in force at t,
// so it lapses either when its own period runs out or when a shorter period
// comes into force. The zero time means never (no limit).
//
// With the default table, a validation of 2027-01-10 lapses on 2027-04-20
// (100 days, the period in force from 2027-03-15), not on 2027-07-28 (199
// days); one of 2029-03-01 lapses on 2029-03-15, when the period falls to 10
// days and it is 14 days old.
func LapsesAt(reuse lifecycle.Caps, done time.Time) time.Time {
	var first time.Time
	for i, row := range reuse {
		end := time.Time{} // the row's end (exclusive); zero = open
		if i+1 < len(reuse) {
			end = reuse[i+1].From
		}
		cand := done.Add(time.Duration(row.Days)*lifecycle.Day + time.Nanosecond)
		if cand.Before(row.From) {
			cand = row.From
		}
		if cand.Before(done) {
			cand = done
		}
		if !end.IsZero() && !cand.Before(end) {
			continue
		}
		if !reuse.Reusable(done, cand) && (first.IsZero() || cand.Before(first)) {
			first = cand
		}
	}
	return first
}
