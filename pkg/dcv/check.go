package dcv

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/certplan/certplan/pkg/certcentral"
)

// CheckAPI is what Check needs of CertCentral; *certcentral.Client has it.
type CheckAPI interface {
	CheckDCV(ctx context.Context, orderID int64) (*certcentral.CheckDCVResponse, error)
}

// CheckOptions configure Check.
type CheckOptions struct {
	API CheckAPI
	// Lookup looks one record up (Resolver.Lookup).
	Lookup func(ctx context.Context, r Record) Lookup
	// Wait bounds the whole check: how long to keep asking CertCentral
	// again while it cannot see the records yet (and, with WaitForRecords,
	// to keep looking for records that are not visible). 0 asks once.
	Wait time.Duration
	// WaitForRecords keeps looking up records that are not visible until
	// Wait runs out, instead of reporting them at once (apply --wait).
	WaitForRecords bool
	// Backoff is the pause before attempt n+1 (n from 1); nil = DefaultBackoff.
	Backoff func(n int) time.Duration
	// Now and Sleep are the clock; nil = real time. A fake Sleep must
	// advance Now.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
	// Progress is told what happens, as it happens (nil: nothing).
	Progress func(Event)
}

// DefaultBackoff waits 30 s, then 1, 2 and 4 min, then 5 min between
// attempts: DNS answers (and negative answers) are cached for minutes, and
// CertCentral's own resolvers cache too.
func DefaultBackoff(n int) time.Duration {
	d := 30 * time.Second
	for i := 1; i < n && d < 5*time.Minute; i++ {
		d *= 2
	}
	return min(d, 5*time.Minute)
}

// EventKind says what an Event reports.
type EventKind string

// Event kinds.
const (
	EventLookedUp  EventKind = "looked_up"  // Lookups holds the records' visibility
	EventNotAsked  EventKind = "not_asked"  // records are not visible: CertCentral not asked
	EventNotYet    EventKind = "not_yet"    // CertCentral cannot see them yet; RetryIn says when again
	EventValidated EventKind = "validated"  // CertCentral validated the order
	EventFailed    EventKind = "failed"     // an error other than "not yet"
	EventGaveUp    EventKind = "gave_up"    // Wait ran out
	EventRetryWait EventKind = "retry_wait" // records not visible; looking again in RetryIn
)

// Event is one step of Check, for progress output.
type Event struct {
	Kind    EventKind
	Order   Pending
	Lookups []Lookup
	RetryIn time.Duration
	Err     error
	// Attempt counts check-dcv calls for the order so far.
	Attempt int
}

// Outcome is how the check of one order ended.
type Outcome struct {
	Order   Pending
	Lookups []Lookup // the last look-up of each record
	// Asked counts check-dcv calls.
	Asked int
	// Validated: CertCentral said every name is validated.
	Validated bool
	// Reply is CertCentral's last check-dcv reply, if any.
	Reply *certcentral.CheckDCVResponse
	// CheckedAt is when check-dcv was last called (zero: never).
	CheckedAt time.Time
	// Err is a failure other than "not visible" or "not yet".
	Err error
	// Why says, when not validated, what it waits for. Safe to print.
	Why string
}

type task struct {
	out     Outcome
	next    time.Time
	lookups int
	done    bool
}

// Check looks every record of the orders up in DNS, asks CertCentral to
// check the orders whose records are all visible (http-token records are
// not looked up: CertCentral fetches them), and asks again with a backoff
// while CertCentral answers that it cannot see them yet (invalid_dns_txt),
// until opts.Wait runs out. Orders whose records are not visible are not
// asked about (with WaitForRecords, they are looked up again until they
// are). Nothing here publishes a record. Outcomes come in the orders' order.
func Check(ctx context.Context, orders []Pending, opts CheckOptions) []Outcome {
	now, sleep, backoff := opts.Now, opts.Sleep, opts.Backoff
	if now == nil {
		now = time.Now
	}
	if sleep == nil {
		sleep = func(ctx context.Context, d time.Duration) error {
			t := time.NewTimer(d)
			defer t.Stop()
			select {
			case <-t.C:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
	if backoff == nil {
		backoff = DefaultBackoff
	}
	progress := opts.Progress
	if progress == nil {
		progress = func(Event) {}
	}
	start := now()
	deadline := start.Add(opts.Wait)
	tasks := make([]*task, len(orders))
	for i, o := range orders {
		tasks[i] = &task{out: Outcome{Order: o}, next: start}
	}
	for {
		// The task due first.
		var t *task
		for _, c := range tasks {
			if !c.done && (t == nil || c.next.Before(t.next)) {
				t = c
			}
		}
		if t == nil {
			break
		}
		if t.next.After(deadline) {
			for _, c := range tasks {
				if !c.done {
					c.done = true
					progress(Event{Kind: EventGaveUp, Order: c.out.Order, Attempt: c.out.Asked})
				}
			}
			break
		}
		if d := t.next.Sub(now()); d > 0 {
			if err := sleep(ctx, d); err != nil {
				for _, c := range tasks {
					if !c.done {
						c.done = true
						c.out.Err = fmt.Errorf("interrupted: %w", err)
					}
				}
				break
			}
		}
		step(ctx, t, opts, now, backoff, deadline, progress)
	}
	out := make([]Outcome, len(tasks))
	for i, t := range tasks {
		out[i] = t.out
	}
	return out
}

// step does the next thing for one order: look its records up (first, or
// again while waiting for them), then ask CertCentral.
func step(ctx context.Context, t *task, opts CheckOptions, now func() time.Time, backoff func(int) time.Duration, deadline time.Time, progress func(Event)) {
	o := &t.out
	if t.lookups == 0 || !allVisible(o.Lookups) {
		t.lookups++
		o.Lookups = o.Lookups[:0]
		for _, r := range o.Order.Records {
			o.Lookups = append(o.Lookups, opts.Lookup(ctx, r))
		}
		progress(Event{Kind: EventLookedUp, Order: o.Order, Lookups: append([]Lookup(nil), o.Lookups...)})
		if len(o.Order.Records) == 0 {
			t.done, o.Why = true, "no records known for this order (run `certplan dcv records` to fetch its value)"
			progress(Event{Kind: EventNotAsked, Order: o.Order})
			return
		}
		if !allVisible(o.Lookups) {
			o.Why = fmt.Sprintf("%d of %d records not visible in DNS yet: publish them, then check again", notVisible(o.Lookups), len(o.Lookups))
			if opts.WaitForRecords {
				wait := backoff(t.lookups)
				if now().Add(wait).After(deadline) {
					t.done = true
					progress(Event{Kind: EventGaveUp, Order: o.Order, Lookups: o.Lookups})
					return
				}
				t.next = now().Add(wait)
				progress(Event{Kind: EventRetryWait, Order: o.Order, Lookups: o.Lookups, RetryIn: wait})
				return
			}
			t.done = true
			progress(Event{Kind: EventNotAsked, Order: o.Order, Lookups: o.Lookups})
			return
		}
	}
	o.Asked++
	o.CheckedAt = now()
	reply, err := opts.API.CheckDCV(ctx, o.Order.OrderID)
	o.Reply = reply
	switch {
	case err == nil && reply.Validated():
		t.done, o.Validated, o.Why = true, true, ""
		progress(Event{Kind: EventValidated, Order: o.Order, Attempt: o.Asked})
		return
	case err == nil:
		o.Why = "CertCentral checked and still lists names as pending"
	case certcentral.IsDCVNotFound(err) || retryable(err):
		o.Why = "CertCentral cannot see the records yet: " + Safe(err.Error())
	default:
		t.done, o.Err = true, err
		o.Why = Safe(err.Error())
		progress(Event{Kind: EventFailed, Order: o.Order, Err: err, Attempt: o.Asked})
		return
	}
	wait := backoff(o.Asked)
	if now().Add(wait).After(deadline) {
		t.done = true
		progress(Event{Kind: EventGaveUp, Order: o.Order, Err: err, Attempt: o.Asked})
		return
	}
	t.next = now().Add(wait)
	progress(Event{Kind: EventNotYet, Order: o.Order, Err: err, RetryIn: wait, Attempt: o.Asked})
}

func retryable(err error) bool {
	return certcentral.IsRetryable(err) && !errors.Is(err, context.Canceled)
}

func allVisible(ls []Lookup) bool {
	for _, l := range ls {
		if l.Visibility != Visible && l.Visibility != Unchecked {
			return false
		}
	}
	return true
}

func notVisible(ls []Lookup) int {
	n := 0
	for _, l := range ls {
		if l.Visibility != Visible && l.Visibility != Unchecked {
			n++
		}
	}
	return n
}

// ApprovedNames are the domains the check saw validated: every domain of
// the order once it is validated, else those the last reply approves; lower
// case, sorted, without duplicates.
func (o Outcome) ApprovedNames() []string {
	set := map[string]bool{}
	if o.Validated {
		for _, r := range o.Order.Records {
			set[r.Domain] = true
		}
	}
	if o.Reply != nil {
		for _, n := range o.Reply.DNSNameValidations {
			if o.Validated || n.Status == certcentral.DCVNameApproved {
				set[BaseDomain(n.DNSName)] = true
			}
		}
	}
	out := make([]string, 0, len(set))
	for n := range set {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}
