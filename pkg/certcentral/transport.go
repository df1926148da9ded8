package certcentral

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
)

// errNotSent marks failures that happened before a request left the client.
var errNotSent = errors.New("request not sent")

type notSentError struct{ err error }

func (e *notSentError) Error() string   { return "request not sent: " + e.err.Error() }
func (e *notSentError) Unwrap() []error { return []error{errNotSent, e.err} }

// callState follows one logical call (all its attempts) through go-retryablehttp.
// It rides in the request context; attempts of one call run one after another
// on the caller's goroutine, so it needs no lock.
type callState struct {
	method  string
	path    string // for logs: relative path and query
	lim     *limiter
	attempt int
	wait    time.Duration // backoff to wait before the next attempt
	// waitRate: wait is for CertCentral's rate-limit window (after a 429),
	// which lasts until heldUntil.
	waitRate  bool
	heldUntil time.Time

	// budgetEnd is when the request timeout runs out: set at the first
	// attempt, pushed back by every wait for the rate limit.
	budgetEnd   time.Time
	retries     int           // retries after failures other than 429
	rateRetries int           // retries after 429s
	rateWaited  time.Duration // waited for CertCentral's window after 429s
	note        string        // why no further retry was made, for the error

	// The current attempt's time limit, for a timeout while reading the body.
	limit        TimeLimit
	limitSetting time.Duration
	limitAfter   time.Duration
}

type callKey struct{}

func withCall(ctx context.Context, st *callState) context.Context {
	return context.WithValue(ctx, callKey{}, st)
}

func callFrom(ctx context.Context) *callState {
	st, _ := ctx.Value(callKey{}).(*callState)
	return st
}

// transport is the http.RoundTripper under go-retryablehttp. Before every
// attempt it waits out the retry backoff and the rate limiter (both through the
// injectable sleep, both cancellable), then counts and sends the request,
// releases its limiter slot when the response arrives, and logs one debug line
// per attempt: never headers or bodies.
type transport struct {
	next           http.RoundTripper
	calls          *atomic.Int64
	log            zerolog.Logger
	clock          *clock
	gate           *rateGate
	timeout        time.Duration // per attempt, from sending to closing the body
	requestTimeout time.Duration // per call, attempts and backoff (callState.budgetEnd)
	secrets        []string      // redacted from anything logged
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	st := callFrom(ctx)
	if st == nil {
		st = &callState{method: req.Method, path: req.URL.Path}
	}
	st.attempt++
	k := t.clock
	if st.budgetEnd.IsZero() {
		st.budgetEnd = k.now().Add(t.requestTimeout)
	}
	// The backoff after a failure counts against the request timeout; the
	// waits for the rate limit do not: CertCentral's window after a 429 (this
	// call's, or another call's of this client), then the client's own
	// limiter.
	if st.wait > 0 && !st.waitRate {
		d := st.wait
		st.wait = 0
		if err := k.sleepFor(ctx, d, "the next attempt"); err != nil {
			return nil, &notSentError{err}
		}
	}
	waitStart := k.now()
	if st.wait > 0 {
		d := st.wait
		st.wait, st.waitRate = 0, false
		if err := k.sleepFor(ctx, d, "CertCentral's rate-limit window"); err != nil {
			return nil, &notSentError{err}
		}
	}
	if d := t.gate.remaining(k.now(), st.heldUntil); d > 0 {
		if err := k.sleepFor(ctx, d, "CertCentral's rate-limit window"); err != nil {
			return nil, &notSentError{err}
		}
	}
	if err := k.pastDeadline(k.now(), "a chance to send it"); err != nil {
		return nil, &notSentError{err}
	}
	s, err := st.lim.acquire(ctx)
	if err != nil {
		return nil, &notSentError{err}
	}
	start := k.now()
	st.budgetEnd = st.budgetEnd.Add(start.Sub(waitStart))
	// The attempt's time limit starts only now, after the waits, and lasts
	// until the response body is closed: the attempt timeout, within what is
	// left of the request timeout, and for a read within the run's time (an
	// order in flight keeps its own, so the run's limit never makes its
	// outcome unknown).
	limit, kind, setting := t.timeout, LimitRequest, t.timeout
	if rem := st.budgetEnd.Sub(start); rem < limit {
		limit, setting = rem, t.requestTimeout
	}
	if !k.deadline.IsZero() && req.Method == http.MethodGet {
		if rem := k.deadline.Sub(start); rem < limit {
			limit, kind, setting = rem, LimitRun, k.run
		}
	}
	if limit <= 0 {
		s.release()
		return nil, &notSentError{&TimeoutError{Limit: kind, Setting: setting, Waiting: "a chance to send it"}}
	}
	st.limit, st.limitSetting, st.limitAfter = kind, setting, limit
	t.calls.Add(1)
	actx, cancel := context.WithTimeout(ctx, limit)
	resp, err := t.next.RoundTrip(req.WithContext(actx))
	s.release() // the server has received the request by now, or never will
	ev := t.log.Debug().Str("method", st.method).Str("path", st.path).Int("attempt", st.attempt).
		Dur("duration", k.now().Sub(start))
	if err != nil {
		if errors.Is(actx.Err(), context.DeadlineExceeded) && ctx.Err() == nil {
			// This attempt's own time ran out: say which limit, and after how long.
			err = &TimeoutError{Limit: kind, Setting: setting, After: limit}
		}
		cancel()
		ev.Str("error", sanitize(err.Error(), maxMessageLen, t.secrets)).Msg("certcentral request failed")
		return nil, err
	}
	resp.Body = &cancelOnClose{ReadCloser: resp.Body, cancel: cancel}
	ev.Int("status", resp.StatusCode)
	if resp.StatusCode >= 400 {
		body, rerr := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		resp.Body.Close()
		resp.Body = io.NopCloser(bytes.NewReader(body))
		if rerr != nil {
			ev.Str("error", sanitize(rerr.Error(), maxMessageLen, t.secrets))
		}
		details, _ := parseErrorBody(body, t.secrets...)
		codes := make([]string, 0, len(details))
		for _, d := range details {
			codes = append(codes, d.FullCode())
		}
		ev.Strs("error_codes", codes)
	}
	ev.Msg("certcentral request")
	return resp, nil
}

// CloseIdleConnections lets go-retryablehttp and http.Client reach the real transport.
func (t *transport) CloseIdleConnections() {
	if ci, ok := t.next.(interface{ CloseIdleConnections() }); ok {
		ci.CloseIdleConnections()
	}
}

// cancelOnClose ends an attempt's timeout context when its body is closed.
type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b *cancelOnClose) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}
