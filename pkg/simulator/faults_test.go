package simulator

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

const listPath = "/services/v2/order/certificate"

// statuses sends n list requests and returns their statuses.
func (s *sim) statuses(n int) []int {
	out := make([]int, 0, n)
	for range n {
		out = append(out, s.do("GET", listPath, nil).status)
	}
	return out
}

func TestFaultServerErrorRate(t *testing.T) {
	const n = 400
	faults := Faults{ServerErrorRate: 0.25, Seed: 7}
	s := newSim(t, Options{Faults: faults})
	first := s.statuses(n)

	errs := 0
	for _, st := range first {
		switch st {
		case 500, 502, 503:
			errs++
		case 200:
		default:
			t.Fatalf("unexpected status %d", st)
		}
	}
	// 25% of 400 is 100; a fixed seed makes this exact run reproducible, the
	// bounds only guard against a broken share.
	if errs < 70 || errs > 130 {
		t.Errorf("%d of %d requests failed, want about 25%%", errs, n)
	}
	if got := s.s.Stats().ServerErrors; got != errs {
		t.Errorf("Stats.ServerErrors %d, want %d", got, errs)
	}
	for _, code := range []int{500, 502, 503} {
		if !slices.Contains(first, code) {
			t.Errorf("status %d never injected", code)
		}
	}

	// The same seed replays the same sequence.
	s.s.SetFaults(faults)
	if again := s.statuses(n); !slices.Equal(again, first) {
		t.Error("the same seed gave a different sequence of injected errors")
	}
	// And a 500 has a JSON error body; 502/503 look like a gateway (HTML).
	s.s.SetFaults(Faults{ServerErrorRate: 1, Seed: 1})
	for range 20 {
		r := s.do("GET", listPath, nil)
		ct := r.header.Get("Content-Type")
		if r.status == 500 && (ct != contentJSON || !slices.Equal(r.codes(t), []string{"internal_server_error"})) {
			t.Errorf("500: %s %s", ct, r.body)
		}
		if r.status != 500 && !strings.HasPrefix(ct, "text/html") {
			t.Errorf("%d: content type %s", r.status, ct)
		}
	}
}

func TestFaultBurst429(t *testing.T) {
	for _, retryAfter := range []bool{false, true} {
		s := newSim(t, Options{Faults: Faults{Burst429: 3, RetryAfter: retryAfter}})
		for i := range 3 {
			r := s.do("GET", listPath, nil)
			if r.status != http.StatusTooManyRequests || !slices.Equal(r.codes(t), []string{"request_limit_exceeded"}) {
				t.Fatalf("request %d: %d %s", i, r.status, r.body)
			}
			if got := r.header.Get("Retry-After"); (got != "") != retryAfter {
				t.Errorf("retryAfter=%v: Retry-After %q", retryAfter, got)
			}
		}
		if r := s.do("GET", listPath, nil); r.status != http.StatusOK {
			t.Errorf("after the burst: %d", r.status)
		}
		if st := s.s.Stats(); st.TooManyRequests != 3 || st.RateLimited != 0 {
			t.Errorf("stats %+v", st)
		}
	}
}

func TestFaultDropAfterCommit(t *testing.T) {
	s := newSim(t, Options{Faults: Faults{DropAfterCommit: 1}})
	body := edit(secureSiteBody(t), "alternative_order_id", "cpdrop1")

	_, err := s.send("POST", "/services/v2/order/certificate/ssl_securesite_flex", body, func(h http.Header) {
		h.Set("X-DC-DEVKEY", testKey)
	})
	if err == nil {
		t.Fatal("the client got a response; want a connection error")
	}
	orders := s.s.Orders()
	if len(orders) != 1 || !orders[0].ResponseDropped || orders[0].AlternativeOrderID != "cpdrop1" {
		t.Fatalf("orders after the drop: %+v", orders)
	}
	// The order is visible to the look-up a careful client makes before re-submitting.
	r := s.do("GET", "/services/v2/order/alternate/cpdrop1", nil)
	var alt alternateResponse
	r.decode(t, &alt)
	if len(alt.Orders) != 1 || alt.Orders[0].OrderID != orders[0].ID || alt.Orders[0].Status != "issued" {
		t.Errorf("alternate look-up: %s", r.body)
	}
	// The fault is used up: the next order gets its response.
	s.place("ssl_securesite_flex", body)
	// A rejected order does not consume the fault.
	s.s.SetFaults(Faults{DropAfterCommit: 1})
	if r := s.do("POST", "/services/v2/order/certificate/ssl_securesite_flex", edit(body, "certificate", nil)); r.status != http.StatusBadRequest {
		t.Fatalf("invalid order: %d", r.status)
	}
	if left := s.s.Faults().DropAfterCommit; left != 1 {
		t.Errorf("DropAfterCommit left %d, want 1", left)
	}
	// v1 orders are dropped the same way.
	_, err = s.send("POST", "/order/ssl", legacyBody(t), func(h http.Header) {
		h.Set("Content-Type", contentV1)
		(&http.Request{Header: h}).SetBasicAuth("1", testKey)
	})
	if err == nil {
		t.Fatal("v1: the client got a response; want a connection error")
	}
	orders = s.s.Orders()
	if last := orders[len(orders)-1]; len(orders) != 3 || !last.Legacy || !last.ResponseDropped {
		t.Errorf("v1 drop: %+v", orders)
	}
	if st := s.s.Stats(); st.Dropped != 2 || st.OrdersPlaced != 3 {
		t.Errorf("stats %+v", st)
	}
}

func TestFaultLatency(t *testing.T) {
	const lat = 40 * time.Millisecond
	s := newSim(t, Options{Faults: Faults{Latency: lat}})
	start := time.Now()
	s.do("GET", listPath, nil)
	if took := time.Since(start); took < lat {
		t.Errorf("request took %s, want at least the injected %s", took, lat)
	}
	// Admin requests are never delayed or failed.
	s.s.SetFaults(Faults{Latency: lat, ServerErrorRate: 1, Burst429: 5})
	r := s.do("GET", "/_sim/stats", nil)
	if r.status != http.StatusOK {
		t.Errorf("admin under faults: %d", r.status)
	}
}

func TestFaultsJSON(t *testing.T) {
	tests := []struct {
		in      string
		want    Faults
		wantErr bool
	}{
		{`{"latency":"250ms","server_error_rate":0.1,"burst_429":2,"drop_after_commit":1,"retry_after":true,"seed":9}`,
			Faults{Latency: 250 * time.Millisecond, ServerErrorRate: 0.1, Burst429: 2, DropAfterCommit: 1, RetryAfter: true, Seed: 9}, false},
		{`{"gateway_timeout_after_commit":2,"garbled_after_commit":1,"lookup_lag":"3s"}`,
			Faults{GatewayTimeoutAfterCommit: 2, GarbledAfterCommit: 1, LookupLag: 3 * time.Second}, false},
		{`{"lookup_lag":"-1s"}`, Faults{}, true},
		{`{"latency":1000000}`, Faults{Latency: time.Millisecond}, false},
		{`{}`, Faults{}, false},
		{`{"latency":"soon"}`, Faults{}, true},
		{`{"server_error_rate":1.5}`, Faults{}, true},
		{`{"burst_429":-1}`, Faults{}, true},
	}
	for _, tc := range tests {
		var f Faults
		err := json.Unmarshal([]byte(tc.in), &f)
		if (err != nil) != tc.wantErr {
			t.Errorf("%s: err %v", tc.in, err)
			continue
		}
		if err == nil && f != tc.want {
			t.Errorf("%s: got %+v, want %+v", tc.in, f, tc.want)
		}
		if err == nil {
			var back Faults
			if err := json.Unmarshal(mustJSON(f), &back); err != nil || back != f {
				t.Errorf("%s: round trip %+v, %v", tc.in, back, err)
			}
		}
	}
}

// The order exists, yet the client sees a gateway's 504 or a 201 it cannot
// read: both are committed, and both count down like DropAfterCommit.
func TestFaultAnswersAfterCommit(t *testing.T) {
	s := newSim(t, Options{Faults: Faults{GatewayTimeoutAfterCommit: 1, GarbledAfterCommit: 1}})
	body := edit(secureSiteBody(t), "alternative_order_id", "cpgw1")
	r := s.do("POST", "/services/v2/order/certificate/ssl_securesite_flex", body)
	if r.status != http.StatusGatewayTimeout || !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") {
		t.Fatalf("first committed order: %d %s %s, want a gateway's 504 page", r.status, r.header.Get("Content-Type"), r.body)
	}
	body = edit(body, "alternative_order_id", "cpgarbled1")
	r = s.do("POST", "/services/v2/order/certificate/ssl_securesite_flex", body)
	if r.status != http.StatusCreated || json.Valid(r.body) {
		t.Fatalf("second committed order: %d %s, want 201 with a body that is not JSON", r.status, r.body)
	}
	if orders := s.s.Orders(); len(orders) != 2 || orders[0].ResponseDropped || orders[1].ResponseDropped {
		t.Fatalf("orders: %+v, want both committed", orders)
	}
	if f := s.s.Faults(); f.GatewayTimeoutAfterCommit != 0 || f.GarbledAfterCommit != 0 {
		t.Errorf("faults left %+v, want both used up", f)
	}
	s.place("ssl_securesite_flex", edit(body, "alternative_order_id", "cpok"))
}

// LookupLag: an order is invisible to GET /order/alternate/{id} until the
// lag has passed on the simulator clock; order info sees it at once.
func TestFaultLookupLag(t *testing.T) {
	s := newSim(t, Options{Faults: Faults{LookupLag: 3 * time.Second}})
	placed := s.place("ssl_securesite_flex", edit(secureSiteBody(t), "alternative_order_id", "cplag1"))
	lookup := func() int {
		var alt alternateResponse
		s.do("GET", "/services/v2/order/alternate/cplag1", nil).decode(t, &alt)
		return len(alt.Orders)
	}
	if n := lookup(); n != 0 {
		t.Fatalf("look-up right after the commit found %d orders, want none (the index lags)", n)
	}
	s.info(placed.ID) // order info is not delayed
	s.clock.Add(3 * time.Second)
	if n := lookup(); n != 1 {
		t.Fatalf("look-up after the lag found %d orders, want 1", n)
	}
}
