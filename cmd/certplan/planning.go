package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/certplan/certplan/pkg/certcentral"
	"github.com/certplan/certplan/pkg/plan"
	"github.com/certplan/certplan/pkg/run"
	"github.com/certplan/certplan/pkg/spec"
	"github.com/certplan/certplan/pkg/state"
)

// runEnv is what pkg/run needs for one command against the state b.
func (g *globals) runEnv(b state.Backend) (run.Env, error) {
	now, err := g.clock()
	if err != nil {
		return run.Env{}, err
	}
	log, err := g.logger()
	if err != nil {
		return run.Env{}, err
	}
	caps, err := g.caps()
	if err != nil {
		return run.Env{}, err
	}
	return run.Env{
		Backend:     b,
		Client:      g.client,
		Now:         now,
		Caps:        caps,
		LockTimeout: g.lockTimeout,
		Logger:      log,
		Version:     certplanVersion(),
		Note:        g.note,

		AllowDuplicateOrder: g.allowDuplicate,
	}, nil
}

// allowDuplicateUsage is the help of --allow-duplicate-order.
const allowDuplicateUsage = "when the state is new or was lost, order `NAME` even though CertCentral lists a live order of its product with its names (repeatable; see docs/plan-format.md)"

// loadManifests loads and validates, printing diagnostics; invalid manifests exit 3.
func (g *globals) loadManifests(paths []string) (*spec.Result, error) {
	if len(paths) == 0 {
		paths = []string{"."}
	}
	opts, err := g.loadOptions()
	if err != nil {
		return nil, err
	}
	res, err := spec.LoadWith(paths, opts)
	if err != nil {
		return nil, err
	}
	g.printDiagnostics(res.Diagnostics)
	if res.HasErrors() {
		return nil, withCode(exitInvalid, fmt.Errorf("manifests are invalid: fix the errors above (certplan validate shows them too)"))
	}
	return res, nil
}

// prepare loads manifests, then locks (unless op is read-only), loads,
// refreshes and plans (pkg/run).
func (g *globals) prepare(ctx context.Context, paths []string, refresh bool, op run.Operation) (*run.Session, error) {
	b, err := g.openState(paths)
	if err != nil {
		return nil, err
	}
	manifests, err := g.loadManifests(paths)
	if err != nil {
		return nil, err
	}
	env, err := g.runEnv(b)
	if err != nil {
		return nil, err
	}
	env.Partial = partialPlan(paths, manifests)
	env.Commit = g.commitPlanned()
	s, err := run.Prepare(ctx, env, manifests, refresh, op)
	if err != nil {
		return nil, g.runError(ctx, env.Backend, err)
	}
	g.warnMissingSecrets(s.Plan)
	return s, nil
}

// runError words an error of pkg/run for the command line: a held lock exits
// 4 with the way out, a failed refresh suggests planning without one.
func (g *globals) runError(ctx context.Context, b state.Backend, err error) error {
	var le *state.LockedError
	var re *run.RefreshError
	switch {
	case errors.As(err, &le):
		return withCode(exitLocked, fmt.Errorf("%w\nIf that run is gone for good: certplan force-unlock --state %s", err, b.Describe().Name))
	case errors.As(err, &re) && re.NoClient:
		return fmt.Errorf("%w; or plan from the state file alone with --refresh=false", err)
	case errors.As(err, &re) && certcentral.IsAuthRejected(err):
		return fmt.Errorf("%w\nCertCentral rejected the credentials: check DIGICERT_API_KEY (and DIGICERT_ACCOUNT_ID for legacy v1); nothing was ordered", err)
	case errors.As(err, &re) && ctx.Err() == nil:
		return fmt.Errorf("%w (use --refresh=false to plan from the state file alone)", err)
	}
	return err
}

// warnMissingSecrets says which secret references of planned orders cannot be
// read here. Only a warning: pull-request plans often run without secrets;
// apply needs them.
func (g *globals) warnMissingSecrets(p *plan.Plan) {
	for _, c := range p.Changes {
		if !c.Applies() {
			continue
		}
		paths := make([]string, 0, len(c.SecretRefs))
		for path := range c.SecretRefs {
			paths = append(paths, path)
		}
		sort.Strings(paths)
		for _, path := range paths {
			if _, err := c.SecretRefs[path].Resolve(); err != nil {
				g.note("Warning", fmt.Sprintf("%s: %s: %v; apply will need it", c.Name, path, err))
			}
		}
	}
}

// printDiagnostics writes manifest problems to stderr: one line each, or
// zerolog JSON lines with --log-format json, so CI log parsers see one format.
func (g *globals) printDiagnostics(ds []spec.Diagnostic) {
	if g.logFormat != "json" {
		for _, d := range ds {
			fmt.Fprintln(g.stderr, d.String())
		}
		return
	}
	log, _ := g.logger()
	for _, d := range ds {
		ev := log.Warn()
		if d.Severity == spec.SeverityError {
			ev = log.Error()
		}
		ev.Str("file", d.Pos.File).Int("line", d.Pos.Line).Int("column", d.Pos.Col).
			Str("field", d.Path).Msg(d.Message)
	}
}

// commitPlanned is the commit the manifests are planned from: --commit, else
// the CI's (GITHUB_SHA on GitHub Actions, CI_COMMIT_SHA on GitLab), else
// unknown.
func (g *globals) commitPlanned() string {
	for _, v := range []string{g.commit, os.Getenv("GITHUB_SHA"), os.Getenv("CI_COMMIT_SHA")} {
		if v = strings.TrimSpace(v); v != "" {
			return v
		}
	}
	return ""
}
