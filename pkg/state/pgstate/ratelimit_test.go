package pgstate

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/certplan/certplan/pkg/certcentral"
	"github.com/certplan/certplan/pkg/state/pgstate/pgtest"
)

// Two clients with the same API key, each with the whole budget to itself,
// sharing one database: together they never exceed the limit at the server.
// Arrivals are counted by the server.
func TestRateWindowTwoClientsShareTheLimit(t *testing.T) {
	url := pgtest.Schema(t)
	const limit, perClient = 8, 24
	window := 500 * time.Millisecond

	var mu sync.Mutex
	var arrivals []time.Time
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		arrivals = append(arrivals, time.Now())
		mu.Unlock()
		time.Sleep(5 * time.Millisecond) // server latency (the server's own work, not a test wait)
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"id": 1, "status": "issued"}`))
	}))
	defer srv.Close()

	const key = "k-0123456789-shared-key"
	var clients []*certcentral.Client
	for range 2 {
		rw, err := NewRateWindow(url, KeyDigest(key))
		if err != nil {
			t.Fatal(err)
		}
		defer rw.Close()
		c, err := certcentral.New(certcentral.Config{Endpoint: srv.URL, APIKey: key, HTTPClient: srv.Client(),
			Limits: []certcentral.Limit{{Requests: limit, Window: window}}, Shared: rw})
		if err != nil {
			t.Fatal(err)
		}
		clients = append(clients, c)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 2*perClient)
	for _, c := range clients {
		for range 4 { // parallel requests within each client too
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range perClient / 4 {
					if _, err := c.OrderInfo(context.Background(), 1); err != nil {
						errs <- err
						return
					}
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	sort.Slice(arrivals, func(i, j int) bool { return arrivals[i].Before(arrivals[j]) })
	if len(arrivals) != 2*perClient {
		t.Fatalf("%d requests arrived, want %d", len(arrivals), 2*perClient)
	}
	for i := limit; i < len(arrivals); i++ {
		if d := arrivals[i].Sub(arrivals[i-limit]); d < window {
			t.Fatalf("requests %d and %d arrived %s apart: %d requests within %s, limit %d", i-limit, i, d, limit+1, window, limit)
		}
	}
	// The key is never stored, only its digest.
	conn := pgtest.Connect(t, url)
	defer conn.Close(context.Background())
	cfg, _ := parseURL(url)
	var digests string
	if err := conn.QueryRow(context.Background(), cfg.sql(`SELECT coalesce(string_agg(DISTINCT key_digest, ','), '') FROM {s}.rate_requests`)).Scan(&digests); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(digests, key) || !strings.HasPrefix(digests, KeyDigest(key)) {
		t.Errorf("rate_requests key_digest = %q", digests)
	}
}

func TestKeyDigest(t *testing.T) {
	a, b := KeyDigest("key-a"), KeyDigest("key-b")
	if a == b || a != KeyDigest("key-a") || len(a) != 32 || strings.Contains(a, "key-a") {
		t.Errorf("KeyDigest: %q %q", a, b)
	}
}
