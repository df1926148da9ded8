// Package pgtest gives tests a PostgreSQL database to use: the server named
// by CERTPLAN_TEST_POSTGRES (scripts/pg-test-server.sh starts one, and so
// does .ci/run). Without it the tests skip, except under CI (CI=true), where
// a skipped PostgreSQL test is a failure.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Env names the variable holding the test server's URL.
const Env = "CERTPLAN_TEST_POSTGRES"

// URL is the test server's URL; without one the test skips (fails under CI).
func URL(t testing.TB) string {
	t.Helper()
	u := os.Getenv(Env)
	if u == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not set under CI: .ci/run must start a PostgreSQL server (scripts/pg-test-server.sh)", Env)
		}
		t.Skipf("%s is not set: start a server with `eval \"$(scripts/pg-test-server.sh start)\"` (or `make test-postgres`)", Env)
	}
	return u
}

// Random is a fresh lower-case identifier suffix.
func Random() string {
	var b [6]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// WithParams returns base with the query parameters kv (name, value, ...) set.
func WithParams(t testing.TB, base string, kv ...string) string {
	t.Helper()
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("%s does not parse: %v", Env, err)
	}
	q := u.Query()
	for i := 0; i+1 < len(kv); i += 2 {
		q.Set(kv[i], kv[i+1])
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// Schema returns the test server's URL with a fresh certplan_schema, which
// is dropped when t ends.
func Schema(t testing.TB) string {
	t.Helper()
	base := URL(t)
	schema := "t_" + Random()
	t.Cleanup(func() { Exec(t, base, `DROP SCHEMA IF EXISTS `+schema+` CASCADE`) })
	return WithParams(t, base, "certplan_schema", schema)
}

// Connect connects to the server at rawURL (certplan's own parameters removed).
func Connect(t testing.TB, rawURL string) *pgx.Conn {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Del("certplan_schema")
	q.Del("certplan_workspace")
	u.RawQuery = q.Encode()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, u.String())
	if err != nil {
		t.Fatalf("connect to the test server: %v", err)
	}
	return conn
}

// Exec runs sql on the server at rawURL.
func Exec(t testing.TB, rawURL, sql string, args ...any) {
	t.Helper()
	conn := Connect(t, rawURL)
	defer conn.Close(context.Background())
	if _, err := conn.Exec(context.Background(), sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}
