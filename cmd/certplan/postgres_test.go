package main

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/rogpeppe/go-internal/testscript"

	"github.com/certplan/certplan/pkg/state/pgstate/pgtest"
)

// pgScriptsReused are scenarios of testdata/script that do not look at the
// state file itself: they run again with the state in PostgreSQL (lost
// responses, 5xx, 429, interrupted orders, secrets).
var pgScriptsReused = []string{
	"apply_lost_response.txtar",
	"user_server_errors.txtar",
	"user_parallel_429.txtar",
	"user_wrong_api_key.txtar",
	"plan_file_stale.txtar",
}

// TestScriptsPostgres runs testdata/script-postgres/*.txtar, and the reused
// scenarios above, with CERTPLAN_STATE naming a fresh schema on the test
// PostgreSQL server ($PGSTATE too). Skipped without CERTPLAN_TEST_POSTGRES,
// except under CI.
func TestScriptsPostgres(t *testing.T) {
	base := pgtest.URL(t)
	setup := func(env *testscript.Env) error {
		if err := scriptSetup(env); err != nil {
			return err
		}
		loc, drop, err := pgtest.NewSchemaURL(base)
		if err != nil {
			return err
		}
		env.Defer(func() { _ = drop() })
		env.Setenv("CERTPLAN_STATE", loc)
		env.Setenv("PGSTATE", loc)
		env.Setenv("PGBASE", base)
		u, _ := url.Parse(base)
		env.Setenv("PGHOSTPORT", u.Host)
		return nil
	}
	cmds := map[string]func(ts *testscript.TestScript, neg bool, args []string){
		"sim":        cmdSim,
		"nosecret":   cmdNoSecret,
		"exitcode":   cmdExitCode,
		"waitfile":   cmdWaitFile,
		"pgwaitlock": cmdPGWaitLock,
		"pgrole":     cmdPGRole,
	}
	t.Run("scenarios", func(t *testing.T) {
		testscript.Run(t, testscript.Params{Dir: "testdata/script-postgres", Setup: setup, RequireExplicitExec: true, Cmds: cmds})
	})
	t.Run("reused", func(t *testing.T) {
		var files []string
		for _, f := range pgScriptsReused {
			files = append(files, filepath.Join("testdata", "script", f))
		}
		testscript.Run(t, testscript.Params{Files: files, Setup: setup, RequireExplicitExec: true, Cmds: cmds})
	})
}

// cmdPGWaitLock waits (up to 20 s) until a run holds the lock of the state
// in $CERTPLAN_STATE (its lock-info row exists):
//
//	pgwaitlock
func cmdPGWaitLock(ts *testscript.TestScript, neg bool, args []string) {
	loc := ts.Getenv("CERTPLAN_STATE")
	u, err := url.Parse(loc)
	ts.Check(err)
	schema := u.Query().Get("certplan_schema")
	ws := u.Query().Get("certplan_workspace")
	if ws == "" {
		ws = "default"
	}
	q := u.Query()
	q.Del("certplan_schema")
	q.Del("certplan_workspace")
	u.RawQuery = q.Encode()
	deadline := time.Now().Add(20 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		conn, err := pgxConnect(ctx, u.String())
		if err == nil {
			var n int
			err = conn.QueryRow(ctx, `SELECT count(*) FROM `+schema+`.locks WHERE workspace = $1`, ws).Scan(&n)
			conn.Close(ctx)
			cancel()
			if err == nil && n > 0 {
				return
			}
		} else {
			cancel()
		}
		if time.Now().After(deadline) {
			ts.Fatalf("no run took the lock of %s within 20s (last error: %v)", schema, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// cmdPGRole creates a role that logs in with PASSWORD and puts the state
// URL ($CERTPLAN_STATE) with that user and password into $VAR; the script
// is skipped on a server without the password-auth group:
//
//	pgrole VAR PASSWORD
func cmdPGRole(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: pgrole VAR PASSWORD")
	}
	withPW, role, ok, err := pgtest.PasswordRole(ts.Getenv("PGBASE"), args[1])
	ts.Check(err)
	if !ok {
		ts.Fatalf("the server has no certplan_password_auth role: start it with scripts/pg-test-server.sh")
	}
	// The same state as $CERTPLAN_STATE, as that role.
	u, err := url.Parse(ts.Getenv("CERTPLAN_STATE"))
	ts.Check(err)
	pw, _ := url.Parse(withPW)
	u.User = pw.User
	ts.Setenv(args[0], u.String())
	ts.Setenv("PGROLE", role)
	u.User = url.User(role)
	ts.Setenv("PGROLE_STATE", u.String()) // without the password
}

// The tests skip without a server; under CI they must not.
func TestPostgresTestsRunUnderCI(t *testing.T) {
	if os.Getenv("CI") != "true" {
		t.Skip("only under CI")
	}
	if !strings.HasPrefix(os.Getenv(pgtest.Env), "postgres") {
		t.Fatalf("%s is not set under CI: .ci/run must start scripts/pg-test-server.sh", pgtest.Env)
	}
}

func pgxConnect(ctx context.Context, u string) (*pgx.Conn, error) { return pgx.Connect(ctx, u) }
