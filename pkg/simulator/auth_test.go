package simulator

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
)

func TestAuthV2(t *testing.T) {
	tests := []struct {
		name     string
		accepted string // Options.APIKey
		sent     string
		status   int
	}{
		{"any key accepted", "", "whatever", http.StatusOK},
		{"missing key", "", "", http.StatusUnauthorized},
		{"configured key", "s3cret", "s3cret", http.StatusOK},
		{"wrong key", "s3cret", "guess", http.StatusUnauthorized},
		{"missing key with a configured key", "s3cret", "", http.StatusUnauthorized},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newSim(t, Options{APIKey: tc.accepted})
			for _, path := range []string{listPath, "/services/v2/order/alternate/x"} {
				r := s.doKey("GET", path, tc.sent, nil)
				if r.status != tc.status {
					t.Fatalf("GET %s: %d, want %d", path, r.status, tc.status)
				}
				if tc.status == http.StatusUnauthorized {
					if got := r.codes(t); !slices.Equal(got, []string{"access_denied|access_denied_invalid_key"}) {
						t.Errorf("codes %q", got)
					}
					if tc.sent != "" && bytes.Contains(r.body, []byte(tc.sent)) {
						t.Error("the error body echoes the key")
					}
				}
			}
			// Unauthorized order POSTs store nothing.
			r := s.doKey("POST", "/services/v2/order/certificate/ssl_securesite_flex", tc.sent, secureSiteBody(t))
			if tc.status == http.StatusUnauthorized && (r.status != http.StatusUnauthorized || len(s.s.Orders()) != 0) {
				t.Errorf("unauthorized POST: %d, %d orders", r.status, len(s.s.Orders()))
			}
		})
	}
}

func TestAuthV1(t *testing.T) {
	tests := []struct {
		name              string
		account, key      string // accepted
		sentAcct, sentKey string
		status            int
	}{
		{"any account and key", "", "", "001007", "k", http.StatusCreated},
		{"no credentials", "", "", "", "", http.StatusUnauthorized},
		{"configured", "001007", "s3cret", "001007", "s3cret", http.StatusCreated},
		{"wrong account", "001007", "s3cret", "999", "s3cret", http.StatusUnauthorized},
		{"wrong key", "001007", "s3cret", "001007", "guess", http.StatusUnauthorized},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newSim(t, Options{AccountID: tc.account, APIKey: tc.key})
			r := s.v1(tc.sentAcct, tc.sentKey, legacyBody(t))
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
			}
			if tc.status != http.StatusUnauthorized {
				return
			}
			if ct := r.header.Get("Content-Type"); ct != contentV1Error {
				t.Errorf("content type %q", ct)
			}
			var body v1ErrorBody
			r.decode(t, &body)
			if len(body.Errors) != 1 || body.Errors[0].Code != "access_denied" || body.Errors[0].Description == "" {
				t.Errorf("body %s", r.body)
			}
			if !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Basic") {
				t.Error("no WWW-Authenticate: Basic")
			}
		})
	}
}

func TestAdminLoopbackOnly(t *testing.T) {
	s, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, remote := range []string{"10.1.2.3:5555", "[2001:db8::1]:5555"} {
		req := httptest.NewRequest("GET", "/_sim/orders", nil)
		req.RemoteAddr = remote
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, req)
		if rec.Code != http.StatusForbidden {
			t.Errorf("admin from %s: %d, want 403", remote, rec.Code)
		}
	}
	for _, remote := range []string{"127.0.0.1:5555", "[::1]:5555"} {
		req := httptest.NewRequest("GET", "/_sim/orders", nil)
		req.RemoteAddr = remote
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			t.Errorf("admin from %s: %d, want 200", remote, rec.Code)
		}
	}
}
