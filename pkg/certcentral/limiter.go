package certcentral

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"
)

// Limit is one rolling-window rate limit: at most Requests may start within
// any Window.
type Limit struct {
	Requests int
	Window   time.Duration
}

func (l Limit) String() string { return fmt.Sprintf("%d per %s", l.Requests, l.Window) }

// DefaultLimits are CertCentral's documented per-key limits: 100 requests per
// 5 seconds and 1000 per 3 minutes.
func DefaultLimits() []Limit {
	return []Limit{{Requests: 100, Window: 5 * time.Second}, {Requests: 1000, Window: 3 * time.Minute}}
}

// DefaultLegacyLimits is the REST v1 limit of its era: about 1000 requests per hour.
func DefaultLegacyLimits() []Limit {
	return []Limit{{Requests: 1000, Window: time.Hour}}
}

// The server counts a request when it receives it, which is some time between
// the moment the client starts it and the moment the response arrives. So the
// limiter keeps each request in the log until its response has arrived, and a
// request may start only when fewer than Requests earlier ones are still in
// flight or ended within the window. Then any two requests Requests apart
// reach the server at least a window apart, whatever the latency. On top,
// every window is widened by a small safety margin of 0.5% + 10ms (inclusive
// window boundaries, coarse server clocks): the guarantee above already
// holds without it, so a larger margin would only cost throughput. A run
// reaches about 99% of the documented limits, less one request latency per
// window.
const (
	windowMarginRatio = 0.005
	windowMarginFixed = 10 * time.Millisecond
)

func effectiveWindow(w time.Duration) time.Duration {
	return w + time.Duration(float64(w)*windowMarginRatio) + windowMarginFixed
}

// SharedWindow is a request log kept outside the process, consulted by the
// limiter for every request after its own check, so that every run using
// one API key (a pull-request plan, a merge apply, a scheduled run) stays
// under the key's limits together instead of each assuming the whole budget
// is its own. pgstate keeps one in the state database. Without one (the
// default) the limiter counts this process's requests only.
type SharedWindow interface {
	// Acquire records a request about to start, for the API api ("v2" or
	// "v1"), if one more fits within every limit counting every run's
	// requests (in flight, or ended within the window), and returns a
	// release func to call once the response has arrived. Otherwise it
	// records nothing and returns how long to wait before asking again. An
	// error means the request must not be sent.
	Acquire(ctx context.Context, api string, limits []Limit) (release func(), wait time.Duration, err error)
}

// limiter is a sliding-window log shared by all goroutines of a Client.
type limiter struct {
	mu      sync.Mutex
	windows []window
	limits  []Limit      // the effective windows, for shared
	shared  SharedWindow // nil: this process only
	api     string       // "v2" or "v1", for shared
	maxSpan time.Duration
	slots   []*slot       // requests that may still count in a window, in start order
	wake    chan struct{} // closed and replaced whenever a slot is released
	seq     uint64        // numbers the slots in acquisition order
	now     func() time.Time
	sleep   func(context.Context, time.Duration) error
}

type window struct {
	requests int
	span     time.Duration // effective window
}

// slot is one request in the log: in flight until released.
type slot struct {
	l          *limiter
	seq        uint64
	start, end time.Time
	done       bool
	shared     func() // releases the request in the shared window
}

func newLimiter(limits []Limit, now func() time.Time, sleep func(context.Context, time.Duration) error) (*limiter, error) {
	l := &limiter{now: now, sleep: sleep, wake: make(chan struct{})}
	for _, lim := range limits {
		if lim.Requests <= 0 || lim.Window <= 0 {
			return nil, fmt.Errorf("rate limit %q: requests and window must be positive", lim)
		}
		w := window{requests: lim.Requests, span: effectiveWindow(lim.Window)}
		l.windows = append(l.windows, w)
		l.limits = append(l.limits, Limit{Requests: w.requests, Window: w.span})
		l.maxSpan = max(l.maxSpan, w.span)
	}
	return l, nil
}

// acquire blocks until a request may start and records it. Call release on
// the slot once the response (or the failure) has arrived; a nil slot (no
// limits) may be released too. It returns ctx's error if the context ends
// first: then nothing may be sent.
func (l *limiter) acquire(ctx context.Context) (*slot, error) {
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if l == nil || len(l.windows) == 0 {
			return nil, nil
		}
		l.mu.Lock()
		now := l.now()
		l.prune(now)
		wait, ok := l.check(now)
		if ok {
			l.seq++
			s := &slot{l: l, seq: l.seq, start: now}
			l.slots = append(l.slots, s)
			l.mu.Unlock()
			if l.shared == nil {
				return s, nil
			}
			release, wait, err := l.shared.Acquire(ctx, l.api, l.limits)
			if err != nil {
				l.drop(s)
				return nil, fmt.Errorf("shared rate limit: %w", err)
			}
			if wait <= 0 {
				s.shared = release
				return s, nil
			}
			// Other runs used the budget: give the slot back and wait.
			l.drop(s)
			if err := l.sleep(ctx, wait); err != nil {
				return nil, err
			}
			continue
		}
		wake := l.wake
		l.mu.Unlock()
		if err := l.waitFor(ctx, wait, wake); err != nil {
			return nil, err
		}
	}
}

// check reports whether a request may start now, and if not, how long until
// time alone could allow it (a release may allow it sooner).
func (l *limiter) check(now time.Time) (time.Duration, bool) {
	var wait time.Duration
	ok := true
	for _, w := range l.windows {
		since := now.Add(-w.span)
		count := 0
		for _, s := range l.slots {
			if !s.done || s.end.After(since) {
				count++
			}
		}
		if count < w.requests {
			continue
		}
		ok = false
		var ends []time.Time
		for _, s := range l.slots {
			if s.done && s.end.After(since) {
				ends = append(ends, s.end)
			}
		}
		need := count - w.requests + 1 // slots that must leave the window
		d := w.span                    // only releases can help: re-check after a window at the latest
		if need <= len(ends) {
			slices.SortFunc(ends, func(a, b time.Time) int { return a.Compare(b) })
			d = ends[need-1].Add(w.span).Sub(now)
		}
		wait = max(wait, d)
	}
	return wait, ok
}

// prune forgets slots that have left every window.
func (l *limiter) prune(now time.Time) {
	cut := now.Add(-l.maxSpan)
	l.slots = slices.DeleteFunc(l.slots, func(s *slot) bool { return s.done && !s.end.After(cut) })
}

// waitFor sleeps for d, or until a slot is released, or until ctx ends.
func (l *limiter) waitFor(ctx context.Context, d time.Duration, wake <-chan struct{}) error {
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-wake:
			cancel()
		case <-sctx.Done():
		}
	}()
	err := l.sleep(sctx, d)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if err != nil && sctx.Err() == nil {
		return err
	}
	return nil
}

// release marks the request finished: it counts in the windows from now on.
func (s *slot) release() {
	if s == nil {
		return
	}
	l := s.l
	l.mu.Lock()
	if s.done {
		l.mu.Unlock()
		return
	}
	s.done, s.end = true, l.now()
	shared := s.shared
	close(l.wake)
	l.wake = make(chan struct{})
	l.mu.Unlock()
	if shared != nil {
		shared()
	}
}

// drop forgets a slot whose request was never sent.
func (l *limiter) drop(s *slot) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.slots = slices.DeleteFunc(l.slots, func(x *slot) bool { return x == s })
	close(l.wake)
	l.wake = make(chan struct{})
}

// sleepCtx waits for d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
