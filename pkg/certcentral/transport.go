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
	next    http.RoundTripper
	calls   *atomic.Int64
	log     zerolog.Logger
	now     func() time.Time
	sleep   func(context.Context, time.Duration) error
	timeout time.Duration // per attempt, from sending to closing the body
	secrets []string      // redacted from anything logged
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	st := callFrom(ctx)
	if st == nil {
		st = &callState{method: req.Method, path: req.URL.Path}
	}
	st.attempt++
	if st.wait > 0 {
		d := st.wait
		st.wait = 0
		if err := t.sleep(ctx, d); err != nil {
			return nil, &notSentError{err}
		}
	}
	s, err := st.lim.acquire(ctx)
	if err != nil {
		return nil, &notSentError{err}
	}
	t.calls.Add(1)
	start := t.now()
	// The attempt timeout starts only now, after the waits, and lasts until
	// the response body is closed.
	actx, cancel := context.WithTimeout(ctx, t.timeout)
	resp, err := t.next.RoundTrip(req.WithContext(actx))
	s.release() // the server has received the request by now, or never will
	ev := t.log.Debug().Str("method", st.method).Str("path", st.path).Int("attempt", st.attempt).
		Dur("duration", t.now().Sub(start))
	if err != nil {
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
