// Package dnstest is a small authoritative DNS server that holds its records
// in memory, for tests, the CertCentral simulator and `make demo`: the
// records a DNS team would publish for domain validation are published here
// instead, and both the simulator and `certplan dcv check` look them up.
//
// It listens on loopback only (UDP and TCP on the same port), answers every
// name it holds authoritatively, and answers NXDOMAIN for the rest. It is a
// test double, not a DNS server to expose: it refuses any other address.
package dnstest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
)

// DefaultTTL is the TTL of records added without one.
const DefaultTTL = 300

// Record is one resource record as the admin API and Records show it:
// Name is fully qualified (with the trailing dot), Type is TXT, CNAME or A,
// Value is the TXT string, the CNAME target (fully qualified) or the address.
type Record struct {
	Name  string `json:"name"`
	Type  string `json:"type"`
	Value string `json:"value"`
	TTL   uint32 `json:"ttl,omitempty"`
}

// Server is a running in-memory DNS server. It is safe for concurrent use.
type Server struct {
	addr    string
	udp     *dns.Server
	tcp     *dns.Server
	mu      sync.Mutex
	rrs     map[string][]dns.RR // by lower-case fully qualified owner name
	queries atomic.Int64
	close   sync.Once
}

// Start listens on addr (host:port; port 0 picks a free port, the same for
// UDP and TCP) and serves until Close. addr must be a loopback IP address.
func Start(addr string) (*Server, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("dns server address %q: want HOST:PORT, e.g. 127.0.0.1:0", addr)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("dns server address %q: the test DNS server listens on a loopback IP address only (127.0.0.1 or ::1)", addr)
	}
	s := &Server{rrs: map[string][]dns.RR{}}
	// Port 0: find a port free for both UDP and TCP.
	var (
		pc net.PacketConn
		ln net.Listener
	)
	for attempt := 0; ; attempt++ {
		pc, err = net.ListenPacket("udp", net.JoinHostPort(host, port))
		if err != nil {
			return nil, fmt.Errorf("dns server: listen udp %s: %w", addr, err)
		}
		udpAddr := pc.LocalAddr().String()
		ln, err = net.Listen("tcp", udpAddr)
		if err == nil {
			s.addr = udpAddr
			break
		}
		_ = pc.Close()
		if port != "0" || attempt >= 20 {
			return nil, fmt.Errorf("dns server: listen tcp %s: %w", udpAddr, err)
		}
	}
	handler := dns.HandlerFunc(s.serveDNS)
	s.udp = &dns.Server{PacketConn: pc, Handler: handler}
	s.tcp = &dns.Server{Listener: ln, Handler: handler, ReadTimeout: 5 * time.Second}
	for _, srv := range []*dns.Server{s.udp, s.tcp} {
		started := make(chan struct{})
		srv.NotifyStartedFunc = func() { close(started) }
		go func() { _ = srv.ActivateAndServe() }()
		select {
		case <-started:
		case <-time.After(5 * time.Second):
			s.Close()
			return nil, errors.New("dns server: did not start within 5s")
		}
	}
	return s, nil
}

// Addr is the host:port the server answers on (UDP and TCP).
func (s *Server) Addr() string { return s.addr }

// Queries is the number of questions answered so far.
func (s *Server) Queries() int64 { return s.queries.Load() }

// Close stops the server. It is idempotent.
func (s *Server) Close() {
	s.close.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if s.udp != nil {
			_ = s.udp.ShutdownContext(ctx)
		}
		if s.tcp != nil {
			_ = s.tcp.ShutdownContext(ctx)
		}
	})
}

// Add publishes one record. name is a domain name (a trailing dot is
// optional); typ is TXT, CNAME or A; ttl 0 means DefaultTTL. Adding a record
// that is already there changes nothing.
func (s *Server) Add(name, typ, value string, ttl uint32) error {
	rr, err := newRR(name, typ, value, ttl)
	if err != nil {
		return err
	}
	s.AddRR(rr)
	return nil
}

// AddRR publishes a resource record (TXT, CNAME and A are answered).
func (s *Server) AddRR(rr dns.RR) {
	if rr.Header().Ttl == 0 {
		rr.Header().Ttl = DefaultTTL
	}
	owner := strings.ToLower(dns.Fqdn(rr.Header().Name))
	rr.Header().Name = owner
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, have := range s.rrs[owner] {
		if dns.IsDuplicate(have, rr) {
			return
		}
	}
	s.rrs[owner] = append(s.rrs[owner], rr)
}

// Remove withdraws every record of the name (of the type, unless typ is "").
func (s *Server) Remove(name, typ string) {
	owner := strings.ToLower(dns.Fqdn(name))
	s.mu.Lock()
	defer s.mu.Unlock()
	if typ == "" {
		delete(s.rrs, owner)
		return
	}
	t := dns.StringToType[strings.ToUpper(typ)]
	var keep []dns.RR
	for _, rr := range s.rrs[owner] {
		if rr.Header().Rrtype != t {
			keep = append(keep, rr)
		}
	}
	if len(keep) == 0 {
		delete(s.rrs, owner)
	} else {
		s.rrs[owner] = keep
	}
}

// Clear withdraws every record.
func (s *Server) Clear() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rrs = map[string][]dns.RR{}
}

// maxZone bounds a zone fragment read by LoadZone.
const maxZone = 1 << 20

// LoadZone publishes every record of a zone file fragment in BIND syntax,
// such as `certplan dcv records --format bind` prints
// (`_dnsauth.shop.example.com. 300 IN TXT "value"`), and returns how many it
// read. Relative names are taken relative to the root. Nothing is published
// when any line fails to parse.
func (s *Server) LoadZone(r io.Reader) (int, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxZone+1))
	if err != nil {
		return 0, err
	}
	if len(data) > maxZone {
		return 0, fmt.Errorf("zone fragment larger than %d bytes", maxZone)
	}
	zp := dns.NewZoneParser(strings.NewReader(string(data)), ".", "")
	var rrs []dns.RR
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		switch rr.Header().Rrtype {
		case dns.TypeTXT, dns.TypeCNAME, dns.TypeA, dns.TypeAAAA:
			rrs = append(rrs, rr)
		default:
			return 0, fmt.Errorf("zone fragment: %s records are not served (TXT, CNAME, A and AAAA are)", dns.TypeToString[rr.Header().Rrtype])
		}
	}
	if err := zp.Err(); err != nil {
		return 0, fmt.Errorf("zone fragment: %w", err)
	}
	for _, rr := range rrs {
		s.AddRR(rr)
	}
	return len(rrs), nil
}

// Records lists every published record, sorted by name, type and value.
func (s *Server) Records() []Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []Record{}
	for _, rrs := range s.rrs {
		for _, rr := range rrs {
			out = append(out, recordOf(rr))
		}
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		if a.Type != b.Type {
			return a.Type < b.Type
		}
		return a.Value < b.Value
	})
	return out
}

func recordOf(rr dns.RR) Record {
	r := Record{Name: rr.Header().Name, Type: dns.TypeToString[rr.Header().Rrtype], TTL: rr.Header().Ttl}
	switch v := rr.(type) {
	case *dns.TXT:
		r.Value = strings.Join(v.Txt, "")
	case *dns.CNAME:
		r.Value = v.Target
	case *dns.A:
		r.Value = v.A.String()
	case *dns.AAAA:
		r.Value = v.AAAA.String()
	}
	return r
}

func newRR(name, typ, value string, ttl uint32) (dns.RR, error) {
	if _, ok := dns.IsDomainName(name); !ok || name == "" {
		return nil, fmt.Errorf("%q is not a domain name", name)
	}
	if ttl == 0 {
		ttl = DefaultTTL
	}
	hdr := dns.RR_Header{Name: dns.Fqdn(name), Class: dns.ClassINET, Ttl: ttl}
	switch strings.ToUpper(typ) {
	case "TXT":
		hdr.Rrtype = dns.TypeTXT
		return &dns.TXT{Hdr: hdr, Txt: splitTXT(value)}, nil
	case "CNAME":
		if _, ok := dns.IsDomainName(value); !ok || value == "" {
			return nil, fmt.Errorf("CNAME target %q is not a domain name", value)
		}
		hdr.Rrtype = dns.TypeCNAME
		return &dns.CNAME{Hdr: hdr, Target: dns.Fqdn(value)}, nil
	case "A":
		ip := net.ParseIP(value).To4()
		if ip == nil {
			return nil, fmt.Errorf("value %q of an A record is not an IPv4 address", value)
		}
		hdr.Rrtype = dns.TypeA
		return &dns.A{Hdr: hdr, A: ip}, nil
	}
	return nil, fmt.Errorf("record type %q: want TXT, CNAME or A", typ)
}

// splitTXT splits a TXT value into the 255-byte strings DNS carries.
func splitTXT(v string) []string {
	var out []string
	for len(v) > 255 {
		out = append(out, v[:255])
		v = v[255:]
	}
	return append(out, v)
}

// serveDNS answers from memory: the records of the asked type at the name,
// else a CNAME at the name (not followed), else NOERROR without answers when
// the name holds other records, else NXDOMAIN.
func (s *Server) serveDNS(w dns.ResponseWriter, req *dns.Msg) {
	s.queries.Add(1)
	m := new(dns.Msg)
	m.SetReply(req)
	m.Authoritative = true
	if len(req.Question) != 1 || req.Opcode != dns.OpcodeQuery {
		m.SetRcode(req, dns.RcodeNotImplemented)
		_ = w.WriteMsg(m)
		return
	}
	q := req.Question[0]
	owner := strings.ToLower(q.Name)
	s.mu.Lock()
	rrs := s.rrs[owner]
	var cname dns.RR
	for _, rr := range rrs {
		if rr.Header().Rrtype == q.Qtype || q.Qtype == dns.TypeANY {
			m.Answer = append(m.Answer, dns.Copy(rr))
		}
		if rr.Header().Rrtype == dns.TypeCNAME {
			cname = rr
		}
	}
	if len(m.Answer) == 0 && cname != nil {
		m.Answer = append(m.Answer, dns.Copy(cname))
	}
	s.mu.Unlock()
	for _, rr := range m.Answer {
		rr.Header().Name = q.Name // echo the question's case
	}
	if len(rrs) == 0 {
		m.Rcode = dns.RcodeNameError
	}
	_ = w.WriteMsg(m)
}

// Handler is the admin API of the server, for scripts (make demo) to publish
// what a DNS-as-code pipeline would:
//
//	GET    list the records: {"records":[{name,type,value,ttl}...]}
//	POST   publish records: a BIND zone fragment (any content type but
//	       JSON), or JSON {"records":[{"name","type","value","ttl"}]};
//	       answers {"published": N}
//	DELETE withdraw every record
//
// It does no access control of its own: serve it to loopback clients only.
func (s *Server) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON := func(status int, v any) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			_ = json.NewEncoder(w).Encode(v)
		}
		fail := func(status int, msg string) {
			writeJSON(status, map[string]any{"errors": []map[string]string{{"code": "bad_request", "message": msg}}})
		}
		switch r.Method {
		case http.MethodGet:
			writeJSON(http.StatusOK, map[string]any{"records": s.Records()})
		case http.MethodDelete:
			s.Clear()
			writeJSON(http.StatusOK, map[string]any{"records": []Record{}})
		case http.MethodPost:
			body := http.MaxBytesReader(w, r.Body, maxZone)
			if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
				var req struct {
					Records []Record `json:"records"`
				}
				if err := json.NewDecoder(body).Decode(&req); err != nil {
					fail(http.StatusBadRequest, `want {"records":[{"name","type","value"}]}`)
					return
				}
				rrs := make([]dns.RR, 0, len(req.Records))
				for _, rec := range req.Records {
					rr, err := newRR(rec.Name, rec.Type, rec.Value, rec.TTL)
					if err != nil {
						fail(http.StatusBadRequest, err.Error())
						return
					}
					rrs = append(rrs, rr)
				}
				for _, rr := range rrs {
					s.AddRR(rr)
				}
				writeJSON(http.StatusOK, map[string]int{"published": len(rrs)})
				return
			}
			n, err := s.LoadZone(body)
			if err != nil {
				fail(http.StatusBadRequest, err.Error())
				return
			}
			writeJSON(http.StatusOK, map[string]int{"published": n})
		default:
			w.Header().Set("Allow", "GET, POST, DELETE")
			fail(http.StatusMethodNotAllowed, "use GET, POST or DELETE")
		}
	})
}
