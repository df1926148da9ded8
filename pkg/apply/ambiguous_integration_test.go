package apply_test

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/certplan/certplan/pkg/apply"
	"github.com/certplan/certplan/pkg/certcentral"
	"github.com/certplan/certplan/pkg/simulator"
	"github.com/certplan/certplan/pkg/state"
)

// testClock is a fake clock shared by the simulator, the state and apply.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// TestAmbiguousFailureIsNeverResentInTheSameRun (issue 11, item 1): after a
// failure that may have reached CertCentral, and with a look-up that lags
// the commit by 3 s, apply used to wait, look the key up, find nothing and
// submit again: two orders. An order whose outcome is unknown is never
// re-sent in the same run; a later run that finds the attempt younger than
// the minimum age (10 minutes) keeps it open without sending and says when
// it will decide; a run after that adopts the order.
func TestAmbiguousFailureIsNeverResentInTheSameRun(t *testing.T) {
	faults := map[string]simulator.Faults{
		"lost response after commit": {DropAfterCommit: 1},
		"gateway 504 after commit":   {GatewayTimeoutAfterCommit: 1},
		"unreadable 201":             {GarbledAfterCommit: 1},
	}
	for name, f := range faults {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			clock := &testClock{t: time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)}
			f.LookupLag = 3 * time.Second
			r := newRig(t, simulator.Options{Limits: []simulator.Limit{}, Faults: f, Now: clock.Now}, []certcentral.Limit{}, 1)
			r.now = clock.Now

			rep, _ := r.applyOnce(t, 1)
			if n := len(r.sim.Orders()); n != 1 {
				t.Fatalf("first run: CertCentral holds %d orders, want 1: an order whose outcome is unknown was sent again in the same run", n)
			}
			if got := rep.Results[0].Outcome; got != apply.OutcomeUnresolved {
				t.Fatalf("first run: %s (%s), want unresolved", got, rep.Results[0].Error)
			}
			l, err := state.NewFileBackend(r.statePath).Load(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			in, open := l.Pending[r.certs[0].Name]
			if !open || in.LastAttempt == nil || !in.LastAttempt.Equal(clock.Now()) {
				t.Fatalf("first run: pending intent %+v, want it open with the attempt's time %s", in, clock.Now())
			}

			// One second later the look-up still lags: nothing is sent, and
			// the run says when it will decide.
			clock.Add(time.Second)
			rep, _ = r.applyOnce(t, 1)
			res := rep.Results[0]
			if n := len(r.sim.Orders()); n != 1 || res.Outcome != apply.OutcomeUnresolved {
				t.Fatalf("second run: %d orders, %s (%s); want 1 order and unresolved", len(r.sim.Orders()), res.Outcome, res.Error)
			}
			if decide := clock.Now().Add(-time.Second).Add(apply.DefaultResubmitAfter).Format(time.RFC3339); !strings.Contains(res.Error, decide) {
				t.Errorf("second run: %q does not say it decides at %s", res.Error, decide)
			}

			// Eleven minutes later the look-up shows the order: adopted.
			clock.Add(11 * time.Minute)
			rep, _ = r.applyOnce(t, 1)
			if got := rep.Results[0].Outcome; got != apply.OutcomeAdopted {
				t.Fatalf("third run: %s (%s), want adopted", got, rep.Results[0].Error)
			}
			r.checkExactlyOnce(t)
		})
	}
}
