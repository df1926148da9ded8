package pgstate

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
)

// Error is a failure to use the database, naming it (host:port/database,
// never the password) and saying what to do. Its message is scrubbed of the
// password; Unwrap gives the driver's error for errors.Is/As (which a caller
// must not print).
type Error struct {
	Op    string // what certplan was doing, e.g. "connect", "append a journal record"
	Where string // host:port/database
	Hint  string // what to do
	msg   string // the driver's message, scrubbed
	err   error
}

func (e *Error) Error() string {
	s := fmt.Sprintf("state database %s: %s: %s", e.Where, e.Op, e.msg)
	if e.Hint != "" {
		s += ": " + e.Hint
	}
	return s
}

func (e *Error) Unwrap() error { return e.err }

// fail wraps a driver error with the database's name and a hint.
func (c *config) fail(op string, err error) error {
	if err == nil {
		return nil
	}
	var already *Error
	if errors.As(err, &already) {
		return err
	}
	e := &Error{Op: op, Where: c.where(), err: err, Hint: hint(c, err)}
	e.msg = scrub(driverMessage(err), c.secrets)
	e.Hint = scrub(e.Hint, c.secrets)
	return e
}

// driverMessage is the driver's message without the connection string pgx
// puts in front of connect errors.
func driverMessage(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return fmt.Sprintf("%s (SQLSTATE %s)", pe.Message, pe.Code)
	}
	msg := err.Error()
	// "failed to connect to `user=... database=...`: 127.0.0.1:5432 (127.0.0.1): dial error: ..."
	if i := strings.Index(msg, "`: "); strings.HasPrefix(msg, "failed to connect to `") && i > 0 {
		msg = msg[i+3:]
	}
	return msg
}

// hint says what to do about err.
func hint(c *config, err error) string {
	var pe *pgconn.PgError
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return ""
	case errors.Is(err, syscall.ECONNREFUSED):
		return "nothing accepts connections there: is the PostgreSQL server running, and are the host and port right (the URL in --state / CERTPLAN_STATE, PGHOST, PGPORT)?"
	case strings.Contains(err.Error(), "server refused TLS connection"):
		return "the server does not offer TLS but sslmode requires it: enable TLS on the server, or (for a server on this machine only) set sslmode=disable"
	case errors.As(err, &pe):
		switch {
		case pe.Code == "28P01" || (pe.Code == "28000" && strings.Contains(pe.Message, "password")):
			return fmt.Sprintf("authentication failed for user %q: check the password (PGPASSWORD or a password file, from your CI's secret store)", c.conn.User)
		case pe.Code == "28000" && strings.Contains(pe.Message, "no encryption"):
			return "the server accepts this user only over TLS: set sslmode=require (or verify-full) in the URL or PGSSLMODE"
		case pe.Code == "28000":
			return "the server refused this user or host (pg_hba.conf): ask the database's administrator"
		case pe.Code == "3D000":
			return fmt.Sprintf("database %q does not exist: create it (createdb) or fix the URL", c.conn.Database)
		case pe.Code == "42501":
			return fmt.Sprintf("permission denied: the user needs CREATE on the database (for schema %q) or ownership of that schema and its tables", c.schema)
		case strings.HasPrefix(pe.Code, "57P"), strings.HasPrefix(pe.Code, "08"):
			return "the server went away (restarted?): run the command again; an interrupted apply resumes from its journal"
		}
	case pgconn.SafeToRetry(err), isConnLost(err):
		return "the connection to the server was lost (restarted?): run the command again; an interrupted apply resumes from its journal"
	}
	return ""
}

func isConnLost(err error) bool {
	msg := err.Error()
	for _, s := range []string{"conn closed", "unexpected EOF", "connection reset", "broken pipe", "EOF"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}
