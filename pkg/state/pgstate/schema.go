package pgstate

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"strings"

	"github.com/jackc/pgx/v5"
)

// SchemaVersion is the version of the tables this certplan writes. A
// database at a higher version was written by a newer certplan and is
// refused; a lower one is migrated by the first run that locks the state.
const SchemaVersion = 1

// migrations[i] takes the schema from version i to i+1. "{s}" stands for
// the quoted schema name. Append only: never edit a released step.
var migrations = []string{
	// 0 -> 1: snapshot, journal, lock-info, shared rate-limit log.
	`
CREATE TABLE {s}.snapshots (
	workspace  text        PRIMARY KEY,
	lineage    text        NOT NULL,
	serial     bigint      NOT NULL,
	snapshot   text        NOT NULL, -- the state JSON, byte for byte as certplan wrote it
	updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE {s}.journal (
	workspace   text        NOT NULL,
	seq         bigint      NOT NULL, -- the record's seq
	record      text        NOT NULL, -- one journal record, JSON, as in a journal file
	folded      boolean     NOT NULL DEFAULT false,
	appended_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (workspace, seq)
);
CREATE INDEX journal_unfolded ON {s}.journal (workspace, seq) WHERE NOT folded;
CREATE TABLE {s}.locks (
	workspace   text        PRIMARY KEY,
	lock_id     text        NOT NULL,
	who         text        NOT NULL,
	host        text        NOT NULL,
	pid         integer     NOT NULL,
	operation   text        NOT NULL,
	since       timestamptz NOT NULL,
	version     text        NOT NULL,
	backend_pid integer     NOT NULL -- the holder's server process, holding the advisory lock
);
CREATE TABLE {s}.rate_requests (
	id         bigserial   PRIMARY KEY,
	key_digest text        NOT NULL, -- digest of the API key and API (v2, v1), never the key
	started_at timestamptz NOT NULL,
	ended_at   timestamptz           -- NULL while in flight
);
CREATE INDEX rate_requests_key ON {s}.rate_requests (key_digest, started_at);
`,
}

// SchemaVersionError says the database was written by a newer certplan.
type SchemaVersionError struct {
	Where     string // host:port/database
	Schema    string
	Version   int
	WrittenBy string
}

func (e *SchemaVersionError) Error() string {
	return fmt.Sprintf("state database %s: schema %q is at version %d (written by certplan %s), this certplan knows only up to version %d: upgrade certplan",
		e.Where, e.Schema, e.Version, e.WrittenBy, SchemaVersion)
}

// sql replaces {s} with the quoted schema.
func (c *config) sql(q string) string {
	return strings.ReplaceAll(q, "{s}", pgx.Identifier{c.schema}.Sanitize())
}

// advisory lock keys: (lockClass, key) pairs, both non-negative int4.
const lockClass = 0x63706c6e // "cpln"

func key31(parts ...string) int32 {
	h := fnv.New32a()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return int32(h.Sum32() & 0x7fffffff)
}

func (c *config) stateKey() int32   { return key31("state", c.schema, c.workspace) }
func (c *config) migrateKey() int32 { return key31("migrate", c.schema) }

// schemaVersion reads the schema's version; 0 with exists false when
// certplan's tables are not there yet. It writes nothing.
func (c *config) schemaVersion(ctx context.Context, q pgx.Tx) (version int, writtenBy string, exists bool, err error) {
	var reg *string
	if err := q.QueryRow(ctx, `SELECT to_regclass($1)::text`, pgx.Identifier{c.schema, "schema_version"}.Sanitize()).Scan(&reg); err != nil {
		return 0, "", false, c.fail("read the schema version", err)
	}
	if reg == nil {
		return 0, "", false, nil
	}
	err = q.QueryRow(ctx, c.sql(`SELECT version, written_by FROM {s}.schema_version`)).Scan(&version, &writtenBy)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, "", true, nil
	}
	if err != nil {
		return 0, "", false, c.fail("read the schema version", err)
	}
	if version > SchemaVersion {
		return version, writtenBy, true, &SchemaVersionError{Where: c.where(), Schema: c.schema, Version: version, WrittenBy: writtenBy}
	}
	return version, writtenBy, true, nil
}

// migrate creates or upgrades the schema, one run at a time (a
// transaction-scoped advisory lock), and refuses a newer one.
func (c *config) migrate(ctx context.Context, conn *pgx.Conn, tool string) error {
	return pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		v, _, _, err := c.schemaVersion(ctx, tx)
		if err != nil || v == SchemaVersion {
			return err
		}
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, $2)`, int32(lockClass), c.migrateKey()); err != nil {
			return c.fail("lock the schema for migration", err)
		}
		if _, err := tx.Exec(ctx, c.sql(`CREATE SCHEMA IF NOT EXISTS {s}`)); err != nil {
			return c.fail(fmt.Sprintf("create schema %q", c.schema), err)
		}
		if _, err := tx.Exec(ctx, c.sql(`CREATE TABLE IF NOT EXISTS {s}.schema_version (
	version    integer     NOT NULL,
	written_by text        NOT NULL,
	updated_at timestamptz NOT NULL DEFAULT now()
)`)); err != nil {
			return c.fail("create the schema_version table", err)
		}
		// Read again under the lock: another run may have migrated meanwhile.
		v, _, _, err = c.schemaVersion(ctx, tx)
		if err != nil {
			return err
		}
		for i := v; i < SchemaVersion; i++ {
			if _, err := tx.Exec(ctx, c.sql(migrations[i])); err != nil {
				return c.fail(fmt.Sprintf("migrate schema %q to version %d", c.schema, i+1), err)
			}
		}
		if v != SchemaVersion {
			if _, err := tx.Exec(ctx, c.sql(`DELETE FROM {s}.schema_version`)); err != nil {
				return c.fail("record the schema version", err)
			}
			if _, err := tx.Exec(ctx, c.sql(`INSERT INTO {s}.schema_version (version, written_by) VALUES ($1, $2)`), SchemaVersion, tool); err != nil {
				return c.fail("record the schema version", err)
			}
		}
		return nil
	})
}
