package simulator

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestAdminAPI(t *testing.T) {
	s := newSim(t, Options{Approval: ApprovalManual})
	resp := s.place("ssl_securesite_flex", edit(secureSiteBody(t), "alternative_order_id", "cpadmin"))

	// Orders.
	r := s.do("GET", "/_sim/orders", nil)
	var orders struct {
		Orders []ReceivedOrder `json:"orders"`
	}
	r.decode(t, &orders)
	if len(orders.Orders) != 1 || orders.Orders[0].ID != resp.ID || orders.Orders[0].AlternativeOrderID != "cpadmin" ||
		orders.Orders[0].Product != "ssl_securesite_flex" || orders.Orders[0].Status != "needs_approval" {
		t.Fatalf("orders: %s", r.body)
	}

	// Status: approve, then revoke for drift tests.
	if r := s.do("POST", "/_sim/orders/"+itoa(resp.ID)+"/approve", nil); r.status != http.StatusOK {
		t.Fatalf("approve: %d %s", r.status, r.body)
	}
	r = s.do("POST", "/_sim/orders/"+itoa(resp.ID)+"/status", map[string]any{"status": "revoked"})
	if r.status != http.StatusOK {
		t.Fatalf("status: %d %s", r.status, r.body)
	}
	if info := s.info(resp.ID); info.Status != "revoked" || info.Certificate.Thumbprint == "" {
		t.Errorf("after revoke: %q, thumbprint %q", info.Status, info.Certificate.Thumbprint)
	}
	for _, bad := range []struct {
		path   string
		body   any
		status int
	}{
		{"/_sim/orders/" + itoa(resp.ID) + "/status", map[string]any{"status": "lost"}, http.StatusBadRequest},
		{"/_sim/orders/424242/status", map[string]any{"status": "revoked"}, http.StatusNotFound},
		{"/_sim/orders/" + itoa(resp.ID) + "/status", []byte("{"), http.StatusBadRequest},
		{"/_sim/orders/" + itoa(resp.ID) + "/approve", nil, http.StatusBadRequest},
		{"/_sim/clock", map[string]any{"advance": "soon"}, http.StatusBadRequest},
		{"/_sim/clock", map[string]any{}, http.StatusBadRequest},
		{"/_sim/faults", []byte(`{"server_error_rate":2}`), http.StatusBadRequest},
		{"/_sim/nothing", nil, http.StatusNotFound},
	} {
		if r := s.do("POST", bad.path, bad.body); r.status != bad.status {
			t.Errorf("POST %s: %d, want %d: %s", bad.path, r.status, bad.status, r.body)
		}
	}
	if err := s.s.SetStatus(resp.ID, "rejected"); err != nil {
		t.Fatal(err)
	}
	if info := s.info(resp.ID); info.Status != "rejected" || info.Requests[0].Status != "rejected" {
		t.Errorf("rejected: %q / %q", info.Status, info.Requests[0].Status)
	}

	// Clock.
	r = s.do("POST", "/_sim/clock", map[string]any{"advance": "720h"})
	if r.status != http.StatusOK || !s.s.Now().Equal(testNow.Add(720*time.Hour)) {
		t.Errorf("advance: %d %s, now %s", r.status, r.body, s.s.Now())
	}
	r = s.do("POST", "/_sim/clock", map[string]any{"offset": "-24h"})
	if r.status != http.StatusOK || !s.s.Now().Equal(testNow.Add(-24*time.Hour)) {
		t.Errorf("offset: %d %s, now %s", r.status, r.body, s.s.Now())
	}

	// Faults.
	r = s.do("POST", "/_sim/faults", []byte(`{"burst_429":2,"retry_after":true}`))
	if r.status != http.StatusOK {
		t.Fatalf("faults: %d %s", r.status, r.body)
	}
	if f := s.s.Faults(); f.Burst429 != 2 || !f.RetryAfter {
		t.Errorf("faults after POST: %+v", f)
	}
	s.do("GET", listPath, nil)
	r = s.do("GET", "/_sim/faults", nil)
	var f Faults
	r.decode(t, &f)
	if f.Burst429 != 1 {
		t.Errorf("GET faults: burst left %d, want 1", f.Burst429)
	}

	// Stats, by route.
	r = s.do("GET", "/_sim/stats", nil)
	var st Stats
	r.decode(t, &st)
	if st.Requests["POST /services/v2/order/certificate/{product}"] != 1 || st.Requests["GET /services/v2/order/certificate/{id}"] < 1 ||
		st.OrdersPlaced != 1 || st.TooManyRequests != 1 {
		t.Errorf("stats: %s", r.body)
	}

	// CA.
	r = s.do("GET", "/_sim/ca.pem", nil)
	if !bytes.Equal(r.body, s.s.CACertPEM()) || len(parsePEMChain(t, string(r.body))) != 1 {
		t.Errorf("ca.pem: %s", r.body)
	}
}

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (w *syncBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *syncBuffer) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

func TestRequestLogNeverHoldsSecrets(t *testing.T) {
	var log syncBuffer
	s := newSim(t, Options{Logger: &log})
	card := map[string]any{"number": "4111111111111111", "expiration_month": 12, "expiration_year": 2030, "cvv": 987, "cardholder_name": "Jane Doe"}
	billing := map[string]any{"address": "1 Main St", "city": "Lehi", "country": "us"}
	s.place("ssl_securesite_flex", edit(edit(edit(secureSiteBody(t), "payment_method", "card"), "credit_card", card), "billing_address", billing))
	s.do("GET", listPath+"?filters[status]=issued", nil)
	s.s.SetFaults(Faults{DropAfterCommit: 1})
	_, _ = s.send("POST", "/services/v2/order/certificate/ssl_securesite_flex", secureSiteBody(t), func(h http.Header) { h.Set("X-DC-DEVKEY", testKey) })

	out := log.String()
	for _, secret := range []string{testKey, "4111111111111111", "Jane Doe", "BEGIN CERTIFICATE REQUEST"} {
		if strings.Contains(out, secret) {
			t.Errorf("request log holds %q:\n%s", secret, out)
		}
	}
	for _, want := range []string{"POST /services/v2/order/certificate/ssl_securesite_flex 201", "GET /services/v2/order/certificate?filters[status]=issued 200", " dropped "} {
		if !strings.Contains(out, want) {
			t.Errorf("request log lacks %q:\n%s", want, out)
		}
	}
}

func TestServe(t *testing.T) {
	dir := t.TempDir()
	portFile := filepath.Join(dir, "addr")
	stateFile := filepath.Join(dir, "state.json")
	var banner syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Serve(ctx, ServeConfig{
			Addr: "127.0.0.1:0", PortFile: portFile, Out: &banner,
			Options: Options{APIKey: "k1", StateFile: stateFile},
		})
	}()

	var addr string
	deadline := time.Now().Add(10 * time.Second)
	for addr == "" {
		if b, err := os.ReadFile(portFile); err == nil {
			addr = strings.TrimSpace(string(b))
		} else if time.Now().After(deadline) {
			t.Fatal("the port file never appeared")
		} else {
			time.Sleep(10 * time.Millisecond)
		}
	}
	if strings.HasSuffix(addr, ":0") {
		t.Fatalf("port file holds %q, want the real port", addr)
	}
	req, _ := http.NewRequest("GET", "http://"+addr+listPath, nil)
	req.Header.Set("X-DC-DEVKEY", "k1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("list: %d", resp.StatusCode)
	}

	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Serve: %v", err)
	}
	for _, want := range []string{"CertCentral v2: http://" + addr + "/services/v2", "legacy v1: http://" + addr + "\n", "k1"} {
		if !strings.Contains(banner.String(), want) {
			t.Errorf("banner lacks %q:\n%s", want, banner.String())
		}
	}
	if _, err := os.Stat(stateFile); err != nil {
		t.Errorf("state file not written on shutdown: %v", err)
	}

	if err := Serve(context.Background(), ServeConfig{Addr: "256.0.0.1:99999"}); err == nil {
		t.Error("Serve on a bad address succeeded")
	}
}
