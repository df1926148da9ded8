package certcentral_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/certplan/certplan/pkg/certcentral"
	"github.com/certplan/certplan/pkg/spec"
)

// testClock is a fake clock whose Sleep advances time instead of waiting,
// recording every wait.
type testClock struct {
	mu     sync.Mutex
	now    time.Time
	sleeps []time.Duration
}

func newTestClock() *testClock { return &testClock{now: fixedNow} }

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	c.sleeps = append(c.sleeps, d)
	return nil
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func (c *testClock) total() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	var sum time.Duration
	for _, d := range c.sleeps {
		sum += d
	}
	return sum
}

func (c *testClock) use(cfg *certcentral.Config) {
	cfg.Now, cfg.Sleep = c.Now, c.Sleep
}

// withDefaultRetries restores the production retry waits (the fake API's
// config has millisecond waits).
func withDefaultRetries(cfg *certcentral.Config) {
	cfg.RetryMax, cfg.RetryWaitMin, cfg.RetryWaitMax = 0, 0, 0
}

// TestRateLimitIsWaitedOut: a plan run right after a large apply on the same
// API key finds CertCentral's 3-minute window used up. Reads wait the
// window out, with a warning saying so, and finish; they used to give up
// after 5 answers of 429 (about 15 s).
func TestRateLimitIsWaitedOut(t *testing.T) {
	for _, retryAfter := range []string{"", "40"} {
		t.Run("Retry-After "+retryAfter, func(t *testing.T) {
			clk := newTestClock()
			busyUntil := fixedNow.Add(150 * time.Second) // the other run's requests leave the window
			var refused atomic.Int64
			api := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
				if clk.Now().Before(busyUntil) {
					refused.Add(1)
					tooMany(retryAfter)(w)
					return
				}
				writeJSON(w, 200, `{"orders":[{"id":7,"status":"issued"}],"page":{"total":1}}`)
			})
			var logs bytes.Buffer
			log := zerolog.New(&logs).Level(zerolog.WarnLevel)
			c := api.client(t, clk.use, withDefaultRetries, func(cfg *certcentral.Config) { cfg.Logger = &log })

			got, err := c.ListOrders(context.Background(), certcentral.ListFilter{IDs: []int64{7}})
			if err != nil {
				t.Fatalf("ListOrders after %d answers of 429: %v", refused.Load(), err)
			}
			if len(got) != 1 {
				t.Errorf("listed %v", got)
			}
			if waited := clk.total(); waited < 150*time.Second || waited > certcentral.DefaultRateLimitWait {
				t.Errorf("waited %s in all, want the 150 s the window needed, at most 3 minutes", waited)
			}
			if n := refused.Load(); n < 3 || n > 15 {
				t.Errorf("sent %d requests into the rate limit, want a few (the waits grow)", n)
			}
			if n := strings.Count(logs.String(), "CertCentral rate limit reached (shared API key?): waiting up to 3m0s"); n != 1 {
				t.Errorf("rate-limit warning logged %d times, want once:\n%s", n, logs.String())
			}
			if !strings.Contains(logs.String(), `"level":"warn"`) {
				t.Errorf("the warning is not at warn level:\n%s", logs.String())
			}
		})
	}
}

// TestRateLimitHoldsEveryCall: one 429 holds back every call of the client
// (the key's budget is shared), and the warning is said once, not per call.
func TestRateLimitHoldsEveryCall(t *testing.T) {
	clk := newTestClock()
	busyUntil := fixedNow.Add(30 * time.Second)
	api := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		if clk.Now().Before(busyUntil) {
			tooMany("30")(w)
			return
		}
		orderInfo(w)
	})
	var logs bytes.Buffer
	log := zerolog.New(&logs).Level(zerolog.WarnLevel)
	c := api.client(t, clk.use, withDefaultRetries, func(cfg *certcentral.Config) { cfg.Logger = &log })
	if _, err := c.OrderInfo(context.Background(), 1001); err != nil {
		t.Fatal(err)
	}
	if _, err := c.OrderInfo(context.Background(), 1001); err != nil {
		t.Fatal(err)
	}
	if n := len(api.requests()); n != 3 {
		t.Errorf("server saw %d requests, want 3 (one 429, then two answers)", n)
	}
	if n := strings.Count(logs.String(), "CertCentral rate limit reached"); n != 1 {
		t.Errorf("warning logged %d times, want once:\n%s", n, logs.String())
	}
}

// TestRateLimitPatienceIsBounded: a key that stays rate limited is given up
// on after CertCentral's longest window, with an error that says so; a huge
// Retry-After is capped at that window (it used to cost 5 minutes per retry,
// about 20 minutes per request).
func TestRateLimitPatienceIsBounded(t *testing.T) {
	for _, retryAfter := range []string{"86400", ""} {
		t.Run("Retry-After "+retryAfter, func(t *testing.T) {
			clk := newTestClock()
			api := newFakeAPI(t, script(tooMany(retryAfter)))
			c := api.client(t, clk.use, withDefaultRetries)
			_, err := c.OrdersByAlternateID(context.Background(), "cpABC")
			if !certcentral.IsRateLimited(err) || !strings.Contains(err.Error(), "still rate limited after waiting 3m0s") {
				t.Fatalf("err = %v, want a 429 that says it was waited out", err)
			}
			if waited := clk.total(); waited != certcentral.DefaultRateLimitWait {
				t.Errorf("waited %s in all, want exactly 3m0s", waited)
			}
			for _, d := range clk.sleeps {
				if d > 3*time.Minute {
					t.Errorf("one wait of %s, want at most 3 minutes", d)
				}
			}
		})
	}
}

// TestServerRetryAfterBeyondTheRequestTimeout: a 503 asking for a day is
// not retried within one request's time, and the error says why.
func TestServerRetryAfterBeyondTheRequestTimeout(t *testing.T) {
	clk := newTestClock()
	api := newFakeAPI(t, script(func(w http.ResponseWriter) {
		w.Header().Set("Retry-After", "86400")
		writeJSON(w, 503, `{"errors":[{"code":"service_unavailable","message":"maintenance"}]}`)
	}))
	c := api.client(t, clk.use, withDefaultRetries)
	_, err := c.OrderInfo(context.Background(), 1001)
	if err == nil || !strings.Contains(err.Error(), "no time left for another attempt within the request timeout of 1m30s") {
		t.Fatalf("err = %v, want the 503 and the request timeout named", err)
	}
	if n := len(api.requests()); n != 1 || clk.total() != 0 {
		t.Errorf("server saw %d requests after waiting %s, want 1 and no wait", n, clk.total())
	}
}

// TestSilentServerFailsWithinTheRequestTimeout: a server that never answers
// held one look-up for 460 s (90 s per attempt, five attempts); the request
// timeout now bounds the whole request, and the error says which request,
// after how long, and what to do.
func TestSilentServerFailsWithinTheRequestTimeout(t *testing.T) {
	api := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	c := api.client(t, withDefaultRetries, func(cfg *certcentral.Config) { cfg.RequestTimeout = 150 * time.Millisecond })
	start := time.Now()
	_, err := c.OrdersByAlternateID(context.Background(), "cpABC")
	elapsed := time.Since(start)
	var te *certcentral.TimeoutError
	if !errors.As(err, &te) || te.Limit != certcentral.LimitRequest || !certcentral.IsTimeout(err) {
		t.Fatalf("err = %v, want a request timeout", err)
	}
	for _, want := range []string{"GET /order/alternate/cpABC", "no response within 150ms", "--request-timeout"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if n := len(api.requests()); n != 1 {
		t.Errorf("server saw %d attempts, want 1 (the request timeout bounds them all)", n)
	}
	if elapsed > 5*time.Second {
		t.Errorf("took %s", elapsed)
	}
}

// TestRunTimeout: once the run's time limit has run out nothing is sent,
// and no wait runs past it; an order already in flight is not cut by it
// (that would make its outcome unknown), a read is.
func TestRunTimeout(t *testing.T) {
	t.Run("nothing is sent after it", func(t *testing.T) {
		clk := newTestClock()
		api := newFakeAPI(t, placed.handler())
		c := api.client(t, clk.use, func(cfg *certcentral.Config) { cfg.RunTimeout = time.Hour })
		clk.Advance(time.Hour)
		_, err := c.PlaceOrder(context.Background(), spec.SecureSiteFlex, []byte(`{}`))
		var te *certcentral.TimeoutError
		if !errors.As(err, &te) || te.Limit != certcentral.LimitRun || !certcentral.NothingCreated(err) {
			t.Fatalf("err = %v, want a not-sent run timeout", err)
		}
		for _, want := range []string{"POST /order/certificate/ssl_securesite_flex", "not sent", "1h0m0s", "--timeout"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q lacks %q", err, want)
			}
		}
		if n := len(api.requests()); n != 0 {
			t.Errorf("server saw %d requests", n)
		}
	})

	t.Run("a rate-limit wait that would pass it is not started", func(t *testing.T) {
		clk := newTestClock()
		api := newFakeAPI(t, script(tooMany("120")))
		c := api.client(t, clk.use, func(cfg *certcentral.Config) { cfg.RunTimeout = time.Minute })
		_, err := c.OrderInfo(context.Background(), 1001)
		if !certcentral.IsRateLimited(err) || !strings.Contains(err.Error(), "would run past the run's time limit of 1m0s (--timeout)") {
			t.Fatalf("err = %v, want the 429 and the run's limit named", err)
		}
		if clk.total() != 0 || len(api.requests()) != 1 {
			t.Errorf("waited %s and sent %d requests, want no wait and 1", clk.total(), len(api.requests()))
		}
	})

	t.Run("the client's limiter does not wait past it", func(t *testing.T) {
		clk := newTestClock()
		api := newFakeAPI(t, orderInfo.handler())
		c := api.client(t, clk.use, func(cfg *certcentral.Config) {
			cfg.RunTimeout = 10 * time.Second
			cfg.Limits = []certcentral.Limit{{Requests: 1, Window: time.Minute}}
		})
		if _, err := c.OrderInfo(context.Background(), 1001); err != nil {
			t.Fatal(err)
		}
		_, err := c.OrderInfo(context.Background(), 1001)
		var te *certcentral.TimeoutError
		if !errors.As(err, &te) || te.Limit != certcentral.LimitRun || !strings.Contains(err.Error(), "client-side rate limiter") {
			t.Fatalf("err = %v, want a run timeout while waiting for the limiter", err)
		}
		if clk.Now().After(fixedNow.Add(10 * time.Second)) {
			t.Errorf("waited until %s, past the run's limit", clk.Now())
		}
	})

	t.Run("an order in flight keeps its own timeout", func(t *testing.T) {
		clk := newTestClock()
		api := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
			clk.Advance(2 * time.Minute) // the run's time runs out while CertCentral works
			placed(w)
		})
		c := api.client(t, clk.use, func(cfg *certcentral.Config) { cfg.RunTimeout = time.Minute })
		if _, err := c.PlaceOrder(context.Background(), spec.SecureSiteFlex, []byte(`{}`)); err != nil {
			t.Fatalf("order in flight when the run's time ran out: %v", err)
		}
		if _, err := c.OrderInfo(context.Background(), 1001); err == nil || !certcentral.NothingCreated(err) {
			t.Errorf("a read after the run's time: err = %v, want not sent", err)
		}
	})

	t.Run("a read in flight is cut at it", func(t *testing.T) {
		clk := newTestClock()
		api := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
		c := api.client(t, clk.use, func(cfg *certcentral.Config) { cfg.RunTimeout = time.Hour })
		clk.Advance(time.Hour - 100*time.Millisecond)
		_, err := c.OrderInfo(context.Background(), 1001)
		var te *certcentral.TimeoutError
		if !errors.As(err, &te) || te.Limit != certcentral.LimitRun {
			t.Fatalf("err = %v, want the run's time limit", err)
		}
		if !strings.Contains(err.Error(), "GET /order/certificate/1001") || !strings.Contains(err.Error(), "when the run's time limit of 1h0m0s ran out") {
			t.Errorf("error %q does not say which request and which limit", err)
		}
	})
}
