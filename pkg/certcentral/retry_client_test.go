package certcentral_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/certplan/certplan/pkg/certcentral"
	"github.com/certplan/certplan/pkg/spec"
)

// step is one scripted answer of the fake server.
type step func(http.ResponseWriter)

func (s step) handler() http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) { s(w) }
}

// script answers the n-th request (0-based) with steps[n], repeating the last.
func script(steps ...step) http.HandlerFunc {
	var n atomic.Int64
	return func(w http.ResponseWriter, r *http.Request) {
		i := int(n.Add(1) - 1)
		if i >= len(steps) {
			i = len(steps) - 1
		}
		steps[i](w)
	}
}

func status(code int, body string) step {
	return func(w http.ResponseWriter) { writeJSON(w, code, body) }
}

func tooMany(retryAfter string) step {
	return func(w http.ResponseWriter) {
		if retryAfter != "" {
			w.Header().Set("Retry-After", retryAfter)
		}
		writeJSON(w, 429, `{"errors":[{"code":"request_limit_exceeded","message":"slow down"}]}`)
	}
}

var (
	placed    = status(201, `{"id":1001,"requests":[{"id":2001,"status":"pending"}]}`)
	orderInfo = status(200, `{"id":1001,"status":"issued"}`)
	down      = status(503, `{"errors":[{"code":"service_unavailable","message":"down"}]}`)
)

func TestRetries(t *testing.T) {
	place := func(ctx context.Context, c *certcentral.Client) error {
		_, err := c.PlaceOrder(ctx, spec.SecureSiteFlex, []byte(`{"order_validity":{"years":1}}`))
		return err
	}
	info := func(ctx context.Context, c *certcentral.Client) error {
		_, err := c.OrderInfo(ctx, 1001)
		return err
	}
	tests := []struct {
		name      string
		call      func(context.Context, *certcentral.Client) error
		steps     []step
		wantCalls int
		wantErr   func(error) bool // nil: want success
		wantWaits []time.Duration  // nil: don't check
	}{
		{name: "GET retried on 5xx until success", call: info, steps: []step{down, status(500, `{}`), orderInfo}, wantCalls: 3},
		{name: "GET retried on reset", call: info, steps: []step{hangUp, orderInfo}, wantCalls: 2},
		{name: "GET retried on 429 honouring Retry-After", call: info, steps: []step{tooMany("3"), orderInfo}, wantCalls: 2, wantWaits: []time.Duration{3 * time.Second}},
		{name: "GET gives up after RetryMax", call: info, steps: []step{down}, wantCalls: 4,
			wantErr: func(err error) bool { return certcentral.IsRetryable(err) && certcentral.OutcomeUnknown(err) }},
		{name: "GET not retried on 404", call: info, steps: []step{status(404, `{"errors":[{"code":"not_found|order"}]}`)}, wantCalls: 1,
			wantErr: certcentral.IsNotFound},
		{name: "POST not retried on 503", call: place, steps: []step{down, placed}, wantCalls: 1,
			wantErr: func(err error) bool { return certcentral.OutcomeUnknown(err) && !certcentral.NothingCreated(err) }},
		{name: "POST not retried on 500", call: place, steps: []step{status(500, `{}`), placed}, wantCalls: 1,
			wantErr: certcentral.OutcomeUnknown},
		{name: "POST not retried on reset", call: place, steps: []step{hangUp, placed}, wantCalls: 1,
			wantErr: func(err error) bool {
				var re *certcentral.RequestError
				return errors.As(err, &re) && re.Stage == certcentral.StageInFlight && certcentral.OutcomeUnknown(err) && !certcentral.NothingCreated(err)
			}},
		{name: "POST not retried on 400", call: place, steps: []step{status(400, `{"errors":[{"code":"bad_request_format"}]}`), placed}, wantCalls: 1,
			wantErr: func(err error) bool { return certcentral.NothingCreated(err) && !certcentral.IsRetryable(err) }},
		{name: "POST retried on 429 with Retry-After seconds", call: place, steps: []step{tooMany("7"), placed}, wantCalls: 2,
			wantWaits: []time.Duration{7 * time.Second}},
		{name: "POST retried on 429 with Retry-After date", call: place,
			steps: []step{tooMany(fixedNow.Add(9 * time.Second).Format(http.TimeFormat)), placed}, wantCalls: 2,
			wantWaits: []time.Duration{9 * time.Second}},
		{name: "POST retried on 429 without Retry-After, own backoff", call: place, steps: []step{tooMany(""), tooMany(""), placed}, wantCalls: 3},
		// A 429 is retried until CertCentral's 3-minute window has been waited
		// out (RetryMax does not apply: giving up after RetryMax 429s, about
		// 15 s, was the bug of issue 11, item 13).
		{name: "POST 429 until the 3-minute window is waited out", call: place, steps: []step{tooMany("60")}, wantCalls: 4,
			wantErr: func(err error) bool {
				return certcentral.IsRateLimited(err) && certcentral.NothingCreated(err) && !certcentral.OutcomeUnknown(err) &&
					strings.Contains(err.Error(), "still rate limited after waiting 3m0s")
			},
			wantWaits: []time.Duration{time.Minute, time.Minute, time.Minute}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := newFakeAPI(t, script(tt.steps...))
			sleeps := &sleepRecorder{}
			c := api.client(t, func(cfg *certcentral.Config) {
				cfg.Sleep = sleeps.Sleep
				cfg.Now = func() time.Time { return fixedNow }
			})
			err := tt.call(context.Background(), c)
			switch {
			case tt.wantErr == nil && err != nil:
				t.Fatalf("err = %v, want success", err)
			case tt.wantErr != nil && (err == nil || !tt.wantErr(err)):
				t.Fatalf("err = %v (%T), does not classify as expected", err, err)
			}
			reqs := api.requests()
			if len(reqs) != tt.wantCalls {
				t.Errorf("server saw %d requests, want %d", len(reqs), tt.wantCalls)
			}
			if c.Calls() != int64(len(reqs)) {
				t.Errorf("Calls() = %d, server saw %d", c.Calls(), len(reqs))
			}
			for _, r := range reqs[1:] {
				if string(r.Body) != string(reqs[0].Body) {
					t.Errorf("retry sent body %q, first attempt %q", r.Body, reqs[0].Body)
				}
			}
			waits := sleeps.all()
			if len(waits) != tt.wantCalls-1 {
				t.Errorf("waited %d times (%v), want once per retry (%d)", len(waits), waits, tt.wantCalls-1)
			}
			if tt.wantWaits != nil {
				if len(waits) != len(tt.wantWaits) {
					t.Fatalf("waits %v, want %v", waits, tt.wantWaits)
				}
				for i := range waits {
					if waits[i] != tt.wantWaits[i] {
						t.Errorf("wait %d = %v, want %v", i, waits[i], tt.wantWaits[i])
					}
				}
			}
			for i, w := range waits {
				if tt.wantWaits == nil && (w <= 0 || w > 2*time.Millisecond) {
					t.Errorf("own backoff wait %d = %v, want within (0, RetryWaitMax=2ms]", i, w)
				}
			}
		})
	}
}

var fixedNow = time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)

func TestCancellation(t *testing.T) {
	t.Run("already cancelled sends nothing", func(t *testing.T) {
		api := newFakeAPI(t, orderInfo.handler())
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := api.client(t).OrderInfo(ctx, 1)
		if !errors.Is(err, context.Canceled) || !certcentral.NothingCreated(err) {
			t.Fatalf("err = %v, want context.Canceled and NothingCreated", err)
		}
		if n := len(api.requests()); n != 0 {
			t.Errorf("server saw %d requests", n)
		}
	})

	t.Run("during limiter wait", func(t *testing.T) {
		api := newFakeAPI(t, placed.handler())
		ctx, cancel := context.WithCancel(context.Background())
		c := api.client(t, func(cfg *certcentral.Config) {
			cfg.Limits = []certcentral.Limit{{Requests: 1, Window: time.Hour}}
			cfg.Sleep = func(ctx context.Context, d time.Duration) error {
				cancel()
				<-ctx.Done()
				return ctx.Err()
			}
		})
		if _, err := c.PlaceOrder(ctx, spec.SecureSiteFlex, []byte(`{}`)); err != nil {
			t.Fatalf("first order: %v", err)
		}
		_, err := c.PlaceOrder(ctx, spec.SecureSiteFlex, []byte(`{}`))
		var re *certcentral.RequestError
		if !errors.As(err, &re) || re.Stage != certcentral.StageNotSent || !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want a not-sent RequestError wrapping context.Canceled", err)
		}
		if !certcentral.NothingCreated(err) || certcentral.OutcomeUnknown(err) || certcentral.IsRetryable(err) {
			t.Errorf("classification wrong for %v", err)
		}
		if n := len(api.requests()); n != 1 || c.Calls() != 1 {
			t.Errorf("server saw %d requests, Calls() = %d; want 1 and 1", n, c.Calls())
		}
	})

	t.Run("during retry backoff", func(t *testing.T) {
		api := newFakeAPI(t, script(down))
		ctx, cancel := context.WithCancel(context.Background())
		c := api.client(t, func(cfg *certcentral.Config) {
			cfg.Sleep = func(ctx context.Context, d time.Duration) error {
				cancel()
				return ctx.Err()
			}
		})
		_, err := c.OrderInfo(ctx, 1)
		if !errors.Is(err, context.Canceled) || certcentral.IsRetryable(err) {
			t.Fatalf("err = %v, want context.Canceled, not retryable", err)
		}
		if n := len(api.requests()); n != 1 {
			t.Errorf("server saw %d requests, want 1", n)
		}
	})

	t.Run("in flight", func(t *testing.T) {
		arrived := make(chan struct{})
		api := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
			close(arrived)
			<-r.Context().Done()
		})
		ctx, cancel := context.WithCancel(context.Background())
		go func() {
			<-arrived
			cancel()
		}()
		_, err := api.client(t).PlaceOrder(ctx, spec.SecureSiteFlex, []byte(`{}`))
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
		if !certcentral.OutcomeUnknown(err) || certcentral.NothingCreated(err) {
			t.Errorf("a request cancelled in flight must be outcome-unknown: %v", err)
		}
	})
}

func TestConnectionRefusedIsNotSent(t *testing.T) {
	api := newFakeAPI(t, orderInfo.handler())
	cfg := api.config()
	api.Close()
	cfg.RetryMax = -1
	c, err := certcentral.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.PlaceOrder(context.Background(), spec.SecureSiteFlex, []byte(`{}`))
	if !certcentral.NothingCreated(err) || certcentral.OutcomeUnknown(err) || !certcentral.IsRetryable(err) {
		t.Fatalf("connection refused: err = %v; want nothing created, retryable", err)
	}
}

// TestAttemptTimeout: a per-attempt timeout is retried for a GET and is an
// unknown outcome for a POST, which is not retried.
func TestAttemptTimeout(t *testing.T) {
	var n atomic.Int64
	api := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			<-r.Context().Done() // never answers the first request
			return
		}
		if r.Method == http.MethodPost {
			placed(w)
			return
		}
		orderInfo(w)
	})
	c := api.client(t, func(cfg *certcentral.Config) { cfg.Timeout = 100 * time.Millisecond })
	if _, err := c.OrderInfo(context.Background(), 1001); err != nil {
		t.Fatalf("GET after a timed-out attempt: %v", err)
	}
	if c.Calls() != 2 {
		t.Errorf("GET sent %d requests, want 2", c.Calls())
	}

	n.Store(0)
	_, err := c.PlaceOrder(context.Background(), spec.SecureSiteFlex, []byte(`{}`))
	if !certcentral.OutcomeUnknown(err) || certcentral.NothingCreated(err) || !certcentral.IsRetryable(err) {
		t.Fatalf("POST timeout: err = %v, want outcome unknown and retryable", err)
	}
	if c.Calls() != 3 {
		t.Errorf("POST sent %d requests, want 1", c.Calls()-2)
	}
}

// TestLimiterWaitIsNotPartOfTheAttemptTimeout: a request that waits for the
// rate limiter longer than the attempt timeout still goes out.
func TestLimiterWaitIsNotPartOfTheAttemptTimeout(t *testing.T) {
	api := newFakeAPI(t, orderInfo.handler())
	c := api.client(t, func(cfg *certcentral.Config) {
		cfg.Timeout = 50 * time.Millisecond
		cfg.Limits = []certcentral.Limit{{Requests: 1, Window: 100 * time.Millisecond}} // effective 152ms
		cfg.RetryMax = -1
	})
	for i := 0; i < 2; i++ {
		if _, err := c.OrderInfo(context.Background(), 1001); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
}
