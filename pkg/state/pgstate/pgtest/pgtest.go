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

// NewSchemaURL returns base with a fresh certplan_schema, and a func that
// drops that schema; for callers without a testing.TB (testscript setups).
func NewSchemaURL(base string) (string, func() error, error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", nil, err
	}
	schema := "t_" + Random()
	q := u.Query()
	q.Set("certplan_schema", schema)
	u.RawQuery = q.Encode()
	drop := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			return err
		}
		defer conn.Close(ctx)
		_, err = conn.Exec(ctx, `DROP SCHEMA IF EXISTS `+schema+` CASCADE`)
		return err
	}
	return u.String(), drop, nil
}

// PasswordRole creates a login role that must give password (the test
// server's certplan_password_auth group, see scripts/pg-test-server.sh) and
// returns base with that role's user and password. ok is false when the
// server has no such group (a server not started by the script).
func PasswordRole(base, password string) (withPassword string, role string, ok bool, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		return "", "", false, err
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'certplan_password_auth')`).Scan(&exists); err != nil || !exists {
		return "", "", false, err
	}
	role = "pw_" + Random()
	if _, err := conn.Exec(ctx, `CREATE ROLE `+role+` LOGIN SUPERUSER IN ROLE certplan_password_auth PASSWORD '`+password+`'`); err != nil {
		return "", "", false, err
	}
	u, err := url.Parse(base)
	if err != nil {
		return "", "", false, err
	}
	u.User = url.UserPassword(role, password)
	return u.String(), role, true, nil
}
