package pgstate

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/certplan/certplan/pkg/state"
	"github.com/certplan/certplan/pkg/state/pgstate/pgtest"
	"github.com/certplan/certplan/pkg/state/statetest"
)

// The PostgreSQL backend passes the conformance suite. A store is a fresh
// schema on the test server; its address is the URL naming it.
func TestConformance(t *testing.T) {
	statetest.Run(t, statetest.Harness{
		New:         func(t *testing.T) string { return pgtest.Schema(t) },
		Open:        func(addr string) (state.Backend, error) { return Open(addr) },
		PutSnapshot: putSnapshot,
		Fingerprint: fingerprint,
	})
}

// putSnapshot stores data as the snapshot, as another certplan would have.
func putSnapshot(t *testing.T, addr string, data []byte) {
	t.Helper()
	cfg, err := parseURL(addr)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	conn, err := pgx.ConnectConfig(ctx, cfg.conn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if err := cfg.migrate(ctx, conn, "test"); err != nil {
		t.Fatal(err)
	}
	var head struct {
		Lineage string `json:"lineage"`
		Serial  int64  `json:"serial"`
	}
	json.Unmarshal(data, &head)
	if _, err := conn.Exec(ctx, cfg.sql(`INSERT INTO {s}.snapshots (workspace, lineage, serial, snapshot) VALUES ($1, $2, $3, $4)
ON CONFLICT (workspace) DO UPDATE SET lineage = excluded.lineage, serial = excluded.serial, snapshot = excluded.snapshot`),
		cfg.workspace, head.Lineage, head.Serial, string(data)); err != nil {
		t.Fatal(err)
	}
}

// fingerprint lists every row of the schema's tables.
func fingerprint(t *testing.T, addr string) string {
	t.Helper()
	cfg, err := parseURL(addr)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	conn, err := pgx.ConnectConfig(ctx, cfg.conn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var out []string
	rows, err := conn.Query(ctx, `SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name`, cfg.schema)
	if err != nil {
		t.Fatal(err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	for _, table := range tables {
		rows, err := conn.Query(ctx, fmt.Sprintf(`SELECT t::text FROM %s t ORDER BY t::text`, pgx.Identifier{cfg.schema, table}.Sanitize()))
		if err != nil {
			t.Fatal(err)
		}
		lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, table+": "+strings.Join(lines, " | "))
	}
	return strings.Join(out, "\n")
}
