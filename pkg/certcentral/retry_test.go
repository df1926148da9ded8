package certcentral

import (
	"context"
	"crypto/x509"
	"errors"
	"io"
	"net/http"
	"net/url"
	"testing"
	"time"
)

func TestShouldRetry(t *testing.T) {
	resp := func(code int) *http.Response { return &http.Response{StatusCode: code, Header: http.Header{}} }
	reset := &url.Error{Op: "Post", URL: "x", Err: io.ErrUnexpectedEOF}
	tests := []struct {
		name   string
		method string
		resp   *http.Response
		err    error
		want   bool
	}{
		{"GET 200", http.MethodGet, resp(200), nil, false},
		{"GET 404", http.MethodGet, resp(404), nil, false},
		{"GET 400", http.MethodGet, resp(400), nil, false},
		{"GET 429", http.MethodGet, resp(429), nil, true},
		{"GET 500", http.MethodGet, resp(500), nil, true},
		{"GET 502", http.MethodGet, resp(502), nil, true},
		{"GET 503", http.MethodGet, resp(503), nil, true},
		{"GET 501", http.MethodGet, resp(501), nil, false},
		{"GET reset", http.MethodGet, nil, reset, true},
		{"GET cancelled", http.MethodGet, nil, &url.Error{Err: context.Canceled}, false},
		{"GET attempt timeout", http.MethodGet, nil, &url.Error{Err: context.DeadlineExceeded}, true},
		{"POST attempt timeout", http.MethodPost, nil, &url.Error{Err: context.DeadlineExceeded}, false},
		{"GET limiter wait cancelled", http.MethodGet, nil, &url.Error{Err: &notSentError{errors.New("x")}}, false},
		{"GET bad certificate", http.MethodGet, nil, &url.Error{Err: x509.UnknownAuthorityError{}}, false},
		{"POST 201", http.MethodPost, resp(201), nil, false},
		{"POST 429", http.MethodPost, resp(429), nil, true},
		{"POST 500", http.MethodPost, resp(500), nil, false},
		{"POST 503", http.MethodPost, resp(503), nil, false},
		{"POST 400", http.MethodPost, resp(400), nil, false},
		{"POST reset", http.MethodPost, nil, reset, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := shouldRetry(tt.method, tt.resp, tt.err); got != tt.want {
				t.Errorf("shouldRetry = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestRetryWait(t *testing.T) {
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	withHeader := func(v string) *http.Response {
		h := http.Header{}
		if v != "" {
			h.Set("Retry-After", v)
		}
		return &http.Response{StatusCode: 429, Header: h}
	}
	min, max := time.Second, 30*time.Second
	tests := []struct {
		name     string
		attempt  int
		resp     *http.Response
		rnd      float64
		want     time.Duration
		wantHigh time.Duration // 0: want exactly want
	}{
		{name: "retry-after seconds", resp: withHeader("7"), want: 7 * time.Second},
		{name: "retry-after zero", resp: withHeader("0"), want: 0},
		{name: "retry-after date", resp: withHeader(now.Add(12 * time.Second).Format(http.TimeFormat)), want: 12 * time.Second},
		{name: "retry-after date in the past", resp: withHeader(now.Add(-time.Minute).Format(http.TimeFormat)), want: 0},
		{name: "retry-after capped", resp: withHeader("86400"), want: maxRetryAfter},
		{name: "retry-after date capped", resp: withHeader(now.Add(time.Hour).Format(http.TimeFormat)), want: maxRetryAfter},
		{name: "garbage retry-after falls back", resp: withHeader("soon"), attempt: 0, rnd: 0, want: 500 * time.Millisecond},
		{name: "negative retry-after falls back", resp: withHeader("-3"), attempt: 0, rnd: 0, want: 500 * time.Millisecond},
		{name: "no response, attempt 0, low jitter", attempt: 0, rnd: 0, want: 500 * time.Millisecond},
		{name: "attempt 0, high jitter", attempt: 0, rnd: 0.999999, want: time.Second - time.Microsecond, wantHigh: time.Second},
		{name: "attempt 3, low jitter", attempt: 3, resp: withHeader(""), rnd: 0, want: 4 * time.Second},
		{name: "attempt 3, high jitter", attempt: 3, rnd: 0.999999, want: 8*time.Second - 10*time.Microsecond, wantHigh: 8 * time.Second},
		{name: "capped at max", attempt: 10, rnd: 0, want: 15 * time.Second},
		{name: "huge attempt does not overflow", attempt: 5000, rnd: 0.5, want: 22500 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := retryWait(min, max, tt.attempt, tt.resp, now, func() float64 { return tt.rnd })
			if tt.wantHigh == 0 && got != tt.want {
				t.Errorf("retryWait = %v, want %v", got, tt.want)
			}
			if tt.wantHigh != 0 && (got < tt.want || got > tt.wantHigh) {
				t.Errorf("retryWait = %v, want in [%v, %v]", got, tt.want, tt.wantHigh)
			}
		})
	}
}
