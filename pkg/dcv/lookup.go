package dcv

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
)

// RequireLoopback, when set, makes every query to a DNS server that is not
// on a loopback IP address fail before anything is sent. Tests set it, so
// that nothing in them reaches a DNS server outside the machine.
var RequireLoopback atomic.Bool

// Visibility is what a look-up found.
type Visibility int

// Look-up results.
const (
	// NotVisible: the record is not in DNS (yet), or holds another value.
	NotVisible Visibility = iota
	// Visible: the record is there with the expected value.
	Visible
	// Unchecked: not a DNS record (http-token): CertCentral fetches the URL.
	Unchecked
	// LookupFailed: the DNS server could not be asked (timeout, refused).
	LookupFailed
)

func (v Visibility) String() string {
	switch v {
	case Visible:
		return "visible"
	case Unchecked:
		return "not looked up"
	case LookupFailed:
		return "lookup failed"
	}
	return "not visible"
}

// Lookup is the result for one record.
type Lookup struct {
	Record     Record
	Visibility Visibility
	// Detail says what was found instead: "NXDOMAIN", "no TXT record",
	// "TXT holds other values", the error. Safe to print.
	Detail string
}

// DefaultLookupTimeout bounds one DNS exchange.
const DefaultLookupTimeout = 3 * time.Second

// Resolver asks one DNS server (recursive or authoritative) about records.
type Resolver struct {
	// Server is host:port.
	Server  string
	Timeout time.Duration // per exchange; 0 = DefaultLookupTimeout
}

// SystemResolver is the first name server of /etc/resolv.conf.
func SystemResolver() (*Resolver, error) {
	conf, err := dns.ClientConfigFromFile("/etc/resolv.conf")
	if err != nil {
		return nil, fmt.Errorf("system resolver: %w (pass --resolver HOST:PORT)", err)
	}
	if len(conf.Servers) == 0 {
		return nil, errors.New("system resolver: /etc/resolv.conf names no name server (pass --resolver HOST:PORT)")
	}
	return &Resolver{Server: net.JoinHostPort(conf.Servers[0], conf.Port)}, nil
}

// NewResolver checks a HOST:PORT (a bare host means port 53).
func NewResolver(addr string) (*Resolver, error) {
	if _, _, err := net.SplitHostPort(addr); err != nil {
		addr = net.JoinHostPort(addr, "53")
	}
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return nil, fmt.Errorf("resolver %q: want HOST:PORT", addr)
	}
	return &Resolver{Server: addr}, nil
}

// checkLoopback enforces RequireLoopback.
func checkLoopback(addr string) error {
	if !RequireLoopback.Load() {
		return nil
	}
	host, _, err := net.SplitHostPort(addr)
	if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("DNS server %s is not on a loopback IP address, and this process may only ask loopback servers (tests)", addr)
	}
	return nil
}

// exchange asks the server one question, over UDP, then TCP when the answer
// was truncated.
func (r *Resolver) exchange(ctx context.Context, name string, qtype uint16) (*dns.Msg, error) {
	if err := checkLoopback(r.Server); err != nil {
		return nil, err
	}
	timeout := r.Timeout
	if timeout <= 0 {
		timeout = DefaultLookupTimeout
	}
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), qtype)
	m.RecursionDesired = true
	var in *dns.Msg
	for _, network := range []string{"udp", "tcp"} {
		c := &dns.Client{Net: network, Timeout: timeout}
		qctx, cancel := context.WithTimeout(ctx, timeout)
		var err error
		in, _, err = c.ExchangeContext(qctx, m, r.Server)
		cancel()
		if err != nil {
			return nil, err
		}
		if !in.Truncated {
			break
		}
	}
	return in, nil
}

// Lookup looks one record up. TXT: visible when a TXT record at the name
// (its strings joined) is the value. CNAME: visible when the name is an alias
// of the target. HTTP records are not looked up (Unchecked).
func (r *Resolver) Lookup(ctx context.Context, rec Record) Lookup {
	out := Lookup{Record: rec}
	var qtype uint16
	switch rec.Type {
	case TypeTXT:
		qtype = dns.TypeTXT
	case TypeCNAME:
		qtype = dns.TypeCNAME
	default:
		out.Visibility, out.Detail = Unchecked, "CertCentral fetches the URL itself"
		return out
	}
	if !dnsName(rec.Name) {
		out.Visibility, out.Detail = LookupFailed, "not a DNS name"
		return out
	}
	in, err := r.exchange(ctx, rec.Name, qtype)
	if err != nil {
		out.Visibility, out.Detail = LookupFailed, Safe(err.Error())
		return out
	}
	switch in.Rcode {
	case dns.RcodeSuccess:
	case dns.RcodeNameError:
		out.Detail = "NXDOMAIN"
		return out
	default:
		out.Visibility, out.Detail = LookupFailed, "DNS answer "+dns.RcodeToString[in.Rcode]
		return out
	}
	var others []string
	for _, a := range in.Answer {
		if !strings.EqualFold(a.Header().Name, dns.Fqdn(rec.Name)) {
			continue
		}
		switch v := a.(type) {
		case *dns.TXT:
			if qtype != dns.TypeTXT {
				continue
			}
			got := strings.Join(v.Txt, "")
			if got == rec.Value {
				out.Visibility = Visible
				return out
			}
			others = append(others, got)
		case *dns.CNAME:
			if qtype == dns.TypeCNAME && strings.EqualFold(v.Target, dns.Fqdn(rec.Value)) {
				out.Visibility = Visible
				return out
			}
			others = append(others, "CNAME "+v.Target)
		}
	}
	if len(others) == 0 {
		out.Detail = "no " + rec.Type + " record"
		return out
	}
	out.Detail = rec.Type + " holds other values: " + Safe(strings.Join(others, ", "))
	if len(out.Detail) > 200 {
		out.Detail = out.Detail[:200] + "..."
	}
	return out
}
