package simulator

import (
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/certplan/certplan/pkg/lifecycle"
	"github.com/certplan/certplan/pkg/product"
)

// Server is an in-process CertCentral. Serve Handler() with net/http or httptest.
type Server struct {
	opts    Options
	now     func() time.Time
	limiter *limiter
	faults  *faultState
	handler http.Handler
	stats   *stats
	persist *persister // nil without a state file
	logMu   sync.Mutex

	mu    sync.Mutex // guards st, ca and events
	st    *store
	ca    *ca
	close sync.Once

	caps lifecycle.Caps
	// resolver asks Options.DNS about DCV records (nil without it);
	// dcvReuse is the validation reuse table (never nil).
	resolver *dnsChecker
	dcvReuse lifecycle.Caps
	events   eventQueue // time-driven work: delayed approvals, auto-reissues
	// dirty is set by changed(): an order changed, so its next event may be earlier.
	dirty atomic.Bool
}

// v2Products are the products POST /order/certificate/{product} accepts.
func v2Products() map[product.Product]product.Family {
	out := map[product.Product]product.Family{}
	for _, p := range product.All() {
		if f, ok := p.Family(); ok && f != product.FamilyLegacy {
			out[p] = f
		}
	}
	return out
}

// New builds a simulator. With Options.StateFile it loads the orders and the
// CA from the file when it exists and keeps the file up to date.
func New(opts Options) (*Server, error) {
	mode, err := ParseApprovalMode(string(opts.Approval))
	if err != nil {
		return nil, err
	}
	opts.Approval = mode
	if opts.ApprovalDelay < 0 {
		return nil, fmt.Errorf("approval delay %s must not be negative", opts.ApprovalDelay)
	}
	if err := opts.Faults.validate(); err != nil {
		return nil, fmt.Errorf("faults: %w", err)
	}
	limits := opts.Limits
	if limits == nil {
		limits = DefaultLimits()
	}
	for _, l := range limits {
		if l.Requests < 1 || l.Window <= 0 {
			return nil, fmt.Errorf("rate limit %s: want a positive request count and window", l)
		}
	}
	caps := opts.Caps
	if caps == nil {
		caps = lifecycle.DefaultCaps()
	}
	if err := caps.Validate(); err != nil {
		return nil, fmt.Errorf("certificate caps: %w", err)
	}
	if err := checkDNSOption(opts.DNS); err != nil {
		return nil, err
	}
	reuse := opts.DCVReuse
	if reuse == nil {
		reuse = lifecycle.DefaultDCVReuse()
	}
	if err := reuse.Validate(); err != nil {
		return nil, fmt.Errorf("DCV reuse periods: %w", err)
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	s := &Server{
		opts:    opts,
		now:     now,
		limiter: newLimiter(limits),
		faults:  newFaultState(opts.Faults),
		stats:   newStats(),
		st:      newStore(),
		caps:    caps,

		dcvReuse: reuse,
	}
	if opts.DNS != "" {
		s.resolver = &dnsChecker{server: opts.DNS, timeout: dcvLookupTimeout}
	}
	if opts.StateFile != "" {
		loaded, ca, err := loadState(opts.StateFile)
		if err != nil {
			return nil, err
		}
		if loaded != nil {
			s.st, s.ca = loaded, ca
		}
	}
	if !opts.ClockStart.IsZero() {
		s.st.ClockSkew = opts.ClockStart.Sub(now())
	}
	s.dirty.Store(true) // loaded orders may have work due
	if s.ca == nil {
		if s.ca, err = newCA(s.clock()); err != nil {
			return nil, fmt.Errorf("simulator CA: %w", err)
		}
	}
	if opts.StateFile != "" {
		s.persist = newPersister(opts.StateFile, s.snapshot)
		s.persist.markDirty() // write the CA at once
	}
	s.handler = s.routes()
	return s, nil
}

// clock is the simulator time: Options.Now plus the admin clock offset.
// Callers that hold s.mu must use clockLocked.
func (s *Server) clock() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.clockLocked()
}

func (s *Server) clockLocked() time.Time { return s.now().Add(s.st.ClockSkew) }

// Handler serves v2 under /services/v2/..., v1 at /order/ssl and the admin API under /_sim/.
func (s *Server) Handler() http.Handler { return s.handler }

// Close flushes the state file. The Server must not be used afterwards.
func (s *Server) Close() error {
	var err error
	s.close.Do(func() {
		if s.persist != nil {
			err = s.persist.close()
		}
	})
	return err
}

// CACertPEM returns the root certificate in PEM.
func (s *Server) CACertPEM() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return []byte(pemCert(s.ca.root.Raw))
}

// changed marks the state dirty for the persister, and the event queue for a
// rescan. Callers hold s.mu or not; it is lock-free.
func (s *Server) changed() {
	s.dirty.Store(true)
	if s.persist != nil {
		s.persist.markDirty()
	}
}
