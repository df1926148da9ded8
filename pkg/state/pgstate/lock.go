package pgstate

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/certplan/certplan/pkg/state"
)

// pgLock is a held state lock: a session-level advisory lock on its own
// connection, and the workspace's row in the locks table. The server drops
// the advisory lock when the connection ends, however the holder dies.
type pgLock struct {
	b        *Backend
	info     state.LockInfo
	tookOver *state.LockInfo

	mu   sync.Mutex // guards conn, shared with the journal and Commit
	conn *pgx.Conn
}

func (l *pgLock) Info() state.LockInfo      { return l.info }
func (l *pgLock) TookOver() *state.LockInfo { return l.tookOver }

// deadHolderGrace bounds how long Lock waits for the server to notice that a
// holder on this host is dead (its connection closed), whatever the timeout.
const deadHolderGrace = 10 * time.Second

func (b *Backend) sleep(ctx context.Context, d time.Duration) error {
	if b.Sleep != nil {
		return b.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Lock takes the state's advisory lock on a new connection, creating or
// migrating the schema first, and writes the lock-info row. While another
// run holds it, Lock polls until timeout (0: one try) and then returns a
// *state.LockedError naming the holder. A holder on this host that is gone
// is waited for (briefly: the server notices a closed connection at once)
// and its row is reported in TookOver.
func (b *Backend) Lock(ctx context.Context, operation string, timeout time.Duration) (state.Lock, error) {
	c := b.cfg
	conn, err := b.connect(ctx)
	if err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			conn.Close(context.WithoutCancel(ctx))
		}
	}()
	if err := c.migrate(ctx, conn, toolVersion()); err != nil {
		return nil, err
	}
	poll := b.Poll
	if poll <= 0 {
		poll = 250 * time.Millisecond
	}
	start := b.now()
	var graceStart time.Time
	for {
		var got bool
		if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1, $2)`, int32(lockClass), c.stateKey()).Scan(&got); err != nil {
			return nil, c.fail("take the state lock", err)
		}
		if got {
			l, err := b.locked(ctx, conn, operation)
			if err != nil {
				return nil, err
			}
			ok = true
			return l, nil
		}
		holder, found, err := b.lockRow(ctx, conn)
		if err != nil {
			return nil, err
		}
		if found && holder.Host == state.Hostname() && holder.PID > 0 && !state.ProcessAlive(holder.PID) {
			// The holder died on this host; its connection is closing.
			if graceStart.IsZero() {
				graceStart = b.now()
			}
			if b.now().Sub(graceStart) < deadHolderGrace {
				if err := b.sleep(ctx, 50*time.Millisecond); err != nil {
					return nil, fmt.Errorf("waiting for the lock of state %s: %w", c.name, err)
				}
				continue
			}
		}
		waited := b.now().Sub(start)
		if timeout <= 0 || waited >= timeout {
			return nil, &state.LockedError{Name: c.name, Holder: holder, Waited: waited}
		}
		if err := b.sleep(ctx, min(poll, timeout-waited)); err != nil {
			return nil, fmt.Errorf("waiting for the lock of state %s: %w", c.name, err)
		}
	}
}

// locked completes a Lock once the advisory lock is held: a row left
// behind is a dead holder's (a clean Release deletes it), taken over.
func (b *Backend) locked(ctx context.Context, conn *pgx.Conn, operation string) (*pgLock, error) {
	c := b.cfg
	l := &pgLock{b: b, conn: conn, info: state.NewLockInfo(operation, b.now())}
	prev, found, err := b.lockRow(ctx, conn)
	if err != nil {
		return nil, err
	}
	if found {
		l.tookOver = &prev
	}
	i := l.info
	if _, err := conn.Exec(ctx, c.sql(`INSERT INTO {s}.locks (workspace, lock_id, who, host, pid, operation, since, version, backend_pid)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, pg_backend_pid())
ON CONFLICT (workspace) DO UPDATE SET lock_id = excluded.lock_id, who = excluded.who, host = excluded.host, pid = excluded.pid,
	operation = excluded.operation, since = excluded.since, version = excluded.version, backend_pid = excluded.backend_pid`),
		c.workspace, i.ID, i.Who, i.Host, i.PID, i.Operation, i.Created, i.Version); err != nil {
		return nil, c.fail("write the lock-info row", err)
	}
	b.mu.Lock()
	b.held = l
	b.mu.Unlock()
	return l, nil
}

// lockRow reads the workspace's lock-info row.
func (b *Backend) lockRow(ctx context.Context, q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}) (state.LockInfo, bool, error) {
	c := b.cfg
	var i state.LockInfo
	err := q.QueryRow(ctx, c.sql(`SELECT lock_id, who, host, pid, operation, since, version FROM {s}.locks WHERE workspace = $1`), c.workspace).
		Scan(&i.ID, &i.Who, &i.Host, &i.PID, &i.Operation, &i.Created, &i.Version)
	if errors.Is(err, pgx.ErrNoRows) {
		return state.LockInfo{}, false, nil
	}
	if err != nil {
		return state.LockInfo{}, false, c.fail("read the lock-info row", err)
	}
	i.Created = i.Created.UTC()
	return i, true, nil
}

// Release deletes the lock-info row (only its own: a force-unlock may have
// replaced it), unlocks and closes the connection. It is idempotent. If the
// connection is gone, the server has already dropped the lock.
func (l *pgLock) Release() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.b
	b.mu.Lock()
	if b.held == l {
		b.held = nil
	}
	b.mu.Unlock()
	if l.conn == nil {
		return nil
	}
	conn := l.conn
	l.conn = nil
	ctx := context.Background()
	defer conn.Close(ctx)
	c := b.cfg
	if _, err := conn.Exec(ctx, c.sql(`DELETE FROM {s}.locks WHERE workspace = $1 AND lock_id = $2`), c.workspace, l.info.ID); err != nil {
		if conn.IsClosed() {
			return nil // the server dropped the lock with the connection
		}
		return c.fail("release the state lock", err)
	}
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_unlock($1, $2)`, int32(lockClass), c.stateKey()); err != nil && !conn.IsClosed() {
		return c.fail("release the state lock", err)
	}
	return nil
}

// ForceUnlock removes a lock whose holder is gone: it terminates the
// server process that holds the advisory lock (pg_terminate_backend) and
// deletes the lock-info row, and returns that row (nil when the state was
// not locked). It refuses while the holder is a live process on this host.
func (b *Backend) ForceUnlock(ctx context.Context) (*state.LockInfo, error) {
	c := b.cfg
	conn, err := b.connect(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var exists *string
	if err := conn.QueryRow(ctx, `SELECT to_regclass($1)::text`, pgx.Identifier{c.schema, "locks"}.Sanitize()).Scan(&exists); err != nil {
		return nil, c.fail("read the lock-info row", err)
	}
	if exists == nil {
		return nil, nil
	}
	info, found, err := b.lockRow(ctx, conn)
	if err != nil {
		return nil, err
	}
	pids, err := b.holderPIDs(ctx, conn)
	if err != nil {
		return nil, err
	}
	if !found && len(pids) == 0 {
		return nil, nil
	}
	if len(pids) > 0 && found && info.Host == state.Hostname() && info.PID > 0 && state.ProcessAlive(info.PID) {
		return &info, fmt.Errorf("state %s is locked by a running process: pid %d on this host (%s, %q since %s); "+
			"stop that process instead (its lock goes when it exits)",
			c.name, info.PID, info.Who, info.Operation, info.Created.UTC().Format(time.RFC3339))
	}
	for _, pid := range pids {
		var done bool
		if err := conn.QueryRow(ctx, `SELECT pg_terminate_backend($1, 5000)`, pid).Scan(&done); err != nil {
			return nil, c.fail(fmt.Sprintf("end the server process %d that holds the lock", pid), err)
		}
		if !done {
			return nil, fmt.Errorf("state %s: could not end the server process %d that holds the lock: ask the database's administrator to run SELECT pg_terminate_backend(%d)", c.name, pid, pid)
		}
	}
	if _, err := conn.Exec(ctx, c.sql(`DELETE FROM {s}.locks WHERE workspace = $1`), c.workspace); err != nil {
		return nil, c.fail("delete the lock-info row", err)
	}
	if !found {
		info = state.LockInfo{}
	}
	return &info, nil
}

// holderPIDs are the server processes holding the state's advisory lock.
func (b *Backend) holderPIDs(ctx context.Context, conn *pgx.Conn) ([]int32, error) {
	rows, err := conn.Query(ctx, `SELECT pid FROM pg_locks
WHERE locktype = 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
	AND classid::bigint = $1 AND objid::bigint = $2 AND objsubid = 2`, int64(lockClass), int64(b.cfg.stateKey()))
	if err != nil {
		return nil, b.cfg.fail("find the lock's holder", err)
	}
	pids, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		return nil, b.cfg.fail("find the lock's holder", err)
	}
	return pids, nil
}

func toolVersion() string {
	if state.ToolVersion != "" {
		return state.ToolVersion
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "(devel)"
}
