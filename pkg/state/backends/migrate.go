package backends

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/certplan/certplan/pkg/state"
)

// MigrateResult says what Migrate did.
type MigrateResult struct {
	From, To     state.BackendInfo
	Lineage      string
	FromSerial   int64 // the source's serial (after folding its journal)
	ToSerial     int64 // the copy's serial in the destination
	Certificates int
	Folded       int  // journal records folded into the source first
	AlreadyThere bool // the destination held this very state: nothing written
}

// Migrate copies the state in from into to, which must be empty (or hold
// the same state already, when nothing is written). Both are locked for
// the copy. A journal left in from is folded into it first, as any run
// would; pending intents of an interrupted apply are refused (resume it
// first: an intent's order can only be checked by the store that knows it).
// The copy keeps the lineage and every certificate; its serial starts over
// in the destination. A destination holding another state (another
// lineage, or this lineage with other contents) is never overwritten.
func Migrate(ctx context.Context, from, to state.Backend, lockTimeout time.Duration) (MigrateResult, error) {
	res := MigrateResult{From: from.Describe(), To: to.Describe()}
	if res.From == res.To {
		return res, fmt.Errorf("state migrate: the destination %s is the current state", res.To)
	}
	lf, err := from.Lock(ctx, "state migrate", lockTimeout)
	if err != nil {
		return res, fmt.Errorf("state migrate: lock the source: %w", err)
	}
	defer lf.Release()
	l, err := from.Load(ctx)
	if err != nil {
		return res, fmt.Errorf("state migrate: %w", err)
	}
	if !l.Exists {
		return res, fmt.Errorf("state migrate: %s holds no state: nothing to copy (check --state / CERTPLAN_STATE)", res.From)
	}
	if len(l.Pending) > 0 {
		names := make([]string, 0, len(l.Pending))
		for n := range l.Pending {
			names = append(names, n)
		}
		sort.Strings(names)
		return res, fmt.Errorf("state migrate: an interrupted apply left %d orders pending in %s (%s): run `certplan apply` against it to resume them, then migrate",
			len(names), res.From, strings.Join(names, ", "))
	}
	if l.Replayed > 0 {
		res.Folded = l.Replayed
		if err := from.Commit(ctx, l); err != nil {
			return res, fmt.Errorf("state migrate: fold the journal into %s: %w", res.From, err)
		}
	}
	src, err := state.Marshal(l.State)
	if err != nil {
		return res, err
	}
	res.Lineage, res.FromSerial, res.Certificates = l.State.Lineage, l.State.Serial, len(l.State.Certificates)

	lt, err := to.Lock(ctx, "state migrate", lockTimeout)
	if err != nil {
		return res, fmt.Errorf("state migrate: lock the destination: %w", err)
	}
	defer lt.Release()
	tl, err := to.Load(ctx)
	if err != nil {
		return res, fmt.Errorf("state migrate: %w", err)
	}
	if tl.Exists {
		switch {
		case tl.State.Lineage != l.State.Lineage:
			return res, fmt.Errorf("state migrate: %s already holds another state (lineage %s, serial %d, %d certificates): refusing to overwrite it; pick an empty destination (another workspace: certplan_workspace=NAME)",
				res.To, tl.State.Lineage, tl.State.Serial, len(tl.State.Certificates))
		case sameCertificates(tl.State, l.State) && len(tl.Pending) == 0:
			res.AlreadyThere, res.ToSerial = true, tl.State.Serial
			return res, nil
		default:
			return res, fmt.Errorf("state migrate: %s already holds this state's lineage %s (serial %d) with other contents: it was migrated before and changed since; refusing to overwrite it: use that state, or pick an empty destination",
				res.To, tl.State.Lineage, tl.State.Serial)
		}
	}
	copied, err := state.Parse(src)
	if err != nil {
		return res, err
	}
	copied.Serial = 0
	tl.State = copied
	tl.Base.Lineage = copied.Lineage
	if err := to.Commit(ctx, tl); err != nil {
		return res, fmt.Errorf("state migrate: store the copy in %s: %w", res.To, err)
	}
	check, err := to.Load(ctx)
	if err != nil {
		return res, fmt.Errorf("state migrate: read the copy back: %w", err)
	}
	if !sameCertificates(check.State, l.State) || check.State.Lineage != l.State.Lineage {
		return res, errors.New("state migrate: the copy read back differs from the source: the source was left as it was; report this as a bug")
	}
	res.ToSerial = check.State.Serial
	return res, nil
}

// sameCertificates compares two states' certificates as stored.
func sameCertificates(a, b *state.State) bool {
	ca, cb := *a, *b
	ca.Serial, cb.Serial = 0, 0
	da, errA := state.Marshal(&ca)
	db, errB := state.Marshal(&cb)
	return errA == nil && errB == nil && bytes.Equal(da, db)
}
