package state

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
)

// Loaded is a state as found on disk: the snapshot with any leftover journal
// folded in.
type Loaded struct {
	State    *State
	Exists   bool              // a snapshot or a journal was found
	Pending  map[string]Record // by name: the last intent without outcome or failure (an interrupted apply)
	Replayed int               // journal records folded in
	TornTail bool              // a torn last journal line was ignored
	Warnings []string          // for the user, one sentence each

	snapshotExists bool
	snapshotDigest [32]byte // of the snapshot bytes, or of the initial state when there was none
	baseSerial     int64
	journalExists  bool
	journalSize    int64
}

// Load reads the snapshot at statePath (none: an empty state) and replays a
// leftover journal on top. It writes nothing. Interrupted intents that can be
// checked for a duplicate (by key, or by CSR for a reissue) end up in Pending
// (the next apply checks and resumes them); an interrupted intent whose
// dup_check is none (a legacy v1 order) cannot be checked, so its
// certificate is marked unknown_outcome, as if its submission had failed
// ambiguously.
func Load(statePath string) (*Loaded, error) {
	l := &Loaded{Pending: map[string]Record{}}
	data, found, err := readFileIfExists(statePath)
	if err != nil {
		return nil, fmt.Errorf("load state %s: %w", statePath, err)
	}
	jpath := JournalPath(statePath)
	jdata, jfound, err := readFileIfExists(jpath)
	if err != nil {
		return nil, fmt.Errorf("load state %s: read journal: %w", statePath, err)
	}
	scan, err := scanJournal(jpath, jdata)
	if err != nil {
		return nil, fmt.Errorf("load state %s: %w", statePath, err)
	}

	var s *State
	if found {
		if s, err = Parse(data); err != nil {
			return nil, loadError(statePath, err)
		}
		l.snapshotDigest = sha256.Sum256(data)
	} else {
		s = New()
		if scan.firstOK != nil {
			// Only a journal (a first apply was interrupted): every load
			// must agree on the lineage until the snapshot is written.
			sum := sha256.Sum256(scan.firstOK)
			s.Lineage = uuidFrom(sum[:])
		}
		initial, err := Marshal(s)
		if err != nil {
			return nil, fmt.Errorf("load state %s: %w", statePath, err)
		}
		l.snapshotDigest = sha256.Sum256(initial)
		if _, err := os.Stat(BackupPath(statePath)); err == nil {
			l.Warnings = append(l.Warnings, fmt.Sprintf("%s does not exist but its backup %s does: if the state was deleted by mistake, restore it from the backup (or from Git) before applying",
				statePath, BackupPath(statePath)))
		}
	}
	l.State = s
	l.Exists = found || jfound
	l.snapshotExists = found
	l.baseSerial = s.Serial
	l.journalExists = jfound
	l.journalSize = int64(len(jdata))

	_, pending := s.fold(scan.recs)
	l.Replayed = len(scan.recs)
	l.TornTail = scan.torn
	if scan.torn {
		l.Warnings = append(l.Warnings, fmt.Sprintf("ignored a torn last record in %s (an apply was killed mid-write)", filepath.Base(jpath)))
	}
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

func loadError(statePath string, err error) error {
	var ve *VersionError
	if errors.As(err, &ve) {
		ve.File = statePath
		return ve
	}
	hint := ""
	if _, serr := os.Stat(BackupPath(statePath)); serr == nil {
		hint = fmt.Sprintf(" (the previous snapshot is in %s)", BackupPath(statePath))
	}
	return fmt.Errorf("load state %s: %w%s", statePath, err, hint)
}

// Commit makes a Loaded state durable and retires its journal. Call it while
// holding the state lock, after any Journal is closed. If the state differs
// from the snapshot on disk (journal records folded in, or the caller's
// changes), it is saved with Serial one more than the loaded one. Then the
// journal is removed, or, when intents are still pending, atomically
// replaced by one holding only those intents. The snapshot is durable before
// the journal goes, so a crash in between only replays the journal again,
// which changes nothing (Fold is idempotent).
func Commit(statePath string, l *Loaded) error {
	if l == nil || l.State == nil {
		return fmt.Errorf("commit state %s: nothing loaded", statePath)
	}
	if err := l.checkJournalUnchanged(statePath); err != nil {
		return err
	}
	s := l.State
	s.Serial = l.baseSerial
	data, err := Marshal(s)
	if err != nil {
		return fmt.Errorf("commit state %s: %w", statePath, err)
	}
	changed := sha256.Sum256(data) != l.snapshotDigest
	removeStaleTemps(statePath)
	if changed || (!l.snapshotExists && l.journalExists) {
		s.Serial = l.baseSerial + 1
		if data, err = Marshal(s); err != nil {
			s.Serial = l.baseSerial
			return fmt.Errorf("commit state %s: %w", statePath, err)
		}
		if err := saveBytes(statePath, data); err != nil {
			s.Serial = l.baseSerial
			return fmt.Errorf("commit state %s: %w", statePath, err)
		}
		l.snapshotExists, l.snapshotDigest, l.baseSerial = true, sha256.Sum256(data), s.Serial
	}
	if err := l.retireJournal(statePath); err != nil {
		return fmt.Errorf("commit state %s: %w", statePath, err)
	}
	return nil
}

// checkJournalUnchanged guards against a writer that ignored the lock: the
// journal must be as it was when loaded, or its new records would be lost.
func (l *Loaded) checkJournalUnchanged(statePath string) error {
	fi, err := os.Stat(JournalPath(statePath))
	switch {
	case errors.Is(err, os.ErrNotExist):
		if !l.journalExists {
			return nil
		}
	case err != nil:
		return fmt.Errorf("commit state %s: %w", statePath, err)
	case l.journalExists && fi.Size() == l.journalSize:
		return nil
	}
	return fmt.Errorf("commit state %s: the journal %s changed since the state was loaded: is another certplan running without the lock? Load again and retry",
		statePath, JournalPath(statePath))
}

// retireJournal removes the journal, or keeps only the pending intents.
func (l *Loaded) retireJournal(statePath string) error {
	jpath := JournalPath(statePath)
	if len(l.Pending) == 0 {
		if !l.journalExists {
			return nil
		}
		if err := os.Remove(jpath); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("remove journal: %w", err)
		}
		l.journalExists, l.journalSize = false, 0
		return syncDir(filepath.Dir(jpath))
	}
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
	var out []byte
	for _, r := range recs {
		line, err := encodeRecord(r)
		if err != nil {
			return err
		}
		out = append(out, line...)
	}
	if err := replaceFile(jpath, out); err != nil {
		return fmt.Errorf("rewrite journal with the %d pending intents: %w", len(recs), err)
	}
	l.journalExists, l.journalSize = true, int64(len(out))
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
