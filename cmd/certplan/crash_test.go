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
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/certplan/certplan/pkg/simulator"
	"github.com/certplan/certplan/pkg/state"
)

// TestCrashAtRandomInstants kills the real certplan binary with SIGKILL at
// seeded random instants during an apply of 50 orders, 20 times, then runs
// a final apply: CertCentral must hold exactly 50 orders, the state must
// track each of them, and a second plan must be empty.
func TestCrashAtRandomInstants(t *testing.T) {
	const certs, trials = 50, 20
	// 50 ms per request and 2 orders at a time: with start-up (manifests,
	// refresh, resuming look-ups) a trial places a few orders before kills
	// drawn from [0, 300ms) after the plan land, so the 20 kills spread over
	// the whole run.
	sim, work, certplan := crashRig(t, certs, 50*time.Millisecond)

	rng := rand.New(rand.NewSource(20261123))
	deadline := time.Now().Add(5 * time.Minute)
	for i := 0; i < trials && time.Now().Before(deadline); i++ {
		// The kill lands at a random instant of the apply phase: drawn from
		// [0, 300ms) after certplan printed its plan (so start-up does not eat
		// the window), which spreads 20 kills over the whole 50-order run.
		c := certplan("apply", ".", "--auto-approve", "--parallelism", "2")
		stdout, err := c.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		kill := time.Duration(rng.Int63n(int64(300 * time.Millisecond)))
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
			t.Logf("trial %d: apply finished before the kill at +%s", i, kill)
		case <-time.After(kill):
			_ = c.Process.Signal(syscall.SIGKILL)
			<-done
			t.Logf("trial %d: killed %s into the apply; simulator has %d orders", i, kill, len(sim.Orders()))
		}
	}

	out, err := certplan("apply", ".", "--auto-approve").CombinedOutput()
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
	l, err := state.NewFileBackend(filepath.Join(work, "certplan.state.json")).Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
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

// TestCrashInterruptResumes sends SIGINT in the middle of an apply: no new
// order starts, in-flight ones finish and are journaled, the journal is
// folded, certplan exits 130, and the next apply completes the rest with no
// duplicate.
func TestCrashInterruptResumes(t *testing.T) {
	const certs = 40
	sim, work, certplan := crashRig(t, certs, 40*time.Millisecond)

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
	l, err := state.NewFileBackend(filepath.Join(work, "certplan.state.json")).Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
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
func crashRig(t *testing.T, n int, latency time.Duration) (*simulator.Server, string, func(args ...string) *exec.Cmd) {
	t.Helper()
	dir := t.TempDir()
	bin := buildCertplan(t, dir)
	sim, err := simulator.New(simulator.Options{APIKey: scriptAPIKey, Limits: []simulator.Limit{},
		Faults: simulator.Faults{Latency: latency}})
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
