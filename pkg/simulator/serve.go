package simulator

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/certplan/certplan/pkg/lifecycle"
)

// ServeConfig runs a simulator on a TCP address, as `certplan simulator` does.
type ServeConfig struct {
	Addr     string    // e.g. 127.0.0.1:8443; port 0 picks a free port
	PortFile string    // optional: the chosen host:port is written here for scripts
	Out      io.Writer // the start banner (base URLs and accepted key)
	Options  Options
	// DNSServe, when set, also runs an in-memory DNS server on this
	// loopback address (port 0 = a free one) that domain validation is
	// checked at (unless Options.DNS names another) and that the admin API
	// publishes records to (POST /_sim/dns); DNSPortFile gets its host:port.
	DNSServe, DNSPortFile string
}

// shutdownTimeout bounds how long Serve waits for in-flight requests.
const shutdownTimeout = 5 * time.Second

// Serve listens on cfg.Addr and serves until ctx is done, then shuts the HTTP
// server down and flushes the state file.
func Serve(ctx context.Context, cfg ServeConfig) error {
	dnsSrv, err := serveDNS(&cfg)
	if err != nil {
		return err
	}
	if dnsSrv != nil {
		defer dnsSrv.Close()
	}
	sim, err := New(cfg.Options)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		_ = sim.Close()
		return fmt.Errorf("simulator: listen on %s: %w (pick another --addr, or port 0 for a free one)", cfg.Addr, err)
	}
	addr := ln.Addr().String()
	if cfg.PortFile != "" {
		if err := writeFileAtomic(cfg.PortFile, []byte(addr+"\n")); err != nil {
			_ = ln.Close()
			_ = sim.Close()
			return fmt.Errorf("simulator: port file: %w", err)
		}
	}
	if cfg.Out != nil {
		printBanner(cfg.Out, addr, cfg.Options)
		printDNSBanner(cfg.Out, dnsSrv, "http://"+addr)
	}

	srv := &http.Server{Handler: sim.withDNSAdmin(sim.Handler(), dnsSrv), ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-served:
	}
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	shutErr := srv.Shutdown(sctx)
	closeErr := sim.Close()
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		return fmt.Errorf("simulator: serve: %w", serveErr)
	}
	if shutErr != nil {
		return fmt.Errorf("simulator: shutdown: %w", shutErr)
	}
	return closeErr
}

func printBanner(w io.Writer, addr string, o Options) {
	base := "http://" + addr
	key := "any non-empty key"
	if o.APIKey != "" {
		key = o.APIKey
	}
	account := "any"
	if o.AccountID != "" {
		account = o.AccountID
	}
	limits := "100/5s,1000/3m (documented defaults)"
	if o.Limits != nil {
		parts := make([]string, 0, len(o.Limits))
		for _, l := range o.Limits {
			parts = append(parts, l.String())
		}
		limits = strings.Join(parts, ",")
		if limits == "" {
			limits = "none"
		}
	}
	state := "memory only"
	if o.StateFile != "" {
		state = o.StateFile
	}
	approval := string(o.Approval)
	if approval == "" {
		approval = string(ApprovalImmediate)
	}
	if o.Approval == ApprovalDelay {
		approval += " " + o.ApprovalDelay.String()
	}
	fmt.Fprintf(w, "certplan simulator listening on %s\n", addr)
	fmt.Fprintf(w, "CertCentral v2: %s/services/v2\n", base)
	fmt.Fprintf(w, "legacy v1: %s\n", base)
	fmt.Fprintf(w, "API key (X-DC-DEVKEY): %s\n", key)
	fmt.Fprintf(w, "v1 account id: %s\n", account)
	fmt.Fprintf(w, "admin API: %s/_sim/ (loopback only)\n", base)
	fmt.Fprintf(w, "approval: %s; rate limits: %s; state: %s\n", approval, limits, state)
	caps := lifecycle.DefaultCaps().String() + " (DigiCert's dates)"
	if o.Caps != nil {
		caps = o.Caps.String()
	}
	fmt.Fprintf(w, "Secure Site certificate caps (days by issuance date): %s\n", caps)
	if o.DNS != "" {
		fmt.Fprintf(w, "domain validation: dns-txt-token and dns-cname-token orders wait until check-dcv finds their records at %s\n", o.DNS)
	}
	if !o.ClockStart.IsZero() {
		fmt.Fprintf(w, "clock: started at %s\n", o.ClockStart.UTC().Format(time.RFC3339))
	}
	if host, _, err := net.SplitHostPort(addr); err == nil {
		if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
			fmt.Fprintf(w, "warning: %s is not a loopback address; the simulator is a test double, not a server to expose\n", host)
		}
	}
	fmt.Fprintln(w, "press Ctrl-C to stop")
}
