package certcentral

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-retryablehttp"
	"github.com/rs/zerolog"
)

// Config configures a Client. Zero values pick the documented defaults.
type Config struct {
	Endpoint, LegacyEndpoint string // base URLs (ResolveEndpoint / ResolveLegacyEndpoint); "" = default
	APIKey, AccountID        string // AccountID is needed for legacy v1 orders only
	UserAgent                string // "certplan/<version>"; "" = "certplan"

	// Limits are the client-side rate limits for the v2 API: nil = DefaultLimits(),
	// empty non-nil = no client-side limiting. LegacyLimits likewise for v1
	// (nil = DefaultLegacyLimits()).
	Limits, LegacyLimits []Limit

	// RetryMax is the number of retries after the first attempt for failures
	// other than 429: 0 = 4, negative = none. A 429 is retried until
	// RateLimitWait is used up, whatever RetryMax says.
	RetryMax int
	// RetryWaitMin and RetryWaitMax bound the exponential backoff (0 = 1s and 30s).
	RetryWaitMin, RetryWaitMax time.Duration

	Logger     *zerolog.Logger // nil = no logging
	HTTPClient *http.Client    // optional (tests); copied, its Transport wrapped
	// RequestTimeout bounds one call: every attempt and the backoff between
	// attempts, but not the waits for the rate limit (the client's own
	// limiter, CertCentral's window after a 429). 0 = DefaultRequestTimeout.
	RequestTimeout time.Duration
	// Timeout bounds one attempt, from sending to reading the body; waits for
	// the rate limiter or a retry do not count. 0 = HTTPClient.Timeout if
	// set, else RequestTimeout.
	Timeout time.Duration
	// RateLimitWait is how long one call waits in all, after 429 answers, for
	// CertCentral's rate-limit window to let it through (the key may be shared
	// with another run). 0 = DefaultRateLimitWait.
	RateLimitWait time.Duration
	// RunTimeout is the run's time limit, counted from RunStart (zero: when
	// New is called); 0 = none. Once it has run out nothing is sent and no
	// wait lasts past it; a GET in flight is cut at it, while an order (POST)
	// in flight keeps its attempt timeout, so that the limit never makes a
	// placed order's outcome unknown.
	RunTimeout time.Duration
	RunStart   time.Time

	LegacyOrderPath string // default "/order/ssl"

	// Shared, when set, is consulted for every request after the client's
	// own limiter: the request log of every run sharing the API key (see
	// SharedWindow). nil = this client's requests only.
	Shared SharedWindow

	// Now and Sleep drive the rate limiter and retry waits; nil = real time.
	// A fake Sleep must advance Now (or block until ctx ends): the limiter
	// re-checks after every sleep.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
}

// Client is a CertCentral API client, safe for concurrent use.
type Client struct {
	endpoint, legacyEndpoint string
	apiKey, accountID        string
	userAgent                string
	legacyOrderPath          string
	limiter, legacyLimiter   *limiter
	http                     *retryablehttp.Client
	calls                    atomic.Int64
	log                      zerolog.Logger
	clock                    *clock
	gate                     rateGate
	requestTimeout           time.Duration
	rateLimitWait            time.Duration
}

const (
	defaultLegacyOrderPath = "/order/ssl"
	// Response bodies larger than this are refused (a page of 1000 orders is far smaller).
	maxResponseBody = 64 << 20
	maxErrorBody    = 1 << 20

	contentTypeJSON = "application/json"
	contentTypeV1   = "application/vnd.digicert.rest-v1+json"
)

// New checks cfg and builds a Client.
func New(cfg Config) (*Client, error) {
	endpoint, err := ResolveEndpoint(cfg.Endpoint)
	if err != nil {
		return nil, err
	}
	legacy, err := ResolveLegacyEndpoint(cfg.LegacyEndpoint)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(cfg.APIKey) == "" {
		return nil, errors.New("no CertCentral API key: set DIGICERT_API_KEY")
	}
	if strings.ContainsFunc(cfg.APIKey+cfg.AccountID, func(r rune) bool { return r < ' ' || r == 0x7f }) {
		return nil, errors.New("the CertCentral API key or account id contains control characters (check DIGICERT_API_KEY for a stray newline)")
	}
	c := &Client{
		endpoint:        endpoint,
		legacyEndpoint:  legacy,
		apiKey:          cfg.APIKey,
		accountID:       cfg.AccountID,
		userAgent:       cfg.UserAgent,
		legacyOrderPath: cfg.LegacyOrderPath,
	}
	if c.userAgent == "" {
		c.userAgent = "certplan"
	}
	if c.legacyOrderPath == "" {
		c.legacyOrderPath = defaultLegacyOrderPath
	}
	if !strings.HasPrefix(c.legacyOrderPath, "/") {
		c.legacyOrderPath = "/" + c.legacyOrderPath
	}
	now, sleep := cfg.Now, cfg.Sleep
	if now == nil {
		now = time.Now
	}
	if sleep == nil {
		sleep = sleepCtx
	}
	if cfg.RequestTimeout < 0 || cfg.Timeout < 0 || cfg.RateLimitWait < 0 || cfg.RunTimeout < 0 {
		return nil, errors.New("certcentral: timeouts must not be negative")
	}
	c.clock = &clock{now: now, sleep: sleep, run: cfg.RunTimeout}
	if cfg.RunTimeout > 0 {
		start := cfg.RunStart
		if start.IsZero() {
			start = now()
		}
		c.clock.deadline = start.Add(cfg.RunTimeout)
	}
	c.requestTimeout = cmpOr(cfg.RequestTimeout, DefaultRequestTimeout)
	c.rateLimitWait = cmpOr(cfg.RateLimitWait, DefaultRateLimitWait)
	limits, legacyLimits := cfg.Limits, cfg.LegacyLimits
	if limits == nil {
		limits = DefaultLimits()
	}
	if legacyLimits == nil {
		legacyLimits = DefaultLegacyLimits()
	}
	// The limiters wait through the clock, so no limiter wait outlasts the run.
	if c.limiter, err = newLimiter(limits, now, c.clock.sleepUntilDeadline); err != nil {
		return nil, err
	}
	if c.legacyLimiter, err = newLimiter(legacyLimits, now, c.clock.sleepUntilDeadline); err != nil {
		return nil, err
	}
	if cfg.Shared != nil {
		c.limiter.shared, c.limiter.api = cfg.Shared, "v2"
		c.legacyLimiter.shared, c.legacyLimiter.api = cfg.Shared, "v1"
	}

	log := zerolog.Nop()
	if cfg.Logger != nil {
		log = *cfg.Logger
	}
	c.log = log
	var hc http.Client
	if cfg.HTTPClient != nil {
		hc = *cfg.HTTPClient
	}
	// The timeout applies per attempt and excludes limiter and backoff waits
	// (a wait for the 3-minute window can be long), so it moves into transport.
	timeout := c.requestTimeout
	switch {
	case cfg.Timeout > 0:
		timeout = cfg.Timeout
	case hc.Timeout > 0:
		timeout = hc.Timeout
	}
	hc.Timeout = 0
	next := hc.Transport
	if next == nil {
		next = http.DefaultTransport.(*http.Transport).Clone()
	}
	hc.Transport = &transport{next: next, calls: &c.calls, log: log, clock: c.clock, gate: &c.gate,
		timeout: timeout, requestTimeout: c.requestTimeout, secrets: c.secrets()}
	// Never follow redirects: X-DC-DEVKEY would travel to wherever they point.
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

	retryMax := cfg.RetryMax
	switch {
	case retryMax == 0:
		retryMax = defaultRetryMax
	case retryMax < 0:
		retryMax = 0
	}
	waitMin, waitMax := cfg.RetryWaitMin, cfg.RetryWaitMax
	if waitMin <= 0 {
		waitMin = defaultRetryWaitMin
	}
	if waitMax <= 0 {
		waitMax = defaultRetryWaitMax
	}
	c.http = &retryablehttp.Client{
		HTTPClient: &hc,
		Logger:     nil, // we log per attempt in transport
		// CheckRetry counts the retries itself (429s have their own budget).
		RetryMax: math.MaxInt32,
		// The wait itself happens in transport (through the injectable, cancellable
		// sleep); go-retryablehttp's own timer is set to zero.
		CheckRetry: func(ctx context.Context, resp *http.Response, err error) (bool, error) {
			if ctx.Err() != nil {
				return false, nil
			}
			st := callFrom(ctx)
			if st == nil || !shouldRetry(st.method, resp, err) {
				return false, nil
			}
			if resp != nil && resp.StatusCode == http.StatusTooManyRequests {
				return c.retryRateLimited(st, resp, waitMin, waitMax), nil
			}
			t := now()
			if st.retries >= retryMax {
				return false, nil
			}
			d := retryWait(waitMin, waitMax, st.retries, resp, t, rand.Float64)
			if !t.Add(d).Before(st.budgetEnd) {
				st.note = fmt.Sprintf("gave up: no time left for another attempt within the request timeout of %s (--request-timeout)", c.requestTimeout)
				return false, nil
			}
			if c.clock.pastDeadline(t.Add(d), "") != nil {
				st.note = fmt.Sprintf("gave up: no time left for another attempt within the run's time limit of %s (--timeout)", c.clock.run)
				return false, nil
			}
			st.retries++
			st.wait = d
			return true, nil
		},
		Backoff:      func(time.Duration, time.Duration, int, *http.Response) time.Duration { return 0 },
		ErrorHandler: retryablehttp.PassthroughErrorHandler,
	}
	return c, nil
}

// retryRateLimited decides about a 429: wait (CertCentral's Retry-After, at
// least the client's own growing backoff, at most what is left of
// RateLimitWait) and retry, holding every call of the client back meanwhile,
// or give up once the wait is used up or would run past the run's time
// limit. A 429 created nothing, so this holds for orders (POST) too.
func (c *Client) retryRateLimited(st *callState, resp *http.Response, waitMin, waitMax time.Duration) bool {
	t := c.clock.now()
	left := c.rateLimitWait - st.rateWaited
	if left <= 0 || st.rateRetries >= maxRateLimitRetries {
		st.note = fmt.Sprintf("still rate limited after waiting %s, the longest of CertCentral's rate-limit windows: other runs using the same API key may be using up its limit; try again later",
			st.rateWaited.Round(time.Second))
		return false
	}
	d := retryWait(waitMin, waitMax, st.rateRetries, nil, t, rand.Float64)
	if ra, ok := parseRetryAfter(resp.Header.Get("Retry-After"), t); ok {
		d = max(d, ra)
	}
	d = min(d, left)
	if c.clock.pastDeadline(t.Add(d), "") != nil {
		st.note = fmt.Sprintf("gave up: waiting %s for CertCentral's rate-limit window would run past the run's time limit of %s (--timeout)", d.Round(time.Second), c.clock.run)
		return false
	}
	st.rateRetries++
	st.rateWaited += d
	st.wait, st.waitRate, st.heldUntil = d, true, t.Add(d)
	if c.gate.pause(t, d, c.rateLimitWait) {
		upTo := c.rateLimitWait
		if !c.clock.deadline.IsZero() {
			upTo = min(upTo, max(0, c.clock.deadline.Sub(t)))
		}
		c.log.Warn().Str("method", st.method).Str("path", st.path).Dur("wait", d).
			Msgf("CertCentral rate limit reached (shared API key?): waiting up to %s for its window to pass", upTo.Round(time.Second))
	}
	return true
}

// cmpOr returns d, or def when d is zero.
func cmpOr(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

func (c *Client) secrets() []string {
	out := []string{c.apiKey}
	if c.accountID != "" {
		// The Basic credentials, should anything ever echo them.
		out = append(out, basicAuth(c.accountID, c.apiKey))
	}
	return out
}

// Calls returns the number of HTTP requests sent so far, retries included.
func (c *Client) Calls() int64 { return c.calls.Load() }

// request is one logical API call.
type request struct {
	legacy bool
	method string
	path   string // escaped, relative to the base URL
	query  string // encoded, without "?"
	body   []byte // nil for none
	accept string // "" = JSON of the API version
}

// do sends r (with retries) and returns the body of a 2xx response. Failures
// are *APIError (an HTTP error response) or *RequestError.
func (c *Client) do(ctx context.Context, r request) ([]byte, error) {
	base, lim := c.endpoint, c.limiter
	if r.legacy {
		base, lim = c.legacyEndpoint, c.legacyLimiter
	}
	target := base + r.path
	logPath := r.path
	if r.query != "" {
		target += "?" + r.query
		logPath += "?" + r.query
	}
	st := &callState{method: r.method, path: logPath, lim: lim}
	ctx = withCall(ctx, st)
	var raw any
	if r.body != nil {
		raw = r.body
	}
	req, err := retryablehttp.NewRequestWithContext(ctx, r.method, target, raw)
	if err != nil {
		return nil, &BuildError{Err: fmt.Errorf("%s %s: %w", r.method, r.path, err)}
	}
	c.setHeaders(req.Header, r)

	resp, err := c.http.Do(req)
	if err != nil {
		if resp != nil {
			resp.Body.Close()
		}
		re := c.requestError(r, err)
		re.Note = st.note
		return nil, re
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		details, snippet := parseErrorBody(body, c.secrets()...)
		return nil, &APIError{StatusCode: resp.StatusCode, Method: r.method, Path: r.path, Errors: details, Body: snippet, Note: st.note}
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBody+1))
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			// The attempt's own time ran out while the body was arriving.
			err = &TimeoutError{Limit: st.limit, Setting: st.limitSetting, After: st.limitAfter}
			return nil, &RequestError{Method: r.method, Path: r.path, Stage: StageResponse, Err: err}
		}
		return nil, &RequestError{Method: r.method, Path: r.path, Stage: StageResponse, Err: fmt.Errorf("read response: %w", err)}
	}
	if len(body) > maxResponseBody {
		return nil, &RequestError{Method: r.method, Path: r.path, Stage: StageResponse, Err: fmt.Errorf("response larger than %d bytes", maxResponseBody)}
	}
	return body, nil
}

func (c *Client) setHeaders(h http.Header, r request) {
	h.Set("User-Agent", c.userAgent)
	ct := contentTypeJSON
	if r.legacy {
		ct = contentTypeV1
		h.Set("Authorization", "Basic "+basicAuth(c.accountID, c.apiKey))
	} else {
		h.Set("X-DC-DEVKEY", c.apiKey)
	}
	accept := r.accept
	if accept == "" {
		accept = ct
	}
	h.Set("Accept", accept)
	if r.body != nil {
		h.Set("Content-Type", ct)
	}
}

// requestError classifies a failure without an HTTP response. Errors that do
// not come from http.Client (no *url.Error) happened between attempts, and
// connection set-up failures happened before anything was sent.
func (c *Client) requestError(r request, err error) *RequestError {
	stage := StageInFlight
	var ue *url.Error
	if !errors.As(err, &ue) || errors.Is(err, errNotSent) || isDialError(err) || isCertError(err) {
		stage = StageNotSent
	}
	// A time limit says itself what ran out; the URL around it adds nothing.
	var te *TimeoutError
	if errors.As(err, &te) {
		err = te
	}
	return &RequestError{Method: r.method, Path: r.path, Stage: stage, Err: err}
}

func isDialError(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	var dns *net.DNSError
	return errors.As(err, &dns)
}
