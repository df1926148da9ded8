package simulator

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"net/http"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/certplan/certplan/pkg/lifecycle"
)

// planInfo is order info with the plan fields, decoded independently of the
// package's own types.
type planInfo struct {
	ID               int64  `json:"id"`
	Status           string `json:"status"`
	OrderValidFrom   string `json:"order_valid_from"`
	OrderValidTill   string `json:"order_valid_till"`
	IsMultiYearPlan  int    `json:"is_multi_year_plan"`
	AutoReissue      int    `json:"auto_reissue"`
	AutoRenew        int    `json:"auto_renew"`
	LastReissuedDate string `json:"last_reissued_date"`
	Certificate      struct {
		ID            int64    `json:"id"`
		Thumbprint    string   `json:"thumbprint"`
		SerialNumber  string   `json:"serial_number"`
		CommonName    string   `json:"common_name"`
		DNSNames      []string `json:"dns_names"`
		ValidFrom     string   `json:"valid_from"`
		ValidTill     string   `json:"valid_till"`
		DaysRemaining int      `json:"days_remaining"`
		DateIssued    string   `json:"date_issued"`
		CSR           string   `json:"csr"`
		SignatureHash string   `json:"signature_hash"`
	} `json:"certificate"`
	Requests []struct {
		ID     int64  `json:"id"`
		Date   string `json:"date"`
		Type   string `json:"type"`
		Status string `json:"status"`
	} `json:"requests"`
}

func (s *sim) planInfo(id int64) planInfo {
	s.t.Helper()
	r := s.do("GET", "/services/v2/order/certificate/"+itoa(id), nil)
	if r.status != http.StatusOK {
		s.t.Fatalf("order info %d: %d %s", id, r.status, r.body)
	}
	var out planInfo
	r.decode(s.t, &out)
	return out
}

// leafNotAfter downloads a certificate by id and returns its notAfter.
func (s *sim) leafNotAfter(certID int64) time.Time {
	s.t.Helper()
	r := s.do("GET", "/services/v2/certificate/"+itoa(certID)+"/download/format/pem_noroot", nil)
	if r.status != http.StatusOK {
		s.t.Fatalf("download %d: %d %s", certID, r.status, r.body)
	}
	return parsePEMChain(s.t, string(r.body))[0].NotAfter
}

// newKeyCSR makes a CSR for a fresh ECDSA key.
func newKeyCSR(t *testing.T) string {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return makeCSR(k, "any.example.com", nil)
}

func mustTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestSecureSiteDateCaps(t *testing.T) {
	day := 24 * time.Hour
	tests := []struct {
		name     string
		issued   string
		product  string
		body     func(map[string]any) map[string]any
		caps     lifecycle.Caps
		notAfter func(issued time.Time) time.Time
	}{
		{
			name: "1-year plan before 2026-02-24: the certificate reaches the order end", issued: "2026-02-23T23:00:00Z",
			notAfter: func(at time.Time) time.Time { return at.AddDate(1, 0, 0) },
		},
		{
			name: "3-year plan before 2026-02-24: 397 days", issued: "2026-02-23T23:00:00Z",
			body:     func(b map[string]any) map[string]any { return edit(b, "order_validity.years", 3) },
			notAfter: func(at time.Time) time.Time { return at.Add(397 * day) },
		},
		{
			name: "1-year plan from 2026-02-24: 199 days", issued: "2026-02-24T00:00:00Z",
			notAfter: func(at time.Time) time.Time { return at.Add(199 * day) },
		},
		{
			name: "cert_validity over the cap is clamped, not rejected", issued: "2026-03-01T12:00:00Z",
			body: func(b map[string]any) map[string]any {
				return edit(b, "certificate.cert_validity", map[string]any{"days": 300})
			},
			notAfter: func(at time.Time) time.Time { return at.Add(199 * day) },
		},
		{
			name: "cert_validity under the cap is kept", issued: "2026-03-01T12:00:00Z",
			body: func(b map[string]any) map[string]any {
				return edit(b, "certificate.cert_validity", map[string]any{"days": 90})
			},
			notAfter: func(at time.Time) time.Time { return at.AddDate(0, 0, 90) },
		},
		{
			name: "an order shorter than the cap ends the certificate", issued: "2026-03-01T12:00:00Z",
			body:     func(b map[string]any) map[string]any { return edit(b, "order_validity", map[string]any{"days": 30}) },
			notAfter: func(at time.Time) time.Time { return at.AddDate(0, 0, 30) },
		},
		{
			name: "99 days from 2027-03-15", issued: "2027-03-15T00:00:00Z",
			notAfter: func(at time.Time) time.Time { return at.Add(99 * day) },
		},
		{
			name: "still 199 days the second before", issued: "2027-03-14T23:59:59Z",
			notAfter: func(at time.Time) time.Time { return at.Add(199 * day) },
		},
		{
			name: "46 days from 2029-03-15", issued: "2029-03-15T00:00:00Z",
			body:     func(b map[string]any) map[string]any { return edit(b, "order_validity.years", 2) },
			notAfter: func(at time.Time) time.Time { return at.Add(46 * day) },
		},
		{
			name: "a table passed in Options: the date moved", issued: "2027-02-20T00:00:00Z",
			caps:     lifecycle.Caps{{Days: 397}, {From: mustTime("2027-02-15T00:00:00Z"), Days: 99}},
			notAfter: func(at time.Time) time.Time { return at.Add(99 * day) },
		},
		{
			name: "private SSL is not capped", issued: "2029-03-15T00:00:00Z", product: "private_ssl_flex",
			body:     func(map[string]any) map[string]any { return privateSSLBody(t) },
			notAfter: func(at time.Time) time.Time { return at.AddDate(2, 0, 0) },
		},
		{
			name: "document signing is not capped", issued: "2029-03-15T00:00:00Z", product: "document_signing_org_1",
			body:     func(map[string]any) map[string]any { return documentSigningBody(t) },
			notAfter: func(at time.Time) time.Time { return at.AddDate(1, 0, 0) },
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newSim(t, Options{Caps: tc.caps})
			at := mustTime(tc.issued)
			s.s.SetClock(at)
			product, body := tc.product, secureSiteBody(t)
			if product == "" {
				product = "ssl_securesite_flex"
			}
			if tc.body != nil {
				body = tc.body(body)
			}
			resp := s.place(product, body)
			want := tc.notAfter(at)
			if got := s.leafNotAfter(resp.CertificateID); !got.Equal(want) {
				t.Errorf("notAfter %s, want %s", got, want)
			}
			info := s.planInfo(resp.ID)
			if info.Certificate.ValidTill != want.Format(time.DateOnly) || info.Certificate.ValidFrom != at.Format(time.DateOnly) {
				t.Errorf("valid %s .. %s, want .. %s", info.Certificate.ValidFrom, info.Certificate.ValidTill, want.Format(time.DateOnly))
			}
			if info.Certificate.DaysRemaining != int(want.Sub(at)/day) {
				t.Errorf("days_remaining %d, want %d", info.Certificate.DaysRemaining, int(want.Sub(at)/day))
			}
			if got := lifecycle.BRDays(at, want); product == "ssl_securesite_flex" && got > 398 {
				t.Errorf("%d BR days: over any maximum", got)
			}
		})
	}
}

func TestOrderPlanFields(t *testing.T) {
	s := newSim(t, Options{})
	tests := []struct {
		name      string
		body      map[string]any
		product   string
		multiYear int
		auto      [2]int
		till      string
	}{
		{"1-year plan", secureSiteBody(t), "ssl_securesite_flex", 0, [2]int{0, 0}, "2027-03-01"},
		{"3-year plan with auto-reissue", edit(edit(secureSiteBody(t), "order_validity.years", 3), "auto_reissue", 1), "ssl_securesite_flex", 1, [2]int{1, 0}, "2029-03-01"},
		{"400 days, auto_renew accepted", edit(edit(secureSiteBody(t), "order_validity", map[string]any{"days": 400}), "auto_renew", 1), "ssl_securesite_flex", 1, [2]int{0, 1}, "2027-04-05"},
		{"custom expiration date", edit(secureSiteBody(t), "order_validity", map[string]any{"custom_expiration_date": "15 JUN 2026"}), "ssl_securesite_flex", 0, [2]int{0, 0}, "2026-06-15"},
		{"private SSL: no plan flag", privateSSLBody(t), "private_ssl_flex", 0, [2]int{0, 0}, "2028-03-01"},
	}
	for _, tc := range tests {
		resp := s.place(tc.product, tc.body)
		info := s.planInfo(resp.ID)
		if info.OrderValidFrom != "2026-03-01" || info.OrderValidTill != tc.till || info.IsMultiYearPlan != tc.multiYear ||
			info.AutoReissue != tc.auto[0] || info.AutoRenew != tc.auto[1] {
			t.Errorf("%s: from %s till %s multi-year %d auto_reissue %d auto_renew %d", tc.name, info.OrderValidFrom, info.OrderValidTill,
				info.IsMultiYearPlan, info.AutoReissue, info.AutoRenew)
		}
		if len(info.Requests) != 1 || info.Requests[0].Type != "new_request" || info.Requests[0].Date != "2026-03-01T12:00:00+00:00" ||
			info.Requests[0].Status != "approved" {
			t.Errorf("%s: requests %+v", tc.name, info.Requests)
		}
		if info.Certificate.DateIssued != "2026-03-01T12:00:00+00:00" || info.Certificate.CSR == "" || info.LastReissuedDate != "" {
			t.Errorf("%s: date_issued %q, csr present %v, last_reissued_date %q", tc.name, info.Certificate.DateIssued, info.Certificate.CSR != "", info.LastReissuedDate)
		}
	}
	// auto_renew buys nothing in the simulator.
	s.s.SetClock(mustTime("2030-01-01T00:00:00Z"))
	if n := len(s.s.Orders()); n != len(tests) {
		t.Errorf("%d orders after the plans ended, want %d", n, len(tests))
	}
	// Lists carry the plan fields but not the CSR.
	r := s.do("GET", listPath, nil)
	var list struct {
		Orders []planInfo `json:"orders"`
	}
	r.decode(t, &list)
	if len(list.Orders) != len(tests) || list.Orders[1].IsMultiYearPlan != 1 || list.Orders[1].AutoReissue != 1 || list.Orders[0].Certificate.CSR != "" {
		t.Errorf("list: %s", r.body)
	}
}

func TestClock(t *testing.T) {
	s := newSim(t, Options{})
	r := s.do("POST", "/_sim/clock", map[string]any{"now": "2027-03-15T00:00:00Z"})
	var c clockResponse
	r.decode(t, &c)
	if r.status != http.StatusOK || !c.Now.Equal(mustTime("2027-03-15T00:00:00Z")) || !s.s.Now().Equal(c.Now) {
		t.Fatalf("set clock: %d %s", r.status, r.body)
	}
	// The simulator clock runs on with the injected one.
	s.clock.Add(time.Hour)
	if !s.s.Now().Equal(mustTime("2027-03-15T01:00:00Z")) {
		t.Errorf("clock after an hour: %s", s.s.Now())
	}
	for _, bad := range []map[string]any{
		{"now": "tomorrow"},
		{"now": "2027-03-15T00:00:00Z", "advance": "1h"},
		{"now": "2027-03-15"},
	} {
		if r := s.do("POST", "/_sim/clock", bad); r.status != http.StatusBadRequest {
			t.Errorf("POST /_sim/clock %v: %d", bad, r.status)
		}
	}
	// Orders placed now get the cap of now.
	resp := s.place("ssl_securesite_flex", secureSiteBody(t))
	if info := s.planInfo(resp.ID); info.Certificate.ValidTill != "2027-06-22" {
		t.Errorf("valid_till %s, want 99 days after 2027-03-15T01:00", info.Certificate.ValidTill)
	}

	// ClockStart sets the time at start, over a persisted offset.
	path := filepath.Join(t.TempDir(), "sim.json")
	clock := newFakeClock()
	s1, err := New(Options{StateFile: path, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	s1.AdvanceClock(48 * time.Hour)
	if err := s1.Close(); err != nil {
		t.Fatal(err)
	}
	s2, err := New(Options{StateFile: path, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	if !s2.Now().Equal(testNow.Add(48 * time.Hour)) {
		t.Errorf("persisted clock %s", s2.Now())
	}
	_ = s2.Close()
	start := mustTime("2028-01-01T00:00:00Z")
	s3, err := New(Options{StateFile: path, Now: clock.Now, ClockStart: start})
	if err != nil {
		t.Fatal(err)
	}
	defer s3.Close()
	if !s3.Now().Equal(start) {
		t.Errorf("ClockStart: %s", s3.Now())
	}
	if _, err := New(Options{Caps: lifecycle.Caps{{Days: 0}}}); err == nil {
		t.Error("New accepted a cap of 0 days")
	}
}

func TestRequestsListedInOrder(t *testing.T) {
	s := newSim(t, Options{})
	resp := s.place("ssl_securesite_flex", secureSiteBody(t))
	s.clock.Add(24 * time.Hour)
	s.reissue(resp.ID, reissueBody(t, "www.example.com", "example.com", "api.example.com"))
	info := s.planInfo(resp.ID)
	var types []string
	for _, r := range info.Requests {
		types = append(types, r.Type+"/"+r.Status+"/"+r.Date)
	}
	want := []string{"new_request/approved/2026-03-01T12:00:00+00:00", "reissue/approved/2026-03-02T12:00:00+00:00"}
	if !slices.Equal(types, want) {
		t.Errorf("requests %q, want %q", types, want)
	}
}
