package certcentral

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Time limits, used when the Config leaves them zero.
const (
	// DefaultRequestTimeout bounds one call: its attempts and the backoff
	// between them, not the waits for the rate limit.
	DefaultRequestTimeout = 90 * time.Second
	// DefaultRateLimitWait is how long one call waits out CertCentral's rate
	// limit after 429 answers, all its waits together: the longest of
	// CertCentral's windows (1000 requests per 3 minutes), so that a run
	// sharing its API key with another finishes instead of failing.
	DefaultRateLimitWait = 3 * time.Minute
	// maxRateLimitRetries bounds the 429 retries of one call whatever the
	// waits (a server sending Retry-After: 0 forever).
	maxRateLimitRetries = 100
)

// TimeLimit names the limit that ended a request.
type TimeLimit int

// The time limits of a request.
const (
	// LimitRequest is the request timeout (Config.RequestTimeout, or the
	// attempt timeout Config.Timeout).
	LimitRequest TimeLimit = iota
	// LimitRun is the run's time limit (Config.RunTimeout).
	LimitRun
)

// TimeoutError says which time limit ended a request, after how long, and
// what to do about it. It unwraps to context.DeadlineExceeded and is a
// net.Error whose Timeout is true, so IsTimeout reports it. The enclosing
// *RequestError names the request and says whether it was sent.
type TimeoutError struct {
	Limit   TimeLimit
	Setting time.Duration // the configured limit
	After   time.Duration // how long the attempt waited for an answer (0: never sent)
	// Waiting is what the request was waiting for when the run's time ran
	// out before it was sent ("CertCentral's rate-limit window", ...); "" when
	// it was sent.
	Waiting string
}

func (e *TimeoutError) Error() string {
	switch {
	case e.Limit == LimitRun && e.Waiting != "":
		return fmt.Sprintf("not sent: waiting for %s would run past the run's time limit of %s (--timeout / CERTPLAN_TIMEOUT); run the command again later (an interrupted apply resumes), or raise --timeout",
			e.Waiting, e.Setting)
	case e.Limit == LimitRun:
		return fmt.Sprintf("no response after %s, when the run's time limit of %s ran out (--timeout / CERTPLAN_TIMEOUT); run the command again (an interrupted apply resumes), or raise --timeout",
			e.After.Round(time.Millisecond), e.Setting)
	case e.Waiting != "":
		return fmt.Sprintf("not sent: the request timeout of %s (--request-timeout / CERTPLAN_REQUEST_TIMEOUT) ran out while waiting for %s; try again later",
			e.Setting, e.Waiting)
	}
	return fmt.Sprintf("no response within %s (the request timeout, --request-timeout / CERTPLAN_REQUEST_TIMEOUT: %s): CertCentral or the network did not answer; try again later, or raise --request-timeout if CertCentral is only slow",
		e.After.Round(time.Millisecond), e.Setting)
}

// Unwrap makes errors.Is(err, context.DeadlineExceeded) true.
func (e *TimeoutError) Unwrap() error { return context.DeadlineExceeded }

// Timeout reports true (net.Error).
func (e *TimeoutError) Timeout() bool { return true }

// Temporary reports true (net.Error).
func (e *TimeoutError) Temporary() bool { return true }

// clock is the client's sense of time: the injectable Now and Sleep, and
// the run's deadline, which no wait may pass and after which nothing is sent.
type clock struct {
	now      func() time.Time
	sleep    func(ctx context.Context, d time.Duration) error
	deadline time.Time     // zero: none
	run      time.Duration // the run's time limit, for messages
}

// pastDeadline returns the error for a request not sent because the run's
// time is up (waiting says for what), or nil.
func (k *clock) pastDeadline(at time.Time, waiting string) error {
	if k.deadline.IsZero() || at.Before(k.deadline) {
		return nil
	}
	return &TimeoutError{Limit: LimitRun, Setting: k.run, Waiting: waiting}
}

// sleepFor waits d, or fails at once if that would run past the deadline.
// For waits of a known length (backoff, CertCentral's window).
func (k *clock) sleepFor(ctx context.Context, d time.Duration, waiting string) error {
	if err := k.pastDeadline(k.now().Add(d), waiting); err != nil {
		return err
	}
	return k.sleep(ctx, d)
}

// sleepUntilDeadline waits d, but not past the deadline, where it fails. For
// the limiter, whose waits may end early (a slot is released).
func (k *clock) sleepUntilDeadline(ctx context.Context, d time.Duration) error {
	if k.deadline.IsZero() {
		return k.sleep(ctx, d)
	}
	const waiting = "the client-side rate limiter"
	rem := k.deadline.Sub(k.now())
	if rem <= 0 {
		return &TimeoutError{Limit: LimitRun, Setting: k.run, Waiting: waiting}
	}
	if d <= rem {
		return k.sleep(ctx, d)
	}
	if err := k.sleep(ctx, rem); err != nil {
		return err
	}
	return &TimeoutError{Limit: LimitRun, Setting: k.run, Waiting: waiting}
}

// rateGate holds every call of a Client back while CertCentral's rate-limit
// window, announced by a 429, runs: the key's budget is shared by all of
// them (and by other processes using the key), so one 429 pauses the client,
// not only the call that received it.
type rateGate struct {
	mu        sync.Mutex
	until     time.Time
	announced time.Time // when a pause was last announced
}

// pause holds calls back until now+d. It reports whether to announce it: not
// when a pause was announced within the last quiet period (announce once per
// rate-limited stretch, not once per call or per retry).
func (g *rateGate) pause(now time.Time, d, quiet time.Duration) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if end := now.Add(d); end.After(g.until) {
		g.until = end
	}
	if !g.announced.IsZero() && now.Before(g.announced.Add(quiet)) {
		return false
	}
	g.announced = now
	return true
}

// remaining is how long a call is still held back at now, unless it has
// already waited until the end of the pause (heldUntil: the end of its own
// wait after a 429).
func (g *rateGate) remaining(now, heldUntil time.Time) time.Duration {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.until.After(heldUntil) {
		return 0
	}
	return max(0, g.until.Sub(now))
}
