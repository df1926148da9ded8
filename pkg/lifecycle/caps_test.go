package lifecycle

import (
	"testing"
	"time"
)

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestDefaultCapsAtEachBoundary(t *testing.T) {
	caps := DefaultCaps()
	if err := caps.Validate(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		when string
		days int
	}{
		{"2020-09-01T00:00:00Z", 397},
		{"2026-02-23T23:59:59Z", 397},
		{"2026-02-24T00:00:00Z", 199},
		{"2026-03-15T00:00:00Z", 199},
		{"2027-03-14T23:59:59Z", 199},
		{"2027-03-15T00:00:00Z", 99},
		{"2029-03-14T23:59:59Z", 99},
		{"2029-03-15T00:00:00Z", 46},
		{"2040-01-01T00:00:00Z", 46},
		// Another zone: the instant counts, not the wall date.
		{"2026-02-24T00:30:00+01:00", 397},
	}
	for _, tc := range tests {
		if got := caps.MaxDays(at(tc.when)); got != tc.days {
			t.Errorf("MaxDays(%s) = %d, want %d", tc.when, got, tc.days)
		}
		if got := caps.Max(at(tc.when)); got != time.Duration(tc.days)*24*time.Hour {
			t.Errorf("Max(%s) = %s", tc.when, got)
		}
	}
}

func TestDefaultDCVReuseAtEachBoundary(t *testing.T) {
	reuse := DefaultDCVReuse()
	tests := []struct {
		when string
		days int
	}{
		{"2025-06-01T00:00:00Z", 397},
		{"2026-02-23T23:59:59Z", 397},
		{"2026-02-24T00:00:00Z", 199},
		{"2027-03-14T23:59:59Z", 199},
		{"2027-03-15T00:00:00Z", 100},
		{"2029-03-14T23:59:59Z", 100},
		{"2029-03-15T00:00:00Z", 10},
	}
	for _, tc := range tests {
		if got := reuse.MaxDays(at(tc.when)); got != tc.days {
			t.Errorf("DCV reuse at %s = %d, want %d", tc.when, got, tc.days)
		}
	}
	validated := at("2026-01-10T00:00:00Z")
	for _, tc := range []struct {
		when string
		ok   bool
	}{
		{"2026-02-23T23:59:59Z", true},  // 397 days in force
		{"2026-02-24T00:00:00Z", true},  // the cut-over: 45 days old, 199 allowed
		{"2026-07-28T00:00:00Z", true},  // exactly 199 days
		{"2026-07-28T00:00:01Z", false}, // one second more
		{"2027-03-14T00:00:00Z", false}, // 428 days
		{"2029-03-16T00:00:00Z", false}, // 10 days allowed by then
		{"2026-01-09T00:00:00Z", true},  // before the validation
		{"2026-01-10T00:00:00Z", true},  // the same instant
	} {
		if got := reuse.Reusable(validated, at(tc.when)); got != tc.ok {
			t.Errorf("Reusable(2026-01-10, %s) = %v, want %v", tc.when, got, tc.ok)
		}
	}
	for _, tc := range []struct {
		when string
		ok   bool
	}{
		{"2029-03-15T00:00:00Z", true},  // validated 2029-03-05: 10 days
		{"2029-03-15T00:00:01Z", false}, // 10 days and a second
	} {
		if got := reuse.Reusable(at("2029-03-05T00:00:00Z"), at(tc.when)); got != tc.ok {
			t.Errorf("Reusable(2029-03-05, %s) = %v, want %v", tc.when, got, tc.ok)
		}
	}
}

func TestValidTill(t *testing.T) {
	caps := DefaultCaps()
	day := 24 * time.Hour
	tests := []struct {
		name             string
		issued, orderEnd string
		want             string
		covers           bool
	}{
		{"2025: a 1-year plan's certificate reaches the order end", "2025-06-01T10:00:00Z", "2026-06-01T10:00:00Z", "2026-06-01T10:00:00Z", true},
		{"2025: a 3-year plan's certificate is capped at 397 days", "2025-06-01T10:00:00Z", "2028-06-01T10:00:00Z", "2026-07-03T10:00:00Z", false},
		{"the last instant before the 199-day cap", "2026-02-23T23:59:59Z", "2027-02-23T23:59:59Z", "2027-02-23T23:59:59Z", true},
		{"the first instant of the 199-day cap", "2026-02-24T00:00:00Z", "2027-02-24T00:00:00Z", "2026-09-11T00:00:00Z", false},
		{"199 days on a 1-year plan", "2026-03-01T12:00:00Z", "2027-03-01T12:00:00Z", "2026-09-16T12:00:00Z", false},
		{"a reissue near the end of the first certificate runs to the plan's end", "2026-08-20T12:00:00Z", "2027-03-01T12:00:00Z", "2027-03-01T12:00:00Z", true},
		{"the last instant of 199 days", "2027-03-14T23:59:59Z", "2030-01-01T00:00:00Z", "2027-09-29T23:59:59Z", false},
		{"the first instant of 99 days", "2027-03-15T00:00:00Z", "2030-01-01T00:00:00Z", "2027-06-22T00:00:00Z", false},
		{"the last instant of 99 days", "2029-03-14T23:59:59Z", "2030-01-01T00:00:00Z", "2029-06-21T23:59:59Z", false},
		{"the first instant of 46 days", "2029-03-15T00:00:00Z", "2030-01-01T00:00:00Z", "2029-04-30T00:00:00Z", false},
		{"an order ending exactly at the cap is covered", "2029-03-15T00:00:00Z", "2029-04-30T00:00:00Z", "2029-04-30T00:00:00Z", true},
		{"an order that has ended", "2027-01-01T00:00:00Z", "2026-12-01T00:00:00Z", "2026-12-01T00:00:00Z", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			issued, end := at(tc.issued), at(tc.orderEnd)
			if got := caps.ValidTill(issued, end); !got.Equal(at(tc.want)) {
				t.Errorf("ValidTill = %s, want %s", got.Format(time.RFC3339), tc.want)
			}
			if got := caps.Covers(issued, end); got != tc.covers {
				t.Errorf("Covers = %v, want %v", got, tc.covers)
			}
		})
	}
	// No order end: the cap alone; no cap: the order alone; neither: unknown.
	issued := at("2026-03-01T00:00:00Z")
	if got := caps.ValidTill(issued, time.Time{}); !got.Equal(issued.Add(199 * day)) {
		t.Errorf("no order end: %s", got)
	}
	end := at("2029-01-01T00:00:00Z")
	if got := (Caps{}).ValidTill(issued, end); !got.Equal(end) {
		t.Errorf("no caps: %s", got)
	}
	if got := (Caps(nil)).ValidTill(issued, time.Time{}); !got.IsZero() {
		t.Errorf("nothing known: %s", got)
	}
	// Before the first row of a table without a "since always" row: no cap.
	late := Caps{{From: Cap99From, Days: 99}}
	if got := late.MaxDays(issued); got != 0 {
		t.Errorf("before the first row: %d", got)
	}
}

func TestOverriddenCaps(t *testing.T) {
	// DigiCert moves the 99-day date four weeks earlier.
	caps, err := ParseCaps("397,2026-02-24=199,2027-02-15=99,2029-02-15=46")
	if err != nil {
		t.Fatal(err)
	}
	if got := caps.MaxDays(at("2027-02-20T00:00:00Z")); got != 99 {
		t.Errorf("moved date: %d", got)
	}
	if got := DefaultCaps().MaxDays(at("2027-02-20T00:00:00Z")); got != 199 {
		t.Errorf("the default table changed: %d", got)
	}
	// DefaultCaps is a fresh copy every time.
	d := DefaultCaps()
	d[1].Days = 1
	if DefaultCaps()[1].Days != 199 {
		t.Error("DefaultCaps shares its backing array")
	}
	next, ok := DefaultCaps().Next(at("2026-06-01T00:00:00Z"))
	if !ok || next.Days != 99 || !next.From.Equal(Cap99From) {
		t.Errorf("Next = %+v, %v", next, ok)
	}
	if _, ok := DefaultCaps().Next(at("2030-01-01T00:00:00Z")); ok {
		t.Error("Next after the last row")
	}
}

func TestParseCaps(t *testing.T) {
	tests := []struct {
		in, want string
		err      bool
	}{
		{in: "397,2026-02-24=199,2027-03-15=99,2029-03-15=46", want: "397,2026-02-24=199,2027-03-15=99,2029-03-15=46"},
		{in: " 2027-03-15=99 , 397, 2026-02-24=199 ", want: "397,2026-02-24=199,2027-03-15=99"},
		{in: "2026-02-24T00:00:00+01:00=199", want: "2026-02-23=199"},
		{in: "none", want: "none"},
		{in: "", err: true},
		{in: "397,abc", err: true},
		{in: "2026-13-01=199", err: true},
		{in: "2026-02-24=0", err: true},
		{in: "2026-02-24=199,2026-02-24=99", err: true},
		{in: "397,398", err: true},
	}
	for _, tc := range tests {
		got, err := ParseCaps(tc.in)
		if tc.err {
			if err == nil {
				t.Errorf("ParseCaps(%q) = %s, want an error", tc.in, got)
			}
			continue
		}
		if err != nil || got.String() != tc.want {
			t.Errorf("ParseCaps(%q) = %s, %v; want %s", tc.in, got, err, tc.want)
		}
	}
	if DefaultCaps().String() != "397,2026-02-24=199,2027-03-15=99,2029-03-15=46" {
		t.Errorf("String: %s", DefaultCaps())
	}
	if err := (Caps{{Days: 10}, {Days: 20}}).Validate(); err == nil {
		t.Error("two rows since always")
	}
}

func TestBRDays(t *testing.T) {
	nb := at("2026-03-01T00:00:00Z")
	tests := []struct {
		name     string
		notAfter time.Time
		want     int
	}{
		{"the same second", nb, 1},
		{"to 23:59:59 the same day", nb.Add(24*time.Hour - time.Second), 1},
		{"to midnight the next day", nb.Add(24 * time.Hour), 2},
		{"199 days minus a second", nb.Add(199*24*time.Hour - time.Second), 199},
		{"199 days", nb.Add(199 * 24 * time.Hour), 200},
		{"200 days minus a second: the BR maximum from 2026-03-15", nb.Add(200*24*time.Hour - time.Second), 200},
		{"a fraction counts as a day", nb.Add(46*24*time.Hour + time.Millisecond), 47},
		{"notAfter before notBefore", nb.Add(-time.Hour), 0},
	}
	for _, tc := range tests {
		if got := BRDays(nb, tc.notAfter); got != tc.want {
			t.Errorf("%s: BRDays = %d, want %d", tc.name, got, tc.want)
		}
	}
	// A certificate ValidTill produces stays within the BR maximum of its date.
	for _, tc := range []struct {
		issued string
		brMax  int
	}{
		{"2026-03-15T00:00:00Z", 200},
		{"2027-03-15T00:00:00Z", 100},
		{"2029-03-15T00:00:00Z", 47},
	} {
		issued := at(tc.issued)
		if got := BRDays(issued, DefaultCaps().ValidTill(issued, time.Time{})); got > tc.brMax {
			t.Errorf("issued %s: %d BR days, over the maximum %d", tc.issued, got, tc.brMax)
		}
	}
}
