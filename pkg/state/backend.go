package state

import (
	"context"
	"fmt"
	"time"
)

// Backend stores one certplan state: the snapshot, the write-ahead journal
// of what apply did since, and the lock that lets one run at a time write
// them. NewFileBackend keeps them in files beside each other; every backend
// passes the conformance suite in pkg/state/statetest.
//
// The contract, for every backend:
//
//   - Load reads the snapshot and the journal records not yet folded into
//     it and replays them (Replay). It writes nothing and needs no lock, so
//     read-only commands (plan among them) work on a read-only store and
//     never wait for an apply. What it reads is consistent even while
//     another run commits: never a snapshot with a journal that a later
//     commit already retired. Loaded.Base says what it read: lineage, serial
//     and an opaque journal position.
//   - Lock excludes every other holder of the same store, in this process
//     or another, on any host, until Release: a second Lock (even through
//     the same Backend value) fails with a *LockedError naming the holder. A holder that died without releasing must not block the
//     next run: its lock is taken over and reported by Lock.TookOver.
//   - OpenJournal (under the lock) returns a writer whose Append returns
//     only once the record is durable: a process killed right after loses
//     nothing. Append refuses records that fail Record.ValidateNew.
//   - Commit (under the lock, after the journal is closed) stores l.State
//     as the new snapshot, with its serial one more than the base, if it
//     differs from the stored one, and then retires the journal records it
//     folded, keeping the pending intents. It is refused, and writes
//     nothing, when the store no longer holds what l was loaded from:
//     another lineage (*LineageError), another serial or another journal
//     position (*ConflictError). A newer format version is refused by Load
//     (*VersionError, "upgrade certplan").
//
// A PostgreSQL backend fits it as follows. Lock takes
// pg_try_advisory_lock(key of the state) on a connection held until
// Release, polling until the timeout, and upserts a lock_info row; the
// advisory lock dies with its session, so a row whose holder's lock is
// free is a dead holder's, taken over and reported. ForceUnlock deletes the
// row and terminates the holder's backend (pg_terminate_backend). Append is
// one INSERT into a journal table (seq bigserial), committed before it
// returns. Load reads the snapshot row (lineage, serial, JSON) and the
// unfolded journal rows in one read-only REPEATABLE READ transaction and
// calls Replay; the journal position is the highest seq read plus the
// number of unfolded rows. Commit is one transaction: UPDATE the snapshot
// WHERE lineage and serial are the base ones (no row: ConflictError, or
// LineageError after a SELECT), check that no unfolded row beyond the
// position exists, mark the folded rows (all unfolded rows up to the
// position but the kept intents) folded. Describe names host, port,
// database and schema, never a password.
type Backend interface {
	// Describe says which state this is, for messages and plan files.
	Describe() BackendInfo
	// Lock takes the state's lock for operation (e.g. "apply", "plan",
	// "state rm"), retrying until timeout (0: one try) or ctx ends.
	Lock(ctx context.Context, operation string, timeout time.Duration) (Lock, error)
	// ForceUnlock removes a lock whose holder is gone and returns its
	// lock-info (nil when the state was not locked). It refuses while the
	// holder is known to be alive.
	ForceUnlock(ctx context.Context) (*LockInfo, error)
	// Load reads the state without writing anything.
	Load(ctx context.Context) (*Loaded, error)
	// OpenJournal opens the journal for appending. Hold the lock.
	OpenJournal(ctx context.Context) (JournalWriter, error)
	// Commit stores l and retires the journal records folded into it. Hold
	// the lock. On success l describes what is stored (its Base and serial
	// move on), so it may be changed and committed again.
	Commit(ctx context.Context, l *Loaded) error
}

// BackendInfo names a backend for people and plan files.
type BackendInfo struct {
	// Kind is the backend type: "file" (later also "postgres").
	Kind string `json:"kind"`
	// Name tells which state of that kind: the file's path, or a database's
	// host, database and schema. Never a password.
	Name string `json:"name"`
}

func (i BackendInfo) String() string { return i.Kind + " " + i.Name }

// Lock is a held state lock.
type Lock interface {
	// Info is what this lock says about its holder.
	Info() LockInfo
	// TookOver is the lock-info a previous holder left behind when it died
	// without releasing; nil otherwise.
	TookOver() *LockInfo
	// Release gives the lock up. It is idempotent.
	Release() error
}

// JournalWriter appends records to a state's journal.
type JournalWriter interface {
	// Append stamps rec (Seq, Time), checks it (Record.ValidateNew) and
	// returns once it is durable. After an error the writer refuses all
	// further records: the caller must stop.
	Append(rec Record) error
	// Close releases the writer; it is idempotent.
	Close() error
}

// ConflictError says a Commit was refused because the store changed since
// the state was loaded: someone wrote it without holding the lock, or the
// caller kept a Loaded across a commit by another one.
type ConflictError struct {
	Name    string // the backend's display name
	Reason  string // what changed, e.g. "its serial moved from 7 to 8"
	Journal bool   // it is the journal that changed
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("commit state %s: %s since the state was loaded: is another certplan running without the lock? Load again and retry",
		e.Name, e.Reason)
}

// LineageError says a Commit was refused because it would replace a state
// with one of another lineage.
type LineageError struct {
	Name   string // the backend's display name
	Stored string // the lineage in the store ("" when the state to commit is the odd one)
	Loaded string // the lineage the state was loaded with
	Commit string // the lineage of the state to commit
}

func (e *LineageError) Error() string {
	if e.Stored != "" {
		return fmt.Sprintf("commit state %s: it now holds lineage %s, not %s that was loaded: the state was replaced by another one (restored from elsewhere?); check --state, then load again",
			e.Name, e.Stored, e.Loaded)
	}
	return fmt.Sprintf("commit state %s: refusing to replace lineage %s with lineage %s: a state is never overwritten by another one",
		e.Name, e.Loaded, e.Commit)
}
