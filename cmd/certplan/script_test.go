package main

import (
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/certplan/certplan/pkg/dcv"
	"github.com/certplan/certplan/pkg/simulator"
)

// TestMain lets testscript run the real certplan CLI as a subprocess command.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"certplan": func() {
			// Scripts may ask loopback DNS servers only (their own).
			dcv.RequireLoopback.Store(true)
			code := runMain(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
			// Test hook: scripts check exit codes with `exitcode N`.
			if f := os.Getenv("CERTPLAN_TEST_EXITCODE_FILE"); f != "" {
				_ = os.WriteFile(f, []byte(strconv.Itoa(code)), 0o600)
			}
			os.Exit(code)
		},
	})
}

// scriptAPIKey is the key every script's simulator accepts.
const scriptAPIKey = "script-test-key-0123456789"

// TestScripts runs the end-to-end scenarios in testdata/script/*.txtar. Each
// script gets its own in-process simulator; CERTPLAN_ENDPOINT,
// CERTPLAN_LEGACY_ENDPOINT, DIGICERT_API_KEY and DIGICERT_ACCOUNT_ID point at
// it, $EXAMPLES at the repository's examples, and the `sim` command drives
// its admin side. Set UPDATE_SCRIPTS=1 to rewrite cmp'd files.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		Setup:               scriptSetup,
		RequireExplicitExec: true,
		UpdateScripts:       os.Getenv("UPDATE_SCRIPTS") != "",
		Cmds:                scriptCmds,
	})
}

// scriptCmds are the scripts' own commands; platform-specific files add
// more (watch and nowrites on Linux).
var scriptCmds = map[string]func(ts *testscript.TestScript, neg bool, args []string){
	"sim":      cmdSim,
	"nosecret": cmdNoSecret,
	"exitcode": cmdExitCode,
	"waitfile": cmdWaitFile,
}

const simKey = "simulator"

func scriptSetup(env *testscript.Env) error {
	wd, err := os.Getwd()
	if err != nil {
		return err
	}
	// Scripts run in a Git work tree, as certplan does in CI: its root
	// bounds the files manifests may reference (spec.Project.Root).
	if err := os.MkdirAll(filepath.Join(env.WorkDir, ".git"), 0o755); err != nil {
		return err
	}
	env.Setenv("EXAMPLES", filepath.Join(wd, "..", "..", "examples"))
	env.Setenv("NO_COLOR", "1")
	env.Setenv("CERTPLAN_TEST_EXITCODE_FILE", filepath.Join(env.WorkDir, ".exitcode"))
	opts := simulator.Options{APIKey: scriptAPIKey, AccountID: "1001", Limits: []simulator.Limit{}}
	if strings.HasPrefix(filepath.Base(env.WorkDir), "script-approval_") {
		// approval_*.txtar: orders wait until the script approves them.
		opts.Approval = simulator.ApprovalManual
	}
	if strings.HasPrefix(filepath.Base(env.WorkDir), "script-dcv_") {
		// dcv_*.txtar: a DNS server on loopback that the simulator checks
		// domain validation at and `dcv check --resolver $DNS_ADDR` asks.
		if err := dnsSetup(env, &opts); err != nil {
			return err
		}
	}
	sim, err := simulator.New(opts)
	if err != nil {
		return err
	}
	srv := httptest.NewServer(sim.Handler())
	env.Defer(func() { srv.Close(); _ = sim.Close() })
	env.Values[simKey] = sim
	env.Setenv("CERTPLAN_ENDPOINT", srv.URL+"/services/v2")
	env.Setenv("CERTPLAN_LEGACY_ENDPOINT", srv.URL)
	env.Setenv("DIGICERT_API_KEY", scriptAPIKey)
	env.Setenv("DIGICERT_ACCOUNT_ID", "1001")
	env.Setenv("SIM_URL", srv.URL)
	return nil
}

// cmdSim drives the script's simulator:
//
//	sim orders N                  exactly N orders were placed
//	sim approve ORDER_ID          approve a pending order
//	sim status ORDER_ID STATUS    change an order's status (e.g. revoked)
//	sim advance DURATION          move the simulator clock forward
//	sim faults JSON               set fault injection (simulator.Faults as JSON)
//	sim orderid N VAR             put the N-th placed order's id (1-based) into $VAR
//	sim waitorders N              wait (up to 20 s) until N orders were placed
//	sim requests "ROUTE" N        the route (e.g. "PUT /services/v2/order/certificate/{id}/check-dcv") got N requests
func cmdSim(ts *testscript.TestScript, neg bool, args []string) {
	sim := ts.Value(simKey).(*simulator.Server)
	if len(args) == 0 {
		ts.Fatalf("usage: sim orders|approve|status|advance|faults|orderid ...")
	}
	check := func(err error) {
		if err != nil && !neg {
			ts.Fatalf("sim %s: %v", strings.Join(args, " "), err)
		}
		if err == nil && neg {
			ts.Fatalf("sim %s: unexpected success", strings.Join(args, " "))
		}
	}
	atoi := func(s string) int64 {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			ts.Fatalf("sim: %q is not a number", s)
		}
		return n
	}
	switch args[0] {
	case "orders":
		want := atoi(args[1])
		got := int64(len(sim.Orders()))
		if got != want {
			check(fmt.Errorf("simulator has %d orders, want %d", got, want))
			return
		}
		check(nil)
	case "approve":
		check(sim.Approve(atoi(args[1])))
	case "status":
		check(sim.SetStatus(atoi(args[1]), args[2]))
	case "advance":
		d, err := time.ParseDuration(args[1])
		if err != nil {
			ts.Fatalf("sim advance: %v", err)
		}
		sim.AdvanceClock(d)
	case "faults":
		var f simulator.Faults
		if err := json.Unmarshal([]byte(strings.Join(args[1:], " ")), &f); err != nil {
			ts.Fatalf("sim faults: %v", err)
		}
		sim.SetFaults(f)
	case "waitorders":
		want := int(atoi(args[1]))
		deadline := time.Now().Add(20 * time.Second)
		for len(sim.Orders()) < want {
			if time.Now().After(deadline) {
				ts.Fatalf("sim waitorders: %d orders after 20s, want %d", len(sim.Orders()), want)
			}
			time.Sleep(10 * time.Millisecond)
		}
	case "requests":
		if got, want := int64(sim.Stats().Requests[args[1]]), atoi(args[2]); got != want {
			check(fmt.Errorf("%s: %d requests, want %d", args[1], got, want))
			return
		}
		check(nil)
	case "orderid":
		orders := sim.Orders()
		n := atoi(args[1])
		if n < 1 || int(n) > len(orders) {
			ts.Fatalf("sim orderid: only %d orders", len(orders))
		}
		ts.Setenv(args[2], strconv.FormatInt(orders[n-1].ID, 10))
	default:
		ts.Fatalf("sim: unknown subcommand %q", args[0])
	}
}

// cmdNoSecret fails if any file under DIR contains any of the secrets:
//
//	nosecret DIR SECRET...
func cmdNoSecret(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: nosecret DIR SECRET...")
	}
	files := 0
	err := filepath.WalkDir(args[0], func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files++
		for _, secret := range args[1:] {
			if secret != "" && strings.Contains(string(b), secret) {
				ts.Fatalf("%s contains a secret", path)
			}
		}
		return nil
	})
	ts.Check(err)
	ts.Logf("checked %d files", files)
}

// cmdExitCode checks the exit code of the last exec'd command:
//
//	exitcode N
func cmdExitCode(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: exitcode N")
	}
	want, err := strconv.Atoi(args[0])
	ts.Check(err)
	got := lastExitCode(ts)
	if (got == want) == neg {
		ts.Fatalf("exit code %d, want %s%d", got, map[bool]string{true: "not ", false: ""}[neg], want)
	}
}

func lastExitCode(ts *testscript.TestScript) int {
	b, err := os.ReadFile(ts.MkAbs(".exitcode"))
	ts.Check(err)
	n, err := strconv.Atoi(string(b))
	ts.Check(err)
	return n
}

// cmdWaitFile waits (up to 20 s) until PATH exists, e.g. until a background
// apply holds the state lock:
//
//	waitfile PATH
func cmdWaitFile(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: waitfile PATH")
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, err := os.Stat(ts.MkAbs(args[0])); err == nil {
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("%s did not appear within 20s", args[0])
		}
		time.Sleep(10 * time.Millisecond)
	}
}
