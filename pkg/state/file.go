package state

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// FileBackend keeps a state in files beside each other: the snapshot at
// its path, the journal (JournalPath), the previous snapshot (BackupPath)
// and the lock (LockPath), all 0600. It is certplan's default backend.
type FileBackend struct {
	path string
	// Now stamps journal records and lock-info; tests replace it. Nil means
	// time.Now.
	Now func() time.Time
}

var _ Backend = (*FileBackend)(nil)

// NewFileBackend returns the file backend of the state at statePath. It
// touches nothing until used.
func NewFileBackend(statePath string) *FileBackend { return &FileBackend{path: statePath} }

// Path is the snapshot's path.
func (b *FileBackend) Path() string { return b.path }

// Describe names the backend by the snapshot's path.
func (b *FileBackend) Describe() BackendInfo { return BackendInfo{Kind: "file", Name: b.path} }

func (b *FileBackend) now() time.Time {
	if b.Now == nil {
		return time.Now()
	}
	return b.Now()
}

// Lock takes the OS lock (flock) on LockPath and writes the holder's
// lock-info into it. While another process holds it, Lock polls until
// timeout (0: tries once) and then returns a *LockedError naming the
// holder. The OS drops the lock of a process that dies, however it dies; its
// lock-info is then taken over and reported in TookOver.
func (b *FileBackend) Lock(ctx context.Context, operation string, timeout time.Duration) (Lock, error) {
	lk := defaultLocker
	lk.now = b.now
	l, err := lk.acquire(ctx, b.path, operation, timeout)
	if err != nil {
		return nil, err
	}
	return l, nil
}

// ForceUnlock clears the lock: see forceUnlock.
func (b *FileBackend) ForceUnlock(ctx context.Context) (*LockInfo, error) {
	return forceUnlock(b.path)
}

// OpenJournal opens the journal for appending: see openJournal.
func (b *FileBackend) OpenJournal(ctx context.Context) (JournalWriter, error) {
	j, err := openJournal(b.path)
	if err != nil {
		return nil, err
	}
	j.Now = b.Now
	return j, nil
}

// Load reads the snapshot (none: an empty state) and replays the journal
// on top (Replay). It writes nothing and takes no lock. The journal
// position is the journal's size in bytes ("" when there is no journal).
//
// Without the lock, a Commit may run while Load reads: it renames a new
// snapshot into place and then removes or replaces the journal. Load reads
// the snapshot, then the journal, then checks that the file at the
// snapshot's path is still the one it read; if not, it reads both again. A
// snapshot read with the journal of the commit before it is the crash case
// Replay is built for (folding records again changes nothing); a journal
// read after a commit retired it, with the snapshot before that commit,
// would lose records, and is what the check catches.
func (b *FileBackend) Load(ctx context.Context) (*Loaded, error) {
	const attempts = 20
	for i := 0; ; i++ {
		st, same, err := b.read()
		if err != nil {
			return nil, err
		}
		if same {
			l, err := Replay(st)
			if err != nil {
				return nil, loadError(b.path, err)
			}
			return l, nil
		}
		if i == attempts-1 {
			return nil, fmt.Errorf("load state %s: it changed %d times while being read: another certplan is writing it; run again when it is done", b.path, attempts)
		}
		if err := sleepCtx(ctx, time.Duration(i+1)*10*time.Millisecond); err != nil {
			return nil, fmt.Errorf("load state %s: %w", b.path, err)
		}
	}
}

// afterSnapshotRead lets tests commit between the two reads of Load.
var afterSnapshotRead func()

// read reads the snapshot and the journal once. same is false when the
// snapshot at the path changed while they were read.
func (b *FileBackend) read() (st Stored, same bool, err error) {
	data, found, snap, err := readOwnID(b.path)
	if err != nil {
		return st, false, fmt.Errorf("load state %s: %w", b.path, err)
	}
	if afterSnapshotRead != nil {
		afterSnapshotRead()
	}
	jpath := JournalPath(b.path)
	jdata, jfound, err := readFileIfExists(jpath)
	if err != nil {
		return st, false, fmt.Errorf("load state %s: read journal: %w", b.path, err)
	}
	if now, err := idAt(b.path); err != nil || now != snap {
		return st, false, nil
	}
	scan, err := scanJournal(jpath, jdata)
	if err != nil {
		return st, false, fmt.Errorf("load state %s: %w", b.path, err)
	}
	st = Stored{Records: scan.recs, TornTail: scan.torn, LineageSeed: scan.firstOK}
	if found {
		st.Snapshot = data
		if st.Snapshot == nil {
			st.Snapshot = []byte{}
		}
	} else if _, err := os.Lstat(BackupPath(b.path)); err == nil {
		st.Warnings = append(st.Warnings, fmt.Sprintf("%s does not exist but its backup %s does: if the state was deleted by mistake, restore it from the backup (or from Git) before applying",
			b.path, BackupPath(b.path)))
	}
	if jfound {
		st.Journal = strconv.Itoa(len(jdata))
	}
	if scan.torn {
		st.Warnings = append(st.Warnings, fmt.Sprintf("ignored a torn last record in %s (an apply was killed mid-write)", filepath.Base(jpath)))
	}
	return st, true, nil
}

func loadError(statePath string, err error) error {
	var ve *VersionError
	if errors.As(err, &ve) {
		ve.Name = statePath
		return ve
	}
	hint := ""
	if _, serr := os.Lstat(BackupPath(statePath)); serr == nil {
		hint = fmt.Sprintf(" (the previous snapshot is in %s)", BackupPath(statePath))
	}
	return fmt.Errorf("load state %s: %w%s", statePath, err, hint)
}

// Commit makes a Loaded state durable and retires its journal. Call it while
// holding the state lock, after any journal is closed. It is refused when the
// snapshot's lineage or serial, or the journal's size, are not what l was
// loaded from. If the state differs from the snapshot on disk (journal
// records folded in, the caller's changes, an older format version), it is
// saved with Serial one more than the loaded one. Then the journal is
// removed, or, when intents are still pending, atomically replaced by one
// holding only those intents. The snapshot is durable before the journal
// goes, so a crash in between only replays the journal again, which changes
// nothing (Fold is idempotent).
func (b *FileBackend) Commit(ctx context.Context, l *Loaded) error {
	if l == nil || l.State == nil {
		return fmt.Errorf("commit state %s: nothing loaded", b.path)
	}
	now, err := b.stored()
	if err != nil {
		return fmt.Errorf("commit state %s: %w", b.path, err)
	}
	if err := l.CheckBase(b.path, now); err != nil {
		var ce *ConflictError
		if errors.As(err, &ce) && ce.Journal {
			ce.Reason = "the journal " + JournalPath(b.path) + " changed"
		}
		return err
	}
	c, err := l.Next()
	if err != nil {
		return fmt.Errorf("commit state %s: %w", b.path, err)
	}
	removeStaleTemps(b.path)
	if c.Snapshot != nil {
		if err := saveBytes(b.path, c.Snapshot); err != nil {
			return fmt.Errorf("commit state %s: %w", b.path, err)
		}
	}
	journal, err := b.retireJournal(l.Base.Journal, c.Keep)
	if err != nil {
		return fmt.Errorf("commit state %s: %w", b.path, err)
	}
	l.Committed(c, journal)
	return nil
}

// stored reads what is on disk now: the snapshot's lineage and serial (from
// its head only) and the journal's position.
func (b *FileBackend) stored() (Base, error) {
	var now Base
	f, err := openOwn(b.path, os.O_RDONLY, 0)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return now, err
	default:
		defer f.Close()
		now.Stored = true
		if now.Lineage, now.Serial, err = readHead(f); err != nil {
			return now, fmt.Errorf("read the snapshot on disk: %w", err)
		}
	}
	fi, err := statOwn(JournalPath(b.path))
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return now, err
	default:
		now.Journal = strconv.FormatInt(fi.Size(), 10)
	}
	return now, nil
}

// readHead reads a snapshot's lineage and serial without decoding the rest
// when, as Marshal writes them, they come first.
func readHead(r io.Reader) (lineage string, serial int64, err error) {
	dec := json.NewDecoder(bufio.NewReader(r))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return "", 0, errors.New("not a JSON object")
	}
	var haveLineage, haveSerial bool
	for dec.More() && !(haveLineage && haveSerial) {
		t, err := dec.Token()
		if err != nil {
			return "", 0, err
		}
		switch t {
		case "lineage":
			err, haveLineage = dec.Decode(&lineage), true
		case "serial":
			err, haveSerial = dec.Decode(&serial), true
		default:
			var skip json.RawMessage
			err = dec.Decode(&skip)
		}
		if err != nil {
			return "", 0, err
		}
	}
	return lineage, serial, nil
}

// retireJournal removes the journal, or replaces it with one holding only
// keep, and returns the journal's new position.
func (b *FileBackend) retireJournal(loaded string, keep []Record) (string, error) {
	jpath := JournalPath(b.path)
	if len(keep) == 0 {
		if loaded == "" {
			return "", nil
		}
		if err := os.Remove(jpath); err != nil && !errors.Is(err, os.ErrNotExist) {
			return loaded, fmt.Errorf("remove journal: %w", err)
		}
		return "", syncDir(filepath.Dir(jpath))
	}
	var out []byte
	for _, r := range keep {
		line, err := encodeRecord(r)
		if err != nil {
			return loaded, err
		}
		out = append(out, line...)
	}
	if err := replaceFile(jpath, out); err != nil {
		return loaded, fmt.Errorf("rewrite journal with the %d pending intents: %w", len(keep), err)
	}
	return strconv.Itoa(len(out)), nil
}
