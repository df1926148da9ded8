package certcentral

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
)

// APIError is an HTTP error response from CertCentral (v2 or v1).
type APIError struct {
	StatusCode   int
	Method, Path string // Path is relative to the base URL, without the query
	Errors       []ErrorDetail
	// Body is a short, sanitized snippet of a body that held no parseable errors.
	Body string
	// Note says why the client stopped retrying, when that was its choice
	// (the rate limit outlasted its patience, no time left), or is empty.
	Note string
}

// ErrorDetail is one entry of the errors list. A code "not_found|order" is
// split into Code "not_found" and Detail "order"; v1 "description" is Message.
type ErrorDetail struct {
	Code, Detail, Message string
}

// FullCode is the code as the server sent it ("not_found|order").
func (d ErrorDetail) FullCode() string {
	if d.Detail == "" {
		return d.Code
	}
	return d.Code + "|" + d.Detail
}

// Error describes the failure. It never includes the request body or the API key.
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "certcentral: %s %s: HTTP %d", e.Method, e.Path, e.StatusCode)
	if t := http.StatusText(e.StatusCode); t != "" {
		b.WriteString(" " + t)
	}
	for i, d := range e.Errors {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(d.FullCode())
		if d.Message != "" {
			if d.FullCode() != "" {
				b.WriteString(": ")
			}
			b.WriteString(d.Message)
		}
	}
	if len(e.Errors) == 0 && e.Body != "" {
		fmt.Fprintf(&b, ": %q", e.Body)
	}
	if e.Note != "" {
		b.WriteString("; " + e.Note)
	}
	return b.String()
}

// summary is the status and the error codes (or the snippet), for wrapping.
func (e *APIError) summary() string {
	s := fmt.Sprintf("HTTP %d", e.StatusCode)
	if codes := e.Codes(); len(codes) > 0 {
		return s + " " + strings.Join(codes, ", ")
	}
	if e.Body != "" {
		return fmt.Sprintf("%s %q", s, e.Body)
	}
	return s
}

// Codes returns every error code as sent ("code|detail").
func (e *APIError) Codes() []string {
	out := make([]string, 0, len(e.Errors))
	for _, d := range e.Errors {
		out = append(out, d.FullCode())
	}
	return out
}

// HasCode reports whether any error has the code. code matches the bare code
// ("not_found"), the full code ("not_found|order"), or the part of a code
// before a colon ("invalid_value" matches "invalid_value:validity_years").
func (e *APIError) HasCode(code string) bool {
	for _, d := range e.Errors {
		if d.Code == code || d.FullCode() == code {
			return true
		}
		if before, _, ok := strings.Cut(d.Code, ":"); ok && before == code {
			return true
		}
	}
	return false
}

// Stage says how far a request got before it failed without an HTTP error response.
type Stage int

// Stages of a RequestError.
const (
	// StageNotSent: the request never left the client (limiter or backoff wait
	// cancelled, connection could not be opened). Nothing can have been created.
	StageNotSent Stage = iota
	// StageInFlight: the request may have reached the server (timeout, reset,
	// EOF, cancelled mid-flight). It may have been committed.
	StageInFlight
	// StageResponse: the server answered with success but the body could not be
	// read or understood. It was most likely committed.
	StageResponse
)

func (s Stage) String() string {
	switch s {
	case StageNotSent:
		return "not sent"
	case StageInFlight:
		return "in flight"
	case StageResponse:
		return "reading response"
	}
	return fmt.Sprintf("stage(%d)", int(s))
}

// RequestError is a failure that has no HTTP error response to show.
type RequestError struct {
	Method, Path string
	Stage        Stage
	Err          error
	Note         string // why the client stopped retrying, as APIError.Note
}

func (e *RequestError) Error() string {
	s := fmt.Sprintf("certcentral: %s %s (%s): %v", e.Method, e.Path, e.Stage, e.Err)
	if e.Note != "" {
		s += "; " + e.Note
	}
	return s
}

func (e *RequestError) Unwrap() error { return e.Err }

// InconclusiveError is a look-up whose response is not an answer: it neither
// lists orders nor says, the documented way, that there are none. The caller
// cannot tell whether an order exists and must treat it as a failed look-up,
// never as "none". It is not retryable within the run.
type InconclusiveError struct {
	Method, Path string
	Reason       string
}

func (e *InconclusiveError) Error() string {
	return fmt.Sprintf("certcentral: %s %s: not an answer: %s; cannot tell whether an order exists", e.Method, e.Path, e.Reason)
}

// BuildError is a request that could not be built; nothing was sent.
type BuildError struct {
	Field string // dotted path of the offending field, if any
	Err   error
}

func (e *BuildError) Error() string {
	if e.Field == "" {
		return e.Err.Error()
	}
	return fmt.Sprintf("%s: %v", e.Field, e.Err)
}

func (e *BuildError) Unwrap() error { return e.Err }

func buildErr(field, format string, args ...any) error {
	return &BuildError{Field: field, Err: fmt.Errorf(format, args...)}
}

// IsNotFound reports a 404 or a not_found code.
func IsNotFound(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && (ae.StatusCode == http.StatusNotFound || ae.HasCode("not_found"))
}

// IsRateLimited reports a 429 or a request_limit_exceeded code.
func IsRateLimited(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && (ae.StatusCode == http.StatusTooManyRequests || ae.HasCode("request_limit_exceeded"))
}

// IsAuthRejected reports that CertCentral refused the credentials (401 or
// 403): every other request with the same key fails the same way.
func IsAuthRejected(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && (ae.StatusCode == http.StatusUnauthorized || ae.StatusCode == http.StatusForbidden)
}

// IsTimeout reports a request that timed out in flight. Unlike a reset or a
// 5xx, the server may still be committing it, where a look-up cannot see it
// yet.
func IsTimeout(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// IsRetryable reports a failure that may succeed when tried again: 429, 5xx,
// timeouts and connection errors. A cancelled context is not retryable.
func IsRetryable(err error) bool {
	var ae *APIError
	if errors.As(err, &ae) {
		return IsRateLimited(err) || ae.StatusCode >= 500
	}
	var re *RequestError
	if errors.As(err, &re) {
		return re.Stage != StageResponse && !errors.Is(err, context.Canceled)
	}
	return false
}

// NothingCreated reports a failure that provably created no order: 429 and
// other 4xx responses (validation, auth, not found), and failures before the
// request left the client (body build, limiter wait cancelled, no connection).
func NothingCreated(err error) bool {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.StatusCode >= 400 && ae.StatusCode < 500
	}
	var re *RequestError
	if errors.As(err, &re) {
		return re.Stage == StageNotSent
	}
	var be *BuildError
	return errors.As(err, &be)
}

// OutcomeUnknown reports a failure after which the order may exist: timeouts,
// resets, EOF, 5xx, or an unreadable success response. Look the
// alternative_order_id up before submitting again.
func OutcomeUnknown(err error) bool {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.StatusCode >= 500
	}
	var re *RequestError
	return errors.As(err, &re) && re.Stage != StageNotSent
}

// DuplicateAlternativeIDCode is the code the simulator returns when unique
// alternative order ids are required and the id is taken. The real code is
// UNCONFIRMED; IsDuplicateAlternativeID also accepts any 4xx code mentioning
// alternative_order_id.
const DuplicateAlternativeIDCode = "duplicate_alternative_order_id"

// IsDuplicateAlternativeID reports the "unique alternative order ids" rejection.
func IsDuplicateAlternativeID(err error) bool {
	var ae *APIError
	if !errors.As(err, &ae) || ae.StatusCode < 400 || ae.StatusCode >= 500 {
		return false
	}
	for _, d := range ae.Errors {
		if strings.Contains(d.FullCode(), "alternative_order_id") {
			return true
		}
	}
	return false
}
