package simulator

import (
	"fmt"
	"io"
	"net/http"

	"github.com/certplan/certplan/pkg/dnstest"
)

// dnsAdminPath is where the admin API publishes records to the DNS server
// the simulator serves itself (ServeConfig.DNSServe).
const dnsAdminPath = "/_sim/dns"

// serveDNS starts the in-memory DNS server of ServeConfig.DNSServe, points
// Options.DNS at it unless set, and writes its address to DNSPortFile.
func serveDNS(cfg *ServeConfig) (*dnstest.Server, error) {
	if cfg.DNSServe == "" {
		return nil, nil
	}
	d, err := dnstest.Start(cfg.DNSServe)
	if err != nil {
		return nil, fmt.Errorf("simulator: --dns-serve: %w", err)
	}
	if cfg.Options.DNS == "" {
		cfg.Options.DNS = d.Addr()
	}
	if cfg.DNSPortFile != "" {
		if err := writeFileAtomic(cfg.DNSPortFile, []byte(d.Addr()+"\n")); err != nil {
			d.Close()
			return nil, fmt.Errorf("simulator: DNS port file: %w", err)
		}
	}
	return d, nil
}

// withDNSAdmin serves the DNS server's admin API at /_sim/dns (loopback
// clients only, like the rest of /_sim/) in front of the simulator.
func (s *Server) withDNSAdmin(next http.Handler, d *dnstest.Server) http.Handler {
	if d == nil {
		return next
	}
	mux := http.NewServeMux()
	mux.Handle(dnsAdminPath, s.wrapAdmin(d.Handler().ServeHTTP))
	mux.Handle("/", next)
	return mux
}

func printDNSBanner(w io.Writer, d *dnstest.Server, base string) {
	if d == nil || w == nil {
		return
	}
	fmt.Fprintf(w, "DNS server for domain validation: %s (UDP and TCP, loopback only)\n", d.Addr())
	fmt.Fprintf(w, "publish records: POST %s%s with a BIND zone fragment (certplan dcv records --format bind)\n", base, dnsAdminPath)
}
