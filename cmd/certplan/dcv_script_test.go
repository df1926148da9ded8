package main

import (
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/certplan/certplan/pkg/dcv"
	"github.com/certplan/certplan/pkg/dnstest"
	"github.com/certplan/certplan/pkg/simulator"
)

const dnsKey = "dns"

// In-process commands of these tests ask loopback DNS servers only, as the
// scripts' subprocesses do (TestMain); scripts get the dns command.
func init() {
	dcv.RequireLoopback.Store(true)
	scriptCmds["dns"] = cmdDNS
}

// dcvScriptStart is when the dcv_*.txtar scripts start, on the simulator's
// clock and certplan's (CERTPLAN_NOW): in 2027, when validations are reused
// for 100 days and certificates live 99.
var dcvScriptStart = time.Date(2027, 5, 1, 0, 0, 0, 0, time.UTC)

// dnsSetup starts the script's DNS server on loopback, points the
// simulator's domain validation at it, and sets $DNS_ADDR; both clocks
// start at dcvScriptStart.
func dnsSetup(env *testscript.Env, opts *simulator.Options) error {
	srv, err := dnstest.Start("127.0.0.1:0")
	if err != nil {
		return err
	}
	env.Defer(srv.Close)
	env.Values[dnsKey] = srv
	opts.DNS = srv.Addr()
	opts.ClockStart = dcvScriptStart
	env.Setenv("DNS_ADDR", srv.Addr())
	env.Setenv("CERTPLAN_NOW", dcvScriptStart.Format(time.RFC3339))
	return nil
}

// cmdDNS drives the script's DNS server (dcv_*.txtar only), as a DNS team's
// pipeline would:
//
//	dns publish FILE              publish a BIND zone fragment (dcv records --format bind)
//	dns add NAME TYPE VALUE       publish one record
//	dns clear                     withdraw every record
//	dns records N                 exactly N records are published
//	dns publish-order N           wait (up to 20 s) until the N-th placed order awaits
//	                              DCV, then publish its TXT records (a DNS team that
//	                              reads the token from the CertCentral console)
func cmdDNS(ts *testscript.TestScript, neg bool, args []string) {
	srv, ok := ts.Value(dnsKey).(*dnstest.Server)
	if !ok {
		ts.Fatalf("dns: this script has no DNS server (name it dcv_*.txtar)")
	}
	if neg || len(args) == 0 {
		ts.Fatalf("usage: dns publish FILE | add NAME TYPE VALUE | clear | records N")
	}
	switch args[0] {
	case "publish":
		fh, err := os.Open(ts.MkAbs(args[1]))
		ts.Check(err)
		defer fh.Close()
		n, err := srv.LoadZone(fh)
		ts.Check(err)
		ts.Logf("published %d records", n)
	case "add":
		ts.Check(srv.Add(args[1], args[2], strings.Join(args[3:], " "), 0))
	case "clear":
		srv.Clear()
	case "publish-order":
		n, err := strconv.Atoi(args[1])
		ts.Check(err)
		sim := ts.Value(simKey).(*simulator.Server)
		deadline := time.Now().Add(20 * time.Second)
		for {
			if orders := sim.Orders(); len(orders) >= n && orders[n-1].DCV != nil && orders[n-1].DCV.Awaiting {
				d := orders[n-1].DCV
				for _, domain := range d.Domains {
					ts.Check(srv.Add("_dnsauth."+domain, "TXT", d.RandomValue, 0))
				}
				return
			}
			if time.Now().After(deadline) {
				ts.Fatalf("dns publish-order: order %d does not await DCV after 20s", n)
			}
			time.Sleep(10 * time.Millisecond)
		}
	case "records":
		want, err := strconv.Atoi(args[1])
		ts.Check(err)
		if got := len(srv.Records()); got != want {
			ts.Fatalf("dns: %d records published, want %d: %v", got, want, srv.Records())
		}
	default:
		ts.Fatalf("dns: unknown subcommand %q", args[0])
	}
}
