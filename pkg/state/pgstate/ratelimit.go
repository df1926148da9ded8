package pgstate

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/certplan/certplan/pkg/certcentral"
)

// KeyDigest identifies an API key in the shared rate-limit log without
// revealing it: a SHA-256 of the key under a certplan-specific prefix,
// shortened. Runs with the same key get the same digest.
func KeyDigest(apiKey string) string {
	sum := sha256.Sum256([]byte("certplan rate limit\x00" + apiKey))
	return hex.EncodeToString(sum[:16])
}

// RateWindow is a certcentral.SharedWindow kept in the state database: the
// rate_requests table holds one row per request of every run that uses the
// same database and API key, stamped with the database's clock (one clock
// for every host). A request counts while in flight and for a window after
// its response; rows that left every window are pruned as it goes, and rows
// of runs that died mid-request after staleInFlight.
type RateWindow struct {
	cfg    *config
	digest string

	mu   sync.Mutex
	conn *pgx.Conn
}

var _ certcentral.SharedWindow = (*RateWindow)(nil)

// staleInFlight is how long a request that was never released (its run
// died) keeps counting: longer than any attempt's timeout.
const staleInFlight = 10 * time.Minute

// minWait is the shortest wait RateWindow asks for: other runs' releases
// cannot wake this process, so it polls.
const minWait = 20 * time.Millisecond

// NewRateWindow returns the shared rate-limit log of the database at url
// for the API key whose KeyDigest is digest. It connects when first used;
// Close ends its connection.
func NewRateWindow(url, digest string) (*RateWindow, error) {
	cfg, err := parseURL(url)
	if err != nil {
		return nil, err
	}
	if digest == "" {
		return nil, errors.New("shared rate limit: no API key digest")
	}
	return &RateWindow{cfg: cfg, digest: digest}, nil
}

// Close ends the connection.
func (w *RateWindow) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.conn != nil {
		w.conn.Close(context.Background())
		w.conn = nil
	}
	return nil
}

func (w *RateWindow) connLocked(ctx context.Context) (*pgx.Conn, error) {
	if w.conn != nil && !w.conn.IsClosed() {
		return w.conn, nil
	}
	conn, err := pgx.ConnectConfig(ctx, w.cfg.conn.Copy())
	if err != nil {
		return nil, w.cfg.fail("connect for the shared rate limit", err)
	}
	if err := w.cfg.migrate(ctx, conn, toolVersion()); err != nil {
		conn.Close(ctx)
		return nil, err
	}
	w.conn = conn
	return conn, nil
}

// Acquire records a request if it fits every limit counting all runs'
// requests with this key, in one transaction serialised per key by an
// advisory lock; otherwise it says how long until the oldest request that
// must leave a window has left it.
func (w *RateWindow) Acquire(ctx context.Context, api string, limits []certcentral.Limit) (func(), time.Duration, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	c := w.cfg
	conn, err := w.connLocked(ctx)
	if err != nil {
		return nil, 0, err
	}
	key := w.digest + "/" + api
	var maxSpan time.Duration
	for _, l := range limits {
		maxSpan = max(maxSpan, l.Window)
	}
	var id int64
	var wait time.Duration
	err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, $2)`, int32(lockClass), key31("rate", c.schema, key)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, c.sql(`DELETE FROM {s}.rate_requests WHERE key_digest = $1
AND ((ended_at IS NOT NULL AND ended_at < clock_timestamp() - make_interval(secs => $2)) OR (ended_at IS NULL AND started_at < clock_timestamp() - make_interval(secs => $3)))`),
			key, maxSpan.Seconds(), staleInFlight.Seconds()); err != nil {
			return err
		}
		for _, l := range limits {
			// The Requests-th most recent end inside the window, if that many
			// requests are in it: the request may start once that one has
			// left the window.
			var count int64
			var inFlight int64
			var waitFor *float64 // seconds
			err := tx.QueryRow(ctx, c.sql(`
WITH w AS (
	SELECT ended_at FROM {s}.rate_requests
	WHERE key_digest = $1 AND (ended_at IS NULL OR ended_at > clock_timestamp() - make_interval(secs => $2))
)
SELECT count(*), count(*) FILTER (WHERE ended_at IS NULL),
	(SELECT extract(epoch FROM ended_at + make_interval(secs => $2) - clock_timestamp())::float8 FROM w WHERE ended_at IS NOT NULL
	 ORDER BY ended_at OFFSET greatest((SELECT count(*) FROM w) - $3, 0) LIMIT 1)
FROM w`), key, l.Window.Seconds(), l.Requests).Scan(&count, &inFlight, &waitFor)
			if err != nil {
				return err
			}
			if count < int64(l.Requests) {
				continue
			}
			d := l.Window // only in-flight requests: ask again after they end
			if waitFor != nil {
				d = time.Duration(*waitFor * float64(time.Second))
			} else if inFlight > 0 {
				d = 10 * minWait
			}
			wait = max(wait, d, minWait)
		}
		if wait > 0 {
			return nil
		}
		return tx.QueryRow(ctx, c.sql(`INSERT INTO {s}.rate_requests (key_digest, started_at) VALUES ($1, clock_timestamp()) RETURNING id`), key).Scan(&id)
	})
	if err != nil {
		if w.conn != nil && w.conn.IsClosed() {
			w.conn = nil
		}
		return nil, 0, c.fail("shared rate limit", err)
	}
	if wait > 0 {
		return nil, wait, nil
	}
	return func() { w.release(id) }, 0, nil
}

// release stamps the request's end. A failure leaves it in flight, which
// only counts it longer (until staleInFlight).
func (w *RateWindow) release(id int64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := w.connLocked(ctx)
	if err != nil {
		return
	}
	if _, err := conn.Exec(ctx, w.cfg.sql(`UPDATE {s}.rate_requests SET ended_at = clock_timestamp() WHERE id = $1`), id); err != nil && conn.IsClosed() {
		w.conn = nil
	}
}

// String names the log without the key.
func (w *RateWindow) String() string {
	return fmt.Sprintf("shared rate limit in %s (key %s)", w.cfg.name, w.digest)
}
