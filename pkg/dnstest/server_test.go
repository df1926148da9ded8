package dnstest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

func start(t *testing.T) *Server {
	t.Helper()
	s, err := Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func ask(t *testing.T, addr, net, name string, qtype uint16) *dns.Msg {
	t.Helper()
	c := &dns.Client{Net: net, Timeout: 2 * time.Second}
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), qtype)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	r, _, err := c.ExchangeContext(ctx, m, addr)
	if err != nil {
		t.Fatalf("%s %s: %v", net, name, err)
	}
	return r
}

func TestServesWhatWasPublished(t *testing.T) {
	s := start(t)
	if err := s.Add("_dnsauth.shop.example.com", "TXT", "abc123", 0); err != nil {
		t.Fatal(err)
	}
	if err := s.Add("_dnsauth.api.example.com", "CNAME", "xyz.dcv.digicert.com", 60); err != nil {
		t.Fatal(err)
	}
	for _, network := range []string{"udp", "tcp"} {
		r := ask(t, s.Addr(), network, "_DNSAUTH.shop.example.com", dns.TypeTXT)
		if r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1 {
			t.Fatalf("%s: rcode %d, answers %v", network, r.Rcode, r.Answer)
		}
		if txt := r.Answer[0].(*dns.TXT); strings.Join(txt.Txt, "") != "abc123" || txt.Hdr.Ttl != DefaultTTL {
			t.Errorf("%s: TXT %v", network, txt)
		}
	}
	r := ask(t, s.Addr(), "udp", "_dnsauth.api.example.com", dns.TypeTXT)
	if len(r.Answer) != 1 || r.Answer[0].(*dns.CNAME).Target != "xyz.dcv.digicert.com." {
		t.Errorf("TXT at a CNAME: %v", r.Answer)
	}
	if r := ask(t, s.Addr(), "udp", "nothing.example.com", dns.TypeTXT); r.Rcode != dns.RcodeNameError {
		t.Errorf("unknown name: rcode %d, want NXDOMAIN", r.Rcode)
	}
	if r := ask(t, s.Addr(), "udp", "_dnsauth.shop.example.com", dns.TypeA); r.Rcode != dns.RcodeSuccess || len(r.Answer) != 0 {
		t.Errorf("other type: rcode %d, answers %v", r.Rcode, r.Answer)
	}
	s.Remove("_dnsauth.shop.example.com", "TXT")
	if r := ask(t, s.Addr(), "udp", "_dnsauth.shop.example.com", dns.TypeTXT); r.Rcode != dns.RcodeNameError {
		t.Errorf("after Remove: rcode %d", r.Rcode)
	}
	if s.Queries() < 5 {
		t.Errorf("Queries = %d", s.Queries())
	}
}

func TestRefusesNonLoopback(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", ":0", "192.0.2.1:53", "localhost:0", "nonsense"} {
		if s, err := Start(addr); err == nil {
			s.Close()
			t.Errorf("Start(%q) succeeded", addr)
		}
	}
}

func TestLoadZoneAndAdmin(t *testing.T) {
	s := start(t)
	zone := "; certplan dcv records\n" +
		"_dnsauth.shop.example.com. 300 IN TXT \"v1\"\n" +
		"_dnsauth.www.shop.example.com. 300 IN TXT \"v1\"\n"
	n, err := s.LoadZone(strings.NewReader(zone))
	if err != nil || n != 2 {
		t.Fatalf("LoadZone = %d, %v", n, err)
	}
	if _, err := s.LoadZone(strings.NewReader("x. 300 IN MX 10 mail.\n")); err == nil {
		t.Error("MX accepted")
	}
	if _, err := s.LoadZone(strings.NewReader("this is not a zone\n")); err == nil {
		t.Error("garbage accepted")
	}
	if got := len(s.Records()); got != 2 {
		t.Fatalf("%d records after failed loads, want 2", got)
	}

	h := httptest.NewServer(s.Handler())
	defer h.Close()
	post := func(ct, body string) int {
		resp, err := http.Post(h.URL, ct, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := post("text/plain", "_dnsauth.api.example.com. 60 IN CNAME v2.dcv.digicert.com.\n"); code != 200 {
		t.Errorf("POST zone: %d", code)
	}
	if code := post("application/json", `{"records":[{"name":"x.example.com","type":"TXT","value":"v3"}]}`); code != 200 {
		t.Errorf("POST JSON: %d", code)
	}
	if code := post("application/json", `{"records":[{"name":"x.example.com","type":"MX","value":"v3"}]}`); code != 400 {
		t.Errorf("POST MX: %d", code)
	}
	if got := len(s.Records()); got != 4 {
		t.Errorf("%d records, want 4: %v", got, s.Records())
	}
	r := ask(t, s.Addr(), "udp", "x.example.com", dns.TypeTXT)
	if len(r.Answer) != 1 {
		t.Errorf("x.example.com: %v", r.Answer)
	}
	req, _ := http.NewRequest(http.MethodDelete, h.URL, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := len(s.Records()); got != 0 {
		t.Errorf("%d records after DELETE", got)
	}
}
