package certcentral_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/certplan/certplan/pkg/certcentral"
)

const (
	testKey       = "tEsTkEy0123456789ABCDEFGHIJKLMNOP"
	testAccountID = "001007"
)

// seen is one request as the fake server received it.
type seen struct {
	Method, Path, RawQuery string
	Header                 http.Header
	Body                   []byte
}

// URL is the request's path and query.
func (s seen) URL() *url.URL { return &url.URL{Path: s.Path, RawQuery: s.RawQuery} }

// fakeAPI is an httptest server whose handler the test supplies; it records
// every request.
type fakeAPI struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []seen
}

func newFakeAPI(t *testing.T, h http.HandlerFunc) *fakeAPI {
	t.Helper()
	f := &fakeAPI{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.reqs = append(f.reqs, seen{Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery, Header: r.Header.Clone(), Body: body})
		f.mu.Unlock()
		r.Body = io.NopCloser(bytes.NewReader(body))
		h(w, r)
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeAPI) requests() []seen {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]seen(nil), f.reqs...)
}

// config is a client configuration for f: v2 under /services/v2, v1 at the
// root, no client-side limits, tiny retry waits.
func (f *fakeAPI) config() certcentral.Config {
	return certcentral.Config{
		Endpoint:       f.URL + "/services/v2",
		LegacyEndpoint: f.URL,
		APIKey:         testKey,
		AccountID:      testAccountID,
		UserAgent:      "certplan/test",
		Limits:         []certcentral.Limit{},
		RetryMax:       3,
		RetryWaitMin:   time.Millisecond,
		RetryWaitMax:   2 * time.Millisecond,
	}
}

func (f *fakeAPI) client(t *testing.T, mods ...func(*certcentral.Config)) *certcentral.Client {
	t.Helper()
	return newClient(t, f.config(), mods...)
}

// newClient builds a client from cfg after applying mods.
func newClient(t *testing.T, cfg certcentral.Config, mods ...func(*certcentral.Config)) *certcentral.Client {
	t.Helper()
	for _, m := range mods {
		m(&cfg)
	}
	c, err := certcentral.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

// sleepRecorder is an injectable Sleep that records waits and returns at once.
type sleepRecorder struct {
	mu     sync.Mutex
	sleeps []time.Duration
}

func (s *sleepRecorder) Sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.sleeps = append(s.sleeps, d)
	s.mu.Unlock()
	return ctx.Err()
}

func (s *sleepRecorder) all() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.sleeps...)
}

func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

// hangUp closes the connection without answering, after the request was read.
func hangUp(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic("no hijacker")
	}
	conn, _, err := hj.Hijack()
	if err == nil {
		conn.Close()
	}
}
