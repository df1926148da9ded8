package state

import (
	"crypto/sha256"
	"fmt"
	"sort"
)

// Loaded is a state as a Backend found it: the snapshot with the journal
// records not yet folded into it replayed on top.
type Loaded struct {
	State    *State
	Exists   bool              // a snapshot or a journal was found
	Pending  map[string]Record // by name: the last intent without outcome or failure (an interrupted apply)
	Replayed int               // journal records folded in
	TornTail bool              // a torn last journal record was ignored
	Warnings []string          // for the user, one sentence each

	// Base is what the state was loaded from. Commit is refused unless the
	// store still holds it; plan files record it.
	Base Base
}

// Base identifies what a state was loaded from, in terms every backend
// shares.
type Base struct {
	// Stored says a snapshot was stored (false: none yet; the state is new,
	// or a first apply was interrupted and it exists only as a journal).
	Stored bool
	// Lineage and Serial of the state as loaded; serial 0 when not stored.
	Lineage string
	Serial  int64
	// Journal is the backend's position of the end of its journal when the
	// state was loaded, opaque to everyone else: equal positions mean no
	// record was appended or retired in between. "" means no journal. The
	// file backend uses the journal's size in bytes.
	Journal string

	digest [32]byte // of the snapshot as loaded (or of the initial state when there was none)
}

// Stored is what a backend read for Load, to be replayed by Replay.
type Stored struct {
	// Snapshot is the stored snapshot's bytes; nil when there is none.
	Snapshot []byte
	// Records are the journal records not yet folded into the snapshot, in
	// journal order, and Journal the position after them ("" when there is
	// no journal).
	Records []Record
	Journal string
	// TornTail says a torn last record was ignored.
	TornTail bool
	// LineageSeed fixes the lineage of a state that exists only as a
	// journal (no snapshot yet), so that every load agrees on it: the file
	// backend gives the journal's first complete line.
	LineageSeed []byte
	// Warnings are the backend's own, shown before Replay's.
	Warnings []string
}

// Replay makes a Loaded from what a backend read: it parses the snapshot
// (none: an empty state), upgrading an older format version, and folds the
// records on top. Interrupted intents that can be checked for a duplicate
// (Record.DuplicateCheck: by key, or by CSR for a reissue) end up in
// Pending, and the next apply checks and resumes them; an interrupted
// intent whose check is none (a legacy v1 order) cannot be checked, so its
// certificate is marked unknown_outcome, as if its submission had failed
// ambiguously. A snapshot that does not parse is returned as Parse's error
// (a *VersionError for a newer format), for the backend to name itself in.
func Replay(st Stored) (*Loaded, error) {
	l := &Loaded{Pending: map[string]Record{}, Warnings: append([]string(nil), st.Warnings...)}
	var s *State
	if st.Snapshot != nil {
		var err error
		if s, err = Parse(st.Snapshot); err != nil {
			return nil, err
		}
		l.Base.digest = sha256.Sum256(st.Snapshot)
		l.Base.Stored = true
	} else {
		s = New()
		if len(st.LineageSeed) > 0 {
			sum := sha256.Sum256(st.LineageSeed)
			s.Lineage = uuidFrom(sum[:])
		}
		initial, err := Marshal(s)
		if err != nil {
			return nil, err
		}
		l.Base.digest = sha256.Sum256(initial)
	}
	l.State = s
	l.Exists = st.Snapshot != nil || st.Journal != ""
	l.Base.Lineage, l.Base.Serial, l.Base.Journal = s.Lineage, s.Serial, st.Journal

	_, pending := s.fold(st.Records)
	l.Replayed = len(st.Records)
	l.TornTail = st.TornTail
	for _, name := range sortedKeys(pending) {
		in := pending[name]
		if in.DuplicateCheck() != DupCheckNone {
			l.Pending[name] = in
			continue
		}
		// A legacy v1 submission may or may not have reached CertCentral.
		fail := in
		fail.Type, fail.Unknown = RecordFailure, true
		s.applyUnknown(fail, in)
		l.Warnings = append(l.Warnings, fmt.Sprintf("certificate %s: a legacy (v1) order was interrupted mid-submission and its outcome is unknown; "+
			"check CertCentral, then run `certplan state set-order %s ORDER_ID` (it was placed) or `certplan state rm %s` (it was not)", name, name, name))
	}
	return l, nil
}

// CommitData is what a Commit stores: see Loaded.Next.
type CommitData struct {
	// Snapshot is the new snapshot, in FormatVersion with Serial one more
	// than the base; nil when the stored one is current.
	Snapshot []byte
	// Serial is the state's serial after the commit.
	Serial int64
	// Keep are the journal records to keep: the pending intents, in
	// journal order. The journal holds exactly these afterwards.
	Keep []Record
}

// CheckBase compares what a store holds now (now.Stored, Lineage, Serial
// and Journal) with what l was loaded from, and says why a commit must be
// refused: a *LineageError or a *ConflictError naming the backend name.
func (l *Loaded) CheckBase(name string, now Base) error {
	b := l.Base
	if l.State.Lineage != b.Lineage {
		return &LineageError{Name: name, Loaded: b.Lineage, Commit: l.State.Lineage}
	}
	if now.Stored && b.Stored && now.Lineage != b.Lineage {
		return &LineageError{Name: name, Stored: now.Lineage, Loaded: b.Lineage, Commit: l.State.Lineage}
	}
	switch {
	case now.Stored && !b.Stored:
		if now.Lineage != b.Lineage {
			return &LineageError{Name: name, Stored: now.Lineage, Loaded: b.Lineage, Commit: l.State.Lineage}
		}
		return &ConflictError{Name: name, Reason: fmt.Sprintf("a snapshot (serial %d) was written", now.Serial)}
	case !now.Stored && b.Stored:
		return &ConflictError{Name: name, Reason: "the snapshot was removed"}
	case now.Serial != b.Serial:
		return &ConflictError{Name: name, Reason: fmt.Sprintf("its serial moved from %d to %d", b.Serial, now.Serial)}
	case now.Journal != b.Journal:
		return &ConflictError{Name: name, Reason: "the journal changed", Journal: true}
	}
	return nil
}

// Next says what a commit of l stores: the snapshot, when l.State differs
// from the stored one (records folded in, the caller's changes, an older
// format version) or when the state exists only as a journal that still
// holds pending intents, and the journal records to keep. It changes
// nothing.
func (l *Loaded) Next() (CommitData, error) {
	if l == nil || l.State == nil {
		return CommitData{}, fmt.Errorf("nothing loaded")
	}
	out := *l.State
	out.Version, out.Serial = FormatVersion, l.Base.Serial
	data, err := Marshal(&out)
	if err != nil {
		return CommitData{}, err
	}
	c := CommitData{Serial: l.Base.Serial, Keep: l.pendingRecords()}
	changed := sha256.Sum256(data) != l.Base.digest
	// A state that exists only as a journal gets its first snapshot, which
	// pins its lineage, unless the journal left it as empty as it started
	// with nothing pending (every order of a first apply refused): then
	// retiring the journal is all there is to store.
	journalOnly := !l.Base.Stored && l.Base.Journal != "" && len(c.Keep) > 0
	if changed || journalOnly {
		out.Serial = l.Base.Serial + 1
		if c.Snapshot, err = Marshal(&out); err != nil {
			return CommitData{}, err
		}
		c.Serial = out.Serial
	}
	return c, nil
}

// Committed records that a backend stored c and that its journal now ends
// at position journal: l describes what is stored from now on.
func (l *Loaded) Committed(c CommitData, journal string) {
	if c.Snapshot != nil {
		l.Base.Stored, l.Base.digest = true, sha256.Sum256(c.Snapshot)
		l.State.Version = FormatVersion
	}
	l.State.Serial, l.Base.Serial = c.Serial, c.Serial
	l.Base.Lineage, l.Base.Journal = l.State.Lineage, journal
	l.Exists = l.Base.Stored || journal != ""
}

// pendingRecords are the pending intents in journal order.
func (l *Loaded) pendingRecords() []Record {
	recs := make([]Record, 0, len(l.Pending))
	for _, r := range l.Pending {
		recs = append(recs, r)
	}
	sort.Slice(recs, func(i, k int) bool {
		if recs[i].Seq != recs[k].Seq {
			return recs[i].Seq < recs[k].Seq
		}
		return recs[i].Name < recs[k].Name
	})
	return recs
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
