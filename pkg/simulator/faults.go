package simulator

import (
	"math/rand/v2"
	"sync"
)

// faultState holds the active faults and what is left of the counted ones.
type faultState struct {
	mu  sync.Mutex
	f   Faults // Burst429 and DropAfterCommit count down as they fire
	rng *rand.Rand
}

func newFaultState(f Faults) *faultState {
	fs := &faultState{}
	fs.set(f)
	return fs
}

// set replaces the faults and reseeds the random source, so the same Faults
// value always yields the same sequence of injected 5xx.
func (fs *faultState) set(f Faults) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.f = f
	fs.rng = rand.New(rand.NewPCG(uint64(f.Seed), 0x5eed))
}

func (fs *faultState) get() Faults {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return fs.f
}

// verdict is what the fault layer decided for one request.
type verdict struct {
	status429  bool
	status5xx  int // 0 = none
	retryAfter bool
}

// decide draws the request-level faults: a pending 429 burst first, then the
// 5xx share.
func (fs *faultState) decide() verdict {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	v := verdict{retryAfter: fs.f.RetryAfter}
	if fs.f.Burst429 > 0 {
		fs.f.Burst429--
		v.status429 = true
		return v
	}
	if fs.f.ServerErrorRate > 0 && fs.rng.Float64() < fs.f.ServerErrorRate {
		v.status5xx = []int{500, 502, 503}[fs.rng.IntN(3)]
	}
	return v
}

// afterCommit is what happens to the response of a committed order POST.
type afterCommit int

const (
	respond        afterCommit = iota // answer normally
	dropResponse                      // close the connection without a response
	gatewayTimeout                    // answer 504 from the "gateway"
	garbled                           // answer 201 with a body cut short
)

// takeAfterCommit draws the fault for a committed order POST, counting it
// down: a lost response first, then a gateway timeout, then a garbled body.
func (fs *faultState) takeAfterCommit() afterCommit {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	switch {
	case fs.f.DropAfterCommit > 0:
		fs.f.DropAfterCommit--
		return dropResponse
	case fs.f.GatewayTimeoutAfterCommit > 0:
		fs.f.GatewayTimeoutAfterCommit--
		return gatewayTimeout
	case fs.f.GarbledAfterCommit > 0:
		fs.f.GarbledAfterCommit--
		return garbled
	}
	return respond
}

// takeDrop reports whether this committed order's response must be dropped,
// counting the fault down.
func (fs *faultState) takeDrop() bool {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if fs.f.DropAfterCommit > 0 {
		fs.f.DropAfterCommit--
		return true
	}
	return false
}
