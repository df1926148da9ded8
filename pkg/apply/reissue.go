package apply

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/certplan/certplan/pkg/certcentral"
	"github.com/certplan/certplan/pkg/plan"
	"github.com/certplan/certplan/pkg/spec"
	"github.com/certplan/certplan/pkg/state"
)

// A reissue asks for a new certificate on an order already paid for
// (POST /order/certificate/{id}/reissue). It has no client key, so exactly
// once rests on three rules:
//
//  1. The intent is journaled before the request is sent. It names the order,
//     the digest of the CSR's public key and the certificates the order had
//     before (prior_certificate_ids).
//  2. Nothing is sent while a reissue is pending on the order
//     (reissue_pending, or a pending request of type reissue), nor when a
//     certificate that is not among the prior ones already carries the CSR's
//     key: that one is adopted.
//  3. After an ambiguous failure (timeout, reset, 5xx, unreadable 2xx) the
//     reissue is never sent again in the same run: the intent stays open and
//     the next run (resume) reads the order and its reissue list and matches
//     the key before sending again.
//
// The prior certificates matter because a reissue often reuses the CSR (a
// certificate due by date gets the same key again): the key alone cannot
// tell this reissue's certificate from the order's earlier ones.

// orderCerts is an order as read before and after a reissue: its info and
// every certificate it lists.
type orderCerts struct {
	info  *certcentral.Order
	certs []certcentral.ReissueCertificate
}

// readOrder reads an order and its certificates (order info and the reissue
// list). The current certificate is added to the list when the list lacks
// it (the list may or may not include the primary certificate).
func (r *runner) readOrder(ctx context.Context, id int64) (orderCerts, error) {
	info, err := r.opts.API.OrderInfo(ctx, id)
	if err != nil {
		return orderCerts{}, fmt.Errorf("read order %d: %w", id, err)
	}
	list, err := r.opts.API.ListReissues(ctx, id)
	if err != nil {
		return orderCerts{}, fmt.Errorf("list the certificates of order %d: %w", id, err)
	}
	oc := orderCerts{info: info, certs: list}
	if c := info.Certificate; c.ID != 0 && !slices.ContainsFunc(list, func(e certcentral.ReissueCertificate) bool { return e.ID == c.ID }) {
		status := certcentral.StatusIssued
		if c.ValidTill == "" {
			status = certcentral.StatusPending
		}
		oc.certs = append(oc.certs, certcentral.ReissueCertificate{ID: c.ID, CSR: c.CSR, Status: status,
			ValidFrom: c.ValidFrom, ValidTill: c.ValidTill, DateIssued: c.DateIssued})
	}
	return oc, nil
}

// ids are the certificates of the order, sorted.
func (oc orderCerts) ids() []int64 {
	var out []int64
	for _, c := range oc.certs {
		if c.ID != 0 && !slices.Contains(out, c.ID) {
			out = append(out, c.ID)
		}
	}
	slices.Sort(out)
	return out
}

// match finds the certificate this reissue created: not among prior, with
// a CSR for the key digest. Issued or pending ones win over rejected ones,
// then the newest (by creation date, then list order) wins.
func (oc orderCerts) match(digest string, prior []int64) (certcentral.ReissueCertificate, bool) {
	var best certcentral.ReissueCertificate
	found := false
	for _, c := range oc.certs {
		if c.ID == 0 || slices.Contains(prior, c.ID) || c.CSR == "" {
			continue
		}
		if d, err := spec.CSRKeyDigest(c.CSR); err != nil || d != digest {
			continue
		}
		if !found || rejected(best) && !rejected(c) || rejected(best) == rejected(c) && c.DateCreated >= best.DateCreated {
			best, found = c, true
		}
	}
	return best, found
}

func rejected(c certcentral.ReissueCertificate) bool { return c.Status == certcentral.StatusRejected }

// reissue carries one reissue through read, intent, check, one submission
// and outcome.
func (r *runner) reissue(ctx context.Context, ch plan.Change, res Result) Result {
	// What to send, and the key digest that identifies it. Nothing is sent
	// or journaled when either cannot be had.
	if ch.OrderID <= 0 {
		return r.refuse(ch, res, errors.New("the plan names no order to reissue"))
	}
	body, err := certcentral.BuildReissueBody(ch.Request)
	if err != nil {
		return r.refuse(ch, res, fmt.Errorf("build reissue request: %w", err))
	}
	digest, err := csrKeyDigest(ch.Request)
	if err != nil {
		return r.refuse(ch, res, err)
	}
	if ch.CSRKeyDigest != "" && ch.CSRKeyDigest != digest {
		return r.refuse(ch, res, fmt.Errorf("the plan's csr_key_digest %s is not the digest of the CSR to send (%s): plan again", ch.CSRKeyDigest, digest))
	}

	// The certificates the order had before: on a resume, those the first
	// intent recorded (a re-read list would count the earlier attempt's
	// certificate among them and send again).
	var prior []int64
	if ch.Resuming {
		first, ok := r.opts.Pending[ch.Name]
		if !ok || first.Action != state.ActionReissue || first.ReissueOf != ch.OrderID || first.CSRKeyDigest != digest {
			return r.reissueUnresolved(res, ch.OrderID, errors.New("resuming a reissue needs its interrupted journal intent, which this run was not given; nothing was sent"))
		}
		prior = first.PriorCertificateIDs
	}
	oc, err := r.readOrder(ctx, ch.OrderID)
	if err != nil {
		return r.refuse(ch, res, fmt.Errorf("before reissuing: %w", err))
	}
	if !ch.Resuming {
		prior = oc.ids()
	}

	intent := state.Record{
		Type:                state.RecordIntent,
		Name:                ch.Name,
		Action:              state.ActionReissue,
		AlternativeOrderID:  oc.info.AlternativeOrderID,
		DupCheck:            state.DupCheckCSRMatch,
		RequestDigest:       ch.RequestDigest,
		Product:             string(ch.Product),
		SpecDigest:          ch.SpecDigest,
		Request:             ch.Request,
		ReissueOf:           ch.OrderID,
		CSRKeyDigest:        digest,
		PriorCertificateIDs: prior,
	}
	res.key = intent.AlternativeOrderID
	if err := r.opts.Journal.Append(intent); err != nil {
		// Nothing was sent: without a journaled intent we never submit.
		return r.refuse(ch, res, fmt.Errorf("journal intent: %w", err))
	}

	// An earlier attempt's certificate (or one with the same key that came
	// since, from CertCentral's auto-reissue say) already does the job.
	if c, ok := oc.match(digest, prior); ok {
		return r.adoptReissue(res, intent, oc, c)
	}
	if oc.info.PendingReissue() {
		return r.reissueUnresolved(res, ch.OrderID, fmt.Errorf("a reissue is pending on order %d (status %s); not sent while it is", ch.OrderID, oc.info.Status))
	}

	resp, err := r.opts.API.Reissue(ctx, ch.OrderID, body)
	if err == nil {
		return r.reissued(ctx, res, intent, resp)
	}
	if certcentral.NothingCreated(err) {
		if ch.Resuming {
			// This attempt created nothing; look again for the earlier one's
			// certificate (a late commit would show now) before closing.
			oc, lerr := r.readOrder(ctx, ch.OrderID)
			switch {
			case lerr != nil:
				return r.reissueUnresolved(res, ch.OrderID, fmt.Errorf("%v; and reading the order again failed: %w", err, lerr))
			case oc.info.PendingReissue():
				return r.reissueUnresolved(res, ch.OrderID, fmt.Errorf("%w; a reissue is pending on order %d", err, ch.OrderID))
			}
			if c, ok := oc.match(digest, prior); ok {
				return r.adoptReissue(res, intent, oc, c)
			}
		}
		return r.nothingCreated(res, intent, err)
	}

	// Ambiguous: the reissue may exist. It is never sent again in this run.
	r.opts.Logger.Warn().Str("name", ch.Name).Int64("order", ch.OrderID).Str("error", scrub(ch.Request, err.Error())).
		Msg("reissue outcome unknown; not sending it again in this run")
	if !certcentral.IsTimeout(err) {
		// A lost response after commit shows at once: adopt it now. (A
		// timed-out request may still be committing, where a read cannot
		// see it yet; the next run looks.)
		rec := r.opts.Recovery
		if serr := rec.Sleep(ctx, rec.Backoff(1)); serr == nil {
			if oc, lerr := r.readOrder(ctx, ch.OrderID); lerr == nil {
				if c, ok := oc.match(digest, prior); ok {
					return r.adoptReissue(res, intent, oc, c)
				}
			}
		}
	}
	return r.reissueUnresolved(res, ch.OrderID, fmt.Errorf("reissue outcome unknown; not sent again in this run: %w", err))
}

// csrKeyDigest is the key digest of the CSR a manifest order body carries.
func csrKeyDigest(order map[string]any) (string, error) {
	cert, _ := order["certificate"].(map[string]any)
	csr, _ := cert["csr"].(string)
	d, err := spec.CSRKeyDigest(csr)
	if err != nil {
		return "", fmt.Errorf("certificate.csr: %w", err)
	}
	return d, nil
}

// reissued records a reissue CertCentral accepted. The outcome must name the
// new certificate (the state keeps the earlier one apart by its id): from
// the response when it was issued at once, else from the order's list.
func (r *runner) reissued(ctx context.Context, res Result, intent state.Record, resp *certcentral.ReissueResponse) Result {
	oc, err := r.readOrder(ctx, intent.ReissueOf)
	var c certcentral.ReissueCertificate
	found := false
	if err == nil {
		if resp.CertificateID != 0 {
			c, found = findCert(oc.certs, resp.CertificateID)
		} else {
			c, found = oc.match(intent.CSRKeyDigest, intent.PriorCertificateIDs)
		}
	}
	if !found && resp.CertificateID != 0 {
		// Issued at once but not (yet) listed: the response says enough.
		c, found = certcentral.ReissueCertificate{ID: resp.CertificateID, Status: certcentral.StatusPending}, true
		if len(resp.CertificateChain) > 0 {
			if from, till, ok := leafValidity(resp.CertificateChain[0].PEM); ok {
				c.ValidFrom, c.ValidTill, c.Status = from, till, certcentral.StatusIssued
			}
		}
	}
	if !found {
		// The reissue exists, but which certificate is it? The next run
		// finds it by its key; the intent stays open until then.
		why := "its certificate is not listed yet"
		if err != nil {
			why = err.Error()
		}
		return r.reissueUnresolved(res, intent.ReissueOf, fmt.Errorf("CertCentral accepted the reissue of order %d, but %s", intent.ReissueOf, why))
	}
	facts := reissueFacts(intent.ReissueOf, oc.info, c)
	if len(resp.Requests) > 0 {
		facts.RequestID, facts.RequestStatus = resp.Requests[0].ID, resp.Requests[0].Status
	}
	if d := placedDCV(intent.Request, resp.DCVRandomValue); d != nil {
		facts.DCV = d // the reissue waits for domain validation
	}
	return r.recordReissue(res, intent, facts, OutcomeCreated)
}

// adoptReissue records a certificate an earlier attempt (or CertCentral)
// created with this reissue's key. A rejected one closes the intent as
// creating nothing usable: the order keeps its certificate, and the next
// plan decides again.
func (r *runner) adoptReissue(res Result, intent state.Record, oc orderCerts, c certcentral.ReissueCertificate) Result {
	if rejected(c) {
		return r.nothingCreated(res, intent, fmt.Errorf("the reissue of order %d (certificate %d) was rejected", intent.ReissueOf, c.ID))
	}
	return r.recordReissue(res, intent, reissueFacts(intent.ReissueOf, oc.info, c), OutcomeAdopted)
}

func (r *runner) recordReissue(res Result, intent state.Record, facts state.OrderFacts, how Outcome) Result {
	res.CertificateID = facts.CertificateID
	out := r.record(res, intent, facts, how)
	if out.Outcome == OutcomeUnresolved {
		// record's message speaks of keys; say what happens to a reissue.
		out.Error = fmt.Sprintf("certificate %d of order %d exists but journaling it failed (the reissue intent stays journaled; the next apply finds the certificate by its CSR key and adopts it)", facts.CertificateID, facts.OrderID)
	}
	return out
}

func findCert(certs []certcentral.ReissueCertificate, id int64) (certcentral.ReissueCertificate, bool) {
	for _, c := range certs {
		if c.ID == id {
			return c, true
		}
	}
	return certcentral.ReissueCertificate{}, false
}

// reissueFacts are the order's facts with the reissue's certificate as the
// current one: its id always, its dates once issued. Until it is issued,
// order info still shows the earlier certificate; the order is then
// reissue_pending.
func reissueFacts(orderID int64, info *certcentral.Order, c certcentral.ReissueCertificate) state.OrderFacts {
	f := state.OrderFacts{OrderID: orderID, Status: state.StatusReissuePending}
	if info != nil {
		f = FactsFromOrder(info)
	}
	f.CertificateID = c.ID
	issued := c.Status != certcentral.StatusPending && c.ValidTill != ""
	if info != nil && info.Certificate.ID == c.ID && info.Certificate.ValidTill != "" {
		f.ValidFrom, f.ValidTill = info.Certificate.ValidFrom, info.Certificate.ValidTill
		issued = true
	} else {
		f.ValidFrom, f.ValidTill = c.ValidFrom, c.ValidTill
	}
	if !issued {
		f.ValidFrom, f.ValidTill = "", ""
		f.Status = state.StatusReissuePending
	} else if f.Status == state.StatusReissuePending {
		f.Status = state.StatusIssued // the list says it issued; order info lags
	}
	return f
}

// refuse ends a reissue before anything was sent in this run. A resumed one
// stays open: an earlier run may have sent it.
func (r *runner) refuse(ch plan.Change, res Result, err error) Result {
	if ch.Resuming {
		return r.reissueUnresolved(res, ch.OrderID, err)
	}
	return r.fail(res, err)
}

func (r *runner) reissueUnresolved(res Result, orderID int64, err error) Result {
	res.Outcome = OutcomeUnresolved
	res.Error = fmt.Sprintf("%v (the reissue intent stays journaled; the next apply reads order %d and its certificates and adopts one with the CSR's key before it sends anything)", err, orderID)
	res.fatal = certcentral.IsAuthRejected(err)
	return res
}
