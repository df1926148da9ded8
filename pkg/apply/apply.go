package apply

import (
	"context"
	"sort"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/certplan/certplan/pkg/certcentral"
	"github.com/certplan/certplan/pkg/plan"
	"github.com/certplan/certplan/pkg/spec"
	"github.com/certplan/certplan/pkg/state"
)

// API is the part of CertCentral the applier uses. *certcentral.Client
// implements it; tests substitute fakes that fail in precise ways.
type API interface {
	OrdersByAlternateID(ctx context.Context, altID string) ([]certcentral.AlternateOrder, error)
	PlaceOrder(ctx context.Context, product spec.Product, body []byte) (*certcentral.PlaceOrderResponse, error)
	OrderInfo(ctx context.Context, orderID int64) (*certcentral.Order, error)
	PlaceLegacyOrder(ctx context.Context, body map[string]string) (int64, error)
	// Reissue requests a new certificate on an order; ListReissues lists
	// the order's certificates (reissue.go says how they make a reissue
	// happen exactly once).
	Reissue(ctx context.Context, orderID int64, body []byte) (*certcentral.ReissueResponse, error)
	ListReissues(ctx context.Context, orderID int64) ([]certcentral.ReissueCertificate, error)
}

// Journal is where intents and outcomes are written ahead of and after every
// submission; the journal of a state.Backend (state.JournalWriter) implements it.
type Journal interface {
	Append(rec state.Record) error
}

// Options configure a run.
type Options struct {
	API     API
	Journal Journal
	// Parallelism is how many orders run at once (default 4).
	Parallelism int
	// Abort, when cancelled, also aborts in-flight requests (a second Ctrl-C).
	// The run's own ctx only stops new orders from starting.
	Abort context.Context
	// Progress is called once per finished order, from one goroutine at a time.
	Progress func(Result)
	Logger   zerolog.Logger
	// Recovery bounds how often an order whose submission outcome is unknown
	// is looked up and re-submitted.
	Recovery Recovery
	// Pending are the interrupted intents the plan resumes, by certificate
	// name (state.Loaded.Pending). A resumed reissue needs its first intent:
	// the certificates the order had before it tell its certificate from
	// earlier ones with the same key. Without it a resumed reissue is not
	// sent.
	Pending map[string]state.Record
	// Now is the clock that stamps attempts and ages interrupted intents
	// (default time.Now).
	Now func() time.Time
	// ResubmitAfter is how long after the last attempt of an order whose
	// outcome is unknown a later run may look the key up and, finding
	// nothing, submit it again (0: DefaultResubmitAfter; negative: at once).
	ResubmitAfter time.Duration
}

// DefaultResubmitAfter is the minimum age of the last attempt of an order
// whose outcome is unknown before a look-up that finds nothing is believed
// and the order is sent again (docs/idempotency.md says why).
const DefaultResubmitAfter = 10 * time.Minute

// Recovery is the policy for outcome-unknown failures (timeout, reset, 5xx,
// unreadable 2xx). Such an order is never sent again in the same run: it is
// looked up once, a moment later, and otherwise left open for a later run
// (Options.ResubmitAfter).
type Recovery struct {
	// Backoff is the wait before the look-up that follows failed attempt n
	// (1-based; an order has one attempt per run).
	Backoff func(n int) time.Duration
	// Sleep waits or returns ctx's error; default a timer.
	Sleep func(ctx context.Context, d time.Duration) error
}

func (r Recovery) withDefaults() Recovery {
	if r.Backoff == nil {
		r.Backoff = func(n int) time.Duration { return time.Duration(n) * 500 * time.Millisecond }
	}
	if r.Sleep == nil {
		r.Sleep = sleepCtx
	}
	return r
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Report is the outcome of a run.
type Report struct {
	Results     []Result // one per change the plan applies (plan.Change.Applies), in name order
	Interrupted bool     // the run was stopped before every order started
	// Aborted says why the run stopped starting orders on its own (the API
	// key was rejected), or "".
	Aborted string
}

// Failed counts results whose outcome makes the run exit non-zero.
func (r Report) Failed() int {
	n := 0
	for _, res := range r.Results {
		if res.Outcome.Failed() {
			n++
		}
	}
	return n
}

// Run executes every change of p that apply acts on (p.ToApply): those that
// touch CertCentral and are not blocked; no-ops are skipped, and a change
// with an action this certplan does not know fails without sending anything.
// A failed order does not stop the others. When ctx is cancelled no new
// order starts; orders already started finish (unless opts.Abort is
// cancelled too) and their outcome is journaled.
func Run(ctx context.Context, p *plan.Plan, opts Options) Report {
	if opts.Parallelism <= 0 {
		opts.Parallelism = 4
	}
	if opts.Abort == nil {
		opts.Abort = context.Background()
	}
	opts.Recovery = opts.Recovery.withDefaults()

	work := p.ToApply()
	results := make([]Result, len(work))
	var (
		wg       sync.WaitGroup
		progress sync.Mutex
		next     = make(chan int)
		stop     = make(chan struct{}) // closed when a fatal failure is seen
		stopOnce sync.Once
		aborted  string
	)
	r := &runner{opts: opts}
	for w := 0; w < opts.Parallelism && w < len(work); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				res := r.order(work[i])
				results[i] = res
				progress.Lock()
				if res.fatal {
					stopOnce.Do(func() {
						aborted = "CertCentral rejected the credentials: check DIGICERT_API_KEY (and DIGICERT_ACCOUNT_ID for legacy v1); no further orders were started"
						close(stop)
					})
				}
				if opts.Progress != nil {
					opts.Progress(res)
				}
				progress.Unlock()
			}
		}()
	}
	interrupted := false
	skipReason := "not started: apply was interrupted"
dispatch:
	for i := range work {
		// Stopping takes priority over dispatching: select picks at random
		// among ready cases, so check first.
		if ctx.Err() == nil {
			select {
			case <-stop:
			default:
				select {
				case <-ctx.Done():
				case <-stop:
				case next <- i:
					continue dispatch
				}
			}
		}
		if ctx.Err() != nil {
			interrupted = true
		} else {
			skipReason = "not started: the API key was rejected"
		}
		for j := i; j < len(work); j++ {
			results[j] = Result{Name: work[j].Name, Action: work[j].Action, Outcome: OutcomeSkipped, Error: skipReason}
		}
		break dispatch
	}
	close(next)
	wg.Wait()
	if ctx.Err() != nil {
		interrupted = true
	}
	sort.SliceStable(results, func(i, j int) bool { return results[i].Name < results[j].Name })
	return Report{Results: results, Interrupted: interrupted, Aborted: aborted}
}
