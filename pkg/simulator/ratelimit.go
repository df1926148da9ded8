package simulator

import (
	"sort"
	"sync"
	"time"
)

// limiter enforces rolling windows per key with a log of accepted request
// times. Rejected requests are not logged, so a client that keeps calling
// while limited gets through again as soon as the oldest request leaves the
// window.
type limiter struct {
	limits []Limit
	maxWin time.Duration

	mu  sync.Mutex
	log map[string][]time.Time // accepted request times, oldest first
}

func newLimiter(limits []Limit) *limiter {
	l := &limiter{limits: limits, log: map[string][]time.Time{}}
	for _, lim := range limits {
		if lim.Window > l.maxWin {
			l.maxWin = lim.Window
		}
	}
	return l
}

// allow records a request for key at now if every window has room. When it
// has not, it returns false and how long until the fullest window frees a slot.
func (l *limiter) allow(key string, now time.Time) (bool, time.Duration) {
	if len(l.limits) == 0 {
		return true, 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	times := l.log[key]
	// Forget what has left the longest window.
	cut := sort.Search(len(times), func(i int) bool { return times[i].After(now.Add(-l.maxWin)) })
	times = times[cut:]

	var wait time.Duration
	for _, lim := range l.limits {
		start := now.Add(-lim.Window)
		first := sort.Search(len(times), func(i int) bool { return times[i].After(start) })
		inWindow := len(times) - first
		if inWindow >= lim.Requests {
			// The request at len-Requests must leave the window before another fits.
			w := times[len(times)-lim.Requests].Add(lim.Window).Sub(now)
			if w > wait {
				wait = w
			}
		}
	}
	if wait > 0 {
		l.log[key] = times
		return false, wait
	}
	// Keep the log sorted even if the simulator clock was moved backwards.
	at := sort.Search(len(times), func(i int) bool { return times[i].After(now) })
	times = append(times, time.Time{})
	copy(times[at+1:], times[at:])
	times[at] = now
	l.log[key] = times
	return true, 0
}
