package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/term"

	"github.com/certplan/certplan/pkg/certcentral"
	"github.com/certplan/certplan/pkg/lifecycle"
	"github.com/certplan/certplan/pkg/run"
	"github.com/certplan/certplan/pkg/spec"
	"github.com/certplan/certplan/pkg/state"
	"github.com/certplan/certplan/pkg/state/backends"
	"github.com/certplan/certplan/pkg/termsafe"
)

// check validates the shared flags and environment up front.
func (g *globals) check() error {
	if _, err := g.logger(); err != nil {
		return err
	}
	if _, err := g.clock(); err != nil {
		return err
	}
	if _, err := g.caps(); err != nil {
		return err
	}
	if v := env(g.endpoint, "CERTPLAN_ENDPOINT"); v != "" {
		if _, err := certcentral.ResolveEndpoint(v); err != nil {
			return fmt.Errorf("--endpoint / CERTPLAN_ENDPOINT: %w", err)
		}
	}
	if v := env(g.legacyEndpoint, "CERTPLAN_LEGACY_ENDPOINT"); v != "" {
		if _, err := certcentral.ResolveLegacyEndpoint(v); err != nil {
			return fmt.Errorf("--legacy-endpoint / CERTPLAN_LEGACY_ENDPOINT: %w", err)
		}
	}
	if g.lockTimeout < 0 {
		return fmt.Errorf("--lock-timeout %s: want 0 or more", g.lockTimeout)
	}
	if _, _, err := g.timeouts(); err != nil {
		return err
	}
	g.start = time.Now()
	return nil
}

// timeouts resolves --request-timeout and --timeout (0 = none for the run).
func (g *globals) timeouts() (request, run time.Duration, err error) {
	if request, err = g.requestTimeout.resolve("request-timeout", "CERTPLAN_REQUEST_TIMEOUT", certcentral.DefaultRequestTimeout); err != nil {
		return 0, 0, err
	}
	if request == 0 {
		return 0, 0, errors.New("--request-timeout / CERTPLAN_REQUEST_TIMEOUT 0s: want a time limit above 0 (e.g. 90s)")
	}
	run, err = g.runTimeout.resolve("timeout", "CERTPLAN_TIMEOUT", defaultRunTimeout)
	return request, run, err
}

// runTimeLeft is what --timeout leaves of the run (ok false: no limit).
func (g *globals) runTimeLeft() (time.Duration, bool) {
	_, run, err := g.timeouts()
	if err != nil || run == 0 || g.start.IsZero() {
		return 0, false
	}
	return max(0, time.Until(g.start.Add(run))), true
}

// now returns the planning clock: --now, CERTPLAN_NOW, or the wall clock.
func (g *globals) clock() (time.Time, error) {
	v := env(g.now, "CERTPLAN_NOW")
	if v == "" {
		return time.Now().UTC(), nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("--now / CERTPLAN_NOW %q: want RFC 3339, e.g. 2026-11-23T12:00:00Z", v)
	}
	return t.UTC(), nil
}

// caps returns the certificate caps plan and validate assume: --caps,
// CERTPLAN_CAPS, or (nil) lifecycle.DefaultCaps.
func (g *globals) caps() (lifecycle.Caps, error) {
	v := env(g.capsFlag, "CERTPLAN_CAPS")
	if v == "" {
		return nil, nil
	}
	c, err := lifecycle.ParseCaps(v)
	if err != nil {
		return nil, fmt.Errorf("--caps / CERTPLAN_CAPS %q: %w", v, err)
	}
	return c, nil
}

// loadOptions are the planning clock and caps that validation judges
// manifests by, as plan would, and the directories outside the project that
// manifests may reference files in.
func (g *globals) loadOptions() (spec.LoadOptions, error) {
	now, err := g.clock()
	if err != nil {
		return spec.LoadOptions{}, err
	}
	caps, err := g.caps()
	if err != nil {
		return spec.LoadOptions{}, err
	}
	return spec.LoadOptions{Now: now, Caps: caps, AllowFilesIn: g.fileDirs()}, nil
}

// logger writes zerolog logs to stderr, as text for people or JSON for CI.
func (g *globals) logger() (zerolog.Logger, error) {
	if g.log != nil {
		return *g.log, nil
	}
	lvl, err := zerolog.ParseLevel(strings.ToLower(g.logLevel))
	if err != nil || g.logLevel == "" {
		return zerolog.Nop(), fmt.Errorf("--log-level %q: want debug, info, warn or error", g.logLevel)
	}
	// Log lines carry file names and server text: break up the GitHub
	// runner's "##[" marker in them (control characters are quoted by
	// zerolog in both formats).
	var w io.Writer
	switch g.logFormat {
	case "json":
		w = termsafe.NewWriter(g.stderr)
	case "text", "":
		w = zerolog.ConsoleWriter{Out: termsafe.NewWriter(g.stderr), NoColor: !isTTY(g.stderr), TimeFormat: time.RFC3339}
	default:
		return zerolog.Nop(), fmt.Errorf("--log-format %q: want text or json", g.logFormat)
	}
	log := zerolog.New(w).Level(lvl).With().Timestamp().Logger()
	g.log = &log
	return log, nil
}

// client returns the run's CertCentral client, built from flags and
// environment on first use. The API key is read from DIGICERT_API_KEY only,
// never from a flag (flags leak into process listings and shell history).
func (g *globals) client() (*certcentral.Client, error) {
	if g.cc != nil {
		return g.cc, nil
	}
	endpoint, err := certcentral.ResolveEndpoint(env(g.endpoint, "CERTPLAN_ENDPOINT"))
	if err != nil {
		return nil, fmt.Errorf("endpoint: %w", err)
	}
	legacy, err := certcentral.ResolveLegacyEndpoint(env(g.legacyEndpoint, "CERTPLAN_LEGACY_ENDPOINT"))
	if err != nil {
		return nil, err // names the legacy endpoint itself
	}
	key := os.Getenv("DIGICERT_API_KEY")
	if key == "" {
		return nil, errors.New("DIGICERT_API_KEY is not set: export the CertCentral API key (in CI, from the secret store)")
	}
	log, err := g.logger()
	if err != nil {
		return nil, err
	}
	requestTimeout, runTimeout, err := g.timeouts()
	if err != nil {
		return nil, err
	}
	// A PostgreSQL state also keeps the key's shared rate-limit log.
	shared, err := backends.SharedRateLimit(env(g.stateFlag, "CERTPLAN_STATE"), key)
	if err != nil {
		return nil, err
	}
	cc, err := certcentral.New(certcentral.Config{
		Endpoint:       endpoint,
		LegacyEndpoint: legacy,
		APIKey:         key,
		AccountID:      os.Getenv("DIGICERT_ACCOUNT_ID"),
		UserAgent:      "certplan/" + version,
		Logger:         &log,
		Shared:         shared,
		RequestTimeout: requestTimeout,
		RunTimeout:     runTimeout,
		RunStart:       g.start,
	})
	if err != nil {
		return nil, err
	}
	g.cc = cc
	return cc, nil
}

// statePath picks the state file: --state, CERTPLAN_STATE, or
// certplan.state.json in the project directory of the manifest paths (or of
// the current directory, for commands that take none): the directory of the
// nearest certplan.yaml at or above them, not looking above a Git work
// tree's root, or without one the directory that holds them (spec.FindProject).
// Paths of different projects, or spread over several directories with no
// certplan.yaml, are an error that says how to fix it, so the state's place
// never depends on the order or the choice of paths. `plan .`, `plan certs/`,
// `state list` and `fetch` all find the same state in a repository laid out
// by `certplan init`.
func (g *globals) statePath(paths []string) (string, error) {
	if p := env(g.stateFlag, "CERTPLAN_STATE"); p != "" {
		return p, nil
	}
	project, err := spec.FindProject(paths)
	if err != nil {
		return "", err
	}
	return filepath.Join(project.Dir, stateFileName), nil
}

// stateFileName is the state file's name in the project directory.
const stateFileName = "certplan.state.json"

// openState returns the state backend of the state that statePath picks for
// paths. A command builds it once and passes it around; nothing else in cmd
// knows where or how the state is kept.
func (g *globals) openState(paths []string) (state.Backend, error) {
	path, err := g.statePath(paths)
	if err != nil {
		return nil, err
	}
	return g.backendAt(path), nil
}

// backendAt returns the backend of the state at location: a state file, or
// a PostgreSQL state for a postgres:// URL. This is the one place where a
// --state / CERTPLAN_STATE value becomes a backend; a URL that does not
// parse is reported when the state is first used.
func (g *globals) backendAt(location string) state.Backend {
	return backends.OpenLazy(location)
}

// loadExistingState loads the state for commands that only read it (no lock,
// nothing written): a missing state is an error saying where certplan
// looked, not an empty state.
func (g *globals) loadExistingState(ctx context.Context, b state.Backend) (*state.Loaded, error) {
	env, err := g.runEnv(b)
	if err != nil {
		return nil, err
	}
	l, err := run.Load(ctx, env)
	if err != nil {
		return nil, err
	}
	if !l.Exists && backends.IsURL(b.Describe().Name) {
		return nil, fmt.Errorf("no state in %s yet: nothing was ever applied to it; check --state / CERTPLAN_STATE (and its certplan_workspace)", b.Describe().Name)
	}
	if !l.Exists {
		return nil, fmt.Errorf("no state file at %s: run certplan from the project directory (where certplan.yaml is), or pass --state PATH", b.Describe().Name)
	}
	return l, nil
}

func isTTY(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func isTTYReader(r io.Reader) bool {
	f, ok := r.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// useColor is true on a terminal unless NO_COLOR is set.
func useColor(w io.Writer) bool {
	_, noColor := os.LookupEnv("NO_COLOR")
	return !noColor && isTTY(w)
}

// note tells the user something on stderr that is not an error: a line
// "Warning: ..." for people, or a zerolog JSON line with --log-format json.
func (g *globals) note(kind, msg string) {
	if g.logFormat == "json" {
		log, _ := g.logger()
		if kind == "Warning" {
			log.Warn().Msg(msg)
		} else {
			log.Info().Msg(msg)
		}
		return
	}
	fmt.Fprintf(g.stderr, "%s: %s\n", kind, termsafe.Lines(msg))
}
