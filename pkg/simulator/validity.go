package simulator

import (
	"strings"
	"time"
)

// Validity bounds from the order pages.
const (
	maxOrderDays   = 1095 // order_validity.days max; also "within three years"
	maxCertDays    = 397  // CA/B Forum maximum for public TLS
	day            = 24 * time.Hour
	maxCertLife    = maxCertDays * day
	layoutDMY      = "02 Jan 2006" // order_validity/cert_validity custom_expiration_date ("09 JUN 2025")
	layoutISO      = "2006-01-02"  // deprecated custom_expiration_date, dates in responses
	maxOrderYears  = 3
	maxLegacyYears = 2
)

// parseExpiry parses a custom expiration date as the end of that day in UTC.
func parseExpiry(layout, s string) (time.Time, bool) {
	t, err := time.Parse(layout, strings.TrimSpace(s))
	if err != nil {
		return time.Time{}, false
	}
	return t.Add(day - time.Second), true
}

// customDate reads a custom_expiration_date in layout that must lie after now
// and no later than limit.
func customDate(o obj, key, layout string, now, limit time.Time, within string) (time.Time, bool) {
	s, ok := o.str(key, false)
	if !ok {
		return time.Time{}, false
	}
	t, ok := parseExpiry(layout, s)
	if !ok {
		want := "dd MMM yyyy, e.g. 09 JUN 2025"
		if layout == layoutISO {
			want = "yyyy-MM-dd"
		}
		o.c.add(invalid(o.at(key), "must be a date formatted "+want))
		return time.Time{}, false
	}
	if !t.After(now) || t.After(limit.Add(day)) {
		o.c.add(invalid(o.at(key), "must be in the future and within "+within))
		return time.Time{}, false
	}
	return t, true
}

// orderValidity reads order_validity (or the deprecated top-level fields) of a
// TLS order and returns when the order ends. Every present field is checked;
// the most specific valid one wins (custom date, then days, then years).
func orderValidity(body obj, now time.Time, allowValidityDays bool) (time.Time, bool) {
	limit := now.AddDate(maxOrderYears, 0, 0)
	if ov, ok := body.object("order_validity", false); ok {
		years, hasYears := ov.intRange("years", false, 1, maxOrderYears, "must be 1 to 3")
		days, hasDays := ov.intRange("days", false, 1, maxOrderDays, "must be 1 to 1095")
		date, hasDate := customDate(ov, "custom_expiration_date", layoutDMY, now, limit, "three years")
		if !ov.has("years") && !ov.has("days") && !ov.has("custom_expiration_date") {
			body.c.add(required("order_validity.years"))
		}
		return pickValidity(now, date, hasDate, days, hasDays, years, hasYears)
	} else if body.has("order_validity") {
		return time.Time{}, false // not an object: already reported
	}
	years, hasYears := body.intRange("validity_years", false, 1, maxOrderYears, "must be 1 to 3")
	var days int64
	var hasDays bool
	if allowValidityDays {
		days, hasDays = body.intRange("validity_days", false, 1, maxOrderDays, "must be 1 to 1095")
	}
	date, hasDate := customDate(body, "custom_expiration_date", layoutISO, now, limit, "three years")
	if !body.has("validity_years") && !body.has("custom_expiration_date") && !(allowValidityDays && body.has("validity_days")) {
		body.c.add(required("order_validity"))
	}
	return pickValidity(now, date, hasDate, days, hasDays, years, hasYears)
}

func pickValidity(now, date time.Time, hasDate bool, days int64, hasDays bool, years int64, hasYears bool) (time.Time, bool) {
	switch {
	case hasDate:
		return date, true
	case hasDays:
		return now.AddDate(0, 0, int(days)), true
	case hasYears:
		return now.AddDate(int(years), 0, 0), true
	}
	return time.Time{}, false
}

// documentSigningValidity reads order_validity.years (or validity_years), the
// only validity document signing orders have.
func documentSigningValidity(body obj, now time.Time) (time.Time, bool) {
	if ov, ok := body.object("order_validity", false); ok {
		years, ok := ov.intRange("years", true, 1, maxOrderYears, "must be 1 to 3")
		return now.AddDate(int(years), 0, 0), ok
	} else if body.has("order_validity") {
		return time.Time{}, false
	}
	if !body.has("validity_years") {
		body.c.add(required("order_validity"))
		return time.Time{}, false
	}
	years, ok := body.intRange("validity_years", false, 1, maxOrderYears, "must be 1, 2 or 3")
	return now.AddDate(int(years), 0, 0), ok
}

// certLifetime reads certificate.cert_validity of a Secure Site order and
// returns the first certificate's lifetime: the request, else the shorter of
// 397 days and the order. A request beyond the order's end is
// cert_validity_exceeds_order_validity.
func certLifetime(cert obj, now, orderTill time.Time, orderOK bool) time.Duration {
	life := min(maxCertLife, orderTill.Sub(now))
	cv, ok := cert.object("cert_validity", false)
	if !ok {
		return life
	}
	years, hasYears := cv.intRange("years", false, 1, 1, "allowed value: 1")
	days, hasDays := cv.intRange("days", false, 1, maxCertDays, "must be 1 to 397")
	date, hasDate := customDate(cv, "custom_expiration_date", layoutDMY, now, now.AddDate(0, 0, maxCertDays), "397 days")
	till, picked := pickValidity(now, date, hasDate, days, hasDays, years, hasYears)
	if !picked {
		return life
	}
	if orderOK && till.After(orderTill) {
		cert.c.add(apiError{Code: codeCertExceedsOrder, Message: "certificate.cert_validity ends after the order validity"})
		return life
	}
	return min(till.Sub(now), maxCertLife)
}

func dateOnly(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(layoutISO)
}
