// Package run owns one certplan run against a state, in its fixed order:
// lock -> load -> refresh -> plan -> (the caller confirms) -> execute -> fold.
//
// cmd/certplan keeps the flags, the prompt, the rendering and the mapping from
// errors to exit codes; everything that decides what happens to the state and
// in which order lives here, given a state backend, a CertCentral client and a
// clock. A Session is one locked state; Release gives the lock back.
package run

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/certplan/certplan/pkg/apply"
	"github.com/certplan/certplan/pkg/certcentral"
	"github.com/certplan/certplan/pkg/dcv"
	"github.com/certplan/certplan/pkg/lifecycle"
	"github.com/certplan/certplan/pkg/plan"
	"github.com/certplan/certplan/pkg/spec"
	"github.com/certplan/certplan/pkg/state"
)

// Env is what a run takes from its surroundings.
type Env struct {
	Backend state.Backend
	// Client returns the run's CertCentral client. It is called only when the
	// run needs one (refreshing a non-empty state, executing), so that a plan
	// of a new project needs no API key.
	Client func() (*certcentral.Client, error)
	// Now is the planning clock (--now / CERTPLAN_NOW, or the wall clock).
	Now time.Time
	// Caps are the dated certificate validity caps (nil: lifecycle.DefaultCaps()).
	Caps lifecycle.Caps
	// LockTimeout bounds the wait for another run's lock.
	LockTimeout time.Duration
	Logger      zerolog.Logger
	// Version is certplan's version, recorded in plans.
	Version string
	// Note tells a person something that is not an error: kind is "Warning"
	// or "Note". Nil drops them.
	Note func(kind, msg string)
	// Commit is the commit the manifests come from, recorded in plans.
	Commit string
	// Partial says the manifests are some of the project's only: the
	// plan then calls no certificate orphaned (plan.Input.Partial).
	Partial bool
	// AllowDuplicateOrder names certificates that may be ordered although
	// the state is new or lost and CertCentral lists a live order with their
	// product and names (`--allow-duplicate-order NAME`).
	AllowDuplicateOrder []string
}

func (e Env) note(kind, msg string) {
	if e.Note != nil {
		e.Note(kind, msg)
	}
}

// Operation is what a run does with the state: its name, recorded in the
// lock-info, and whether it can change the state at all.
type Operation struct {
	Name string
	// ReadOnly runs cannot change the state: they take no lock and write
	// nothing, so they work on a read-only checkout and never keep an apply
	// waiting. Their session cannot Execute or RecordRefresh.
	ReadOnly bool
}

// The operations of Prepare.
var (
	// OpPlan is `certplan plan`, with or without refresh: it reads the
	// state (a consistent snapshot and journal, which Backend.Load gives
	// without the lock), asks CertCentral, and writes nothing; what refresh
	// learned is recorded by the next apply. A saved plan records the
	// state's lineage, serial and journal position, and apply checks them
	// under its lock, so a plan made while another run changed the state is
	// refused rather than applied.
	OpPlan = Operation{Name: "plan", ReadOnly: true}
	// OpApply is `certplan apply` with manifest paths.
	OpApply = Operation{Name: "apply"}
)

// ErrReadOnly is returned by Execute and RecordRefresh on a read-only
// session.
var ErrReadOnly = errors.New("this run took the state read-only (no lock): it cannot record anything")

// Session is a loaded state, locked unless read-only, and, once planned,
// its plan.
type Session struct {
	env      Env
	lock     state.Lock
	readOnly bool
	// Loaded is the state as loaded under the lock (journal replayed).
	Loaded *state.Loaded
	// Facts are the refreshed orders by id; empty without refresh.
	Facts map[int64]state.OrderFacts
	// Live are the live orders refresh listed for the first-order guard
	// (the state is new or lost: StateNewOrLost), when LiveListed.
	Live       []plan.LiveOrder
	LiveListed bool
	// Plan is set by Build or by OpenPlanFile.
	Plan *plan.Plan
}

// StateNewOrLost says the state cannot be trusted to know every order of
// the manifests' certificates, so that the first order of a certificate it
// does not know is checked against CertCentral's live orders (the
// first-order guard, pkg/plan/guard.go): no snapshot is stored (a new
// project, a deleted state file, a backup without its state, a first apply
// interrupted before its first commit), or the snapshot tracks no
// certificate, or only imported ones (orders certplan did not place, as
// while recovering from a loss). Any certificate certplan ordered or
// adopted makes the state healthy: a certificate it does not know is then
// simply new, and costs no extra call.
func StateNewOrLost(l *state.Loaded) bool {
	if l == nil || l.State == nil || !l.Base.Stored {
		return true
	}
	for _, c := range l.State.Certificates {
		if c != nil && c.Action != state.ActionImport {
			return false
		}
	}
	return true
}

// Lock takes the state's lock for operation, waiting up to env.LockTimeout,
// and loads the state. A lock held by another run is a *state.LockedError
// (wrapped); a lock taken over from a dead run is noted.
func Lock(ctx context.Context, env Env, operation string) (*Session, error) {
	name := env.Backend.Describe().Name
	l, err := env.Backend.Lock(ctx, operation, env.LockTimeout)
	if err != nil {
		var le *state.LockedError
		if errors.As(err, &le) {
			return nil, err
		}
		return nil, fmt.Errorf("lock state %s: %w", name, err)
	}
	if prev := l.TookOver(); prev != nil {
		env.note("Note", fmt.Sprintf("took over a stale state lock left by pid %d on %s (%s since %s); that process is gone",
			prev.PID, prev.Host, prev.Operation, prev.Created.Format(time.RFC3339)))
	}
	s := &Session{env: env, lock: l}
	if s.Loaded, err = Load(ctx, env); err != nil {
		s.Release()
		return nil, err
	}
	return s, nil
}

// Load reads the state without locking or writing, noting its warnings (a
// torn journal tail, a missing snapshot beside its backup).
func Load(ctx context.Context, env Env) (*state.Loaded, error) {
	l, err := env.Backend.Load(ctx)
	if err != nil {
		return nil, err
	}
	for _, w := range l.Warnings {
		env.note("Warning", w)
	}
	return l, nil
}

// Release gives the lock back. It is idempotent.
func (s *Session) Release() {
	if s != nil && s.lock != nil {
		_ = s.lock.Release()
		s.lock = nil
	}
}

// Backend is the state the session holds.
func (s *Session) Backend() state.Backend { return s.env.Backend }

// RefreshError is a failed refresh: CertCentral could not be asked about the
// tracked orders. Planning from the state alone is the way around it.
type RefreshError struct {
	Err error
	// NoClient: there was no client to ask (no API key, a bad endpoint).
	NoClient bool
}

func (e *RefreshError) Error() string {
	if e.NoClient {
		return e.Err.Error()
	}
	return "refresh: " + e.Err.Error()
}
func (e *RefreshError) Unwrap() error { return e.Err }

// Refresh asks CertCentral, in bulk, about the tracked orders whose status can
// have changed. With an empty state there is nothing to ask and no client is
// needed.
func (s *Session) Refresh(ctx context.Context, certs []*spec.Certificate) error {
	st := s.Loaded.State
	if err := s.listLive(ctx, certs); err != nil {
		return err
	}
	if len(st.Certificates) == 0 {
		return nil
	}
	c, err := s.env.Client()
	if err != nil {
		return &RefreshError{Err: err, NoClient: true}
	}
	facts, stats, err := plan.Refresh(ctx, c, st, certs, s.env.Now)
	if err != nil {
		return &RefreshError{Err: err}
	}
	// Orders awaiting domain validation: their random value, when missing or expired.
	dstats, err := dcv.Refresh(ctx, c, st, facts, s.env.Now)
	if err != nil {
		return &RefreshError{Err: err}
	}
	for _, p := range dstats.Problems {
		s.env.note("Warning", p)
	}
	s.env.Logger.Info().Int("calls", stats.Calls+dstats.Calls).Int("lookups", stats.Lookups).Int("orders", stats.Orders).Msg("refreshed")
	if len(stats.Unseen) > 0 {
		s.env.note("Warning", fmt.Sprintf("CertCentral returned nothing for %d tracked order(s) (%s): they are planned from the state alone; check that the API key can see them",
			len(stats.Unseen), idList(stats.Unseen, 5)))
	}
	s.Facts = facts
	return nil
}

// listLive lists the live orders of the products of the certificates a new
// or lost state does not know (the first-order guard). Without a client
// (no API key: a plan of a new project) it lists nothing, and apply lists
// before it orders.
func (s *Session) listLive(ctx context.Context, certs []*spec.Certificate) error {
	products := unknownProducts(s.Loaded, certs)
	if len(products) == 0 {
		return nil
	}
	c, err := s.env.Client()
	if err != nil {
		s.env.Logger.Info().Err(err).Msg("the state is new or was lost, and without a client certplan cannot look for live orders of its new certificates now; apply looks before it orders")
		return nil
	}
	live, calls, err := plan.ListLive(ctx, c, products)
	if err != nil {
		return &RefreshError{Err: fmt.Errorf("the state is new or was lost, so certplan looks for live orders of the certificates it does not know before their first order: %w", err)}
	}
	s.env.Logger.Info().Int("calls", calls).Int("live_orders", len(live)).Msg("listed live orders (the state is new or was lost)")
	s.Live, s.LiveListed = live, true
	return nil
}

// unknownProducts are the products of the certificates a new or lost state
// does not know; none when the state is healthy.
func unknownProducts(l *state.Loaded, certs []*spec.Certificate) []spec.Product {
	if !StateNewOrLost(l) {
		return nil
	}
	var out []spec.Product
	for _, c := range certs {
		if c != nil && l.State.Certificates[c.Name] == nil {
			out = append(out, c.Product)
		}
	}
	return out
}

// Build plans the manifests against the loaded state and the refreshed facts.
func (s *Session) Build(manifests *spec.Result) *plan.Plan {
	info := s.env.Backend.Describe()
	p := plan.Build(plan.Input{
		Certificates:    manifests.Certificates,
		State:           s.Loaded.State,
		Pending:         s.Loaded.Pending,
		Facts:           s.Facts,
		Now:             s.env.Now,
		Caps:            s.env.Caps,
		ManifestDigests: manifests.FileDigests,
		Version:         s.env.Version,
		Backend:         &info,
		Commit:          s.env.Commit,
		Partial:         s.env.Partial,

		Unrecorded:          StateNewOrLost(s.Loaded),
		LiveOrders:          s.Live,
		LiveListed:          s.LiveListed,
		AllowDuplicateOrder: nameSet(s.env.AllowDuplicateOrder),
	})
	if !s.Loaded.Exists {
		// No state yet: its lineage is not fixed until the first save, so a
		// saved plan records none (and is stale once any state exists).
		p.Lineage = ""
	}
	p.JournalPosition = s.Loaded.Base.Journal
	s.Plan = p
	return p
}

// Prepare is Lock (Load only, for a read-only op), Refresh (when asked) and
// Build: a loaded state and its plan, ready to confirm and execute unless
// read-only. On error nothing is held.
func Prepare(ctx context.Context, env Env, manifests *spec.Result, refresh bool, op Operation) (*Session, error) {
	var s *Session
	if op.ReadOnly {
		l, err := Load(ctx, env)
		if err != nil {
			return nil, err
		}
		s = &Session{env: env, Loaded: l, readOnly: true}
	} else {
		var err error
		if s, err = Lock(ctx, env, op.Name); err != nil {
			return nil, err
		}
	}
	if refresh {
		if err := s.Refresh(ctx, manifests.Certificates); err != nil {
			s.Release()
			return nil, err
		}
	}
	s.Build(manifests)
	return s, nil
}

// ErrStaleJournal says a saved plan was made before an interrupted apply's
// journal records that the state now holds; they are folded, and the user
// plans again.
var ErrStaleJournal = errors.New("saved plan is stale: an interrupted apply left a journal, now folded into the state; run `certplan plan` again (it resumes or blocks the interrupted orders)")

// OpenPlanFile locks the state and checks that the saved plan p still
// applies to it: the same kind of backend, lineage, serial and journal
// position, and manifests whose digests (from digest) are the planned ones.
// The session is returned with the lock held even on error, for the caller
// to release.
func OpenPlanFile(ctx context.Context, env Env, p *plan.Plan, digest func(file string) (string, error)) (*Session, error) {
	if err := plan.CheckBackend(p, env.Backend.Describe()); err != nil {
		return nil, err
	}
	s, err := Lock(ctx, env, "apply")
	if err != nil {
		return nil, err
	}
	s.Plan = p
	if s.Loaded.Base.Journal != p.JournalPosition {
		// An interrupted apply left a journal. Its intents may have placed
		// orders the saved plan knows nothing about (a legacy v1 order above
		// all, which no key can find): fold it and make the user plan again.
		if err := Fold(ctx, env.Backend); err != nil {
			return s, err
		}
		return s, ErrStaleJournal
	}
	if err := plan.CheckFresh(p, s.Loaded.State); err != nil {
		return s, err
	}
	current := map[string]string{}
	for file := range p.ManifestDigests {
		if d, err := digest(file); err == nil {
			current[file] = d
		}
	}
	if err := plan.CheckManifests(p, current); err != nil {
		return s, err
	}
	return s, nil
}

// ExecuteOptions configure Execute.
type ExecuteOptions struct {
	Parallelism int
	// Progress is called once per finished order (apply.Options.Progress).
	Progress func(apply.Result)
	// Wait, when positive, polls up to this long after placing until the new
	// orders are issued; WaitInterval spaces the polls. OnWait is called once
	// before the wait starts, WaitProgress once per order the wait settles.
	Wait         time.Duration
	WaitInterval time.Duration
	OnWait       func()
	WaitProgress func(apply.Result)
	// DCVLookup, when set, makes the wait complete domain validation too:
	// each round, an order awaiting it has its records looked up with
	// DCVLookup and, once all are visible, CertCentral asked to check.
	DCVLookup func(ctx context.Context, r dcv.Record) dcv.Lookup
	// ResubmitAfter is how old the last attempt of an order whose outcome
	// is unknown must be before a look-up that finds nothing is believed
	// and the order sent again (apply.Options.ResubmitAfter: 0 is
	// apply.DefaultResubmitAfter, negative is at once).
	ResubmitAfter time.Duration
	// Clock times attempts and ages interrupted intents: it must be the
	// clock that stamps the journal (nil: the wall clock).
	Clock func() time.Time
}

// Execute applies the session's plan: it opens the journal, journals what
// refresh learned, places the orders (apply.Run), optionally waits for
// issuance, and folds the journal into the snapshot at the end whatever
// happened. soft stops new orders from starting; abort also aborts in-flight
// requests. The report says how each order ended; the error is one that
// stopped the run from recording its outcome.
func (s *Session) Execute(soft, abort context.Context, opts ExecuteOptions) (rep apply.Report, err error) {
	if s.readOnly {
		return rep, ErrReadOnly
	}
	client, err := s.env.Client()
	if err != nil {
		return rep, err
	}
	if err := s.guardFirstOrders(abort, client); err != nil {
		return rep, err
	}
	j, err := s.env.Backend.OpenJournal(abort)
	if err != nil {
		return rep, fmt.Errorf("open journal: %w", err)
	}
	defer func() {
		if cerr := j.Close(); cerr != nil && err == nil {
			err = cerr
		}
		// Fold whatever happened, interrupted or not.
		if ferr := Fold(context.WithoutCancel(abort), s.env.Backend); ferr != nil && err == nil {
			err = ferr
		}
	}()
	if _, err := apply.RecordRefresh(j, s.Loaded.State, s.Facts); err != nil {
		return rep, fmt.Errorf("record refreshed orders: %w", err)
	}
	rep = apply.Run(soft, s.Plan, apply.Options{
		API:           client,
		Journal:       j,
		Parallelism:   opts.Parallelism,
		Abort:         abort,
		Logger:        s.env.Logger,
		Progress:      opts.Progress,
		Pending:       s.Loaded.Pending,
		Now:           opts.Clock,
		ResubmitAfter: opts.ResubmitAfter,
	})
	if opts.Wait > 0 && !rep.Interrupted {
		if opts.OnWait != nil {
			opts.OnWait()
		}
		apply.Wait(soft, rep, apply.WaitOptions{API: client, Journal: j, Timeout: opts.Wait,
			Interval: opts.WaitInterval, Progress: opts.WaitProgress, Validate: s.dcvValidator(client, opts.DCVLookup)})
	}
	return rep, nil
}

// ErrLiveOrders says apply ordered nothing: the state is new or lost and
// CertCentral lists live orders of certificates it does not know.
var ErrLiveOrders = errors.New("nothing was ordered")

// guardFirstOrders refuses to order anything while the state is new or
// lost and a certificate it does not know has a live order in CertCentral
// (the first-order guard): blocked in the plan, or found now for the first
// orders the plan could not check (live_order_check "unchecked": planned
// without a listing). Ordering the others would make the state look
// healthy, and the next run would buy the blocked ones.
func (s *Session) guardFirstOrders(ctx context.Context, client *certcentral.Client) error {
	var found []string
	var unchecked []plan.Change
	for _, ch := range s.Plan.Changes {
		for _, c := range []*plan.Change{&ch, ch.Replacement} {
			switch {
			case c == nil:
			case c.Blocked && hasReason(c, plan.ReasonLiveOrderExists):
				found = append(found, c.Name+": "+c.Status)
			case c.LiveOrderCheck == plan.LiveOrdersUnchecked:
				unchecked = append(unchecked, *c)
			}
		}
	}
	if len(unchecked) > 0 {
		products := make([]spec.Product, 0, len(unchecked))
		var keys []string
		for _, ch := range s.Plan.Changes {
			for _, c := range []*plan.Change{&ch, ch.Replacement} {
				if c != nil {
					keys = append(keys, c.AlternativeOrderID)
				}
			}
		}
		accounted := plan.AccountedFor(s.Loaded.State, s.Loaded.Pending, keys...)
		for _, c := range unchecked {
			products = append(products, c.Product)
		}
		live, _, err := plan.ListLive(ctx, client, products)
		if err != nil {
			return fmt.Errorf("the state is new or was lost, so certplan looks for live orders of the certificates it does not know before their first order, and could not: %w; %w", err, ErrLiveOrders)
		}
		for _, c := range unchecked {
			if m := plan.LiveMatches(c.Product, c.Request, live, accounted); len(m) > 0 {
				found = append(found, c.Name+": "+plan.LiveOrderExists(c.Name, m))
			}
		}
	}
	if len(found) == 0 {
		return nil
	}
	return fmt.Errorf("the state is new or was lost, and CertCentral lists live orders of %d certificate(s) it does not know; import them first (or allow a second order with --allow-duplicate-order NAME):\n  %s\n%w",
		len(found), strings.Join(found, "\n  "), ErrLiveOrders)
}

func hasReason(c *plan.Change, code plan.ReasonCode) bool {
	for _, r := range c.Reasons {
		if r.Code == code {
			return true
		}
	}
	return false
}

func nameSet(names []string) map[string]bool {
	if len(names) == 0 {
		return nil
	}
	out := make(map[string]bool, len(names))
	for _, n := range names {
		out[n] = true
	}
	return out
}

// RecordRefresh writes what the refresh learned (issued, revoked, new dates)
// into the state when nothing is ordered, so that the state tells the truth
// after every apply.
func (s *Session) RecordRefresh(ctx context.Context) error {
	if s.readOnly {
		return ErrReadOnly
	}
	if len(s.Facts) == 0 {
		return nil
	}
	j, err := s.env.Backend.OpenJournal(ctx)
	if err != nil {
		return fmt.Errorf("open journal: %w", err)
	}
	_, err = apply.RecordRefresh(j, s.Loaded.State, s.Facts)
	if cerr := j.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("record refreshed orders: %w", err)
	}
	return Fold(ctx, s.env.Backend)
}

// Fold writes the journal into the snapshot and retires it. Hold the lock.
func Fold(ctx context.Context, b state.Backend) error {
	l, err := b.Load(ctx)
	if err != nil {
		return fmt.Errorf("fold journal into %s: %w", b.Describe().Name, err)
	}
	if err := b.Commit(ctx, l); err != nil {
		return fmt.Errorf("fold journal into %s: %w", b.Describe().Name, err)
	}
	return nil
}

// Repaired is what Repair did.
type Repaired struct {
	// Message is change's description of what it did ("" when it did not run
	// to the end).
	Message string
	// Closed is the interrupted order of the name that Repair closed, if any:
	// apply will not resume it.
	Closed *state.Record
}

// Repair is a person's change to the state (`state rm`, `state set-order`,
// `import`): it locks the state, folds any leftover journal, closes an
// interrupted order of name (a person is resolving it by hand: the next apply
// must not resume it next to the order they chose), applies change and
// commits the result. A change that fails leaves an interrupted order open,
// except that `state rm` of a name known only to the journal closes it.
func Repair(ctx context.Context, env Env, operation, name string, change func(*state.State) (string, error)) (Repaired, error) {
	var done Repaired
	s, err := Lock(ctx, env, operation)
	if err != nil {
		return done, err
	}
	defer s.Release()
	if err := Fold(ctx, env.Backend); err != nil {
		return done, err
	}
	l, err := Load(ctx, env)
	if err != nil {
		return done, err
	}
	// Try the change first: a refused change (import of a name already in
	// state, say) must leave the interrupted order open.
	msg, err := change(l.State)
	open, interrupted := l.Pending[name]
	onlyInJournal := err != nil && interrupted && operation == "state rm"
	if err != nil && !onlyInJournal {
		return done, err
	}
	if interrupted {
		if err := closeIntent(ctx, env.Backend, open, operation); err != nil {
			return done, err
		}
		if err := Fold(ctx, env.Backend); err != nil {
			return done, err
		}
		done.Closed = &open
		if onlyInJournal {
			return done, nil // nothing in the snapshot to forget
		}
		if l, err = Load(ctx, env); err != nil {
			return done, err
		}
		if msg, err = change(l.State); err != nil {
			return done, err
		}
	}
	if err := env.Backend.Commit(ctx, l); err != nil {
		return done, err // names the state and says what to do
	}
	done.Message = msg
	return done, nil
}

// closeIntent journals that a person resolved an interrupted order.
func closeIntent(ctx context.Context, b state.Backend, open state.Record, operation string) error {
	j, err := b.OpenJournal(ctx)
	if err != nil {
		return fmt.Errorf("open journal: %w", err)
	}
	// A reissue is closed by a record naming its order and CSR key digest.
	rec := state.Record{Type: state.RecordFailure, Name: open.Name, Action: open.Action,
		AlternativeOrderID: open.AlternativeOrderID, ReissueOf: open.ReissueOf, CSRKeyDigest: open.CSRKeyDigest,
		NothingCreated: true, Error: "closed by `certplan " + operation + "`: resolved by a person"}
	err = j.Append(rec)
	if cerr := j.Close(); err == nil {
		err = cerr
	}
	return err
}

// idList names up to most ids, then how many more.
func idList(ids []int64, most int) string {
	var b strings.Builder
	for i, id := range ids {
		if i == most {
			fmt.Fprintf(&b, " and %d more", len(ids)-most)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%d", id)
	}
	return b.String()
}

// Rename moves the state's entry from to the name to (`certplan state mv`,
// and the moves a plan carries from metadata.previousNames). It refuses a
// missing from, an existing to, and an interrupted apply of either name: a
// journaled intent is resumed under the name it was made for, so the move
// waits until apply has finished it.
func Rename(st *state.State, pending map[string]state.Record, from, to string) error {
	switch {
	case from == to:
		return fmt.Errorf("move %s: the old and the new name are the same", from)
	case st.Certificates[from] == nil:
		return fmt.Errorf("move %s to %s: %q is not in state: `certplan state list` shows what is", from, to, from)
	case st.Certificates[to] != nil:
		return fmt.Errorf("move %s to %s: %q is already in state (order %d): `certplan state rm %s` first if that entry is obsolete",
			from, to, to, st.Certificates[to].OrderID, to)
	}
	for _, n := range []string{from, to} {
		if rec, ok := pending[n]; ok {
			return fmt.Errorf("move %s to %s: an interrupted %s of %s (alternative_order_id %s) is still open: run `certplan apply` to finish it first, then move",
				from, to, rec.Action, n, rec.AlternativeOrderID)
		}
	}
	st.Certificates[to] = st.Certificates[from]
	delete(st.Certificates, from)
	return nil
}

// Move is `certplan state mv FROM TO`: under the lock, after folding any
// leftover journal, it renames the entry (Rename) and commits. Unlike
// Repair's other changes it never closes an interrupted order: it refuses.
func Move(ctx context.Context, env Env, from, to string) (string, error) {
	s, err := Lock(ctx, env, "state mv")
	if err != nil {
		return "", err
	}
	defer s.Release()
	if err := Fold(ctx, env.Backend); err != nil {
		return "", err
	}
	l, err := Load(ctx, env)
	if err != nil {
		return "", err
	}
	if err := Rename(l.State, l.Pending, from, to); err != nil {
		return "", err
	}
	if err := env.Backend.Commit(ctx, l); err != nil {
		return "", err
	}
	return fmt.Sprintf("Moved %s to %s in state (order %d). Nothing was ordered or changed in CertCentral.", from, to, l.State.Certificates[to].OrderID), nil
}

// RecordMoves renames the state's entries of the plan's moved changes
// (metadata.previousNames) under the session's lock, before anything is
// ordered: the changes were planned against the old entries, and their
// outcomes are journaled under the new names. It returns the moves made,
// "OLD -> NEW". The session's Loaded state is the renamed one afterwards.
func (s *Session) RecordMoves(ctx context.Context) ([]string, error) {
	var moves []plan.Change
	for _, c := range s.Plan.Changes {
		if c.MovedFrom != "" {
			moves = append(moves, c)
		}
	}
	if len(moves) == 0 {
		return nil, nil
	}
	if err := Fold(ctx, s.env.Backend); err != nil {
		return nil, err
	}
	l, err := Load(ctx, s.env)
	if err != nil {
		return nil, err
	}
	var done []string
	for _, c := range moves {
		if err := Rename(l.State, l.Pending, c.MovedFrom, c.Name); err != nil {
			return nil, fmt.Errorf("record the planned move: %w", err)
		}
		done = append(done, c.MovedFrom+" -> "+c.Name)
	}
	if err := s.env.Backend.Commit(ctx, l); err != nil {
		return nil, err
	}
	if s.Loaded, err = Load(ctx, s.env); err != nil {
		return nil, err
	}
	return done, nil
}
