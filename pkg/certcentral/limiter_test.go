package certcentral

import (
	"context"
	"errors"
	"sort"
	"sync"
	"testing"
	"time"
)

// fakeClock is a clock whose Sleep advances time instead of waiting.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

var clockStart = time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)

func newFakeClock() *fakeClock { return &fakeClock{now: clockStart} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	return nil
}

// checkLog verifies the limiter's promise on a finished log: when request k
// started, fewer than Requests earlier requests (in acquisition order) had
// not yet ended or had ended within the effective window. So any Requests+1
// requests reach the server at least a window apart, whatever the latency.
func checkLog(t *testing.T, slots []*slot, limits []Limit) {
	t.Helper()
	sort.Slice(slots, func(i, j int) bool { return slots[i].seq < slots[j].seq })
	for _, lim := range limits {
		span := effectiveWindow(lim.Window)
		first := 0 // slots before first ended before any later start - span
		for k, s := range slots {
			for first < k && !slots[first].end.After(s.start.Add(-span)) {
				first++
			}
			n := 0
			for j := first; j < k; j++ {
				if slots[j].end.After(s.start.Add(-span)) {
					n++
				}
			}
			if n >= lim.Requests {
				t.Fatalf("limit %s: request %d started with %d earlier requests inside the window", lim, k, n)
			}
		}
	}
}

// run sends n requests one after another, each taking latency.
func runSequential(t *testing.T, l *limiter, clock *fakeClock, n int, latency time.Duration) []*slot {
	t.Helper()
	out := make([]*slot, 0, n)
	for i := 0; i < n; i++ {
		s, err := l.acquire(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		_ = clock.Sleep(context.Background(), latency)
		s.release()
		out = append(out, s)
	}
	return out
}

func TestEffectiveWindow(t *testing.T) {
	if got, want := effectiveWindow(5*time.Second), 5*time.Second+25*time.Millisecond+10*time.Millisecond; got != want {
		t.Errorf("effectiveWindow(5s) = %v, want %v", got, want)
	}
	if got, want := effectiveWindow(3*time.Minute), 3*time.Minute+900*time.Millisecond+10*time.Millisecond; got != want {
		t.Errorf("effectiveWindow(3m) = %v, want %v", got, want)
	}
}

// TestLimiterSustainedRate measures, on a fake clock, the rate a long
// sequential run sustains under the documented limits with 20ms requests.
func TestLimiterSustainedRate(t *testing.T) {
	tests := []struct {
		name   string
		limits []Limit
		n      int
		ideal  time.Duration // when the documented limits allow request n to start
	}{
		{"100/5s", []Limit{{100, 5 * time.Second}}, 1001, 10 * 5 * time.Second},
		{"documented", DefaultLimits(), 5001, 5 * 3 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newFakeClock()
			l, err := newLimiter(tt.limits, clock.Now, clock.Sleep)
			if err != nil {
				t.Fatal(err)
			}
			slots := runSequential(t, l, clock, tt.n, 20*time.Millisecond)
			checkLog(t, slots, tt.limits)
			if got := slots[99].start.Sub(slots[0].start); got != 99*20*time.Millisecond {
				t.Errorf("the first 100 requests took %v, want no waiting", got)
			}
			elapsed := slots[tt.n-1].start.Sub(slots[0].start)
			ratio := float64(tt.ideal) / float64(elapsed)
			t.Logf("%d requests started over %v (ideal %v): %.1f%% of the limit", tt.n, elapsed, tt.ideal, 100*ratio)
			if ratio < 0.90 || ratio > 1 {
				t.Errorf("sustained %.1f%% of the limit, want 90%%..100%%", 100*ratio)
			}
		})
	}
}

func TestLimiterConcurrent(t *testing.T) {
	clock := newFakeClock()
	limits := []Limit{{Requests: 10, Window: time.Second}, {Requests: 50, Window: 10 * time.Second}}
	l, _ := newLimiter(limits, clock.Now, clock.Sleep)
	var (
		mu    sync.Mutex
		slots []*slot
		wg    sync.WaitGroup
	)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				s, err := l.acquire(context.Background())
				if err != nil {
					t.Error(err)
					return
				}
				_ = clock.Sleep(context.Background(), 3*time.Millisecond)
				s.release()
				mu.Lock()
				slots = append(slots, s)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(slots) != 400 {
		t.Fatalf("got %d requests, want 400", len(slots))
	}
	checkLog(t, slots, limits)
}

// TestLimiterCountsInFlightRequests: a request still waiting for its response
// holds its place, and its release wakes the next waiter.
func TestLimiterCountsInFlightRequests(t *testing.T) {
	clock := newFakeClock()
	blocked := make(chan struct{})
	var calls int
	sleep := func(ctx context.Context, d time.Duration) error {
		calls++
		if calls == 1 { // waiting on the request in flight: only a release helps
			close(blocked)
			<-ctx.Done()
			return ctx.Err()
		}
		return clock.Sleep(ctx, d)
	}
	l, _ := newLimiter([]Limit{{Requests: 1, Window: time.Second}}, clock.Now, sleep)
	first, err := l.acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan *slot)
	go func() {
		s, err := l.acquire(context.Background())
		if err != nil {
			t.Error(err)
		}
		got <- s
	}()
	<-blocked
	_ = clock.Sleep(context.Background(), 10*time.Second) // a slow response
	select {
	case <-got:
		t.Fatal("second request started while the first was in flight")
	default:
	}
	first.release()
	second := <-got
	if want := first.end.Add(effectiveWindow(time.Second)); second.start.Before(want) {
		t.Errorf("second request started at %v, want >= %v (first ended + window)", second.start.Sub(clockStart), want.Sub(clockStart))
	}
}

func TestLimiterCancelled(t *testing.T) {
	clock := newFakeClock()
	ctx, cancel := context.WithCancel(context.Background())
	sleep := func(ctx context.Context, d time.Duration) error {
		cancel()
		return ctx.Err()
	}
	l, _ := newLimiter([]Limit{{Requests: 1, Window: time.Hour}}, clock.Now, sleep)
	s, err := l.acquire(ctx)
	if err != nil {
		t.Fatalf("first acquire: %v", err)
	}
	s.release()
	if _, err := l.acquire(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("acquire = %v, want context.Canceled", err)
	}
	if _, err := l.acquire(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("acquire on a cancelled context = %v", err)
	}
	if len(l.slots) != 1 {
		t.Errorf("a cancelled acquire left a slot: %d slots", len(l.slots))
	}
}

func TestLimiterNoLimits(t *testing.T) {
	l, err := newLimiter([]Limit{}, time.Now, func(context.Context, time.Duration) error {
		t.Fatal("slept without limits")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 1000; i++ {
		s, err := l.acquire(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		s.release()
	}
}

func TestLimiterForgetsOldRequests(t *testing.T) {
	clock := newFakeClock()
	l, _ := newLimiter([]Limit{{Requests: 5, Window: time.Second}}, clock.Now, clock.Sleep)
	runSequential(t, l, clock, 1000, 10*time.Millisecond)
	if n := len(l.slots); n > 10 {
		t.Errorf("the log holds %d requests, want only those of the last window", n)
	}
}

func TestLimiterRejectsBadLimits(t *testing.T) {
	for _, lim := range []Limit{{0, time.Second}, {1, 0}, {-1, time.Second}} {
		if _, err := newLimiter([]Limit{lim}, time.Now, sleepCtx); err == nil {
			t.Errorf("newLimiter(%v) accepted", lim)
		}
	}
}

// BenchmarkLimiter is the cost of one acquire/release with the documented
// limits and a full log (1000 requests in the long window).
func BenchmarkLimiter(b *testing.B) {
	clock := newFakeClock()
	l, _ := newLimiter(DefaultLimits(), clock.Now, clock.Sleep)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		s, _ := l.acquire(context.Background())
		_ = clock.Sleep(context.Background(), 10*time.Millisecond)
		s.release()
	}
}
