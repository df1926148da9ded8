package simulator

import (
	"maps"
	"sync"
)

// Stats count what the simulator served. Admin (/_sim/) requests are not counted.
type Stats struct {
	// Requests counts requests by route pattern, e.g.
	// "POST /services/v2/order/certificate/{product}"; "unmatched" for the rest.
	Requests        map[string]int `json:"requests"`
	Total           int            `json:"total"`
	TooManyRequests int            `json:"too_many_requests"` // 429s sent (rate limit and Burst429)
	RateLimited     int            `json:"rate_limited"`      // of which by the rolling windows
	ServerErrors    int            `json:"server_errors"`     // injected 500/502/503
	Dropped         int            `json:"dropped"`           // responses dropped after commit
	Unauthorized    int            `json:"unauthorized"`      // 401s
	OrdersPlaced    int            `json:"orders_placed"`     // orders committed (v2 and v1)
	ReissuesPlaced  int            `json:"reissues_placed"`   // reissue requests committed through the API
	AutoReissues    int            `json:"auto_reissues"`     // reissues requested by auto_reissue
}

type stats struct {
	mu sync.Mutex
	s  Stats
}

func newStats() *stats { return &stats{s: Stats{Requests: map[string]int{}}} }

func (st *stats) update(f func(*Stats)) {
	st.mu.Lock()
	defer st.mu.Unlock()
	f(&st.s)
}

func (st *stats) get() Stats {
	st.mu.Lock()
	defer st.mu.Unlock()
	out := st.s
	out.Requests = maps.Clone(st.s.Requests)
	return out
}

// Stats returns a copy of the request counters.
func (s *Server) Stats() Stats { return s.stats.get() }
