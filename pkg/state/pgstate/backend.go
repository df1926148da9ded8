package pgstate

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/certplan/certplan/pkg/state"
)

// Backend is a certplan state in a PostgreSQL database: one workspace of
// one schema. It connects only when used; Lock holds a connection of its
// own until Release, and the journal and Commit use that connection while
// this Backend holds the lock, so nothing is written under a lost lock.
type Backend struct {
	cfg *config

	// Now stamps journal records and lock-info; nil means time.Now.
	Now func() time.Time
	// Sleep waits between lock attempts; nil means a timer.
	Sleep func(context.Context, time.Duration) error
	// Poll is the interval between lock attempts (0: 250ms).
	Poll time.Duration

	mu   sync.Mutex
	held *pgLock // the lock this Backend holds, if any
}

var _ state.Backend = (*Backend)(nil)

// Open returns the backend of the state at url (see the package comment).
// It checks the URL but does not connect.
func Open(url string) (*Backend, error) {
	cfg, err := parseURL(url)
	if err != nil {
		return nil, err
	}
	return &Backend{cfg: cfg}, nil
}

// Describe names the state by its URL without the password.
func (b *Backend) Describe() state.BackendInfo {
	return state.BackendInfo{Kind: "postgres", Name: b.cfg.name}
}

// Workspace is the state's workspace name.
func (b *Backend) Workspace() string { return b.cfg.workspace }

// Where names the database: host:port/database.
func (b *Backend) Where() string { return b.cfg.where() }

func (b *Backend) now() time.Time {
	if b.Now != nil {
		return b.Now()
	}
	return time.Now()
}

// connect opens a connection of its own.
func (b *Backend) connect(ctx context.Context) (*pgx.Conn, error) {
	conn, err := pgx.ConnectConfig(ctx, b.cfg.conn.Copy())
	if err != nil {
		return nil, b.cfg.fail("connect", err)
	}
	return conn, nil
}

// heldConn returns the connection of the lock this Backend holds (locked
// for the caller; call the returned unlock), or nil.
func (b *Backend) heldConn() (*pgLock, func()) {
	b.mu.Lock()
	l := b.held
	b.mu.Unlock()
	if l == nil {
		return nil, func() {}
	}
	l.mu.Lock()
	if l.conn == nil {
		l.mu.Unlock()
		return nil, func() {}
	}
	return l, l.mu.Unlock
}

// withConn runs f on the held lock's connection, or on a new one.
func (b *Backend) withConn(ctx context.Context, f func(conn *pgx.Conn) error) error {
	if l, unlock := b.heldConn(); l != nil {
		defer unlock()
		return f(l.conn)
	}
	conn, err := b.connect(ctx)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	return f(conn)
}

// position is the journal position of the unfolded records: "" when there
// are none, else "highest seq:count".
func position(maxSeq, count int64) string {
	if count == 0 {
		return ""
	}
	return strconv.FormatInt(maxSeq, 10) + ":" + strconv.FormatInt(count, 10)
}

// Load reads the snapshot and the unfolded journal records in one
// read-only REPEATABLE READ transaction and replays them (state.Replay),
// as the file backend does. It writes nothing and takes no lock; a database
// without certplan's tables holds an empty state.
func (b *Backend) Load(ctx context.Context) (*state.Loaded, error) {
	c := b.cfg
	var st state.Stored
	err := b.withConn(ctx, func(conn *pgx.Conn) error {
		return pgx.BeginTxFunc(ctx, conn, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
			_, _, exists, err := c.schemaVersion(ctx, tx)
			if err != nil || !exists {
				return err
			}
			var snap *string
			err = tx.QueryRow(ctx, c.sql(`SELECT snapshot FROM {s}.snapshots WHERE workspace = $1`), c.workspace).Scan(&snap)
			if err != nil && !errors.Is(err, pgx.ErrNoRows) {
				return c.fail("read the snapshot", err)
			}
			if snap != nil {
				st.Snapshot = []byte(*snap)
			}
			rows, err := tx.Query(ctx, c.sql(`SELECT seq, record FROM {s}.journal WHERE workspace = $1 AND NOT folded ORDER BY seq`), c.workspace)
			if err != nil {
				return c.fail("read the journal", err)
			}
			var maxSeq int64
			for rows.Next() {
				var seq int64
				var text string
				if err := rows.Scan(&seq, &text); err != nil {
					return c.fail("read the journal", err)
				}
				rec, err := state.DecodeRecord([]byte(text))
				if err != nil {
					return fmt.Errorf("state %s: journal record seq %d is corrupt: %v: certplan never writes such a record; inspect the row (keep a copy), then delete it or mark it folded and run `certplan plan` (orders already placed are found again by their alternative_order_id)", c.name, seq, err)
				}
				if st.LineageSeed == nil {
					st.LineageSeed = []byte(text)
				}
				st.Records = append(st.Records, rec)
				maxSeq = seq
			}
			if err := rows.Err(); err != nil {
				return c.fail("read the journal", err)
			}
			st.Journal = position(maxSeq, int64(len(st.Records)))
			return nil
		})
	})
	if err != nil {
		return nil, b.loadError(err)
	}
	l, err := state.Replay(st)
	if err != nil {
		return nil, b.loadError(err)
	}
	return l, nil
}

func (b *Backend) loadError(err error) error {
	var ve *state.VersionError
	if errors.As(err, &ve) {
		ve.Name = b.cfg.name
		return ve
	}
	var pe *Error
	var se *SchemaVersionError
	if errors.As(err, &pe) || errors.As(err, &se) {
		return err
	}
	return fmt.Errorf("load state %s: %w", b.cfg.name, err)
}

// stored reads what the store holds now, in tx.
func (b *Backend) stored(ctx context.Context, tx pgx.Tx, forUpdate bool) (state.Base, error) {
	c := b.cfg
	var now state.Base
	q := `SELECT lineage, serial FROM {s}.snapshots WHERE workspace = $1`
	if forUpdate {
		q += ` FOR UPDATE`
	}
	err := tx.QueryRow(ctx, c.sql(q), c.workspace).Scan(&now.Lineage, &now.Serial)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
	case err != nil:
		return now, c.fail("read the snapshot", err)
	default:
		now.Stored = true
	}
	var maxSeq, count int64
	if err := tx.QueryRow(ctx, c.sql(`SELECT coalesce(max(seq), 0), count(*) FROM {s}.journal WHERE workspace = $1 AND NOT folded`), c.workspace).Scan(&maxSeq, &count); err != nil {
		return now, c.fail("read the journal", err)
	}
	now.Journal = position(maxSeq, count)
	return now, nil
}

// Commit stores l in one transaction: the snapshot row is updated only
// where its lineage and serial are still the loaded ones, and the journal
// records folded into it (every unfolded one up to the loaded position,
// but the pending intents) are marked folded. Hold the lock.
func (b *Backend) Commit(ctx context.Context, l *state.Loaded) error {
	c := b.cfg
	if l == nil || l.State == nil {
		return fmt.Errorf("commit state %s: nothing loaded", c.name)
	}
	var data state.CommitData
	var journal string
	err := b.withConn(ctx, func(conn *pgx.Conn) error {
		if err := c.migrate(ctx, conn, toolVersion()); err != nil {
			return err
		}
		return pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			now, err := b.stored(ctx, tx, true)
			if err != nil {
				return err
			}
			if err := l.CheckBase(c.name, now); err != nil {
				return err
			}
			if data, err = l.Next(); err != nil {
				return fmt.Errorf("commit state %s: %w", c.name, err)
			}
			if data.Snapshot != nil {
				var tag pgconn.CommandTag
				if now.Stored {
					tag, err = tx.Exec(ctx, c.sql(`UPDATE {s}.snapshots SET lineage = $2, serial = $3, snapshot = $4, updated_at = now()
WHERE workspace = $1 AND lineage = $5 AND serial = $6`),
						c.workspace, l.State.Lineage, data.Serial, string(data.Snapshot), l.Base.Lineage, l.Base.Serial)
				} else {
					tag, err = tx.Exec(ctx, c.sql(`INSERT INTO {s}.snapshots (workspace, lineage, serial, snapshot) VALUES ($1, $2, $3, $4)
ON CONFLICT (workspace) DO NOTHING`),
						c.workspace, l.State.Lineage, data.Serial, string(data.Snapshot))
				}
				if err != nil {
					return c.fail("store the snapshot", err)
				}
				if tag.RowsAffected() != 1 {
					return &state.ConflictError{Name: c.name, Reason: "the snapshot was written by another run"}
				}
			}
			var maxSeq int64
			if _, err := fmt.Sscanf(l.Base.Journal, "%d:", &maxSeq); err != nil && l.Base.Journal != "" {
				return fmt.Errorf("commit state %s: journal position %q is not this backend's", c.name, l.Base.Journal)
			}
			keep := make([]int64, 0, len(data.Keep))
			var keepMax int64
			for _, r := range data.Keep {
				keep = append(keep, r.Seq)
				keepMax = max(keepMax, r.Seq)
			}
			if l.Base.Journal != "" {
				if _, err := tx.Exec(ctx, c.sql(`UPDATE {s}.journal SET folded = true
WHERE workspace = $1 AND NOT folded AND seq <= $2 AND NOT (seq = ANY($3))`), c.workspace, maxSeq, keep); err != nil {
					return c.fail("mark the folded journal records", err)
				}
			}
			journal = position(keepMax, int64(len(keep)))
			return nil
		})
	})
	if err != nil {
		return err
	}
	l.Committed(data, journal)
	return nil
}

// OpenJournal opens the journal for appending; hold the lock. While this
// Backend holds it the records go through the lock's connection.
func (b *Backend) OpenJournal(ctx context.Context) (state.JournalWriter, error) {
	j := &journal{b: b}
	if l, unlock := b.heldConn(); l != nil {
		j.lock = l
		err := j.readSeq(ctx, l.conn)
		unlock()
		if err != nil {
			return nil, err
		}
		return j, nil
	}
	conn, err := b.connect(ctx)
	if err != nil {
		return nil, err
	}
	if err := b.cfg.migrate(ctx, conn, toolVersion()); err != nil {
		conn.Close(ctx)
		return nil, err
	}
	if err := j.readSeq(ctx, conn); err != nil {
		conn.Close(ctx)
		return nil, err
	}
	j.own = conn
	return j, nil
}

// journal appends records, each in a committed INSERT.
type journal struct {
	b    *Backend
	lock *pgLock   // the connection of the lock held, or
	own  *pgx.Conn // a connection of the journal's own

	mu     sync.Mutex
	seq    int64
	err    error
	closed bool
}

func (j *journal) readSeq(ctx context.Context, conn *pgx.Conn) error {
	c := j.b.cfg
	if err := conn.QueryRow(ctx, c.sql(`SELECT coalesce(max(seq), 0) FROM {s}.journal WHERE workspace = $1`), c.workspace).Scan(&j.seq); err != nil {
		return c.fail("open the journal", err)
	}
	return nil
}

// Append stamps rec and INSERTs it; it returns once the INSERT committed
// (synchronous_commit on). After an error it refuses everything: whether
// the last record was stored is unknown, so the run must stop; the next
// one resumes from what was stored.
func (j *journal) Append(rec state.Record) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	c := j.b.cfg
	if j.err != nil {
		return j.err
	}
	if j.closed {
		return fmt.Errorf("journal of state %s: append after close", c.name)
	}
	rec.Seq = j.seq + 1
	rec.Time = j.b.now().UTC()
	if err := rec.ValidateNew(); err != nil {
		return fmt.Errorf("journal of state %s: refusing record: %w", c.name, err)
	}
	line, err := state.EncodeRecord(rec)
	if err != nil {
		return fmt.Errorf("journal of state %s: %w", c.name, err)
	}
	text := strings.TrimSuffix(string(line), "\n")
	ins := func(conn *pgx.Conn) error {
		_, err := conn.Exec(context.Background(), c.sql(`INSERT INTO {s}.journal (workspace, seq, record) VALUES ($1, $2, $3)`), c.workspace, rec.Seq, text)
		return err
	}
	if j.lock != nil {
		j.lock.mu.Lock()
		if j.lock.conn == nil {
			err = errors.New("the state lock was released")
		} else {
			err = ins(j.lock.conn)
		}
		j.lock.mu.Unlock()
	} else {
		err = ins(j.own)
	}
	if err != nil {
		j.err = c.fail(fmt.Sprintf("append journal record %d (%s %s); it may or may not be stored, so this run stops", rec.Seq, rec.Type, rec.Name), err)
		return j.err
	}
	j.seq = rec.Seq
	return nil
}

// Close releases the journal's own connection; it is idempotent.
func (j *journal) Close() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.closed {
		return nil
	}
	j.closed = true
	if j.own != nil {
		j.own.Close(context.Background())
		j.own = nil
	}
	return nil
}
