package certcentral

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Retry defaults, used when the Config leaves them zero.
const (
	defaultRetryMax     = 4
	defaultRetryWaitMin = time.Second
	defaultRetryWaitMax = 30 * time.Second
	// maxRetryAfter caps a server's Retry-After at CertCentral's longest
	// rate-limit window (1000 requests per 3 minutes): a longer one is wrong
	// for this API, and a stuck run is worse than a failed request.
	maxRetryAfter = 3 * time.Minute
)

// shouldRetry is the retry policy. Reads (GET) are retried on 429, 5xx (but
// 501) and connection errors. An order (POST) is retried only on 429, which
// provably created nothing; any other failure goes back to the caller, who
// must look the order up before submitting again.
func shouldRetry(method string, resp *http.Response, err error) bool {
	if err != nil {
		if method != http.MethodGet {
			return false
		}
		// The caller's own context ending is caught before this (CheckRetry);
		// a per-attempt timeout (http.Client.Timeout) is retried.
		return !errors.Is(err, context.Canceled) && !errors.Is(err, errNotSent) && !isCertError(err)
	}
	if resp == nil {
		return false
	}
	if resp.StatusCode == http.StatusTooManyRequests {
		return true
	}
	if method != http.MethodGet {
		return false
	}
	return resp.StatusCode >= 500 && resp.StatusCode != http.StatusNotImplemented
}

func isCertError(err error) bool {
	var unknownAuthority x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var invalid x509.CertificateInvalidError
	var verify *tls.CertificateVerificationError
	return errors.As(err, &unknownAuthority) || errors.As(err, &hostname) ||
		errors.As(err, &invalid) || errors.As(err, &verify)
}

// retryWait is how long to wait before retry number attempt+1 (attempt starts
// at 0). A Retry-After header (seconds or HTTP date) is honoured, capped at
// maxRetryAfter; without one the wait is exponential, min*2^attempt capped at
// max, with "equal jitter": half fixed, half random (rnd returns [0,1)).
func retryWait(min, max time.Duration, attempt int, resp *http.Response, now time.Time, rnd func() float64) time.Duration {
	if resp != nil {
		if d, ok := parseRetryAfter(resp.Header.Get("Retry-After"), now); ok {
			return d
		}
	}
	if max < min {
		max = min
	}
	exp := float64(min) * math.Pow(2, float64(attempt))
	d := max
	if exp < float64(max) {
		d = time.Duration(exp)
	}
	half := d / 2
	return half + time.Duration(rnd()*float64(d-half))
}

// parseRetryAfter reads a Retry-After value: delay-seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	var d time.Duration
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs < 0 {
			return 0, false
		}
		if secs > int64(maxRetryAfter/time.Second) {
			return maxRetryAfter, true
		}
		d = time.Duration(secs) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
		if d < 0 {
			d = 0
		}
	} else {
		return 0, false
	}
	if d > maxRetryAfter {
		d = maxRetryAfter
	}
	return d, true
}
