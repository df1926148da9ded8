package certcentral_test

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/certplan/certplan/pkg/certcentral"
	"github.com/certplan/certplan/pkg/spec"
)

// rollingWindowServer rejects with 429 any request that would exceed a limit
// over a rolling window, counting requests when it receives them, as the
// documentation describes CertCentral.
type rollingWindowServer struct {
	limits   []certcentral.Limit
	mu       sync.Mutex
	arrivals []time.Time
	rejected int
}

func (s *rollingWindowServer) admit(now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, l := range s.limits {
		n := 0
		for i := len(s.arrivals) - 1; i >= 0 && s.arrivals[i].After(now.Add(-l.Window)); i-- {
			n++
		}
		if n >= l.Requests {
			s.rejected++
			return false
		}
	}
	s.arrivals = append(s.arrivals, now)
	return true
}

// TestBurstOfOrdersNeverTrips429 places 300 orders from 10 goroutines against
// a server enforcing the documented limits (100 per window and 1000 per
// 36 x window, i.e. 100/5s and 1000/3min with time scaled down 5x so the test
// takes about 2 s) with client retries off: every 429 would be a failure.
func TestBurstOfOrdersNeverTrips429(t *testing.T) {
	if testing.Short() {
		t.Skip("takes about 2 seconds")
	}
	limits := []certcentral.Limit{{Requests: 100, Window: time.Second}, {Requests: 1000, Window: 36 * time.Second}}
	srv := &rollingWindowServer{limits: limits}
	api := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		if !srv.admit(time.Now()) {
			tooMany("")(w)
			return
		}
		placed(w)
	})
	c := api.client(t, func(cfg *certcentral.Config) {
		cfg.Limits = limits
		cfg.RetryMax = -1
	})
	const orders, workers = 300, 10
	var failed atomic.Int64
	var wg sync.WaitGroup
	jobs := make(chan int)
	start := time.Now()
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range jobs {
				if _, err := c.PlaceOrder(context.Background(), spec.SecureSiteFlex, []byte(`{}`)); err != nil {
					failed.Add(1)
					t.Errorf("order failed: %v", err)
				}
			}
		}()
	}
	for i := 0; i < orders; i++ {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	elapsed := time.Since(start)
	if failed.Load() != 0 || srv.rejected != 0 {
		t.Errorf("%d orders failed, server sent %d 429s; want none", failed.Load(), srv.rejected)
	}
	if len(srv.arrivals) != orders || c.Calls() != orders {
		t.Errorf("server admitted %d, client sent %d; want %d", len(srv.arrivals), c.Calls(), orders)
	}
	// Information only (no timing assertion): 300 requests at 100 per window
	// need 2 full windows after the first burst.
	t.Logf("%d orders in %v (%.0f%% of the fastest schedule the limits allow, 2 windows)",
		orders, elapsed.Round(time.Millisecond), 100*float64(2*time.Second)/float64(elapsed))
}
