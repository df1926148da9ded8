package apply

import (
	"context"
	"time"

	"github.com/certplan/certplan/pkg/state"
)

// WaitOptions bound `apply --wait`.
type WaitOptions struct {
	API      API
	Journal  Journal
	Timeout  time.Duration
	Interval time.Duration // between polling rounds; default 10 s
	Sleep    func(ctx context.Context, d time.Duration) error
	Progress func(Result)
	// Validate, when set, is called once per polling round for each order
	// still in flight (with its facts): `apply --wait` uses it to look DCV
	// records up and ask CertCentral to check them.
	Validate func(ctx context.Context, r Result, facts state.OrderFacts)
}

// Wait polls the orders this run placed or adopted that are not issued yet,
// until they are issued (or dead) or the timeout passes. Each change of
// status is journaled as an outcome for the same order, so state follows. A
// reissue awaiting approval (reissue_pending) is polled the same way: once
// it issues, order info names the new certificate and its dates.
// It updates rep.Results in place.
func Wait(ctx context.Context, rep Report, opts WaitOptions) {
	if opts.Interval <= 0 {
		opts.Interval = 10 * time.Second
	}
	if opts.Sleep == nil {
		opts.Sleep = sleepCtx
	}
	ctx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()
	for {
		waiting := 0
		for i := range rep.Results {
			r := &rep.Results[i]
			if r.OrderID == 0 || !state.OrderStatus(r.Status).InFlight() || r.Outcome.Failed() {
				continue
			}
			info, err := opts.API.OrderInfo(ctx, r.OrderID)
			if err != nil {
				if ctx.Err() != nil {
					return
				}
				waiting++
				continue
			}
			facts := FactsFromOrder(info)
			if facts.AlternativeOrderID == "" {
				facts.AlternativeOrderID = r.key
			}
			if string(facts.Status) != r.Status {
				action, err := journalAction(r.Action)
				if err != nil {
					continue // never placed, so never waited for
				}
				rec := state.Record{Type: state.RecordOutcome, Name: r.Name, Action: action,
					AlternativeOrderID: facts.AlternativeOrderID, Order: &facts}
				if err := opts.Journal.Append(rec); err == nil {
					r.Status = string(facts.Status)
					if action == state.ActionReissue {
						r.CertificateID = facts.CertificateID
					}
					if opts.Progress != nil {
						opts.Progress(*r)
					}
				}
			}
			if facts.Status.InFlight() {
				waiting++
				if opts.Validate != nil {
					opts.Validate(ctx, *r, facts)
				}
			}
		}
		if waiting == 0 || opts.Sleep(ctx, opts.Interval) != nil {
			return
		}
	}
}
