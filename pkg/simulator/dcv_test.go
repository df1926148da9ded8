package simulator

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certplan/certplan/pkg/certcentral"
	"github.com/certplan/certplan/pkg/dnstest"
)

// dnsSim is a simulator that checks DCV at an in-memory DNS server on
// loopback: the only DNS server these tests ask.
func dnsSim(t *testing.T, opts Options) (*sim, *dnstest.Server) {
	t.Helper()
	dns, err := dnstest.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(dns.Close)
	opts.DNS = dns.Addr()
	return newSim(t, opts), dns
}

func (s *sim) placeDCV(body map[string]any) certcentral.PlaceOrderResponse {
	s.t.Helper()
	r := s.do("POST", "/services/v2/order/certificate/ssl_securesite_flex", body)
	if r.status != http.StatusCreated {
		s.t.Fatalf("place: %d %s", r.status, r.body)
	}
	var out certcentral.PlaceOrderResponse
	r.decode(s.t, &out)
	return out
}

func (s *sim) orderInfo(id int64) certcentral.Order {
	s.t.Helper()
	r := s.do("GET", "/services/v2/order/certificate/"+itoa(id), nil)
	if r.status != http.StatusOK {
		s.t.Fatalf("order info: %d %s", r.status, r.body)
	}
	var out certcentral.Order
	r.decode(s.t, &out)
	return out
}

func (s *sim) checkDCV(id int64) (response, certcentral.CheckDCVResponse) {
	s.t.Helper()
	r := s.do("PUT", "/services/v2/order/certificate/"+itoa(id)+"/check-dcv", nil)
	var out certcentral.CheckDCVResponse
	if r.status == http.StatusOK {
		r.decode(s.t, &out)
	}
	return r, out
}

func publishTXT(t *testing.T, dns *dnstest.Server, value string, domains ...string) {
	t.Helper()
	for _, d := range domains {
		if err := dns.Add("_dnsauth."+d, "TXT", value, 0); err != nil {
			t.Fatal(err)
		}
	}
}

// A DNS-validated order waits, pending, until its random value is in DNS
// for every name, then issues; the value is in the create reply and in
// order info while it waits.
func TestDCVOrderWaitsForDNS(t *testing.T) {
	s, dns := dnsSim(t, Options{})
	placed := s.placeDCV(secureSiteBody(t)) // www.example.com, example.com, api.example.com
	if placed.DCVRandomValue == "" || placed.CertificateID != 0 || len(placed.CertificateChain) != 0 {
		t.Fatalf("create reply: %+v", placed)
	}
	info := s.orderInfo(placed.ID)
	if info.Status != "pending" || info.DCVRandomValue != placed.DCVRandomValue || info.DCVMethod != "dns-txt-token" {
		t.Fatalf("order info: status %s, value %q, method %q", info.Status, info.DCVRandomValue, info.DCVMethod)
	}

	r, _ := s.checkDCV(placed.ID)
	if r.status != http.StatusBadRequest || !strings.Contains(string(r.body), "invalid_dns_txt") || !strings.Contains(string(r.body), "3 of 3 names") {
		t.Fatalf("check with nothing published: %d %s", r.status, r.body)
	}
	// Two of three: still waiting; those two are validated, though.
	publishTXT(t, dns, placed.DCVRandomValue, "www.example.com", "example.com")
	r, _ = s.checkDCV(placed.ID)
	if r.status != http.StatusBadRequest || !strings.Contains(string(r.body), "1 of 3 names: api.example.com") {
		t.Fatalf("check with two published: %d %s", r.status, r.body)
	}
	if got := s.s.Validations(); len(got) != 2 {
		t.Errorf("validations %v", got)
	}
	// A wrong value is not found.
	_ = dns.Add("_dnsauth.api.example.com", "TXT", "something-else", 0)
	if r, _ := s.checkDCV(placed.ID); r.status != http.StatusBadRequest {
		t.Fatalf("wrong value accepted: %s", r.body)
	}
	// The TXT record may also be at the name itself.
	_ = dns.Add("api.example.com", "TXT", placed.DCVRandomValue, 0)
	r, reply := s.checkDCV(placed.ID)
	if r.status != http.StatusOK || !reply.Validated() || reply.OrderStatus != "issued" || reply.CertificateID == 0 {
		t.Fatalf("check with all published: %d %s", r.status, r.body)
	}
	info = s.orderInfo(placed.ID)
	if info.Status != "issued" || info.DCVRandomValue != "" || info.Certificate.ValidTill == "" {
		t.Errorf("after validation: %+v", info)
	}
	// Checking again is harmless.
	if r, reply := s.checkDCV(placed.ID); r.status != http.StatusOK || !reply.Validated() {
		t.Errorf("second check: %d %s", r.status, r.body)
	}
}

// Validations are reused within the period in force: a second order for
// the same names issues at once, until the period (10 days from
// 2029-03-15) runs out.
func TestDCVReuseByDate(t *testing.T) {
	s, dns := dnsSim(t, Options{ClockStart: time.Date(2029, 4, 1, 0, 0, 0, 0, time.UTC)})
	first := s.placeDCV(secureSiteBody(t))
	publishTXT(t, dns, first.DCVRandomValue, "www.example.com", "example.com", "api.example.com")
	if r, _ := s.checkDCV(first.ID); r.status != http.StatusOK {
		t.Fatalf("check: %s", r.body)
	}
	s.s.AdvanceClock(9 * 24 * time.Hour)
	second := s.placeDCV(secureSiteBody(t))
	if second.DCVRandomValue != "" || second.CertificateID == 0 {
		t.Errorf("within 10 days: %+v", second)
	}
	s.s.AdvanceClock(2 * 24 * time.Hour)
	third := s.placeDCV(secureSiteBody(t))
	if third.DCVRandomValue == "" || s.orderInfo(third.ID).Status != "pending" {
		t.Errorf("after 11 days: not waiting for DCV: %+v", third)
	}
}

// A reissue of a DNS-validated order needs a fresh validation once the old
// one can no longer be reused; it waits in reissue_pending meanwhile and the
// order keeps its certificate.
func TestDCVReissueWaitsForDNS(t *testing.T) {
	s, dns := dnsSim(t, Options{ClockStart: time.Date(2027, 4, 1, 0, 0, 0, 0, time.UTC)})
	placed := s.placeDCV(secureSiteBody(t))
	publishTXT(t, dns, placed.DCVRandomValue, "www.example.com", "example.com", "api.example.com")
	if r, _ := s.checkDCV(placed.ID); r.status != http.StatusOK {
		t.Fatalf("check: %s", r.body)
	}
	dns.Clear() // published records are removed after validation, as they may be
	first := s.orderInfo(placed.ID).Certificate.ID

	// 60 days on: the 100-day reuse still holds, the reissue issues at once.
	s.s.AdvanceClock(60 * 24 * time.Hour)
	rr := s.reissue(placed.ID, reissueBody(t, "www.example.com", "example.com", "api.example.com"))
	if rr.CertificateID == 0 {
		t.Fatalf("reissue within the reuse period did not issue: %+v", rr)
	}
	// 60 more days: 120 days since validation, the reissue waits.
	s.s.AdvanceClock(60 * 24 * time.Hour)
	r := s.do("POST", reissuePath(placed.ID), reissueBody(t, "www.example.com", "example.com", "api.example.com"))
	var resp certcentral.ReissueResponse
	r.decode(t, &resp)
	if r.status != http.StatusCreated || resp.DCVRandomValue == "" || resp.CertificateID != 0 {
		t.Fatalf("reissue after the reuse period: %d %s", r.status, r.body)
	}
	if resp.DCVRandomValue == placed.DCVRandomValue {
		t.Error("the 120-day-old random value was not replaced")
	}
	info := s.orderInfo(placed.ID)
	if info.Status != "reissue_pending" || info.DCVRandomValue != resp.DCVRandomValue || info.Certificate.ID == first {
		t.Fatalf("waiting reissue: %+v", info)
	}
	publishTXT(t, dns, resp.DCVRandomValue, "www.example.com", "example.com", "api.example.com")
	r, reply := s.checkDCV(placed.ID)
	if r.status != http.StatusOK || reply.OrderStatus != "issued" {
		t.Fatalf("check: %d %s", r.status, r.body)
	}
	if list := s.reissues(placed.ID); len(list) != 3 || list[2].Status != "issued" {
		t.Errorf("reissue list %v", statuses(list))
	}
}

// The random value lives 30 days; dcv-random-value returns the same value
// while it is valid and a new one after; an expired value is never found.
func TestDCVRandomValueExpires(t *testing.T) {
	s, dns := dnsSim(t, Options{})
	placed := s.placeDCV(secureSiteBody(t))
	get := func() certcentral.DCVRandomValue {
		r := s.do("PUT", "/services/v2/order/certificate/"+itoa(placed.ID)+"/dcv-random-value", nil)
		if r.status != http.StatusOK {
			t.Fatalf("dcv-random-value: %d %s", r.status, r.body)
		}
		var v certcentral.DCVRandomValue
		r.decode(t, &v)
		return v
	}
	v := get()
	exp, ok := v.Expires()
	if v.Value != placed.DCVRandomValue || !ok || !exp.Equal(testNow.Add(30*24*time.Hour)) {
		t.Fatalf("value %+v (expires %v), want the create reply's, expiring in 30 days", v, exp)
	}
	publishTXT(t, dns, v.Value, "www.example.com", "example.com", "api.example.com")
	s.s.AdvanceClock(31 * 24 * time.Hour)
	if info := s.orderInfo(placed.ID); info.DCVRandomValue != "" {
		t.Errorf("order info shows an expired value")
	}
	r, _ := s.checkDCV(placed.ID)
	if r.status != http.StatusBadRequest || !strings.Contains(string(r.body), "expired") {
		t.Fatalf("expired value accepted: %d %s", r.status, r.body)
	}
	fresh := get()
	if fresh.Value == v.Value || fresh.Value == "" {
		t.Fatalf("no new value after expiry: %+v", fresh)
	}
	publishTXT(t, dns, fresh.Value, "www.example.com", "example.com", "api.example.com")
	if r, reply := s.checkDCV(placed.ID); r.status != http.StatusOK || !reply.Validated() {
		t.Fatalf("check with the new value: %d %s", r.status, r.body)
	}
}

// The admin API approves an order waiting for DCV: its names count as
// validated. Orders without a DNS method, and every order on a simulator
// without DNS, keep the approval modes.
func TestDCVAdminApproveAndOtherOrders(t *testing.T) {
	s, _ := dnsSim(t, Options{})
	placed := s.placeDCV(secureSiteBody(t))
	if err := s.s.Approve(placed.ID); err != nil {
		t.Fatal(err)
	}
	if info := s.orderInfo(placed.ID); info.Status != "issued" {
		t.Errorf("approved: %s", info.Status)
	}
	if len(s.s.Validations()) != 3 {
		t.Errorf("validations %v", s.s.Validations())
	}
	email := s.placeDCV(edit(secureSiteBody(t), "dcv_method", "email"))
	if email.CertificateID == 0 || email.DCVRandomValue != "" {
		t.Errorf("email order: %+v", email)
	}
	none := secureSiteBody(t)
	delete(none, "dcv_method")
	if got := s.placeDCV(none); got.CertificateID == 0 {
		t.Errorf("order without dcv_method: %+v", got)
	}
	plain := newSim(t, Options{})
	if got := plain.place("ssl_securesite_flex", secureSiteBody(t)); got.CertificateID == 0 {
		t.Errorf("simulator without DNS: %+v", got)
	}
}

// After validation the approval mode decides: manual waits for the admin
// API, as any other order.
func TestDCVThenManualApproval(t *testing.T) {
	s, dns := dnsSim(t, Options{Approval: ApprovalManual})
	placed := s.placeDCV(secureSiteBody(t))
	publishTXT(t, dns, placed.DCVRandomValue, "www.example.com", "example.com", "api.example.com")
	r, reply := s.checkDCV(placed.ID)
	if r.status != http.StatusOK || reply.OrderStatus != "needs_approval" {
		t.Fatalf("check: %d %s", r.status, r.body)
	}
	if err := s.s.Approve(placed.ID); err != nil {
		t.Fatal(err)
	}
	if info := s.orderInfo(placed.ID); info.Status != "issued" {
		t.Errorf("status %s", info.Status)
	}
}

// What waits, the value and the validations survive a restart.
func TestDCVPersisted(t *testing.T) {
	dns, err := dnstest.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer dns.Close()
	file := filepath.Join(t.TempDir(), "sim.json")
	clock := newFakeClock()
	opts := Options{DNS: dns.Addr(), StateFile: file, Now: clock.Now, Limits: []Limit{}}
	s1, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	a := startSimWith(t, s1)
	placed := a.placeDCV(secureSiteBody(t))
	if err := s1.Close(); err != nil {
		t.Fatal(err)
	}
	s2, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	b := startSimWith(t, s2)
	defer s2.Close()
	info := b.orderInfo(placed.ID)
	if info.Status != "pending" || info.DCVRandomValue != placed.DCVRandomValue {
		t.Fatalf("after restart: %+v", info)
	}
	publishTXT(t, dns, placed.DCVRandomValue, "www.example.com", "example.com", "api.example.com")
	if r, _ := b.checkDCV(placed.ID); r.status != http.StatusOK {
		t.Fatalf("check after restart: %s", r.body)
	}
}

// startSimWith serves an existing Server (the caller closes it).
func startSimWith(t *testing.T, s *Server) *sim {
	t.Helper()
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return &sim{t: t, s: s, ts: ts, clock: newFakeClock()}
}

// `certplan simulator --dns-serve`: the simulator runs its own DNS server,
// checks DCV there, and the admin API publishes BIND fragments to it.
func TestServeWithDNS(t *testing.T) {
	dir := t.TempDir()
	portFile, dnsFile := filepath.Join(dir, "addr"), filepath.Join(dir, "dns")
	var banner syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Serve(ctx, ServeConfig{Addr: "127.0.0.1:0", PortFile: portFile, Out: &banner,
			Options: Options{APIKey: "k1"}, DNSServe: "127.0.0.1:0", DNSPortFile: dnsFile})
	}()
	read := func(f string) string {
		deadline := time.Now().Add(10 * time.Second)
		for {
			if b, err := os.ReadFile(f); err == nil && len(b) > 0 {
				return strings.TrimSpace(string(b))
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s never appeared", f)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	addr, dnsAddr := read(portFile), read(dnsFile)
	call := func(method, path, ct, body string) (int, string) {
		req, _ := http.NewRequest(method, "http://"+addr+path, strings.NewReader(body))
		req.Header.Set("X-DC-DEVKEY", "k1")
		req.Header.Set("Content-Type", ct)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	code, body := call("POST", "/services/v2/order/certificate/ssl_securesite_flex", "application/json", string(mustJSON(secureSiteBody(t))))
	if code != http.StatusCreated {
		t.Fatalf("place: %d %s", code, body)
	}
	var placed certcentral.PlaceOrderResponse
	_ = json.Unmarshal([]byte(body), &placed)
	if placed.DCVRandomValue == "" {
		t.Fatalf("no DCV wait with --dns-serve: %s", body)
	}
	zone := ""
	for _, d := range []string{"www.example.com", "example.com", "api.example.com"} {
		zone += "_dnsauth." + d + ". 300 IN TXT \"" + placed.DCVRandomValue + "\"\n"
	}
	if code, body := call("POST", "/_sim/dns", "text/plain", zone); code != http.StatusOK || !strings.Contains(body, `"published":3`) {
		t.Fatalf("publish: %d %s", code, body)
	}
	if code, body := call("PUT", "/services/v2/order/certificate/"+itoa(placed.ID)+"/check-dcv", "application/json", ""); code != http.StatusOK {
		t.Fatalf("check: %d %s", code, body)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"DNS server for domain validation: " + dnsAddr, "POST http://" + addr + "/_sim/dns"} {
		if !strings.Contains(banner.String(), want) {
			t.Errorf("banner lacks %q:\n%s", want, banner.String())
		}
	}
	if err := Serve(context.Background(), ServeConfig{Addr: "127.0.0.1:0", DNSServe: "0.0.0.0:0"}); err == nil {
		t.Error("--dns-serve on a non-loopback address accepted")
	}
}

// Rejecting what waits for validation ends the wait; a simulator started
// without DNS on a state that waits finds nothing, and does not crash.
func TestDCVRejectAndNoDNS(t *testing.T) {
	s, _ := dnsSim(t, Options{})
	placed := s.placeDCV(secureSiteBody(t))
	if err := s.s.Reject(placed.ID); err != nil {
		t.Fatal(err)
	}
	if info := s.orderInfo(placed.ID); info.Status != "rejected" || info.DCVRandomValue != "" {
		t.Errorf("after reject: %s %q", info.Status, info.DCVRandomValue)
	}
	waiting := s.placeDCV(secureSiteBody(t))
	s.s.mu.Lock()
	s.s.resolver = nil // as if restarted without --dns
	s.s.mu.Unlock()
	if r, _ := s.checkDCV(waiting.ID); r.status != http.StatusBadRequest || !strings.Contains(string(r.body), "invalid_dns_txt") {
		t.Errorf("check without DNS: %d %s", r.status, r.body)
	}
}

// dns-cname-token: _dnsauth.<name> is an alias of <value>.dcv.digicert.com.
func TestDCVCNAME(t *testing.T) {
	s, dns := dnsSim(t, Options{})
	placed := s.placeDCV(edit(secureSiteBody(t), "dcv_method", "dns-cname-token"))
	if placed.DCVRandomValue == "" {
		t.Fatal("no wait")
	}
	for _, d := range []string{"www.example.com", "example.com"} {
		_ = dns.Add("_dnsauth."+d, "CNAME", placed.DCVRandomValue+".dcv.digicert.com", 0)
	}
	// A TXT record does not do for the CNAME method.
	_ = dns.Add("_dnsauth.api.example.com", "TXT", placed.DCVRandomValue, 0)
	if r, _ := s.checkDCV(placed.ID); r.status != http.StatusBadRequest || !strings.Contains(string(r.body), "CNAME") {
		t.Fatalf("TXT accepted for dns-cname-token: %d %s", r.status, r.body)
	}
	dns.Remove("_dnsauth.api.example.com", "")
	_ = dns.Add("_dnsauth.api.example.com", "CNAME", placed.DCVRandomValue+".dcv.digicert.com", 0)
	if r, reply := s.checkDCV(placed.ID); r.status != http.StatusOK || !reply.Validated() {
		t.Fatalf("check: %d %s", r.status, r.body)
	}
}
