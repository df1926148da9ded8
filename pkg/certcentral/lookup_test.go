package certcentral_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/certplan/certplan/pkg/certcentral"
)

// TestAlternateLookupOnlyAnAnswerMeansNone: apply submits an order when the
// look-up of its alternative_order_id says "none", so only CertCentral's two
// documented ways of saying so may return (nil, nil). A body that is not a
// list of orders (a proxy's page, a truncated or error-carrying 200) is a
// failed look-up: apply then keeps the intent open instead of buying again.
func TestAlternateLookupOnlyAnAnswerMeansNone(t *testing.T) {
	html := func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte("<html><body><h1>404 Not Found</h1>nginx</body></html>"))
	}
	tests := []struct {
		name   string
		answer step
		none   bool   // want (nil, nil)
		reason string // want an *InconclusiveError mentioning this
	}{
		{name: "empty list", answer: status(200, `{"orders":[],"page":{"total":0}}`), none: true},
		{name: "404 not_found|order", answer: status(404, `{"errors":[{"code":"not_found|order","message":"Order not found"}]}`), none: true},
		{name: "404 not_found", answer: status(404, `{"errors":[{"code":"not_found","message":"Not found"}]}`), none: true},

		{name: "200 {}", answer: status(200, `{}`), reason: `no "orders" list`},
		{name: "200 without orders", answer: status(200, `{"page":{"total":0}}`), reason: `no "orders" list`},
		{name: "200 orders null", answer: status(200, `{"orders":null}`), reason: `no "orders" list`},
		{name: "200 with errors", answer: status(200, `{"errors":[{"code":"access_denied","message":"no"}]}`), reason: "access_denied"},
		{name: "200 empty list and errors", answer: status(200, `{"orders":[],"errors":[{"code":"server_error"}]}`), reason: "server_error"},
		{name: "200 order without id", answer: status(200, `{"orders":[{"status":"issued"}]}`), reason: "order_id"},
		{name: "404 from a proxy", answer: html, reason: "without a not_found error code"},
		{name: "404 with another code", answer: status(404, `{"errors":[{"code":"invalid_route","message":"?"}]}`), reason: "invalid_route"},
		{name: "404 without a body", answer: status(404, ``), reason: "without a not_found error code"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := newFakeAPI(t, script(tt.answer))
			found, err := api.client(t).OrdersByAlternateID(context.Background(), "cpABC123")
			if tt.none {
				if err != nil || found != nil {
					t.Fatalf("OrdersByAlternateID = %v, %v; want nil, nil (none)", found, err)
				}
				return
			}
			var ie *certcentral.InconclusiveError
			if !errors.As(err, &ie) || found != nil {
				t.Fatalf("OrdersByAlternateID = %v, %v; want a failed look-up (*InconclusiveError), not none", found, err)
			}
			if !strings.Contains(err.Error(), tt.reason) || !strings.Contains(err.Error(), "/order/alternate/cpABC123") {
				t.Errorf("error %q does not name the request and %q", err, tt.reason)
			}
			if certcentral.IsNotFound(err) || certcentral.NothingCreated(err) {
				t.Errorf("a failed look-up classifies as not-found or nothing-created: %v", err)
			}
			if n := len(api.requests()); n != 1 {
				t.Errorf("server saw %d requests, want 1", n)
			}
		})
	}
}
