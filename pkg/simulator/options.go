package simulator

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/certplan/certplan/pkg/lifecycle"
)

// Limit is one rolling rate-limit window: at most Requests per Window, per API key.
type Limit struct {
	Requests int
	Window   time.Duration
}

func (l Limit) String() string { return fmt.Sprintf("%d/%s", l.Requests, l.Window) }

// DefaultLimits are CertCentral's documented limits: 100 requests per 5 seconds
// and 1000 requests per 3 minutes, rolling, per API key.
func DefaultLimits() []Limit {
	return []Limit{{Requests: 100, Window: 5 * time.Second}, {Requests: 1000, Window: 3 * time.Minute}}
}

// ParseLimits parses "100/5s,1000/3m" (Go durations) or "none" (unlimited).
// An empty string means the documented defaults.
func ParseLimits(s string) ([]Limit, error) {
	s = strings.TrimSpace(s)
	switch s {
	case "":
		return DefaultLimits(), nil
	case "none":
		return []Limit{}, nil
	}
	var out []Limit
	for _, part := range strings.Split(s, ",") {
		n, w, ok := strings.Cut(strings.TrimSpace(part), "/")
		if !ok {
			return nil, fmt.Errorf("rate limit %q: want REQUESTS/WINDOW, e.g. 100/5s", part)
		}
		req, err := strconv.Atoi(n)
		if err != nil || req < 1 {
			return nil, fmt.Errorf("rate limit %q: request count must be a positive integer", part)
		}
		win, err := time.ParseDuration(w)
		if err != nil || win <= 0 {
			return nil, fmt.Errorf("rate limit %q: window must be a positive Go duration such as 5s or 3m", part)
		}
		out = append(out, Limit{Requests: req, Window: win})
	}
	return out, nil
}

// ApprovalMode says when the simulator issues an order's certificate.
type ApprovalMode string

// Approval modes.
const (
	// ApprovalImmediate issues at once: order status issued, request status approved,
	// and for TLS products certificate_id and certificate_chain in the place-order response.
	ApprovalImmediate ApprovalMode = "immediate"
	// ApprovalManual leaves orders needs_approval (request pending) until Approve.
	ApprovalManual ApprovalMode = "manual"
	// ApprovalDelay issues once Options.ApprovalDelay has passed on the simulator
	// clock (evaluated lazily, whenever the order is read).
	ApprovalDelay ApprovalMode = "delay"
)

// ParseApprovalMode accepts immediate, manual or delay ("" = immediate).
func ParseApprovalMode(s string) (ApprovalMode, error) {
	switch m := ApprovalMode(s); m {
	case "":
		return ApprovalImmediate, nil
	case ApprovalImmediate, ApprovalManual, ApprovalDelay:
		return m, nil
	}
	return "", fmt.Errorf("approval mode %q: want immediate, manual or delay", s)
}

// Faults are injected failures. The zero value injects nothing.
type Faults struct {
	Latency         time.Duration // added to every request
	ServerErrorRate float64       // share of requests answered 500/502/503 before doing anything
	Burst429        int           // the next N requests get 429 request_limit_exceeded
	DropAfterCommit int           // the next N committed order POSTs (v2 and v1) lose their response
	// GatewayTimeoutAfterCommit: the next N committed order POSTs (v2 and
	// v1) are answered 504 by the "gateway" although the order exists: a
	// gateway that gave up while the backend was still committing.
	GatewayTimeoutAfterCommit int
	// GarbledAfterCommit: the next N committed order POSTs (v2 and v1) are
	// answered 201 with a body that is not JSON (cut short): a success
	// whose response cannot be read.
	GarbledAfterCommit int
	// LookupLag hides an order from GET /order/alternate/{id} until this
	// long (simulator clock) after it was committed: a look-up index that
	// lags the commit. Order info and lists see it at once.
	LookupLag  time.Duration
	RetryAfter bool  // send a Retry-After header with 429s
	Seed       int64 // seeds the 5xx choice, so a run is reproducible
}

// faultsJSON is the wire form of Faults for the admin API: latency is a Go
// duration string ("250ms"); a bare number is taken as nanoseconds.
type faultsJSON struct {
	Latency         json.RawMessage `json:"latency,omitempty"`
	ServerErrorRate float64         `json:"server_error_rate,omitempty"`
	Burst429        int             `json:"burst_429,omitempty"`
	DropAfterCommit int             `json:"drop_after_commit,omitempty"`
	GatewayTimeout  int             `json:"gateway_timeout_after_commit,omitempty"`
	Garbled         int             `json:"garbled_after_commit,omitempty"`
	LookupLag       json.RawMessage `json:"lookup_lag,omitempty"`
	RetryAfter      bool            `json:"retry_after,omitempty"`
	Seed            int64           `json:"seed,omitempty"`
}

// MarshalJSON renders Latency and LookupLag as duration strings.
func (f Faults) MarshalJSON() ([]byte, error) {
	lat, _ := json.Marshal(f.Latency.String())
	var lag json.RawMessage
	if f.LookupLag != 0 {
		lag, _ = json.Marshal(f.LookupLag.String())
	}
	return json.Marshal(faultsJSON{
		Latency: lat, ServerErrorRate: f.ServerErrorRate, Burst429: f.Burst429,
		DropAfterCommit: f.DropAfterCommit, GatewayTimeout: f.GatewayTimeoutAfterCommit, Garbled: f.GarbledAfterCommit,
		LookupLag: lag, RetryAfter: f.RetryAfter, Seed: f.Seed,
	})
}

// UnmarshalJSON accepts Latency and LookupLag as duration strings or numbers
// of nanoseconds.
func (f *Faults) UnmarshalJSON(b []byte) error {
	var w faultsJSON
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	lat, err := jsonDuration("latency", w.Latency)
	if err != nil {
		return err
	}
	lag, err := jsonDuration("lookup_lag", w.LookupLag)
	if err != nil {
		return err
	}
	*f = Faults{
		Latency: lat, ServerErrorRate: w.ServerErrorRate, Burst429: w.Burst429,
		DropAfterCommit: w.DropAfterCommit, GatewayTimeoutAfterCommit: w.GatewayTimeout, GarbledAfterCommit: w.Garbled,
		LookupLag: lag, RetryAfter: w.RetryAfter, Seed: w.Seed,
	}
	return f.validate()
}

// jsonDuration reads a duration string ("200ms") or a number of nanoseconds.
func jsonDuration(name string, raw json.RawMessage) (time.Duration, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return 0, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		d, err := time.ParseDuration(s)
		if err != nil {
			return 0, fmt.Errorf("%s %q: %w", name, s, err)
		}
		return d, nil
	}
	var n int64
	if err := json.Unmarshal(raw, &n); err != nil {
		return 0, fmt.Errorf("%s: want a duration string such as \"200ms\"", name)
	}
	return time.Duration(n), nil
}

func (f Faults) validate() error {
	switch {
	case f.Latency < 0 || f.LookupLag < 0:
		return fmt.Errorf("latency and lookup lag must not be negative")
	case f.ServerErrorRate < 0 || f.ServerErrorRate > 1:
		return fmt.Errorf("server error rate %v: want a share between 0 and 1", f.ServerErrorRate)
	case f.Burst429 < 0 || f.DropAfterCommit < 0 || f.GatewayTimeoutAfterCommit < 0 || f.GarbledAfterCommit < 0:
		return fmt.Errorf("burst 429 and after-commit counts must not be negative")
	}
	return nil
}

// Options configure a Server. The zero value is a usable simulator.
type Options struct {
	APIKey    string  // accepted X-DC-DEVKEY and v1 key; "" = any non-empty key
	AccountID string  // v1 Basic-auth account id; "" = any
	Limits    []Limit // nil = DefaultLimits(); empty non-nil = unlimited

	Approval      ApprovalMode // "" = immediate
	ApprovalDelay time.Duration

	// UniqueAlternativeIDs emulates the account setting "Require unique alternative
	// order IDs": a duplicate gets 400 duplicate_alternative_order_id.
	UniqueAlternativeIDs bool
	// AlternateLookup404 answers GET /order/alternate/{id} with 404 not_found|order
	// when no order carries the id, instead of 200 with an empty list. Public
	// clients have seen both.
	AlternateLookup404 bool

	Faults Faults

	// Caps are the public TLS certificate caps by issuance date, applied to
	// Secure Site certificates (first and reissued): nil = lifecycle.DefaultCaps();
	// an empty non-nil table = no date caps, only the order pages' 397 days.
	Caps lifecycle.Caps

	// DNS is the DNS server (host:port) domain validation is checked at.
	// When set, Secure Site orders and reissues with dcv_method
	// dns-txt-token or dns-cname-token wait (pending, reissue_pending)
	// until check-dcv finds their random value there, or the admin API
	// approves them; names validated within the reuse period are not
	// validated again. "" = no DNS: every order is admitted by the
	// approval mode, as before.
	DNS string
	// DCVReuse is how long a completed validation is reused, by date:
	// nil = lifecycle.DefaultDCVReuse().
	DCVReuse lifecycle.Caps

	StateFile string           // persist orders and the CA; "" = memory only
	Now       func() time.Time // clock; default time.Now; the admin clock offset is added
	// ClockStart, when set, is the simulator time at start: the clock offset
	// becomes ClockStart - Now(), replacing a persisted one. The clock runs on
	// from there.
	ClockStart time.Time
	Logger     io.Writer // optional request log (method, path, status, duration)
}
