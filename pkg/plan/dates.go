package plan

import (
	"fmt"
	"time"
)

const day = 24 * time.Hour

// parseDate reads a CertCentral date (yyyy-MM-dd; an RFC 3339 timestamp is
// accepted too) and returns the day it names, midnight UTC.
func parseDate(s string) (time.Time, bool) {
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t, true
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		t = t.UTC()
		return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC), true
	}
	return time.Time{}, false
}

// expiry is when a certificate valid till the given day stops being valid:
// the end of that day UTC (the next midnight).
func expiry(validTill time.Time) time.Time { return validTill.Add(day) }

// pickValidTill prefers the certificate's valid_till and falls back to the order's.
func pickValidTill(certValidTill, orderValidTill string) string {
	if certValidTill != "" {
		return certValidTill
	}
	return orderValidTill
}

// formatDuration renders a renewBefore: whole days as "30d", else Go's form.
func formatDuration(d time.Duration) string {
	if d > 0 && d%day == 0 {
		return fmt.Sprintf("%dd", d/day)
	}
	return d.String()
}

// daysPhrase says how far a moment is from now in whole days: "in 27 days",
// "in 1 day", "today", "3 days ago".
func daysPhrase(now, t time.Time) string {
	d := t.Sub(now)
	n := int64(d / day)
	switch {
	case d >= 0 && n == 0:
		return "today"
	case d >= 0:
		return fmt.Sprintf("in %d %s", n, plural(n, "day"))
	}
	n = int64(-d / day)
	if n == 0 {
		return "today"
	}
	return fmt.Sprintf("%d %s ago", n, plural(n, "day"))
}

func plural(n int64, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// dateOf renders a moment's UTC date.
func dateOf(t time.Time) string { return t.UTC().Format("2006-01-02") }
