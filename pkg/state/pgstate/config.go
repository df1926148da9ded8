// Package pgstate keeps a certplan state in PostgreSQL: a state.Backend for
// teams, whose runs share one database instead of a file in Git.
//
// A state is addressed by a libpq URL (postgres:// or postgresql://) with two
// optional certplan parameters, removed before connecting:
//
//		postgres://certplan@db.example.com:5432/certs?sslmode=verify-full&certplan_workspace=payments
//
//	  - certplan_workspace (default "default") names the state within the
//	    database, so that several projects share one database;
//	  - certplan_schema (default "certplan") is the PostgreSQL schema holding
//	    the tables, created by certplan itself.
//
// Everything else is libpq's: the PG* environment variables (PGPASSWORD,
// PGSSLMODE, PGHOST, PGPASSFILE, ...) work as with psql. A password, however
// given, never appears in Describe, errors or logs.
//
// See docs/postgres.md for the schema, the locking and the shared rate limit.
package pgstate

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

// Query parameters certplan reads from a state URL and removes before
// connecting.
const (
	WorkspaceParam = "certplan_workspace"
	SchemaParam    = "certplan_schema"

	DefaultWorkspace = "default"
	DefaultSchema    = "certplan"
)

// IsURL reports whether location names a PostgreSQL state rather than a
// file: it starts with postgres:// or postgresql://.
func IsURL(location string) bool {
	l := strings.ToLower(location)
	return strings.HasPrefix(l, "postgres://") || strings.HasPrefix(l, "postgresql://")
}

var (
	workspaceRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.\-/]{0,127}$`)
	schemaRE    = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)
)

// config is a parsed state URL.
type config struct {
	conn      *pgx.ConnConfig
	workspace string
	schema    string
	name      string // display name: the URL without password and secrets
	secrets   []string
}

// parseURL splits location into the connection settings (PG* variables
// applied) and certplan's own parameters. Its errors never contain the
// password.
func parseURL(location string) (*config, error) {
	if !IsURL(location) {
		return nil, fmt.Errorf("%q is not a PostgreSQL URL: want postgres://[user@]host[:port]/database[?...]", redactURL(location))
	}
	u, err := url.Parse(location)
	if err != nil {
		return nil, fmt.Errorf("state URL %s does not parse: check its quoting (a password with special characters must be percent-encoded, or set PGPASSWORD instead)", redactURL(location))
	}
	q := u.Query()
	c := &config{workspace: DefaultWorkspace, schema: DefaultSchema}
	if v := q.Get(WorkspaceParam); q.Has(WorkspaceParam) {
		c.workspace = v
	}
	if v := q.Get(SchemaParam); q.Has(SchemaParam) {
		c.schema = v
	}
	q.Del(WorkspaceParam)
	q.Del(SchemaParam)
	if !workspaceRE.MatchString(c.workspace) {
		return nil, fmt.Errorf("state URL %s: %s %q: use letters, digits, '_', '.', '-' or '/', at most 128", redactURL(location), WorkspaceParam, c.workspace)
	}
	if !schemaRE.MatchString(c.schema) {
		return nil, fmt.Errorf("state URL %s: %s %q: use lower-case letters, digits and '_' (a PostgreSQL identifier), at most 63", redactURL(location), SchemaParam, c.schema)
	}
	if pw, ok := u.User.Password(); ok && pw != "" {
		c.secrets = append(c.secrets, pw, url.QueryEscape(pw), url.PathEscape(pw))
	}
	for _, k := range []string{"password", "sslpassword"} {
		if v := q.Get(k); v != "" {
			c.secrets = append(c.secrets, v, url.QueryEscape(v))
		}
	}
	u.RawQuery = q.Encode()
	cc, err := pgx.ParseConfig(u.String())
	if err != nil {
		return nil, fmt.Errorf("state URL %s: %s", redactURL(location), scrub(unwrapAll(err).Error(), c.secrets))
	}
	if cc.Password != "" {
		c.secrets = append(c.secrets, cc.Password)
	}
	if cc.RuntimeParams == nil {
		cc.RuntimeParams = map[string]string{}
	}
	// Every journal INSERT must be durable when it returns, whatever the
	// database's default.
	cc.RuntimeParams["synchronous_commit"] = "on"
	if _, ok := cc.RuntimeParams["application_name"]; !ok {
		cc.RuntimeParams["application_name"] = "certplan"
	}
	c.conn = cc
	c.name = displayName(cc, q, c.workspace, c.schema)
	return c, nil
}

// displayName is a URL naming the state that certplan can be given back
// (--state), with the password left to PGPASSWORD or a password file: user,
// host, port and database as resolved (PG* variables included), the
// non-secret connection parameters of the original URL, and the workspace
// and schema when they are not the defaults.
func displayName(cc *pgx.ConnConfig, q url.Values, workspace, schema string) string {
	u := url.URL{Scheme: "postgres", Path: "/" + cc.Database}
	host := cc.Host
	out := url.Values{}
	if strings.HasPrefix(host, "/") {
		out.Set("host", host)
		out.Set("port", strconv.Itoa(int(cc.Port)))
		host = ""
	} else {
		host = hostPort(cc)
	}
	u.Host = host
	if cc.User != "" {
		u.User = url.User(cc.User)
	}
	for _, k := range []string{"sslmode", "sslrootcert", "connect_timeout", "target_session_attrs", "application_name"} {
		if v := q.Get(k); v != "" {
			out.Set(k, v)
		}
	}
	if workspace != DefaultWorkspace {
		out.Set(WorkspaceParam, workspace)
	}
	if schema != DefaultSchema {
		out.Set(SchemaParam, schema)
	}
	u.RawQuery = out.Encode()
	return u.String()
}

func hostPort(cc *pgx.ConnConfig) string {
	h := cc.Host
	if strings.Contains(h, ":") && !strings.HasPrefix(h, "[") {
		h = "[" + h + "]"
	}
	return h + ":" + strconv.Itoa(int(cc.Port))
}

// where names the database for error messages: host:port/database.
func (c *config) where() string {
	h := c.conn.Host
	if strings.HasPrefix(h, "/") {
		return fmt.Sprintf("%s (socket, port %d)/%s", h, c.conn.Port, c.conn.Database)
	}
	return hostPort(c.conn) + "/" + c.conn.Database
}

// redactURL removes the password from a URL that may not parse, for
// messages about the URL itself.
func redactURL(s string) string {
	if u, err := url.Parse(s); err == nil {
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
		}
		q := u.Query()
		for _, k := range []string{"password", "sslpassword"} {
			if q.Has(k) {
				q.Set(k, "xxxxx")
			}
		}
		u.RawQuery = q.Encode()
		return u.String()
	}
	// Unparsable: drop everything between "://" and the last '@' before the
	// path, and the query.
	rest := s
	scheme := ""
	if i := strings.Index(s, "://"); i >= 0 {
		scheme, rest = s[:i+3], s[i+3:]
	}
	if i := strings.IndexAny(rest, "?"); i >= 0 {
		rest = rest[:i]
	}
	if i := strings.LastIndex(rest, "@"); i >= 0 {
		rest = "xxxxx@" + rest[i+1:]
	}
	return scheme + rest
}

// scrub replaces every secret in msg.
func scrub(msg string, secrets []string) string {
	for _, s := range secrets {
		if len(s) >= 1 {
			msg = strings.ReplaceAll(msg, s, "xxxxx")
		}
	}
	return msg
}

func unwrapAll(err error) error {
	for {
		u := errors.Unwrap(err)
		if u == nil {
			return err
		}
		err = u
	}
}
