package plan

import (
	"sort"
	"time"

	"github.com/certplan/certplan/pkg/lifecycle"
	"github.com/certplan/certplan/pkg/spec"
	"github.com/certplan/certplan/pkg/state"
)

// Build plans every manifest certificate against the state, in name order.
// It is pure: no I/O, no wall clock, and the same input gives the same plan.
func Build(in Input) *Plan {
	st := in.State
	if st == nil {
		st = &state.State{}
	}
	p := &Plan{
		FormatVersion:   FormatVersion,
		CertplanVersion: in.Version,
		Lineage:         st.Lineage,
		Serial:          st.Serial,
		Backend:         in.Backend,
		PlannedAt:       in.Now.UTC(),
		Commit:          in.Commit,
		Changes:         make([]Change, 0, len(in.Certificates)),
		Orphaned:        []string{},
		Drift:           []Drift{},
		ManifestDigests: copyStrings(in.ManifestDigests),
	}

	certs := make([]*spec.Certificate, 0, len(in.Certificates))
	for _, c := range in.Certificates {
		if c != nil {
			certs = append(certs, c)
		}
	}
	sort.SliceStable(certs, func(i, j int) bool { return certs[i].Name < certs[j].Name })

	caps := in.Caps
	if caps == nil {
		caps = lifecycle.DefaultCaps()
	}
	pl := planner{now: in.Now.UTC(), facts: in.Facts, caps: caps, dcvReuse: in.DCVReuse}
	if pl.dcvReuse == nil {
		pl.dcvReuse = lifecycle.DefaultDCVReuse()
	}
	if in.Unrecorded {
		pl.guard = newGuard(in, certs, st)
	}
	if len(in.Facts) > 0 {
		pl.known = knownOrderIDs(st)
	}
	declared := make(map[string]bool, len(certs))
	for _, c := range certs {
		declared[c.Name] = true
	}
	moves := plannedMoves(certs, st, in.Pending, declared)
	for _, c := range certs {
		var pending *state.Record
		if r, ok := in.Pending[c.Name]; ok {
			pending = &r
		}
		cur := st.Certificates[c.Name]
		from := moves[c.Name]
		if from != "" {
			cur = st.Certificates[from]
			declared[from] = true // moved, not orphaned
		}
		ch, drift := pl.plan(c, cur, pending)
		ch.MovedFrom = from
		p.Changes = append(p.Changes, ch)
		p.Drift = append(p.Drift, drift...)
		p.Summary.add(&ch)
	}
	for name := range st.Certificates {
		if declared[name] {
			continue
		}
		if in.Partial {
			p.Unplanned++
			continue
		}
		p.Orphaned = append(p.Orphaned, name)
	}
	p.Partial = in.Partial
	sort.Strings(p.Orphaned)
	p.Summary.Orphaned = len(p.Orphaned)
	p.Drift = append(p.Drift, interruptedWithoutManifest(in.Pending, declared)...)
	return p
}

// plannedMoves maps a certificate's name to the previous name (from
// metadata.previousNames) whose state entry it takes over: the first one the
// state tracks, when the state has no entry of the new name, no manifest
// declares the old one, and no interrupted apply of either name is open (a
// journaled intent is resumed under the name it was made for; the move
// waits until that apply is finished).
func plannedMoves(certs []*spec.Certificate, st *state.State, pending map[string]state.Record, declared map[string]bool) map[string]string {
	moves := map[string]string{}
	for _, c := range certs {
		if len(c.PreviousNames) == 0 || st.Certificates[c.Name] != nil {
			continue
		}
		if _, ok := pending[c.Name]; ok {
			continue
		}
		for _, old := range c.PreviousNames {
			_, interrupted := pending[old]
			if st.Certificates[old] != nil && !declared[old] && !interrupted {
				moves[c.Name] = old
				break
			}
		}
	}
	return moves
}

// interruptedWithoutManifest reports interrupted orders whose manifest is
// gone (deleted or renamed): they are never resumed automatically, since the
// order may exist; a person decides.
func interruptedWithoutManifest(pending map[string]state.Record, declared map[string]bool) []Drift {
	var out []Drift
	for name, rec := range pending {
		if declared[name] {
			continue
		}
		out = append(out, Drift{
			Name: name, Field: "interrupted_order", API: rec.AlternativeOrderID,
			Message: sprintf("an interrupted %s of %s (alternative_order_id %s) has no manifest any more; the order may exist in CertCentral. "+
				"Restore the manifest and run apply to finish it (it looks the key up first), or find the order and `certplan import %s ORDER_ID`",
				rec.Action, name, rec.AlternativeOrderID, name),
		})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// planner holds what every certificate's decision shares.
type planner struct {
	now   time.Time
	facts map[int64]state.OrderFacts
	known map[int64]bool // every order id the state knows, for drift
	caps  lifecycle.Caps // never nil
	// dcvReuse is the DCV reuse table (never nil).
	dcvReuse lifecycle.Caps
	guard    *guard // the first-order guard; nil in a healthy state
}

// plan decides one certificate by the rule list (rules.go) and derives its
// change from the decision.
func (pl planner) plan(c *spec.Certificate, cur *state.Certificate, pending *state.Record) (Change, []Drift) {
	g, drift := pl.given(c, cur, pending)
	ch := pl.withReplacement(change(g, planRules.decide(g)), c, cur)
	pl.attachDCV(g, &ch)
	return ch, drift
}

// given gathers what the rules decide one certificate from. The current
// order is observed (state merged with refreshed facts, drift reported) only
// when no interrupted apply is to be decided first.
func (pl planner) given(c *spec.Certificate, cur *state.Certificate, pending *state.Record) (given, []Drift) {
	g := given{
		manifest:      c,
		specDigest:    SpecDigest(c),
		requestDigest: RequestDigest(orderBody(c.Order, cur != nil)),
		current:       cur,
		now:           pl.now,
		caps:          pl.caps,
		dcvReuse:      pl.dcvReuse,
		guard:         pl.guard,
	}
	if g.caps == nil {
		g.caps = lifecycle.DefaultCaps()
	}
	if pending != nil {
		if act, ok := resumedAction(pending.Action); ok {
			g.interrupted = &interruption{intent: pending, action: act}
			return g, nil
		}
	}
	if cur == nil {
		return g, nil
	}
	var drift []Drift
	g.order, drift = pl.observe(c.Name, cur, autoReissue(c.Order), ownRenewalKeys(c, g.specDigest, cur))
	return g, drift
}

// ownRenewalKeys are the alternative_order_ids certplan would derive for a
// renewal of cur's order: from the manifest as it is here, and from the
// manifest as it was when the state recorded the order (another branch may
// not have the change this one plans). Legacy orders have none.
func ownRenewalKeys(c *spec.Certificate, specDigest string, cur *state.Certificate) []string {
	if cur.OrderID == 0 || c.Product.IsLegacy() {
		return nil
	}
	keys := []string{key(c.Name, c.Product, specDigest, cur.OrderID)}
	if cur.SpecDigest != "" && cur.Product != "" {
		keys = append(keys, key(c.Name, spec.Product(cur.Product), cur.SpecDigest, cur.OrderID))
	}
	return keys
}

// change derives the planned change from a decision: the action fixes the
// key, the request body and the diff.
func change(g given, d decision) Change {
	c, cur := g.manifest, g.current
	if d.reasons == nil {
		d.reasons = []Reason{} // JSON: [], not null
	}
	ch := Change{
		Name:          c.Name,
		Product:       c.Product,
		Action:        d.action,
		Reasons:       d.reasons,
		Diff:          []DiffEntry{},
		Status:        d.status,
		Blocked:       d.blocked,
		SpecDigest:    g.specDigest,
		RequestDigest: g.requestDigest,
	}
	ch.LiveOrderCheck = liveOrderCheck(g, d)
	if d.resume != nil {
		ch = resumedChange(ch, g, d.resume)
		ch.Billing, ch.NextCertificate = costOf(g, d, &ch)
		return ch
	}
	if cur != nil && g.interrupted == nil {
		ch.OrderID = cur.OrderID
	}
	switch d.action {
	case ActionCreate:
		// A new order, replacing d.predecessor (0: the first order).
		ch.OrderID = 0
		ch.Predecessor = d.predecessor
		ch.AlternativeOrderID = key(c.Name, c.Product, ch.SpecDigest, d.predecessor)
		setRequest(&ch, c.Order, d.predecessor != 0)
		ch.Diff = diffBodies(nil, ch.Request)
	case ActionRenew:
		ch.Predecessor = cur.OrderID
		ch.RenewalOfOrderID = cur.OrderID
		ch.AlternativeOrderID = key(c.Name, c.Product, ch.SpecDigest, cur.OrderID)
		setRequest(&ch, c.Order, true)
		ch.Diff = diffBodies(cur.Request, ch.Request)
	case ActionReissue:
		// The same order gets a new certificate: no key (a reissue has
		// none; apply journals the CSR's key digest instead), and the
		// manifest's body, from which apply sends only what a reissue
		// carries (certcentral.BuildReissueBody). The diff shows just that.
		setRequest(&ch, c.Order, true)
		ch.CSRKeyDigest = csrKeyDigest(ch.Request)
		ch.Diff = reissueDiff(cur.Request, ch.Request)
		ch.Destructive = d.destructive
	}
	if d.blocked && d.destructive {
		ch.Destructive = true
	}
	ch.Billing, ch.NextCertificate = costOf(g, d, &ch)
	return ch
}

// reissueDiff is the diff of the fields a reissue sends.
func reissueDiff(before, after map[string]any) []DiffEntry {
	out := []DiffEntry{}
	for _, e := range diffBodies(before, after) {
		for _, f := range reissueBodyFields {
			if underPath(e.Path, f) {
				out = append(out, e)
				break
			}
		}
	}
	return out
}

// costOf says what a change costs and what certificate it is expected to
// issue: a new order bills a plan; a reissue is free on the order paid
// through its end (added names pro rata); an issued order of a product with
// plans that is left alone shows what it is paid through.
func costOf(g given, d decision, ch *Change) (*Billing, *Validity) {
	c := g.manifest
	switch ch.Action {
	case ActionCreate, ActionRenew:
		plan, _ := planLength(c.Product, ch.Request, g.now)
		b := &Billing{Kind: BillingNewOrder, Plan: plan}
		if pm, ok := ch.Request["payment_method"].(string); ok {
			b.PaymentMethod = pm
		}
		if ch.Action == ActionRenew {
			b.OrderID = ch.RenewalOfOrderID
		}
		next := firstCertificate(&spec.Certificate{Product: ch.Product, Order: ch.Request}, g.caps, g.now)
		return b, next
	case ActionReissue:
		end, date, known := orderEnd(g)
		if !known {
			end, date = time.Time{}, "" // the certificate's end is no bound on its successor
		}
		// ch.OrderID: the order reissued (a resumed reissue's is the
		// journal's, and the state may no longer know it).
		b := &Billing{Kind: BillingFree, OrderID: ch.OrderID, PaidThrough: date}
		if len(d.addedNames) > 0 {
			b.Kind, b.AddedNames = BillingProRata, d.addedNames
		}
		return b, reissuedCertificate(g.caps, g.now, end)
	case ActionNoOp:
		// What an issued order is paid through, for every product: a
		// reviewer sees when the next purchase falls due.
		if d.blocked || g.current == nil || g.interrupted != nil || !issuedOrExpired(g) {
			return nil, nil
		}
		if _, date, known := orderEnd(g); known {
			return &Billing{Kind: BillingFree, OrderID: ch.OrderID, PaidThrough: date}, nil
		}
	}
	return nil, nil
}

// key derives the alternative_order_id; legacy v1 orders have none.
func key(name string, product spec.Product, specDigest string, predecessor int64) string {
	if product.IsLegacy() {
		return ""
	}
	return AlternativeOrderID(name, product, specDigest, predecessorKey(predecessor))
}

// setRequest attaches the body to submit and its secret references.
func setRequest(ch *Change, body map[string]any, later bool) {
	body = orderBody(body, later)
	ch.RequestDigest = RequestDigest(body)
	ch.Request = body
	if refs := spec.SecretRefs(body); len(refs) > 0 {
		ch.SecretRefs = refs
	}
}

// knownOrderIDs is every order id the state has seen, current or historic.
func knownOrderIDs(st *state.State) map[int64]bool {
	out := map[int64]bool{}
	for _, c := range st.Certificates {
		if c == nil {
			continue
		}
		out[c.OrderID] = true
		for _, h := range c.History {
			out[h.OrderID] = true
		}
	}
	return out
}

func copyStrings(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// withoutKeys is a shallow copy of body without keys.
func withoutKeys(body map[string]any, keys ...string) map[string]any {
	out := make(map[string]any, len(body))
	for k, v := range body {
		out[k] = v
	}
	for _, k := range keys {
		delete(out, k)
	}
	return out
}

// orderBody is the body to send for a certificate's first order, or (later)
// for any order after it. A manifest's renewal_of_order_id and
// renewed_thumbprint link the first order to one placed outside certplan;
// every later order is linked by the plan (or, after a rejection, not at all),
// so they must not be sent again.
func orderBody(body map[string]any, later bool) map[string]any {
	if !later {
		return body
	}
	_, a := body["renewal_of_order_id"]
	_, b := body["renewed_thumbprint"]
	if !a && !b {
		return body
	}
	return withoutKeys(body, "renewal_of_order_id", "renewed_thumbprint")
}
