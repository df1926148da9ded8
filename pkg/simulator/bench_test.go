package simulator

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// serve calls the handler in-process (no network), as a benchmark needs.
func serve(b *testing.B, h http.Handler, method, path string, body []byte) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, bytes.NewReader(body))
	req.Header.Set("X-DC-DEVKEY", testKey)
	req.RemoteAddr = "127.0.0.1:1"
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func benchServer(b *testing.B, orders int) (*Server, []int64) {
	s, err := New(Options{Limits: []Limit{}, Now: newFakeClock().Now})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Close() })
	body, _ := json.Marshal(secureSiteBody(b))
	ids := make([]int64, 0, orders)
	for range orders {
		rec := serve(b, s.Handler(), "POST", "/services/v2/order/certificate/ssl_securesite_flex", body)
		var out orderResponse
		if rec.Code != http.StatusCreated || json.Unmarshal(rec.Body.Bytes(), &out) != nil {
			b.Fatalf("place: %d %s", rec.Code, rec.Body)
		}
		ids = append(ids, out.ID)
	}
	return s, ids
}

// BenchmarkPlaceOrder measures validation, storage and immediate issuance of one TLS order.
func BenchmarkPlaceOrder(b *testing.B) {
	s, _ := benchServer(b, 0)
	body, _ := json.Marshal(secureSiteBody(b))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if rec := serve(b, s.Handler(), "POST", "/services/v2/order/certificate/ssl_securesite_flex", body); rec.Code != http.StatusCreated {
			b.Fatalf("%d %s", rec.Code, rec.Body)
		}
	}
}

// BenchmarkListByIDs measures a refresh-sized list call: 1000 ids out of 10,000 orders.
func BenchmarkListByIDs(b *testing.B) {
	s, ids := benchServer(b, 10000)
	parts := make([]string, 0, 1000)
	for _, id := range ids[:1000] {
		parts = append(parts, itoa(id))
	}
	path := listPath + "?limit=1000&filters[id]=" + strings.Join(parts, ",")
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if rec := serve(b, s.Handler(), "GET", path, nil); rec.Code != http.StatusOK {
			b.Fatalf("%d", rec.Code)
		}
	}
}

// BenchmarkListByStatus measures the drift sweep: a status filter over 10,000 orders.
func BenchmarkListByStatus(b *testing.B) {
	s, _ := benchServer(b, 10000)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if rec := serve(b, s.Handler(), "GET", listPath+"?filters[status]=revoked,rejected,canceled", nil); rec.Code != http.StatusOK {
			b.Fatalf("%d", rec.Code)
		}
	}
}
