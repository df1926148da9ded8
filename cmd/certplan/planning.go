package main

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/certplan/certplan/pkg/plan"
	"github.com/certplan/certplan/pkg/spec"
	"github.com/certplan/certplan/pkg/state"
)

// session is a locked state plus the manifests and the plan made from them.
type session struct {
	backend   state.Backend
	lock      state.Lock
	loaded    *state.Loaded
	manifests *spec.Result
	plan      *plan.Plan
	facts     map[int64]state.OrderFacts // refreshed orders, by id
}

func (s *session) release() {
	if s.lock != nil {
		_ = s.lock.Release()
		s.lock = nil
	}
}

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

// prepare loads manifests, locks and loads state, refreshes and plans.
func (g *globals) prepare(ctx context.Context, paths []string, refresh bool, op string) (*session, error) {
	manifests, err := g.loadManifests(paths)
	if err != nil {
		return nil, err
	}
	now, err := g.clock()
	if err != nil {
		return nil, err
	}
	caps, err := g.caps()
	if err != nil {
		return nil, err
	}
	s := &session{backend: g.openState(paths), manifests: manifests}
	if s.lock, err = g.lock(ctx, s.backend, op); err != nil {
		return nil, err
	}
	if s.loaded, err = g.loadState(ctx, s.backend); err != nil {
		s.release()
		return nil, err
	}
	var facts map[int64]state.OrderFacts
	if refresh {
		facts, err = g.refresh(ctx, s.loaded.State, manifests.Certificates, now)
		if err != nil {
			s.release()
			return nil, err
		}
	}
	s.plan = plan.Build(plan.Input{
		Certificates:    manifests.Certificates,
		State:           s.loaded.State,
		Pending:         s.loaded.Pending,
		Facts:           facts,
		Now:             now,
		Caps:            caps,
		ManifestDigests: manifests.FileDigests,
		Version:         version,
		Backend:         ptr(s.backend.Describe()),
	})
	if !s.loaded.Exists {
		// No state file yet: its lineage is not fixed until the first save, so
		// a saved plan records none (and is stale once any state exists).
		s.plan.Lineage = ""
	}
	s.plan.JournalPosition = s.loaded.Base.Journal
	g.warnMissingSecrets(s.plan)
	s.facts = facts
	return s, nil
}

func ptr[T any](v T) *T { return &v }

// refresh brings tracked orders up to date from CertCentral in bulk. With an
// empty state there is nothing to ask, and no API key is needed.
func (g *globals) refresh(ctx context.Context, st *state.State, certs []*spec.Certificate, now time.Time) (map[int64]state.OrderFacts, error) {
	if len(st.Certificates) == 0 {
		return nil, nil
	}
	c, err := g.client()
	if err != nil {
		return nil, fmt.Errorf("%w; or plan from the state file alone with --refresh=false", err)
	}
	facts, stats, err := plan.Refresh(ctx, c, st, certs, now)
	if err != nil && ctx.Err() == nil {
		err = fmt.Errorf("%w (use --refresh=false to plan from the state file alone)", err)
	}
	if err != nil {
		return nil, fmt.Errorf("refresh: %w", err)
	}
	log, _ := g.logger()
	log.Info().Int("calls", stats.Calls).Int("orders", stats.Orders).Msg("refreshed")
	return facts, nil
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
