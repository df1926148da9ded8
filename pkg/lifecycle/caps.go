// Package lifecycle holds the dated rules of public TLS certificates that
// certplan plans by: the maximum certificate validity by issuance date
// (CA/Browser Forum ballot SC-081 as DigiCert applies it), the domain
// validation (DCV) reuse period by date, and the Baseline Requirements' way of
// counting days. The tables are values, not constants: DigiCert's cut-over
// dates have moved before, so callers may pass their own.
//
// The package imports nothing of certplan's, so the planner, the simulator
// and the client can all share it.
package lifecycle

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Day is one day as the Baseline Requirements count it: 86,400 seconds.
const Day = 24 * time.Hour

// Step is one row of a dated table: from From (inclusive) on, Days applies.
// A zero From means "since always".
type Step struct {
	From time.Time
	Days int
}

// Caps is a dated table of day counts, in ascending From order: the maximum
// certificate validity (DefaultCaps) or the DCV reuse period
// (DefaultDCVReuse). The row in force at an instant is the last one whose
// From is not after it. An empty table, or an instant before the first row,
// means no limit (MaxDays returns 0).
type Caps []Step

// date is midnight UTC of a calendar day.
func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// Cut-over dates as DigiCert applies SC-081 (see the lifecycle facts page).
var (
	// Cap199From is DigiCert's first cut-over: 199-day certificates and
	// 199-day DCV reuse (the BR date is 2026-03-15: 200 days, "should" 199).
	Cap199From = date(2026, time.February, 24)
	// Cap99From is the BR date for 100-day certificates; DigiCert's own date
	// (probably weeks earlier) is UNCONFIRMED.
	Cap99From = date(2027, time.March, 15)
	// Cap46From is the BR date for 47-day certificates; DigiCert's own date is
	// UNCONFIRMED.
	Cap46From = date(2029, time.March, 15)
)

// DefaultCaps returns DigiCert's public TLS certificate caps: 397 days before
// 2026-02-24 (DigiCert's figure; the BR allowed 398), 199 days from then, 99
// from 2027-03-15 and 46 from 2029-03-15. Each call returns a fresh copy.
func DefaultCaps() Caps {
	return Caps{{Days: 397}, {From: Cap199From, Days: 199}, {From: Cap99From, Days: 99}, {From: Cap46From, Days: 46}}
}

// DefaultDCVReuse returns how long DigiCert reuses a completed domain
// validation: 397 days before 2026-02-24 (the BR allowed 398), 199 days from
// then, 100 from 2027-03-15 and 10 from 2029-03-15. DV orders never reuse a
// validation. Each call returns a fresh copy.
func DefaultDCVReuse() Caps {
	return Caps{{Days: 397}, {From: Cap199From, Days: 199}, {From: Cap99From, Days: 100}, {From: Cap46From, Days: 10}}
}

// Validate checks that the rows ascend strictly by From and that every Days is positive.
func (c Caps) Validate() error {
	for i, s := range c {
		if s.Days <= 0 {
			return fmt.Errorf("row %d (%s): days must be positive, got %d", i+1, s.fromString(), s.Days)
		}
		if i > 0 && !s.From.After(c[i-1].From) {
			return fmt.Errorf("row %d (%s): dates must ascend, but it is not after %s", i+1, s.fromString(), c[i-1].fromString())
		}
	}
	return nil
}

func (s Step) fromString() string {
	if s.From.IsZero() {
		return "always"
	}
	return s.From.UTC().Format(time.DateOnly)
}

// row returns the index of the row in force at t, or -1.
func (c Caps) row(t time.Time) int {
	i := -1
	for j, s := range c {
		if s.From.After(t) {
			break
		}
		i = j
	}
	return i
}

// MaxDays is the day count in force at t (the cap for a certificate issued at
// t); 0 means no limit.
func (c Caps) MaxDays(t time.Time) int {
	if i := c.row(t); i >= 0 {
		return c[i].Days
	}
	return 0
}

// Max is MaxDays as a duration (MaxDays × 86,400 s); 0 means no limit.
func (c Caps) Max(t time.Time) time.Duration { return time.Duration(c.MaxDays(t)) * Day }

// Next returns the first row that comes into force after t, if any: "the cap
// drops to N days on DATE".
func (c Caps) Next(t time.Time) (Step, bool) {
	for _, s := range c {
		if s.From.After(t) {
			return s, true
		}
	}
	return Step{}, false
}

// ValidTill is the expected end of a certificate issued at issued on an order
// that ends at orderEnd: min(issued + cap at issued, orderEnd). CertCentral
// clamps a longer request to this rather than rejecting it. A zero orderEnd
// means the order does not bound the certificate; with no cap either, the
// result is the zero time (unknown).
func (c Caps) ValidTill(issued, orderEnd time.Time) time.Time {
	max := c.Max(issued)
	switch {
	case max == 0:
		return orderEnd
	case orderEnd.IsZero():
		return issued.Add(max)
	}
	end := issued.Add(max)
	if orderEnd.Before(end) {
		return orderEnd
	}
	return end
}

// Covers reports whether a certificate issued at issued would reach the end
// of an order ending at orderEnd: one more certificate finishes the plan.
func (c Caps) Covers(issued, orderEnd time.Time) bool {
	return !c.ValidTill(issued, orderEnd).Before(orderEnd)
}

// Reusable reports whether something done at done (a domain validation) may
// still be relied on at at, under the period in force at at: with
// DefaultDCVReuse, a validation from 2026-01-10 is reusable on 2026-07-01
// (within 199 days) but not on 2027-04-01 (more than 100 days).
func (c Caps) Reusable(done, at time.Time) bool {
	if at.Before(done) {
		return true
	}
	max := c.Max(at)
	return max == 0 || at.Sub(done) <= max
}

// String renders the table as ParseCaps reads it, e.g.
// "397,2026-02-24=199,2027-03-15=99,2029-03-15=46"; an empty table is "none".
func (c Caps) String() string {
	if len(c) == 0 {
		return "none"
	}
	parts := make([]string, 0, len(c))
	for _, s := range c {
		if s.From.IsZero() {
			parts = append(parts, strconv.Itoa(s.Days))
			continue
		}
		parts = append(parts, s.From.UTC().Format(time.DateOnly)+"="+strconv.Itoa(s.Days))
	}
	return strings.Join(parts, ",")
}

// ParseCaps reads a table written as comma-separated rows "DATE=DAYS"
// (DATE is yyyy-MM-dd, midnight UTC, or an RFC 3339 instant), optionally
// starting with a bare "DAYS" that applies since always, e.g.
// "397,2026-02-24=199,2027-03-15=99,2029-03-15=46". "none" is the empty
// table (no limit). Rows may come in any order; they are sorted.
func ParseCaps(s string) (Caps, error) {
	s = strings.TrimSpace(s)
	if s == "none" {
		return Caps{}, nil
	}
	if s == "" {
		return nil, errors.New("empty table: want e.g. 397,2026-02-24=199 or none")
	}
	var out Caps
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		from, days, dated := strings.Cut(part, "=")
		if !dated {
			from, days = "", part
		}
		n, err := strconv.Atoi(strings.TrimSpace(days))
		if err != nil {
			return nil, fmt.Errorf("%q: days must be an integer", part)
		}
		var t time.Time
		if dated {
			if t, err = parseInstant(strings.TrimSpace(from)); err != nil {
				return nil, fmt.Errorf("%q: %w", part, err)
			}
		}
		out = append(out, Step{From: t, Days: n})
	}
	slices.SortStableFunc(out, func(a, b Step) int { return a.From.Compare(b.From) })
	if err := out.Validate(); err != nil {
		return nil, err
	}
	return out, nil
}

func parseInstant(s string) (time.Time, error) {
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	return time.Time{}, fmt.Errorf("date %q: want yyyy-MM-dd or RFC 3339", s)
}

// BRDays counts a validity period the Baseline Requirements' way (§6.3.2):
// from notBefore to notAfter, both included, 86,400 seconds per day, any
// fraction counting as another day. A certificate from 00:00:00 to 23:59:59
// of the same day is 1 day; notBefore + 199 × 24 h is 200 days.
func BRDays(notBefore, notAfter time.Time) int {
	if notAfter.Before(notBefore) {
		return 0
	}
	span := notAfter.Sub(notBefore) + time.Second // both ends included
	days := span / Day
	if span%Day != 0 {
		days++
	}
	return int(days)
}
