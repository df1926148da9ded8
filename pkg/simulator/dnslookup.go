package simulator

import (
	"context"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// dnsChecker is how the simulator, as CertCentral, looks DCV records up: at
// the one DNS server it was told (Options.DNS). It is its own code, not
// certplan's: a test double that shared certplan's look-ups would share
// their mistakes.
type dnsChecker struct {
	server  string
	timeout time.Duration
}

// found reports whether DigiCert would find the order's random value for a
// domain: for dns-txt-token a TXT record with the value at _dnsauth.<domain>
// or at the domain itself; for dns-cname-token _dnsauth.<domain> as an
// alias of <value>.dcv.digicert.com.
func (c *dnsChecker) found(ctx context.Context, method, domain, value string) bool {
	switch method {
	case "dns-txt-token":
		for _, name := range []string{"_dnsauth." + domain, domain} {
			for _, rr := range c.ask(ctx, name, dns.TypeTXT) {
				if t, ok := rr.(*dns.TXT); ok && strings.Join(t.Txt, "") == value {
					return true
				}
			}
		}
	case "dns-cname-token":
		target := dns.Fqdn(value + ".dcv.digicert.com")
		for _, rr := range c.ask(ctx, "_dnsauth."+domain, dns.TypeCNAME) {
			if t, ok := rr.(*dns.CNAME); ok && strings.EqualFold(t.Target, target) {
				return true
			}
		}
	}
	return false
}

// ask returns the answers at name (nil when the server cannot be asked).
func (c *dnsChecker) ask(ctx context.Context, name string, qtype uint16) []dns.RR {
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), qtype)
	m.RecursionDesired = true
	for _, network := range []string{"udp", "tcp"} {
		qctx, cancel := context.WithTimeout(ctx, c.timeout)
		in, _, err := (&dns.Client{Net: network, Timeout: c.timeout}).ExchangeContext(qctx, m, c.server)
		cancel()
		if err != nil {
			return nil
		}
		if !in.Truncated {
			var out []dns.RR
			for _, rr := range in.Answer {
				if strings.EqualFold(rr.Header().Name, dns.Fqdn(name)) {
					out = append(out, rr)
				}
			}
			return out
		}
	}
	return nil
}

// baseDomain is the domain validated for a name: lower case, a wildcard's
// "*." and a trailing dot dropped.
func baseDomain(name string) string {
	return strings.TrimSuffix(strings.TrimPrefix(strings.ToLower(strings.TrimSpace(name)), "*."), ".")
}
