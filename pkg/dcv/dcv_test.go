package dcv

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/certplan/certplan/pkg/certcentral"
	"github.com/certplan/certplan/pkg/dnstest"
	"github.com/certplan/certplan/pkg/lifecycle"
	"github.com/certplan/certplan/pkg/state"
)

func TestMain(m *testing.M) {
	RequireLoopback.Store(true) // nothing here asks a DNS server off this machine
	m.Run()
}

func names(ns ...string) []state.DCVName {
	out := make([]state.DCVName, len(ns))
	for i, n := range ns {
		out[i] = state.DCVName{Name: n}
	}
	return out
}

func TestRecordsFor(t *testing.T) {
	ns := names("shop.example.com", "*.Example.com", "example.com", "www.shop.example.com")
	ns[2].Status = "pending"
	ns[1].Status = "approved"
	got := RecordsFor("dns-txt-token", "v1", ns)
	want := []Record{
		{Domain: "shop.example.com", Name: "_dnsauth.shop.example.com", Type: "TXT", Value: "v1"},
		{Domain: "example.com", Name: "_dnsauth.example.com", Type: "TXT", Value: "v1", Status: "pending"},
		{Domain: "www.shop.example.com", Name: "_dnsauth.www.shop.example.com", Type: "TXT", Value: "v1"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("TXT (-want +got):\n%s", diff)
	}
	got = RecordsFor("dns-cname-token", "v1", names("api.example.com"))
	if got[0].Name != "_dnsauth.api.example.com" || got[0].Type != "CNAME" || got[0].Value != "v1.dcv.digicert.com" {
		t.Errorf("CNAME: %+v", got[0])
	}
	got = RecordsFor("http-token", "v1", names("api.example.com"))
	if got[0].Name != "http://api.example.com/.well-known/pki-validation/fileauth.txt" || got[0].Type != "HTTP" || got[0].Value != "v1" {
		t.Errorf("HTTP: %+v", got[0])
	}
	if got := RecordsFor("email", "v1", names("a.example.com")); got != nil {
		t.Errorf("email: %v", got)
	}
	if got := RecordsFor("dns-txt-token", "", names("a.example.com")); got != nil {
		t.Errorf("no value: %v", got)
	}
}

func TestRequestNames(t *testing.T) {
	body := map[string]any{"dcv_method": "dns-txt-token", "certificate": map[string]any{
		"common_name": "shop.example.com", "dns_names": []any{"www.shop.example.com", "SHOP.example.com", ""}}}
	if got := RequestNames(body); !cmp.Equal(got, []string{"shop.example.com", "www.shop.example.com"}) {
		t.Errorf("names %v", got)
	}
	if RequestMethod(body) != "dns-txt-token" {
		t.Error("method")
	}
}

func TestWriteBIND(t *testing.T) {
	orders := []Pending{{
		Certificate: "shop", OrderID: 7, OrderStatus: "pending", Method: "dns-txt-token", Expires: "2026-04-01T00:00:00Z",
		Records: []Record{
			{Domain: "shop.example.com", Name: "_dnsauth.shop.example.com", Type: "TXT", Value: "v1"},
			{Domain: "evil", Name: "_dnsauth.evil\n.example.com", Type: "TXT", Value: "v1"},
			{Domain: "x", Name: "_dnsauth.x.example.com", Type: "TXT", Value: "a\"b"},
		},
	}, {
		Certificate: "api\x1b[31m", OrderID: 8, OrderStatus: "reissue_pending", Method: "dns-cname-token",
		Records: []Record{{Domain: "api.example.com", Name: "_dnsauth.api.example.com", Type: "CNAME", Value: "v2.dcv.digicert.com"}},
	}, {
		Certificate: "web", OrderID: 9, OrderStatus: "pending", Method: "http-token",
		Records: []Record{{Domain: "web.example.com", Name: "http://web.example.com/.well-known/pki-validation/fileauth.txt", Type: "HTTP", Value: "v3"}},
	}}
	var b bytes.Buffer
	if err := WriteBIND(&b, orders); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"; shop: order 7 (pending), dns-txt-token, value expires 2026-04-01T00:00:00Z\n",
		"_dnsauth.shop.example.com. 300 IN TXT \"v1\"\n",
		"; left out: _dnsauth.evil\\n.example.com TXT has characters a zone file must not carry\n",
		"; left out: _dnsauth.x.example.com TXT",
		"; api\\x1b[31m: order 8 (reissue_pending), dns-cname-token\n",
		"_dnsauth.api.example.com. 300 IN CNAME v2.dcv.digicert.com.\n",
		"; http-token, not a DNS record: serve http://web.example.com/.well-known/pki-validation/fileauth.txt with the content v3\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("BIND output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "\x1b") {
		t.Error("an escape character reached the output")
	}
	// What the BIND output says is what a DNS server loads.
	srv, err := dnstest.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	n, err := srv.LoadZone(strings.NewReader(out))
	if err != nil || n != 2 {
		t.Fatalf("LoadZone = %d, %v", n, err)
	}
}

func TestSafe(t *testing.T) {
	for in, want := range map[string]string{
		"plain":      "plain",
		"a\nb":       `a\nb`,
		"\x1b[2J":    `\x1b[2J`,
		"bad\xffutf": `bad\xffutf`,
		"bidi\u202e": `bidi\u202e`,
	} {
		if got := Safe(in); got != want {
			t.Errorf("Safe(%q) = %q, want %q", in, got, want)
		}
	}
}

func day(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestLapsesAt(t *testing.T) {
	reuse := lifecycle.DefaultDCVReuse()
	for _, c := range []struct{ done, want string }{
		{"2026-06-01", "2026-12-17"}, // 199 days
		{"2027-01-10", "2027-04-20"}, // the 100-day period from 2027-03-15 ends it first
		{"2027-01-01", "2027-04-11"}, // 73 days old on 2027-03-15: still fine; lapses 100 days on
		{"2026-12-01", "2027-03-15"}, // 104 days old when the period falls to 100
		{"2029-03-01", "2029-03-15"}, // 14 days old when the period falls to 10
		{"2029-06-01", "2029-06-11"}, // 10 days
	} {
		got := LapsesAt(reuse, day(c.done))
		if d := got.Format(time.DateOnly); d != c.want {
			t.Errorf("validated %s: lapses %s, want %s", c.done, got, c.want)
		}
		if reuse.Reusable(day(c.done), got) || !reuse.Reusable(day(c.done), got.Add(-time.Nanosecond)) {
			t.Errorf("validated %s: %s is not the first instant it is not reusable", c.done, got)
		}
	}
	if got := LapsesAt(lifecycle.Caps{}, day("2027-01-01")); !got.IsZero() {
		t.Errorf("no limit: %v", got)
	}
}

func TestResolverLookup(t *testing.T) {
	srv, err := dnstest.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	_ = srv.Add("_dnsauth.shop.example.com", "TXT", "v1", 0)
	_ = srv.Add("_dnsauth.old.example.com", "TXT", "stale", 0)
	_ = srv.Add("_dnsauth.api.example.com", "CNAME", "v1.dcv.digicert.com", 0)
	r := &Resolver{Server: srv.Addr(), Timeout: time.Second}
	ctx := context.Background()
	for _, c := range []struct {
		rec    Record
		want   Visibility
		detail string
	}{
		{Record{Name: "_dnsauth.shop.example.com", Type: "TXT", Value: "v1"}, Visible, ""},
		{Record{Name: "_dnsauth.www.example.com", Type: "TXT", Value: "v1"}, NotVisible, "NXDOMAIN"},
		{Record{Name: "_dnsauth.old.example.com", Type: "TXT", Value: "v1"}, NotVisible, "TXT holds other values: stale"},
		{Record{Name: "_dnsauth.api.example.com", Type: "CNAME", Value: "v1.dcv.digicert.com"}, Visible, ""},
		{Record{Name: "_dnsauth.api.example.com", Type: "CNAME", Value: "v2.dcv.digicert.com"}, NotVisible, "CNAME holds other values: CNAME v1.dcv.digicert.com."},
		{Record{Name: "http://x/", Type: "HTTP", Value: "v1"}, Unchecked, "CertCentral fetches the URL itself"},
	} {
		got := r.Lookup(ctx, c.rec)
		if got.Visibility != c.want || got.Detail != c.detail {
			t.Errorf("%s %s: %v %q, want %v %q", c.rec.Type, c.rec.Name, got.Visibility, got.Detail, c.want, c.detail)
		}
	}
}

// Tests may only ask loopback DNS servers: the guard refuses anything else
// before a packet is sent.
func TestRequireLoopback(t *testing.T) {
	r := &Resolver{Server: "192.0.2.53:53", Timeout: 100 * time.Millisecond}
	got := r.Lookup(context.Background(), Record{Name: "_dnsauth.example.com", Type: "TXT", Value: "v"})
	if got.Visibility != LookupFailed || !strings.Contains(got.Detail, "loopback") {
		t.Errorf("non-loopback resolver: %v %q", got.Visibility, got.Detail)
	}
}

// fakeClock is a clock that Sleep advances.
type fakeClock struct{ t time.Time }

func (c *fakeClock) Now() time.Time { return c.t }
func (c *fakeClock) Sleep(_ context.Context, d time.Duration) error {
	c.t = c.t.Add(d)
	return nil
}

type fakeCheck struct {
	clock   *fakeClock
	visible map[int64]time.Time // order id -> when CertCentral sees its records
	calls   map[int64][]time.Time
	fail    error
}

func (f *fakeCheck) CheckDCV(_ context.Context, id int64) (*certcentral.CheckDCVResponse, error) {
	if f.calls == nil {
		f.calls = map[int64][]time.Time{}
	}
	f.calls[id] = append(f.calls[id], f.clock.Now())
	if f.fail != nil {
		return nil, f.fail
	}
	at, ok := f.visible[id]
	if !ok || f.clock.Now().Before(at) {
		return nil, &certcentral.APIError{StatusCode: http.StatusBadRequest, Method: "PUT", Path: "/check-dcv",
			Errors: []certcentral.ErrorDetail{{Code: "invalid_dns_txt", Message: "not found"}}}
	}
	return &certcentral.CheckDCVResponse{OrderStatus: "issued", CertificateID: id * 10, DCVStatus: "valid",
		DNSNameValidations: []certcentral.DNSNameValidation{{DNSName: "shop.example.com", Status: "approved"}}}, nil
}

func pendingOrder(id int64, domains ...string) Pending {
	var ns []state.DCVName
	for _, d := range domains {
		ns = append(ns, state.DCVName{Name: d})
	}
	return Pending{Certificate: "c" + domains[0], OrderID: id, OrderStatus: "pending", Method: "dns-txt-token",
		Records: RecordsFor("dns-txt-token", "v1", ns)}
}

// The check asks CertCentral only about orders whose records are all
// visible, and asks again with a backoff while CertCentral's caches still
// say no, within the bound.
func TestCheckBacksOffOnInvalidDNSTXT(t *testing.T) {
	start := time.Date(2027, 5, 1, 12, 0, 0, 0, time.UTC)
	clock := &fakeClock{t: start}
	api := &fakeCheck{clock: clock, visible: map[int64]time.Time{1: start.Add(60 * time.Second)}}
	published := map[string]bool{"_dnsauth.shop.example.com": true}
	lookup := func(_ context.Context, r Record) Lookup {
		if published[r.Name] {
			return Lookup{Record: r, Visibility: Visible}
		}
		return Lookup{Record: r, Visibility: NotVisible, Detail: "NXDOMAIN"}
	}
	var events []EventKind
	out := Check(context.Background(), []Pending{pendingOrder(1, "shop.example.com"), pendingOrder(2, "api.example.com")}, CheckOptions{
		API: api, Lookup: lookup, Wait: 10 * time.Minute, Now: clock.Now, Sleep: clock.Sleep,
		Progress: func(e Event) { events = append(events, e.Kind) },
	})
	if !out[0].Validated || out[0].Asked != 3 {
		t.Errorf("order 1: validated %v after %d checks, want after 3 (0 s, 30 s, 90 s)", out[0].Validated, out[0].Asked)
	}
	want := []time.Time{start, start.Add(30 * time.Second), start.Add(90 * time.Second)}
	if !cmp.Equal(api.calls[1], want) {
		t.Errorf("checks at %v, want %v", api.calls[1], want)
	}
	if out[1].Validated || out[1].Asked != 0 || len(api.calls[2]) != 0 || !strings.Contains(out[1].Why, "1 of 1 records not visible") {
		t.Errorf("order 2 (record not published) was asked about or misreported: %+v", out[1])
	}
	if got := out[0].ApprovedNames(); !cmp.Equal(got, []string{"shop.example.com"}) {
		t.Errorf("approved %v", got)
	}
	if !cmp.Equal(events, []EventKind{EventLookedUp, EventNotYet, EventLookedUp, EventNotAsked, EventNotYet, EventValidated}) {
		t.Errorf("events %v", events)
	}
}

func TestCheckIsBounded(t *testing.T) {
	start := time.Date(2027, 5, 1, 12, 0, 0, 0, time.UTC)
	clock := &fakeClock{t: start}
	api := &fakeCheck{clock: clock} // never sees the records
	lookup := func(_ context.Context, r Record) Lookup { return Lookup{Record: r, Visibility: Visible} }
	out := Check(context.Background(), []Pending{pendingOrder(1, "shop.example.com")}, CheckOptions{
		API: api, Lookup: lookup, Wait: 10 * time.Minute, Now: clock.Now, Sleep: clock.Sleep})
	if out[0].Validated || clock.t.Sub(start) > 10*time.Minute {
		t.Errorf("validated %v, took %s", out[0].Validated, clock.t.Sub(start))
	}
	// 0, 30 s, 1:30, 3:30, 7:30; the next (12:30) is past the bound.
	if out[0].Asked != 5 {
		t.Errorf("asked %d times, want 5", out[0].Asked)
	}
	// Wait 0: ask once.
	clock.t = start
	api.calls = nil
	out = Check(context.Background(), []Pending{pendingOrder(1, "shop.example.com")}, CheckOptions{
		API: api, Lookup: lookup, Now: clock.Now, Sleep: clock.Sleep})
	if out[0].Asked != 1 || clock.t != start {
		t.Errorf("without a wait: asked %d, slept %s", out[0].Asked, clock.t.Sub(start))
	}
}

func TestCheckStopsOnOtherErrors(t *testing.T) {
	clock := &fakeClock{t: time.Date(2027, 5, 1, 12, 0, 0, 0, time.UTC)}
	api := &fakeCheck{clock: clock, fail: &certcentral.APIError{StatusCode: 403, Errors: []certcentral.ErrorDetail{{Code: "access_denied"}}}}
	lookup := func(_ context.Context, r Record) Lookup { return Lookup{Record: r, Visibility: Visible} }
	out := Check(context.Background(), []Pending{pendingOrder(1, "shop.example.com")}, CheckOptions{
		API: api, Lookup: lookup, Wait: time.Hour, Now: clock.Now, Sleep: clock.Sleep})
	if out[0].Err == nil || out[0].Asked != 1 {
		t.Errorf("outcome %+v", out[0])
	}
}

func TestCheckWaitsForRecords(t *testing.T) {
	start := time.Date(2027, 5, 1, 12, 0, 0, 0, time.UTC)
	clock := &fakeClock{t: start}
	api := &fakeCheck{clock: clock, visible: map[int64]time.Time{1: start}}
	lookup := func(_ context.Context, r Record) Lookup {
		if clock.Now().Sub(start) >= time.Minute { // the pipeline publishes after a minute
			return Lookup{Record: r, Visibility: Visible}
		}
		return Lookup{Record: r, Visibility: NotVisible}
	}
	out := Check(context.Background(), []Pending{pendingOrder(1, "shop.example.com")}, CheckOptions{
		API: api, Lookup: lookup, Wait: 10 * time.Minute, WaitForRecords: true, Now: clock.Now, Sleep: clock.Sleep})
	if !out[0].Validated || out[0].Asked != 1 {
		t.Errorf("outcome %+v", out[0])
	}
}

func TestRecorded(t *testing.T) {
	d := &state.DCV{Method: "dns-txt-token", RandomValue: "v1", Names: names("shop.example.com", "www.shop.example.com")}
	at := time.Date(2027, 5, 1, 12, 0, 0, 0, time.UTC)
	o := Outcome{CheckedAt: at, Reply: &certcentral.CheckDCVResponse{DNSNameValidations: []certcentral.DNSNameValidation{
		{DNSName: "shop.example.com", Status: "approved"}, {DNSName: "www.shop.example.com", Status: "pending"}}}}
	got := Recorded(d, o)
	if got.Names[0].Status != "approved" || got.Names[0].ValidatedAt == nil || !got.Names[0].ValidatedAt.Equal(at) {
		t.Errorf("first name %+v", got.Names[0])
	}
	if got.Names[1].Status != "pending" || got.Names[1].ValidatedAt != nil {
		t.Errorf("second name %+v", got.Names[1])
	}
	if d.Names[0].Status != "" {
		t.Error("Recorded modified its argument")
	}
}

type fakeValues struct {
	calls int
	value string
	exp   string
	err   error
}

func (f *fakeValues) GetDCVRandomValue(context.Context, int64) (*certcentral.DCVRandomValue, error) {
	f.calls++
	if f.err != nil {
		return nil, f.err
	}
	return &certcentral.DCVRandomValue{Value: f.value, ExpirationDate: f.exp}, nil
}

func TestRefresh(t *testing.T) {
	now := time.Date(2027, 5, 1, 12, 0, 0, 0, time.UTC)
	req := map[string]any{"dcv_method": "dns-txt-token", "certificate": map[string]any{"common_name": "shop.example.com", "dns_names": []any{"www.shop.example.com"}}}
	st := &state.State{Certificates: map[string]*state.Certificate{
		"shop":  {OrderID: 1, Status: state.StatusPending, Request: req},
		"api":   {OrderID: 2, Status: state.StatusIssued, Request: req, DCV: &state.DCV{Method: "dns-txt-token", RandomValue: "old", Names: names("shop.example.com")}},
		"mail":  {OrderID: 3, Status: state.StatusPending, Request: map[string]any{"dcv_method": "email"}},
		"quiet": {OrderID: 4, Status: state.StatusPending, Request: req},
	}}
	facts := map[int64]state.OrderFacts{
		1: {OrderID: 1, Status: state.StatusPending},
		2: {OrderID: 2, Status: state.StatusIssued, ValidFrom: "2027-04-30"},
		3: {OrderID: 3, Status: state.StatusPending},
	}
	api := &fakeValues{value: "v1", exp: "2027-05-31T12:00:00+00:00"}
	stats, err := Refresh(context.Background(), api, st, facts, now)
	if err != nil {
		t.Fatal(err)
	}
	if api.calls != 1 || stats.Calls != 1 || stats.Orders != 2 {
		t.Errorf("calls %d, stats %+v", api.calls, stats)
	}
	d := facts[1].DCV
	if d == nil || d.RandomValue != "v1" || d.ValueExpires == nil || len(d.Names) != 2 || d.Method != "dns-txt-token" {
		t.Fatalf("pending order: %+v", d)
	}
	if a := facts[2].DCV; a == nil || a.Names[0].Status != "approved" || a.Names[0].ValidatedAt.Format(time.DateOnly) != "2027-04-30" {
		t.Errorf("issued after waiting: %+v", a)
	}
	if facts[3].DCV != nil {
		t.Errorf("email order got DCV facts: %+v", facts[3].DCV)
	}
	if _, ok := facts[4]; ok {
		t.Error("an order that was not refreshed got facts")
	}

	// A reissue waits: names approved for the last certificate count only
	// while that validation can still be reused.
	old := now.Add(-150 * 24 * time.Hour)
	recent := now.Add(-5 * 24 * time.Hour)
	st.Certificates["api"].Status = state.StatusReissuePending
	st.Certificates["api"].DCV = &state.DCV{Method: "dns-txt-token", RandomValue: "v1", ValueExpires: d.ValueExpires,
		Names: []state.DCVName{{Name: "shop.example.com", Status: "approved", ValidatedAt: &old}, {Name: "www.shop.example.com", Status: "approved", ValidatedAt: &recent}}}
	facts = map[int64]state.OrderFacts{2: {OrderID: 2, Status: state.StatusReissuePending}}
	if _, err := Refresh(context.Background(), api, st, facts, now); err != nil {
		t.Fatal(err)
	}
	if ns := facts[2].DCV.Names; ns[0].Status != "" || ns[0].ValidatedAt == nil || ns[1].Status != "approved" {
		t.Errorf("reissue waiting: names %+v", ns)
	}

	// With a valid value in the state, no call.
	st.Certificates["shop"].DCV = d
	api.calls = 0
	facts = map[int64]state.OrderFacts{1: {OrderID: 1, Status: state.StatusPending}}
	if _, err := Refresh(context.Background(), api, st, facts, now.Add(24*time.Hour)); err != nil || api.calls != 0 {
		t.Errorf("valid value fetched again: %d calls, %v", api.calls, err)
	}
	// Expired: one call.
	if _, err := Refresh(context.Background(), api, st, facts, now.Add(31*24*time.Hour)); err != nil || api.calls != 1 {
		t.Errorf("expired value: %d calls, %v", api.calls, err)
	}
	// A value that is not a plain token is refused; a failed call leaves the
	// order without a value. Neither fails the refresh: a plan goes on.
	api.value = "evil\n; rm -rf"
	st.Certificates["shop"].DCV = nil
	facts = map[int64]state.OrderFacts{1: {OrderID: 1, Status: state.StatusPending}}
	stats, err = Refresh(context.Background(), api, st, facts, now)
	if err != nil || len(stats.Problems) != 1 || facts[1].DCV.RandomValue != "" || strings.Contains(stats.Problems[0], "\n") {
		t.Errorf("unsafe value: %v, %q, %+v", err, stats.Problems, facts[1].DCV)
	}
	api.err = errors.New("boom")
	facts = map[int64]state.OrderFacts{1: {OrderID: 1, Status: state.StatusPending}}
	stats, err = Refresh(context.Background(), api, st, facts, now)
	if err != nil || len(stats.Problems) != 1 || !strings.Contains(stats.Problems[0], "boom") {
		t.Errorf("failed call: %v, %q", err, stats.Problems)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Refresh(ctx, api, st, map[int64]state.OrderFacts{1: {OrderID: 1, Status: state.StatusPending}}, now); err == nil {
		t.Error("a cancelled refresh succeeded")
	}
}
