package certcentral

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// memWindow is a SharedWindow in memory, on a fake clock: the same rule as
// pgstate's table (a request counts while in flight and for a window after
// it ended).
type memWindow struct {
	mu    sync.Mutex
	clock *fakeClock
	log   []*memReq
	calls int
	err   error
}

type memReq struct {
	start, end time.Time
	done       bool
}

func (w *memWindow) Acquire(ctx context.Context, api string, limits []Limit) (func(), time.Duration, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.calls++
	if w.err != nil {
		return nil, 0, w.err
	}
	now := w.clock.Now()
	var wait time.Duration
	for _, lim := range limits {
		n := 0
		var oldestEnd time.Time
		for _, r := range w.log {
			if !r.done || r.end.After(now.Add(-lim.Window)) {
				n++
				if r.done && (oldestEnd.IsZero() || r.end.Before(oldestEnd)) {
					oldestEnd = r.end
				}
			}
		}
		if n >= lim.Requests {
			d := lim.Window
			if !oldestEnd.IsZero() {
				d = oldestEnd.Add(lim.Window).Sub(now)
			}
			wait = max(wait, max(d, time.Millisecond))
		}
	}
	if wait > 0 {
		return nil, wait, nil
	}
	r := &memReq{start: now}
	w.log = append(w.log, r)
	return func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		r.done, r.end = true, w.clock.Now()
	}, 0, nil
}

// Two clients sharing one window never exceed the limit together, although
// each alone would allow the whole budget.
func TestSharedWindowTwoClientsStayUnderTheLimit(t *testing.T) {
	clock := newFakeClock()
	shared := &memWindow{clock: clock}
	limits := []Limit{{Requests: 10, Window: time.Second}}
	var lims []*limiter
	for range 2 {
		l, err := newLimiter(limits, clock.Now, clock.Sleep)
		if err != nil {
			t.Fatal(err)
		}
		l.shared, l.api = shared, "v2"
		lims = append(lims, l)
	}
	ctx := context.Background()
	for i := range 200 {
		s, err := lims[i%2].acquire(ctx)
		if err != nil {
			t.Fatal(err)
		}
		clock.Sleep(ctx, 10*time.Millisecond) // latency
		s.release()
	}
	span := effectiveWindow(time.Second)
	for k, r := range shared.log {
		n := 0
		for _, e := range shared.log[:k] {
			if e.end.After(r.start.Add(-span)) {
				n++
			}
		}
		if n >= 10 {
			t.Fatalf("request %d started with %d requests of both clients in the window", k, n)
		}
	}
	if got := len(shared.log); got != 200 {
		t.Errorf("shared log holds %d requests, want 200", got)
	}
	// Each limiter alone saw only half the requests: without the shared
	// window each would have sent 10 per second.
	if elapsed := clock.Now().Sub(clockStart); elapsed < 19*time.Second {
		t.Errorf("200 requests at 10 per second took %s", elapsed)
	}
}

func TestSharedWindowErrors(t *testing.T) {
	tests := []struct {
		name    string
		err     error
		wantErr bool
	}{
		{"shared log unreachable: nothing is sent", errors.New("connection refused"), true},
		{"shared log answers", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newFakeClock()
			shared := &memWindow{clock: clock, err: tt.err}
			l, _ := newLimiter([]Limit{{Requests: 1, Window: time.Second}}, clock.Now, clock.Sleep)
			l.shared = shared
			s, err := l.acquire(context.Background())
			if (err != nil) != tt.wantErr {
				t.Fatalf("acquire = %v, want error %v", err, tt.wantErr)
			}
			if err != nil {
				if len(l.slots) != 0 {
					t.Errorf("a refused request still holds a local slot")
				}
				return
			}
			s.release()
			if !shared.log[0].done {
				t.Errorf("release did not reach the shared window")
			}
		})
	}
}
