package certcentral

import (
	"context"
	"errors"
	"fmt"
	"io"
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

	// RetryMax is the number of retries after the first attempt: 0 = 4, negative = none.
	RetryMax int
	// RetryWaitMin and RetryWaitMax bound the exponential backoff (0 = 1s and 30s).
	RetryWaitMin, RetryWaitMax time.Duration

	Logger     *zerolog.Logger // nil = no logging
	HTTPClient *http.Client    // optional (tests); copied, its Transport wrapped
	// Timeout bounds one attempt, from sending to reading the body; waits for
	// the rate limiter or a retry do not count. 0 = HTTPClient.Timeout if set, else 90s.
	Timeout time.Duration

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
}

const (
	defaultTimeout         = 90 * time.Second
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
	limits, legacyLimits := cfg.Limits, cfg.LegacyLimits
	if limits == nil {
		limits = DefaultLimits()
	}
	if legacyLimits == nil {
		legacyLimits = DefaultLegacyLimits()
	}
	if c.limiter, err = newLimiter(limits, now, sleep); err != nil {
		return nil, err
	}
	if c.legacyLimiter, err = newLimiter(legacyLimits, now, sleep); err != nil {
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
	timeout := defaultTimeout
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
	hc.Transport = &transport{next: next, calls: &c.calls, log: log, now: now, sleep: sleep, timeout: timeout, secrets: c.secrets()}
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
		RetryMax:   retryMax,
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
			st.wait = retryWait(waitMin, waitMax, st.attempt-1, resp, now(), rand.Float64)
			return true, nil
		},
		Backoff:      func(time.Duration, time.Duration, int, *http.Response) time.Duration { return 0 },
		ErrorHandler: retryablehttp.PassthroughErrorHandler,
	}
	return c, nil
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
	ctx = withCall(ctx, &callState{method: r.method, path: logPath, lim: lim})
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
		return nil, c.requestError(r, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		details, snippet := parseErrorBody(body, c.secrets()...)
		return nil, &APIError{StatusCode: resp.StatusCode, Method: r.method, Path: r.path, Errors: details, Body: snippet}
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBody+1))
	if err != nil {
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
func (c *Client) requestError(r request, err error) error {
	stage := StageInFlight
	var ue *url.Error
	if !errors.As(err, &ue) || errors.Is(err, errNotSent) || isDialError(err) || isCertError(err) {
		stage = StageNotSent
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
