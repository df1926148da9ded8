//go:build long

package main

import (
	"bufio"
	"context"
	"errors"
	"math/rand"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/certplan/certplan/pkg/simulator"
	"github.com/certplan/certplan/pkg/state"
	"github.com/certplan/certplan/pkg/state/backends"
	"github.com/certplan/certplan/pkg/state/pgstate/pgtest"
)

// TestCrashAtRandomInstants kills the real certplan binary with SIGKILL at
// seeded random instants during an apply of 50 orders, 20 times, then runs
// a final apply: CertCentral must hold exactly 50 orders, the state must
// track each of them, and a second plan must be empty.
func TestCrashAtRandomInstants(t *testing.T) {
	forEachBackend(t, crashAtRandomInstants)
}

// forEachBackend runs a crash test with the state in a file, and again in
// PostgreSQL (skipped without CERTPLAN_TEST_POSTGRES, failing under CI).
func forEachBackend(t *testing.T, f func(t *testing.T, stateLoc string)) {
	t.Run("file", func(t *testing.T) { f(t, "") })
	t.Run("postgres", func(t *testing.T) { f(t, pgtest.Schema(t)) })
}

// loadCrashState loads the state of a crash rig: the file in work, or stateLoc.
func loadCrashState(t *testing.T, work, stateLoc string) *state.Loaded {
	t.Helper()
	if stateLoc == "" {
		stateLoc = filepath.Join(work, "certplan.state.json")
	}
	b, err := backends.Open(stateLoc)
	if err != nil {
		t.Fatal(err)
	}
	l, err := b.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func crashAtRandomInstants(t *testing.T, stateLoc string) {
	const certs, trials = 50, 20
	// 50 ms per request and 2 orders at a time: with start-up (manifests,
	// refresh, resuming look-ups) a trial places a few orders before kills
	// drawn from [0, 300ms) after the plan land, so the 20 kills spread over
	// the whole run.
	sim, work, certplan := crashRig(t, certs, 50*time.Millisecond, stateLoc)

	rng := rand.New(rand.NewSource(20261123))
	deadline := time.Now().Add(5 * time.Minute)
	for i := 0; i < trials && time.Now().Before(deadline); i++ {
		// The kill lands at a random instant of the apply phase: drawn from
		// [0, 300ms) after certplan printed its plan (so start-up does not eat
		// the window), which spreads 20 kills over the whole 50-order run.
		c := certplan("apply", ".", "--auto-approve", "--parallelism", "2")
		if i%2 == 0 {
			// Every other trial stands for a run made --resubmit-after
			// (10 minutes) after the one before: it may send again what a
			// killed run may have sent and the look-up does not show (the
			// simulator's does not lag). The others leave such intents open
			// unsent; without these, they would pile up in every trial's
			// window and the kills would stop spreading over the run.
			c.Env = append(c.Env, "CERTPLAN_RESUBMIT_AFTER=0s")
		}
		kill := time.Duration(rng.Int63n(int64(300 * time.Millisecond)))
		if killAfterPlan(t, c, kill) {
			t.Logf("trial %d: killed %s into the apply; simulator has %d orders", i, kill, len(sim.Orders()))
		} else {
			t.Logf("trial %d: apply finished before the kill at +%s", i, kill)
		}
	}

	// The final apply stands for one made after --resubmit-after (10
	// minutes by default) has passed: it may send again what a killed run
	// may have sent and the look-up does not show (the simulator's does not
	// lag). Until then, trials only adopted such orders or left them open.
	final := certplan("apply", ".", "--auto-approve")
	final.Env = append(final.Env, "CERTPLAN_RESUBMIT_AFTER=0s")
	out, err := final.CombinedOutput()
	if err != nil {
		t.Fatalf("final apply: %v\n%s", err, out)
	}
	orders := sim.Orders()
	keys := map[string]int64{}
	for _, o := range orders {
		if prev, dup := keys[o.AlternativeOrderID]; dup {
			t.Fatalf("duplicate order for key %s: %d and %d", o.AlternativeOrderID, prev, o.ID)
		}
		keys[o.AlternativeOrderID] = o.ID
	}
	if len(orders) != certs {
		t.Fatalf("simulator has %d orders, want exactly %d", len(orders), certs)
	}
	l := loadCrashState(t, work, stateLoc)
	if len(l.State.Certificates) != certs || len(l.Pending) != 0 {
		t.Fatalf("state tracks %d certificates with %d open intents, want %d and 0", len(l.State.Certificates), len(l.Pending), certs)
	}
	for name, c := range l.State.Certificates {
		if keys[c.AlternativeOrderID] != c.OrderID {
			t.Fatalf("%s: state says order %d, CertCentral has %d for its key", name, c.OrderID, keys[c.AlternativeOrderID])
		}
	}
	plan := certplan("plan", ".", "--detailed-exitcode")
	if out, err := plan.CombinedOutput(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("second plan is not empty (exit %d):\n%s", ee.ExitCode(), out)
		}
		t.Fatal(err)
	}
}

// TestCrashDuringReissues kills the real certplan binary with SIGKILL at
// seeded random instants while it reissues 30 certificates whose
// certificates are due (same CSR, same key: the hard case, where the key
// alone cannot tell the new certificate from the old), 20 times, then runs
// a final apply. Every order must hold exactly one reissue sent through the
// API (none lost, none twice), no order may have been placed, the state must
// track each order's new certificate with the first one in history, and a
// second plan must be empty.
func TestCrashDuringReissues(t *testing.T) {
	forEachBackend(t, crashDuringReissues)
}

func crashDuringReissues(t *testing.T, stateLoc string) {
	const certs, trials = 30, 20
	start := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	sim, work, certplanAt := crashRigWith(t, certs, simulator.Options{ClockStart: start,
		Faults: simulator.Faults{Latency: 40 * time.Millisecond}}, stateLoc)
	certplan := func(now time.Time, args ...string) *exec.Cmd {
		c := certplanAt(args...)
		c.Env = append(c.Env, "CERTPLAN_NOW="+now.Format(time.RFC3339))
		return c
	}
	if out, err := certplan(start, "apply", ".", "--auto-approve", "--parallelism", "4").CombinedOutput(); err != nil {
		t.Fatalf("first apply: %v\n%s", err, out)
	}
	placed := sim.Stats().OrdersPlaced
	// 170 days later the first certificates (199 days under the cap) are
	// inside renewBefore, and the 1-year orders are not.
	due := start.AddDate(0, 0, 170)
	sim.SetClock(due)
	if out, err := certplan(due, "plan", ".").CombinedOutput(); err != nil || !strings.Contains(string(out), "to reissue") {
		t.Fatalf("plan at %s does not reissue: %v\n%s", due.Format(time.DateOnly), err, out)
	}

	rng := rand.New(rand.NewSource(20270520))
	committedUnrecorded := 0
	deadline := time.Now().Add(5 * time.Minute)
	for i := 0; i < trials && time.Now().Before(deadline); i++ {
		c := certplan(due, "apply", ".", "--auto-approve", "--parallelism", "2")
		kill := time.Duration(rng.Int63n(int64(400 * time.Millisecond)))
		if killAfterPlan(t, c, kill) {
			open, unrecorded := openReissues(t, sim, loadCrashState(t, work, stateLoc))
			committedUnrecorded += unrecorded
			t.Logf("trial %d: killed %s into the apply; %d reissues sent, %d intents open, %d of them committed", i, kill, sim.Stats().ReissuesPlaced, open, unrecorded)
		} else {
			t.Logf("trial %d: apply finished before the kill at +%s", i, kill)
		}
	}
	// The kills must have hit the window that matters: a reissue committed
	// in CertCentral whose outcome was never journaled.
	if committedUnrecorded == 0 {
		t.Error("no kill left a committed reissue unrecorded: the test did not exercise adoption")
	}

	if out, err := certplan(due, "apply", ".", "--auto-approve").CombinedOutput(); err != nil {
		t.Fatalf("final apply: %v\n%s", err, out)
	}
	if got := sim.Stats().OrdersPlaced; got != placed {
		t.Fatalf("%d orders placed during the reissues; a reissue must never place one", got-placed)
	}
	l := loadCrashState(t, work, stateLoc)
	if len(l.Pending) != 0 {
		t.Fatalf("%d intents left open: %+v", len(l.Pending), l.Pending)
	}
	byID := map[int64]simulator.ReceivedOrder{}
	for _, o := range sim.Orders() {
		byID[o.ID] = o
	}
	for name, c := range l.State.Certificates {
		o := byID[c.OrderID]
		if len(o.Reissues) != 1 {
			t.Errorf("%s: order %d holds %d reissues, want exactly 1", name, o.ID, len(o.Reissues))
			continue
		}
		if re := o.Reissues[0]; re.Auto || re.Status != "issued" || c.CertificateID != re.CertificateID ||
			len(c.History) != 1 || c.History[0].CertificateID != o.CertificateID {
			t.Errorf("%s: state certificate %d (history %+v); order %d reissued as %+v", name, c.CertificateID, c.History, o.ID, re)
		}
	}
	if got := sim.Stats().ReissuesPlaced; got != certs {
		t.Errorf("the simulator committed %d reissues for %d intended", got, certs)
	}
	if out, err := certplan(due, "plan", ".", "--detailed-exitcode").CombinedOutput(); err != nil {
		t.Fatalf("second plan is not empty (%v):\n%s", err, out)
	}
}

// openReissues counts the reissue intents a killed apply left in l open,
// and those of them whose reissue CertCentral committed (a certificate the
// order did not have before).
func openReissues(t *testing.T, sim *simulator.Server, l *state.Loaded) (open, committed int) {
	t.Helper()
	orders := map[int64]simulator.ReceivedOrder{}
	for _, o := range sim.Orders() {
		orders[o.ID] = o
	}
	for _, in := range l.Pending {
		if in.Action != state.ActionReissue {
			continue
		}
		open++
		for _, re := range orders[in.ReissueOf].Reissues {
			if !slices.Contains(in.PriorCertificateIDs, re.CertificateID) {
				committed++
				break
			}
		}
	}
	return open, committed
}

// TestCrashInterruptResumes sends SIGINT in the middle of an apply: no new
// order starts, in-flight ones finish and are journaled, the journal is
// folded, certplan exits 130, and the next apply completes the rest with no
// duplicate.
func TestCrashInterruptResumes(t *testing.T) {
	forEachBackend(t, crashInterruptResumes)
}

func crashInterruptResumes(t *testing.T, stateLoc string) {
	const certs = 40
	sim, work, certplan := crashRig(t, certs, 40*time.Millisecond, stateLoc)

	c := certplan("apply", ".", "--auto-approve", "--parallelism", "2")
	stdout, err := c.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	c.Stderr = &stderr
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stdout)
	var out strings.Builder
	signalled := false
	for sc.Scan() {
		out.WriteString(sc.Text() + "\n")
		if !signalled && strings.Contains(sc.Text(), "create -> order") {
			_ = c.Process.Signal(os.Interrupt)
			signalled = true
		}
	}
	err = c.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != exitInterrupted {
		t.Fatalf("interrupted apply: %v, want exit %d\n%s%s", err, exitInterrupted, out.String(), stderr.String())
	}
	if !strings.Contains(out.String(), "skipped") || !strings.Contains(stderr.String(), "Interrupted") {
		t.Fatalf("output does not report the interruption:\n%s%s", out.String(), stderr.String())
	}
	placed := len(sim.Orders())
	if placed == 0 || placed >= certs {
		t.Fatalf("%d orders placed before the interrupt finished; want some but not all %d", placed, certs)
	}
	l := loadCrashState(t, work, stateLoc)
	if len(l.Pending) != 0 || len(l.State.Certificates) != placed {
		t.Fatalf("after the interrupt: %d open intents, %d in state, %d placed", len(l.Pending), len(l.State.Certificates), placed)
	}
	c = certplan("apply", ".", "--auto-approve")
	if out, err := c.CombinedOutput(); err != nil {
		t.Fatalf("resuming apply: %v\n%s", err, out)
	}
	if n := len(sim.Orders()); n != certs {
		t.Fatalf("simulator has %d orders, want exactly %d", n, certs)
	}
}

// crashRig builds the real certplan (these tests kill it), starts a
// simulator with the given latency, writes n manifests, and returns the
// simulator, the project directory and a command maker for certplan there.
// A non-empty stateLoc (a PostgreSQL URL) is the state, through CERTPLAN_STATE.
func crashRig(t *testing.T, n int, latency time.Duration, stateLoc string) (*simulator.Server, string, func(args ...string) *exec.Cmd) {
	t.Helper()
	return crashRigWith(t, n, simulator.Options{Faults: simulator.Faults{Latency: latency}}, stateLoc)
}

// crashRigWith is crashRig with the simulator's options (its clock, say).
func crashRigWith(t *testing.T, n int, opts simulator.Options, stateLoc string) (*simulator.Server, string, func(args ...string) *exec.Cmd) {
	t.Helper()
	dir := t.TempDir()
	bin := buildCertplan(t, dir)
	opts.APIKey, opts.Limits = scriptAPIKey, []simulator.Limit{}
	sim, err := simulator.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	work := filepath.Join(dir, "repo")
	writeManifests(t, work, n, n)
	env := append(os.Environ(),
		"CERTPLAN_ENDPOINT="+srv.URL+"/services/v2",
		"CERTPLAN_LEGACY_ENDPOINT="+srv.URL,
		"DIGICERT_API_KEY="+scriptAPIKey,
		"NO_COLOR=1",
	)
	if stateLoc != "" {
		env = append(env, "CERTPLAN_STATE="+stateLoc)
	}
	return sim, work, func(args ...string) *exec.Cmd {
		c := exec.Command(bin, args...)
		c.Dir, c.Env = work, env
		return c
	}
}

// buildCertplan builds the real binary into dir: these tests kill it.
func buildCertplan(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "certplan")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build certplan: %v\n%s", err, out)
	}
	return bin
}

// TestCrashPostgresRestart stops the PostgreSQL server at once (as a crash
// or a failover would) in the middle of an apply, starts it again and
// applies once more: the interrupted run fails naming the database, nothing
// was ordered that the journal does not know, and the next run resumes and
// completes with every order placed once. It runs its own server
// (scripts/pg-test-server.sh), since it stops it.
func TestCrashPostgresRestart(t *testing.T) {
	pgtest.URL(t) // skip (or, under CI, fail) where PostgreSQL tests do not run
	script, err := filepath.Abs(filepath.Join("..", "..", "scripts", "pg-test-server.sh"))
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(script, "start").Output()
	if err != nil {
		t.Fatalf("start a private server: %v", err)
	}
	vars := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		k, v, _ := strings.Cut(strings.TrimPrefix(line, "export "), "=")
		vars[k] = strings.Trim(v, "'")
	}
	dir, url := vars["CERTPLAN_TEST_POSTGRES_DIR"], vars["CERTPLAN_TEST_POSTGRES"]
	t.Cleanup(func() { exec.Command(script, "stop", dir).Run() })

	const certs = 30
	sim, work, certplan := crashRig(t, certs, 60*time.Millisecond, url)
	c := certplan("apply", ".", "--auto-approve", "--parallelism", "2")
	stdout, err := c.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	c.Stderr = &stderr
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stdout)
	created := 0
	var all strings.Builder
	for sc.Scan() {
		all.WriteString(sc.Text() + "\n")
		if strings.Contains(sc.Text(), "create -> order") {
			if created++; created == 5 {
				if out, err := exec.Command(script, "down", dir).CombinedOutput(); err != nil {
					t.Fatalf("stop the server: %v\n%s", err, out)
				}
			}
		}
	}
	if err := c.Wait(); err == nil {
		t.Fatalf("the apply went on without its database")
	}
	host := strings.TrimPrefix(url, "postgres://postgres@")
	host = host[:strings.Index(host, "?")]
	// Each order that could not be journaled failed naming the database.
	all.WriteString(stderr.String())
	if !strings.Contains(all.String(), "state database "+host) {
		t.Errorf("the output does not name the database %s:\n%s", host, all.String())
	}
	placed := len(sim.Orders())
	if placed == 0 || placed >= certs {
		t.Fatalf("%d orders placed before the server stopped; want some but not all %d", placed, certs)
	}
	if out, err := exec.Command(script, "up", dir).CombinedOutput(); err != nil {
		t.Fatalf("start the server again: %v\n%s", err, out)
	}
	// An order the stop cut off mid-request has an unknown outcome; the
	// run after the restart stands for one made --resubmit-after later.
	again := certplan("apply", ".", "--auto-approve")
	again.Env = append(again.Env, "CERTPLAN_RESUBMIT_AFTER=0s")
	if out, err := again.CombinedOutput(); err != nil {
		t.Fatalf("apply after the restart: %v\n%s", err, out)
	}
	keys := map[string]bool{}
	for _, o := range sim.Orders() {
		if keys[o.AlternativeOrderID] {
			t.Fatalf("duplicate order for key %s", o.AlternativeOrderID)
		}
		keys[o.AlternativeOrderID] = true
	}
	if n := len(sim.Orders()); n != certs {
		t.Fatalf("simulator has %d orders, want exactly %d", n, certs)
	}
	l := loadCrashState(t, work, url)
	if len(l.State.Certificates) != certs || len(l.Pending) != 0 {
		t.Fatalf("state tracks %d certificates with %d open intents, want %d and 0", len(l.State.Certificates), len(l.Pending), certs)
	}
}

// killAfterPlan starts c (a certplan apply), waits until it has printed its
// plan, and sends SIGKILL kill later unless it finished first. It reports
// whether it killed the process; either way the process has ended.
func killAfterPlan(t *testing.T, c *exec.Cmd, kill time.Duration) bool {
	t.Helper()
	stdout, err := c.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	planned := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		once := false
		for sc.Scan() {
			if !once && (strings.HasPrefix(sc.Text(), "Plan:") || strings.HasPrefix(sc.Text(), "No changes")) {
				once = true
				close(planned)
			}
		}
		if !once {
			close(planned)
		}
	}()
	done := make(chan error, 1)
	go func() { <-planned; done <- c.Wait() }()
	<-planned
	select {
	case <-done:
		return false
	case <-time.After(kill):
		_ = c.Process.Signal(syscall.SIGKILL)
		<-done
		return true
	}
}
