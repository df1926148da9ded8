package certcentral_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"testing"

	"github.com/certplan/certplan/pkg/certcentral"
)

func TestClassification(t *testing.T) {
	api := func(status int, codes ...string) error {
		e := &certcentral.APIError{StatusCode: status, Method: "POST", Path: "/order/certificate/x"}
		for _, c := range codes {
			d := certcentral.ErrorDetail{Code: c}
			if code, detail, ok := cut(c); ok {
				d.Code, d.Detail = code, detail
			}
			e.Errors = append(e.Errors, d)
		}
		return e
	}
	req := func(stage certcentral.Stage, err error) error {
		return &certcentral.RequestError{Method: "POST", Path: "/order/certificate/x", Stage: stage, Err: err}
	}
	timeout := &url.Error{Op: "Post", URL: "u", Err: &net.OpError{Op: "read", Err: timeoutErr{}}}
	reset := &url.Error{Op: "Post", URL: "u", Err: io.EOF}
	dial := &url.Error{Op: "Post", URL: "u", Err: &net.OpError{Op: "dial", Err: errors.New("connection refused")}}

	type want struct{ notFound, rateLimited, retryable, nothing, unknown, dup, auth, timeout bool }
	tests := []struct {
		name string
		err  error
		want want
	}{
		{"nil", nil, want{}},
		{"plain error", errors.New("x"), want{}},
		{"400 validation", api(400, "invalid_value:validity_years"), want{nothing: true}},
		{"401", api(401, "access_denied|access_denied_invalid_key"), want{nothing: true, auth: true}},
		{"403", api(403, "access_denied|missing_permission"), want{nothing: true, auth: true}},
		{"404 order", api(404, "not_found|order"), want{notFound: true, nothing: true}},
		{"404 bare", api(404), want{notFound: true, nothing: true}},
		{"400 with not_found code", api(400, "not_found|product"), want{notFound: true, nothing: true}},
		{"429", api(429, "request_limit_exceeded"), want{rateLimited: true, retryable: true, nothing: true}},
		{"429 without body", api(429), want{rateLimited: true, retryable: true, nothing: true}},
		{"500", api(500), want{retryable: true, unknown: true}},
		{"502", api(502), want{retryable: true, unknown: true}},
		{"503", api(503), want{retryable: true, unknown: true}},
		{"duplicate (simulator)", api(400, certcentral.DuplicateAlternativeIDCode), want{nothing: true, dup: true}},
		{"duplicate (other wording)", api(409, "invalid_value|alternative_order_id_in_use"), want{nothing: true, dup: true}},
		{"alternative id code on a 5xx is not a duplicate", api(500, "duplicate_alternative_order_id"), want{retryable: true, unknown: true}},
		{"timeout", req(certcentral.StageInFlight, timeout), want{retryable: true, unknown: true, timeout: true}},
		{"reset", req(certcentral.StageInFlight, reset), want{retryable: true, unknown: true}},
		{"cancelled in flight", req(certcentral.StageInFlight, &url.Error{Err: context.Canceled}), want{unknown: true}},
		{"deadline in flight", req(certcentral.StageInFlight, &url.Error{Err: context.DeadlineExceeded}), want{retryable: true, unknown: true, timeout: true}},
		{"connection refused", req(certcentral.StageNotSent, dial), want{retryable: true, nothing: true}},
		{"limiter wait cancelled", req(certcentral.StageNotSent, context.Canceled), want{nothing: true}},
		{"unreadable success", req(certcentral.StageResponse, errors.New("decode")), want{unknown: true}},
		{"build error", &certcentral.BuildError{Field: "credit_card.number", Err: errors.New("not set")}, want{nothing: true}},
		{"wrapped 429", fmt.Errorf("apply shop: %w", api(429)), want{rateLimited: true, retryable: true, nothing: true}},
		{"wrapped reset", fmt.Errorf("apply shop: %w", req(certcentral.StageInFlight, reset)), want{retryable: true, unknown: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := want{
				notFound:    certcentral.IsNotFound(tt.err),
				rateLimited: certcentral.IsRateLimited(tt.err),
				retryable:   certcentral.IsRetryable(tt.err),
				nothing:     certcentral.NothingCreated(tt.err),
				unknown:     certcentral.OutcomeUnknown(tt.err),
				auth:        certcentral.IsAuthRejected(tt.err),
				timeout:     certcentral.IsTimeout(tt.err),
				dup:         certcentral.IsDuplicateAlternativeID(tt.err),
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
			if got.nothing && got.unknown {
				t.Errorf("an error cannot be both nothing-created and outcome-unknown")
			}
		})
	}
}

func cut(code string) (string, string, bool) {
	for i := range code {
		if code[i] == '|' {
			return code[:i], code[i+1:], true
		}
	}
	return code, "", false
}

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

func TestHasCode(t *testing.T) {
	e := &certcentral.APIError{StatusCode: 400, Errors: []certcentral.ErrorDetail{
		{Code: "not_found", Detail: "order"},
		{Code: "invalid_value:validity_years"},
	}}
	for code, want := range map[string]bool{
		"not_found":                    true,
		"not_found|order":              true,
		"not_found|product":            false,
		"order":                        false,
		"invalid_value":                true,
		"invalid_value:validity_years": true,
		"invalid":                      false,
	} {
		if got := e.HasCode(code); got != want {
			t.Errorf("HasCode(%q) = %v, want %v", code, got, want)
		}
	}
}
