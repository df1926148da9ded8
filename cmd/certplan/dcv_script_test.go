package main

import (
	"os"
	"strconv"
	"strings"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/certplan/certplan/pkg/dcv"
	"github.com/certplan/certplan/pkg/dcv/dnstest"
	"github.com/certplan/certplan/pkg/simulator"
)

const dnsKey = "dns"

// In-process commands of these tests ask loopback DNS servers only, as the
// scripts' subprocesses do (TestMain).
func init() { dcv.RequireLoopback.Store(true) }

// dnsSetup starts the script's DNS server on loopback, points the
// simulator's domain validation at it, and sets $DNS_ADDR.
func dnsSetup(env *testscript.Env, opts *simulator.Options) error {
	srv, err := dnstest.Start("127.0.0.1:0")
	if err != nil {
		return err
	}
	env.Defer(srv.Close)
	env.Values[dnsKey] = srv
	opts.DNS = srv.Addr()
	env.Setenv("DNS_ADDR", srv.Addr())
	return nil
}

// cmdDNS drives the script's DNS server (dcv_*.txtar only), as a DNS team's
// pipeline would:
//
//	dns publish FILE              publish a BIND zone fragment (dcv records --format bind)
//	dns add NAME TYPE VALUE       publish one record
//	dns clear                     withdraw every record
//	dns records N                 exactly N records are published
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
