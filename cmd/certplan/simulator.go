package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/certplan/certplan/pkg/lifecycle"
	"github.com/certplan/certplan/pkg/simulator"
)

// simulatorFlags are the flags of `certplan simulator`.
type simulatorFlags struct {
	addr, portFile, stateFile  string
	apiKey, accountID          string
	rateLimit                  string
	approval                   string
	approvalDelay              time.Duration
	uniqueAltIDs, alternate404 bool
	latency                    time.Duration
	errorRate                  float64
	burst429, dropAfterCommit  int
	retryAfter                 bool
	seed                       int64
	logRequests                bool
	caps                       string
	dns, dnsServe, dnsPortFile string
}

const simulatorLong = `Run an embedded DigiCert CertCentral simulator on loopback.

It serves the endpoints certplan uses (Services API v2 order placement for every
seed product, order info, list orders, /order/alternate/{id}, certificate
download and chain) and the legacy REST v1 POST /order/ssl, with the documented
auth, error bodies, status codes and rate limits. Orders are validated as the
API documentation describes, and TLS orders get real X.509 certificates from a
local CA. Orders are plans: Secure Site certificates are capped by issuance
date (199 days from 2026-02-24, 99 from 2027-03-15, 46 from 2029-03-15; see
--caps), orders can be reissued (POST/GET /order/certificate/{id}/reissue), and
auto_reissue reissues 30 days before a certificate expires as the clock moves.
Faults (latency, 5xx, 429 bursts, responses lost after the order or reissue was
committed) can be set by flag or at run time through the admin API under /_sim/.

With --dns (or --dns-serve, which runs an in-memory DNS server on loopback),
Secure Site orders and reissues with dcv_method dns-txt-token or dns-cname-token
wait in pending until PUT /order/certificate/{id}/check-dcv finds their random
value in DNS, or the admin API approves them; validations are reused for the
period in force by date (199 days, 100 from 2027-03-15, 10 from 2029-03-15).

The simulator clock starts at --now / CERTPLAN_NOW when set (else the wall
clock) and runs on; POST /_sim/clock moves or sets it.

Point certplan at it with:
  export CERTPLAN_ENDPOINT=http://127.0.0.1:8443/services/v2
  export CERTPLAN_LEGACY_ENDPOINT=http://127.0.0.1:8443
  export DIGICERT_API_KEY=any-key DIGICERT_ACCOUNT_ID=1

See docs/simulator.md for the admin API and the validation rules.`

const simulatorExample = `  # default: any non-empty key, documented rate limits, issue at once
  certplan simulator --addr 127.0.0.1:8443
  # a free port, written to a file for scripts; orders kept across restarts
  certplan simulator --addr 127.0.0.1:0 --port-file sim.addr --state-file sim.json
  # approval required, unique alternative ids, lose the next order response
  certplan simulator --approval manual --unique-alt-ids --drop-after-commit 1
  # domain validation in DNS: orders with dcv_method dns-txt-token wait for their records
  certplan simulator --addr 127.0.0.1:0 --port-file sim.addr --dns-serve 127.0.0.1:0 --dns-port-file dns.addr
  # start the clock on a date, with DigiCert's 99-day cut-over moved earlier
  certplan simulator --now 2027-01-01T00:00:00Z --caps 397,2026-02-24=199,2027-02-15=99,2029-03-15=46`

func newSimulatorCmd(g *globals) *cobra.Command {
	var f simulatorFlags
	cmd := &cobra.Command{
		Use:     "simulator",
		Short:   "Run an embedded CertCentral simulator for demos and tests",
		Long:    simulatorLong,
		Example: simulatorExample,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts, err := f.options()
			if err != nil {
				return withCode(exitError, err)
			}
			if env(g.now, "CERTPLAN_NOW") != "" {
				start, err := g.clock()
				if err != nil {
					return withCode(exitError, err)
				}
				opts.ClockStart = start
			}
			parent := cmd.Context()
			if parent == nil {
				parent = context.Background()
			}
			ctx, stop := signal.NotifyContext(parent, os.Interrupt, syscall.SIGTERM)
			defer stop()
			if f.logRequests {
				opts.Logger = g.stderr
			}
			err = simulator.Serve(ctx, simulator.ServeConfig{
				Addr: f.addr, PortFile: f.portFile, Out: g.stdout, Options: opts,
				DNSServe: f.dnsServe, DNSPortFile: f.dnsPortFile,
			})
			if err != nil {
				return withCode(exitError, err)
			}
			fmt.Fprintln(g.stderr, "simulator stopped")
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.addr, "addr", "127.0.0.1:8443", "listen address; port 0 picks a free port")
	fl.StringVar(&f.portFile, "port-file", "", "write the chosen host:port to this file (for scripts)")
	fl.StringVar(&f.stateFile, "state-file", "", "persist orders and the CA in this file (default: memory only)")
	fl.StringVar(&f.apiKey, "api-key", "", "the accepted API key (default: any non-empty key)")
	fl.StringVar(&f.accountID, "account-id", "", "the accepted legacy v1 account id (default: any)")
	fl.StringVar(&f.rateLimit, "rate-limit", "", `rolling limits per key, e.g. "100/5s,1000/3m", or "none" (default: the documented 100/5s,1000/3m)`)
	fl.StringVar(&f.approval, "approval", "immediate", "approval mode: immediate, manual or delay")
	fl.DurationVar(&f.approvalDelay, "approval-delay", time.Minute, "with --approval delay: time until an order is issued")
	fl.BoolVar(&f.uniqueAltIDs, "unique-alt-ids", false, `emulate "Require unique alternative order IDs" (duplicates get 400 duplicate_alternative_order_id)`)
	fl.BoolVar(&f.alternate404, "alternate-404", false, "answer /order/alternate/{id} with 404 instead of an empty list when no order has the id")
	fl.DurationVar(&f.latency, "latency", 0, "latency added to every request")
	fl.Float64Var(&f.errorRate, "error-rate", 0, "share of requests answered 500/502/503 (0 to 1)")
	fl.IntVar(&f.burst429, "burst-429", 0, "answer the next N requests with 429 request_limit_exceeded")
	fl.IntVar(&f.dropAfterCommit, "drop-after-commit", 0, "commit the next N orders, then drop the connection without a response")
	fl.BoolVar(&f.retryAfter, "retry-after", false, "send Retry-After with 429 responses")
	fl.Int64Var(&f.seed, "seed", 1, "seed for --error-rate, for reproducible runs")
	fl.BoolVar(&f.logRequests, "log-requests", false, "log one line per request to stderr (never keys or bodies)")
	fl.StringVar(&f.dns, "dns", "", "check domain validation at this DNS server (HOST:PORT): dns-txt-token and dns-cname-token orders wait until check-dcv finds their records there (default: no DNS, orders follow --approval)")
	fl.StringVar(&f.dnsServe, "dns-serve", "", "also run an in-memory DNS server on this loopback address (e.g. 127.0.0.1:0) to check domain validation at, and publish to it with POST /_sim/dns")
	fl.StringVar(&f.dnsPortFile, "dns-port-file", "", "with --dns-serve: write the DNS server's host:port to this file")
	fl.StringVar(&f.caps, "caps", "", `Secure Site certificate caps by issuance date, e.g. "397,2026-02-24=199,2027-03-15=99,2029-03-15=46", or "none" (default: DigiCert's dates)`)
	return cmd
}

func (f simulatorFlags) options() (simulator.Options, error) {
	limits, err := simulator.ParseLimits(f.rateLimit)
	if err != nil {
		return simulator.Options{}, fmt.Errorf("--rate-limit: %w", err)
	}
	mode, err := simulator.ParseApprovalMode(f.approval)
	if err != nil {
		return simulator.Options{}, fmt.Errorf("--approval: %w", err)
	}
	var caps lifecycle.Caps // nil: the defaults
	if f.caps != "" {
		if caps, err = lifecycle.ParseCaps(f.caps); err != nil {
			return simulator.Options{}, fmt.Errorf("--caps: %w", err)
		}
	}
	return simulator.Options{
		Caps:                 caps,
		APIKey:               f.apiKey,
		AccountID:            f.accountID,
		Limits:               limits,
		Approval:             mode,
		ApprovalDelay:        f.approvalDelay,
		UniqueAlternativeIDs: f.uniqueAltIDs,
		AlternateLookup404:   f.alternate404,
		StateFile:            f.stateFile,
		DNS:                  f.dns,
		Faults: simulator.Faults{
			Latency:         f.latency,
			ServerErrorRate: f.errorRate,
			Burst429:        f.burst429,
			DropAfterCommit: f.dropAfterCommit,
			RetryAfter:      f.retryAfter,
			Seed:            f.seed,
		},
	}, nil
}
