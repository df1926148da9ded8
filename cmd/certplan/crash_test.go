//go:build long

package main

import (
	"errors"
	"fmt"
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
	dir := t.TempDir()
	bin := filepath.Join(dir, "certplan")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		t.Fatalf("build certplan: %v", err)
	}

	sim, err := simulator.New(simulator.Options{APIKey: scriptAPIKey, Limits: []simulator.Limit{},
		Faults: simulator.Faults{Latency: 15 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim.Handler())
	defer srv.Close()

	work := filepath.Join(dir, "repo")
	writeManifests(t, work, certs)
	env := append(os.Environ(),
		"CERTPLAN_ENDPOINT="+srv.URL+"/services/v2",
		"CERTPLAN_LEGACY_ENDPOINT="+srv.URL,
		"DIGICERT_API_KEY="+scriptAPIKey,
		"NO_COLOR=1",
	)
	certplan := func(args ...string) *exec.Cmd {
		c := exec.Command(bin, args...)
		c.Dir = work
		c.Env = env
		return c
	}

	rng := rand.New(rand.NewSource(20261123))
	deadline := time.Now().Add(5 * time.Minute)
	for i := 0; i < trials && time.Now().Before(deadline); i++ {
		c := certplan("apply", ".", "--auto-approve", "--parallelism", "4")
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		kill := time.Duration(rng.Int63n(int64(900 * time.Millisecond)))
		done := make(chan error, 1)
		go func() { done <- c.Wait() }()
		select {
		case <-done:
			t.Logf("trial %d: apply finished before the kill at %s", i, kill)
		case <-time.After(kill):
			_ = c.Process.Signal(syscall.SIGKILL)
			<-done
			t.Logf("trial %d: killed after %s; simulator has %d orders", i, kill, len(sim.Orders()))
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
	l, err := state.Load(filepath.Join(work, "certplan.state.json"))
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

func writeManifests(t *testing.T, dir string, n int) {
	t.Helper()
	csr, err := os.ReadFile("../../examples/csr/shop-frontend.csr")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "shop.csr"), csr, 0o644); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, `---
apiVersion: certplan/v1
kind: Certificate
metadata: {name: web-%03d}
spec:
  product: ssl_securesite_flex
  order:
    certificate:
      common_name: shop.example.com
      dns_names: [www.shop.example.com]
      csr: {file: shop.csr}
      signature_hash: sha256
    order_validity: {years: 1}
    organization: {id: 123456}
    payment_method: balance
`, i)
	}
	if err := os.WriteFile(filepath.Join(dir, "certs.yaml"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}
