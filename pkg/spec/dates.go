package spec

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// The schemas check a date's shape ("dd MMM YYYY", "yyyy-MM-dd"); whether
// the day exists and whether it lies in the range the order pages document
// depend on the calendar and on the planning date, so certplan checks them
// here, at validate time, rather than letting CertCentral reject the order
// after the merge.

// dateField is a date of an order body.
type dateField struct {
	ptr      string   // JSON pointer inside spec.order
	iso      bool     // yyyy-MM-dd (else dd MMM YYYY)
	families []Family // the families whose schema has the field
	// maxAhead, when set, is the latest allowed date for a planning date,
	// and within says it in words.
	maxAhead func(now time.Time) time.Time
	within   string
}

var threeYears = func(now time.Time) time.Time { return now.AddDate(3, 0, 0) }

var dateFields = []dateField{
	{ptr: "/order_validity/custom_expiration_date", families: []Family{FamilySecureSite}, maxAhead: threeYears, within: "three years"},
	{ptr: "/order_validity/custom_expiration_date", families: []Family{FamilyPrivateSSL}},
	{ptr: "/certificate/cert_validity/custom_expiration_date", families: []Family{FamilySecureSite},
		maxAhead: func(now time.Time) time.Time { return now.AddDate(0, 0, 397) }, within: "397 days"},
	{ptr: "/custom_expiration_date", iso: true, families: []Family{FamilySecureSite}, maxAhead: threeYears, within: "three years"},
	{ptr: "/custom_expiration_date", iso: true, families: []Family{FamilyPrivateSSL}},
}

var (
	dmyRE = regexp.MustCompile(`^([0-9]{2}) ([A-Za-z]{3}) ([0-9]{4})$`)
	isoRE = regexp.MustCompile(`^([0-9]{4})-([0-9]{2})-([0-9]{2})$`)
)

var monthAbbrevs = map[string]time.Month{
	"JAN": time.January, "FEB": time.February, "MAR": time.March, "APR": time.April,
	"MAY": time.May, "JUN": time.June, "JUL": time.July, "AUG": time.August,
	"SEP": time.September, "OCT": time.October, "NOV": time.November, "DEC": time.December,
}

// dateChecks checks the dates of a merged order of product p: that each day
// exists, that it is after the planning date and, where the order pages
// give one, within the maximum; and that a literal card expiry is not past.
// It marks the pointers it reports at (under /spec/order) as owned.
func dateChecks(p Product, order *tree, now time.Time, owned map[string]bool) []Diagnostic {
	if order == nil || order.kind != kindMap {
		return nil
	}
	fam, _ := p.Family()
	now = now.UTC()
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	var diags []Diagnostic
	for _, f := range dateFields {
		if !hasFamily(f.families, fam) {
			continue
		}
		n, found := order.lookup(f.ptr)
		s, ok := n.str()
		if !found || !ok {
			continue
		}
		date, problem, shaped := parseCalendarDate(s, f.iso)
		if !shaped {
			continue // the schema's pattern reports it
		}
		path := "spec.order" + strings.ReplaceAll(f.ptr, "/", ".")
		switch {
		case problem != "":
		case !date.After(today):
			problem = fmt.Sprintf("is not after the planning date %s: the order would end before it starts", today.Format(time.DateOnly))
			if strings.Contains(f.ptr, "cert_validity") {
				problem = fmt.Sprintf("is not after the planning date %s: the certificate would end before it issues", today.Format(time.DateOnly))
			}
		case f.maxAhead != nil && date.After(f.maxAhead(now)):
			latest := f.maxAhead(now)
			problem = fmt.Sprintf("is more than %s after the planning date %s (the latest is %s)",
				f.within, today.Format(time.DateOnly), formatLike(latest, f.iso))
		}
		if problem != "" {
			owned["/spec/order"+f.ptr] = true
			diags = append(diags, errorAt(n.pos(), path, "%q %s", s, problem))
		}
	}
	return append(diags, cardExpiry(order, today, owned)...)
}

func hasFamily(fs []Family, f Family) bool {
	for _, x := range fs {
		if x == f {
			return true
		}
	}
	return false
}

// parseCalendarDate reads "dd MMM YYYY" (month in upper or title case) or,
// with iso, "yyyy-MM-dd". shaped is false for text of another shape;
// problem says why a well-shaped date is not a day of the calendar.
func parseCalendarDate(s string, iso bool) (date time.Time, problem string, shaped bool) {
	var y, d int
	var m time.Month
	if iso {
		p := isoRE.FindStringSubmatch(s)
		if p == nil {
			return time.Time{}, "", false
		}
		y, _ = strconv.Atoi(p[1])
		mi, _ := strconv.Atoi(p[2])
		d, _ = strconv.Atoi(p[3])
		if mi < 1 || mi > 12 {
			return time.Time{}, "", false
		}
		m = time.Month(mi)
	} else {
		p := dmyRE.FindStringSubmatch(s)
		if p == nil {
			return time.Time{}, "", false
		}
		var ok bool
		if m, ok = monthAbbrevs[strings.ToUpper(p[2])]; !ok {
			return time.Time{}, "", false
		}
		d, _ = strconv.Atoi(p[1])
		y, _ = strconv.Atoi(p[3])
	}
	last := time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
	if d < 1 || d > last {
		return time.Time{}, fmt.Sprintf("is not a date: %s %d has %d days", m, y, last), true
	}
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC), "", true
}

// formatLike writes t as a manifest writes the field: "23 NOV 2029" or "2029-11-23".
func formatLike(t time.Time, iso bool) string {
	if iso {
		return t.Format(time.DateOnly)
	}
	return strings.ToUpper(t.Format("02 Jan 2006"))
}

// cardExpiry reports a card whose literal expiry month is before the
// planning date's month: CertCentral declines it when the order is placed.
func cardExpiry(order *tree, today time.Time, owned map[string]bool) []Diagnostic {
	cc := order.field("credit_card")
	yn, mn := cc.field("expiration_year"), cc.field("expiration_month")
	y, ok1 := yn.intValue()
	m, ok2 := mn.intValue()
	if !ok1 || !ok2 || m < 1 || m > 12 {
		return nil // references, or the schema's to report
	}
	if y > today.Year() || (y == today.Year() && time.Month(m) >= today.Month()) {
		return nil
	}
	owned["/spec/order/credit_card/expiration_year"] = true
	return []Diagnostic{errorAt(yn.pos(), "spec.order.credit_card.expiration_year",
		"the card expired at the end of %02d/%d, before the planning date %s", m, y, today.Format(time.DateOnly))}
}
