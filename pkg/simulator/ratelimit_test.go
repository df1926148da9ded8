package simulator

import (
	"net/http"
	"slices"
	"testing"
	"time"
)

func TestLimiterRollingWindows(t *testing.T) {
	t0 := testNow
	l := newLimiter([]Limit{{Requests: 2, Window: time.Second}, {Requests: 3, Window: 10 * time.Second}})
	steps := []struct {
		at       time.Duration
		key      string
		allowed  bool
		wantWait time.Duration
	}{
		{0, "a", true, 0},
		{100 * time.Millisecond, "a", true, 0},
		{200 * time.Millisecond, "a", false, 800 * time.Millisecond}, // 2 per second
		{200 * time.Millisecond, "b", true, 0},                       // per key
		{time.Second, "a", true, 0},                                  // the first left the 1 s window
		{2 * time.Second, "a", false, 8 * time.Second},               // 3 per 10 s
		{9 * time.Second, "a", false, time.Second},                   // rejected requests are not counted
		{10 * time.Second, "a", true, 0},
	}
	for i, st := range steps {
		ok, wait := l.allow(st.key, t0.Add(st.at))
		if ok != st.allowed || wait != st.wantWait {
			t.Errorf("step %d (%s at %s): allowed %v wait %s, want %v %s", i, st.key, st.at, ok, wait, st.allowed, st.wantWait)
		}
	}
}

func TestRateLimitOverHTTP(t *testing.T) {
	s := newSim(t, Options{Limits: []Limit{{Requests: 3, Window: 10 * time.Second}}, Faults: Faults{RetryAfter: true}})
	for i := range 3 {
		if r := s.do("GET", listPath, nil); r.status != http.StatusOK {
			t.Fatalf("request %d: %d", i, r.status)
		}
	}
	// Every endpoint shares the key's budget, orders included.
	r := s.do("POST", "/services/v2/order/certificate/ssl_securesite_flex", secureSiteBody(t))
	if r.status != http.StatusTooManyRequests || !slices.Equal(r.codes(t), []string{"request_limit_exceeded"}) {
		t.Fatalf("over the limit: %d %s", r.status, r.body)
	}
	if got := r.header.Get("Retry-After"); got != "10" {
		t.Errorf("Retry-After %q, want 10", got)
	}
	if n := len(s.s.Orders()); n != 0 {
		t.Errorf("a rate-limited order was stored (%d orders)", n)
	}
	// Another key has its own windows.
	if r := s.doKey("GET", listPath, "other-key", nil); r.status != http.StatusOK {
		t.Errorf("other key: %d", r.status)
	}
	// Admin calls are not limited.
	if r := s.do("GET", "/_sim/stats", nil); r.status != http.StatusOK {
		t.Errorf("admin: %d", r.status)
	}
	s.clock.Add(10 * time.Second)
	if r := s.do("GET", listPath, nil); r.status != http.StatusOK {
		t.Errorf("after the window: %d", r.status)
	}
	if st := s.s.Stats(); st.RateLimited != 1 || st.TooManyRequests != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestRateLimitDefaults(t *testing.T) {
	s := startSim(t, Options{}) // nil Limits: the documented defaults
	clock := s.clock
	for i := range 100 {
		if r := s.do("GET", listPath, nil); r.status != http.StatusOK {
			t.Fatalf("request %d within the documented 100/5s: %d", i, r.status)
		}
	}
	if r := s.do("GET", listPath, nil); r.status != http.StatusTooManyRequests {
		t.Fatalf("request 101 within 5 s: %d, want 429", r.status)
	}
	clock.Add(5 * time.Second)
	if r := s.do("GET", listPath, nil); r.status != http.StatusOK {
		t.Fatalf("after 5 s: %d", r.status)
	}
}

func TestRateLimitUnlimited(t *testing.T) {
	s := newSim(t, Options{Limits: []Limit{}})
	for i := range 300 {
		if r := s.do("GET", listPath, nil); r.status != http.StatusOK {
			t.Fatalf("request %d: %d", i, r.status)
		}
	}
}

func TestParseLimits(t *testing.T) {
	tests := []struct {
		in      string
		want    []Limit
		wantErr bool
	}{
		{"", DefaultLimits(), false},
		{"none", []Limit{}, false},
		{"100/5s,1000/3m", []Limit{{100, 5 * time.Second}, {1000, 3 * time.Minute}}, false},
		{" 10/1s ", []Limit{{10, time.Second}}, false},
		{"100", nil, true},
		{"0/5s", nil, true},
		{"10/soon", nil, true},
		{"10/-1s", nil, true},
	}
	for _, tc := range tests {
		got, err := ParseLimits(tc.in)
		if (err != nil) != tc.wantErr || !slices.Equal(got, tc.want) {
			t.Errorf("ParseLimits(%q) = %v, %v; want %v (error %v)", tc.in, got, err, tc.want, tc.wantErr)
		}
	}
}
