package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/certplan/certplan/pkg/apply"
	"github.com/certplan/certplan/pkg/plan"
	"github.com/certplan/certplan/pkg/run"
	"github.com/certplan/certplan/pkg/spec"
	"github.com/certplan/certplan/pkg/state/backends"
	"github.com/certplan/certplan/pkg/termsafe"
)

type applyFlags struct {
	autoApprove bool
	parallelism int
	refresh     bool
	wait        time.Duration
	fetch       string
	// only is --only: the actions this run may place ("" all).
	only string
	// reviewed is --reviewed: the plan file a person approved.
	reviewed    string
	dcvResolver string
	// resubmitAfter: see apply.DefaultResubmitAfter.
	resubmitAfter durationFlag
}

func newApplyCmd(g *globals) *cobra.Command {
	f := &applyFlags{}
	cmd := &cobra.Command{
		Use:   "apply [PLANFILE | PATH...]",
		Short: "Place the planned orders, exactly once each",
		Long: `With paths, plan, show the plan and ask for "yes" (--auto-approve skips the
question; without a terminal certplan refuses to ask). With a plan file from
` + "`certplan plan --out`" + `, apply exactly that plan; a stale plan (the state or the
manifests changed since) is refused.

Unattended runs place only what a person approved. --reviewed PLANFILE (the
plan file of the merged pull request's plan) plans again and places only the
orders that plan showed: the same certificate, action, alternative_order_id
(product, shaping fields, the order renewed) and request body. --only
renew,reissue (a scheduled run) places no new certificates. What may not be
placed is held back: shown as blocked with what differs, nothing ordered for
it, and apply exits 1; the rest goes ahead. Completing an interrupted apply is
never held back.

Every order's intent is journaled, its alternative_order_id looked up, and an
existing order adopted rather than placed again. Ctrl-C stops starting new
orders and lets in-flight ones finish; the next run resumes.

Exit codes: 0 every order placed or adopted, 1 an order failed or an error,
3 invalid manifests, 4 state locked, 130 interrupted.`,
		Example: `  certplan apply certs/
  certplan apply certs/ --auto-approve --parallelism 8
  certplan plan certs/ --out plan.json && certplan apply plan.json
  certplan apply certs/ --auto-approve --wait --fetch /etc/ssl/certplan
  certplan apply certs/ --auto-approve --reviewed reviewed/certplan.plan   # after a merge
  certplan apply certs/ --auto-approve --only renew,reissue                 # on a schedule`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runApply(cmd.Context(), g, f, args)
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&f.autoApprove, "auto-approve", false, "apply without asking (for CI)")
	fl.IntVar(&f.parallelism, "parallelism", 4, "orders placed at once")
	fl.BoolVar(&f.refresh, "refresh", true, "refresh from CertCentral before planning (paths only)")
	fl.DurationVar(&f.wait, "wait", 0, "after placing, poll up to this long until new orders are issued (e.g. 10m)")
	fl.Lookup("wait").NoOptDefVal = "10m"
	fl.StringVar(&f.dcvResolver, "dcv-resolver", "", "with --wait: also complete domain validation, looking DCV records up at this DNS server (HOST:PORT, or \"system\") and asking CertCentral once they are visible, as certplan dcv check does")
	fl.Var(&f.resubmitAfter, "resubmit-after", fmt.Sprintf("an order whose outcome is unknown (a timeout, a reset, a 5xx) is looked up and sent again only by a run this long after its last attempt, since CertCentral's look-up may lag its commit (env CERTPLAN_RESUBMIT_AFTER; default %s)", apply.DefaultResubmitAfter))
	fl.StringArrayVar(&g.allowDuplicate, "allow-duplicate-order", nil, allowDuplicateUsage)
	fl.StringVar(&f.fetch, "fetch", "", "after applying, download the issued certificates into `DIR` (as certplan fetch --dir DIR does)")
	fl.StringVar(&f.only, "only", "", "place only these `ACTIONS` (comma-separated: create, renew, reissue); hold back the rest, e.g. renew,reissue on a schedule")
	fl.StringVar(&f.reviewed, "reviewed", "", "place only the orders that the reviewed plan `FILE` (certplan plan --out) showed; hold back the rest (paths only)")
	fl.StringVar(&g.commit, "commit", "", "the commit the manifests are planned from, shown in the plan (default: $GITHUB_SHA, else $CI_COMMIT_SHA)")
	return cmd
}

// isPlanFile tells a saved plan from manifest paths: one regular file that
// is not YAML.
func isPlanFile(args []string) bool {
	if len(args) != 1 {
		return false
	}
	fi, err := os.Stat(args[0])
	if err != nil || fi.IsDir() {
		return false
	}
	return !strings.HasSuffix(args[0], ".yaml") && !strings.HasSuffix(args[0], ".yml")
}

func runApply(parent context.Context, g *globals, f *applyFlags, args []string) error {
	if f.parallelism < 1 {
		return fmt.Errorf("--parallelism %d: want 1 or more orders at once", f.parallelism)
	}
	if _, err := f.resubmitAfter.resolve("resubmit-after", "CERTPLAN_RESUBMIT_AFTER", apply.DefaultResubmitAfter); err != nil {
		return err
	}
	if parent == nil {
		parent = context.Background()
	}
	// First SIGINT/SIGTERM: stop starting orders. Second: abort in-flight requests.
	soft, stopSoft := context.WithCancel(parent)
	defer stopSoft()
	// --timeout: once the run's time is up, no new order starts (as after a
	// first Ctrl-C); orders in flight finish.
	if left, ok := g.runTimeLeft(); ok {
		var stopTimer context.CancelFunc
		soft, stopTimer = context.WithTimeout(soft, left)
		defer stopTimer()
	}
	abort, stopAbort := context.WithCancel(context.Background())
	defer stopAbort()
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	var ordering atomic.Bool // set once orders may be in flight
	go func() {
		n := 0
		for range sigs {
			n++
			switch {
			case n == 1 && ordering.Load():
				fmt.Fprintln(g.stderr, "\nInterrupted: no new orders will start; waiting for in-flight orders (Ctrl-C again to abort them).")
				stopSoft()
			case n == 1:
				fmt.Fprintln(g.stderr, "\nInterrupted: nothing was ordered.")
				stopSoft()
				stopAbort()
			default:
				stopAbort()
			}
		}
	}()

	only, reviewed, err := f.approvals(isPlanFile(args))
	if err != nil {
		return err
	}
	var s *run.Session
	if isPlanFile(args) {
		s, err = g.sessionFromPlanFile(soft, args[0])
		if err == nil {
			g.holdBack(s.Plan, only, nil)
			fmt.Fprintf(g.stdout, "Applying saved plan %s.\n", termsafe.Text(args[0]))
			err = plan.RenderText(g.stdout, s.Plan, useColor(g.stdout))
		}
	} else {
		s, err = g.prepare(soft, args, f.refresh, run.OpApply)
		if err == nil {
			g.holdBack(s.Plan, only, reviewed)
		}
		if err == nil && s.Plan.HasChanges() {
			// Fail on a missing key before asking, not after.
			_, err = g.client()
		}
		if err == nil {
			err = g.confirm(soft, s.Plan, f.autoApprove)
		}
	}
	if err != nil {
		s.Release()
		if errors.Is(soft.Err(), context.DeadlineExceeded) {
			return withCode(exitError, g.timeUp("before any order was placed: nothing was ordered"))
		}
		if soft.Err() != nil {
			return withCode(exitInterrupted, errors.New("interrupted before any order was placed: nothing was ordered"))
		}
		return err
	}
	defer s.Release()
	ordering.Store(true)

	if s.Plan.HasMoves() {
		moves, err := s.RecordMoves(context.WithoutCancel(soft))
		if err != nil {
			return err
		}
		for _, m := range moves {
			fmt.Fprintf(g.stdout, "Moved %s in the state.\n", m)
		}
	}
	if !s.Plan.HasChanges() {
		if err := s.RecordRefresh(context.Background()); err != nil {
			return err
		}
		fmt.Fprintln(g.stdout, "No changes. Nothing to order.")
		return blockedError(s.Plan, g.fetchAfterApply(soft, s.Backend(), f.fetch, nil))
	}
	return blockedError(s.Plan, g.fetchAfterApply(soft, s.Backend(), f.fetch, g.execute(soft, abort, s, f)))
}

// approvals reads --only and --reviewed: the actions this run may place (nil:
// all) and the reviewed plan (nil: none).
func (f *applyFlags) approvals(planFile bool) ([]plan.Action, *reviewedPlan, error) {
	var only []plan.Action
	if f.only != "" {
		var err error
		if only, err = plan.ParseActions(f.only); err != nil {
			return nil, nil, fmt.Errorf("--only %q: %w", f.only, err)
		}
	}
	if f.reviewed == "" {
		return only, nil, nil
	}
	if planFile {
		return nil, nil, errors.New("--reviewed compares a fresh plan of manifest PATHs with the reviewed one; a saved plan file is applied as it is: drop --reviewed, or pass the manifest paths")
	}
	p, err := plan.ReadFile(f.reviewed)
	if err != nil {
		return nil, nil, fmt.Errorf("--reviewed: %w", err)
	}
	return only, &reviewedPlan{path: f.reviewed, plan: p}, nil
}

// reviewedPlan is the plan a person approved, and where it was read from.
type reviewedPlan struct {
	path string
	plan *plan.Plan
}

// holdBack narrows p to what this run may place (--only, --reviewed) and
// says what it held back; the plan then shows those as blocked.
func (g *globals) holdBack(p *plan.Plan, only []plan.Action, reviewed *reviewedPlan) {
	if reviewed != nil {
		r := reviewed.plan
		source := reviewed.path + ", planned " + r.PlannedAt.UTC().Format("2006-01-02 15:04 UTC")
		if r.Commit != "" {
			source += " from commit " + shortSHA(r.Commit)
		}
		fmt.Fprintf(g.stdout, "Reviewed plan %s: %s\n", source, plan.SummaryLine(r))
		if held := p.HoldBackUnreviewed(r, source); len(held) > 0 {
			g.note("Warning", fmt.Sprintf("held back %d %s the reviewed plan did not show: %s", len(held), pluralWord(len(held), "change", "changes"), strings.Join(held, ", ")))
		}
	}
	if only != nil {
		if held := p.HoldBackExcept(only); len(held) > 0 {
			g.note("Warning", fmt.Sprintf("held back %d %s this run does not place (--only %s): %s", len(held), pluralWord(len(held), "change", "changes"), joinActions(only), strings.Join(held, ", ")))
		}
	}
}

func joinActions(as []plan.Action) string {
	s := make([]string, len(as))
	for i, a := range as {
		s[i] = string(a)
	}
	return strings.Join(s, ",")
}

func pluralWord(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func shortSHA(c string) string {
	if len(c) > 12 {
		return c[:12]
	}
	return c
}

// blockedError makes an otherwise successful apply fail when certificates
// are blocked (a legacy order with an unknown outcome, a renewal placed
// outside certplan): a scheduled CI run must go red, or nobody learns that a
// certificate will expire unless a person acts.
func blockedError(p *plan.Plan, err error) error {
	if err != nil || p.Summary.Blocked == 0 {
		return err
	}
	var names []string
	for _, c := range p.Changes {
		if c.Blocked {
			names = append(names, c.Name)
		}
	}
	return withCode(exitError, fmt.Errorf("%d blocked, nothing ordered for them until a person resolves them: %s (the plan above says how)",
		len(names), strings.Join(names, ", ")))
}

// sessionFromPlanFile locks the state and checks the saved plan still applies:
// the same kind of backend, lineage, serial and journal position, and the
// same manifests.
func (g *globals) sessionFromPlanFile(ctx context.Context, path string) (*run.Session, error) {
	p, err := plan.ReadFile(path)
	if err != nil {
		return nil, err
	}
	// The plan's secret references are files apply will read and send:
	// they must be inside the project of the planned manifests, as Load
	// requires of manifests.
	manifests := make([]string, 0, len(p.ManifestDigests))
	for file := range p.ManifestDigests {
		manifests = append(manifests, file)
	}
	for _, c := range p.Changes {
		if err := spec.CheckFileRefs(manifests, g.fileDirs(), c.SecretRefs); err != nil {
			return nil, fmt.Errorf("plan file %s: %s: %w", path, c.Name, err)
		}
	}
	// The state the plan names, unless --state / CERTPLAN_STATE says
	// otherwise (lineage and serial then tell whether it is the same state).
	// A PostgreSQL state is named by its URL without the password, which
	// then comes from PGPASSWORD or a password file.
	var statePath string
	if p.Backend != nil && (p.Backend.Kind == "file" || p.Backend.Kind == "postgres") && env(g.stateFlag, "CERTPLAN_STATE") == "" {
		statePath = p.Backend.Name
	} else if statePath, err = g.statePath(nil); err != nil {
		return nil, err
	}
	if fi, err := os.Stat(filepath.Dir(statePath)); !backends.IsURL(statePath) && (err != nil || !fi.IsDir()) {
		return nil, fmt.Errorf("the plan was made against state %s, which is not reachable from here: run apply in the directory where you ran plan, or pass --state", statePath)
	}
	env, err := g.runEnv(g.backendAt(statePath))
	if err != nil {
		return nil, err
	}
	s, err := run.OpenPlanFile(ctx, env, p, spec.FileDigest)
	if err != nil {
		return s, g.runError(ctx, env.Backend, err)
	}
	return s, nil
}

// confirm shows the plan and asks for "yes" unless auto-approved. Ctrl-C
// at the prompt cancels ctx and so the question.
func (g *globals) confirm(ctx context.Context, p *plan.Plan, auto bool) error {
	if err := plan.RenderText(g.stdout, p, useColor(g.stdout)); err != nil {
		return err
	}
	if !p.HasChanges() || auto {
		return nil
	}
	if !isTTYReader(g.stdin) {
		return errors.New("refusing to ask for approval without a terminal: review the plan and re-run with --auto-approve, or apply a saved plan file (certplan plan --out FILE)")
	}
	fmt.Fprint(g.stdout, "\nDo you want to place these orders? Only 'yes' will be accepted: ")
	answer := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(g.stdin).ReadString('\n')
		answer <- line
	}()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case line := <-answer:
		if strings.TrimSpace(line) != "yes" {
			return errors.New("apply cancelled: nothing was ordered")
		}
	}
	return nil
}

// execute places the planned orders (pkg/run), showing progress, and maps
// the report to an exit code.
func (g *globals) execute(soft, abort context.Context, s *run.Session, f *applyFlags) error {
	fmt.Fprintln(g.stdout)
	if left, ok := g.runTimeLeft(); ok && f.wait > left {
		// Polls after --timeout would not be sent: wait no longer than that.
		f.wait = left
	}
	bar := newProgressBar(g.stderr, barTotal(s.Plan))
	resubmitAfter, err := f.resubmitAfter.resolve("resubmit-after", "CERTPLAN_RESUBMIT_AFTER", apply.DefaultResubmitAfter)
	if err != nil {
		return err
	}
	if resubmitAfter == 0 {
		resubmitAfter = -1 // at once: apply reads 0 as its default
	}
	rep, err := s.Execute(soft, abort, run.ExecuteOptions{
		ResubmitAfter: resubmitAfter,
		Parallelism:   f.parallelism,
		Progress:      func(r apply.Result) { bar.step(func() { printResult(g, r) }) },
		Wait:          f.wait,
		WaitInterval:  waitInterval(f.wait),
		OnWait: func() {
			fmt.Fprintf(g.stdout, "\nWaiting up to %s for the new orders to be issued...\n", f.wait)
		},
		WaitProgress: func(r apply.Result) { printResult(g, r) },
		DCVLookup:    dcvWaitLookup(f.dcvResolver),
	})
	if err != nil && len(rep.Results) == 0 {
		return err
	}
	printSummary(g, rep)
	switch {
	case err != nil:
		return err
	case rep.Aborted != "":
		return withCode(exitError, errors.New(rep.Aborted))
	case rep.Interrupted && errors.Is(soft.Err(), context.DeadlineExceeded):
		return withCode(exitError, g.timeUp("with orders still to place: run apply again to place them (the journal resumes where this run stopped)"))
	case rep.Interrupted:
		return withCode(exitInterrupted, errors.New("interrupted: run apply again to resume"))
	case rep.Failed() > 0:
		return withCode(exitError, fmt.Errorf("%d of %d orders did not complete", rep.Failed(), len(rep.Results)))
	}
	return nil
}

// timeUp says that --timeout ran out, and what that left.
func (g *globals) timeUp(what string) error {
	_, run, _ := g.timeouts()
	return fmt.Errorf("the run's time limit of %s (--timeout / CERTPLAN_TIMEOUT) ran out %s; raise --timeout if the run needs longer", run, what)
}

// waitInterval spaces the --wait polls: a tenth of the bound, between 1 s
// and 30 s, so a short wait still polls a few times and a long one stays
// far below the rate limit.
func waitInterval(bound time.Duration) time.Duration {
	return min(max(bound/10, time.Second), 30*time.Second)
}

func printResult(g *globals, r apply.Result) {
	switch {
	case r.Outcome.Failed():
		fmt.Fprintf(g.stdout, "  ! %s: %s %s: %s\n", termsafe.Text(r.Name), r.Action, r.Outcome, termsafe.Text(r.Error))
	case r.Outcome == apply.OutcomeClosed:
		// An interrupted order proven never placed; nothing ordered now.
		fmt.Fprintf(g.stdout, "  - %s: interrupted order closed: %s\n", termsafe.Text(r.Name), termsafe.Text(r.Error))
	case r.Action == plan.ActionReissue:
		// Same order, new certificate: not an order placed (scripts count
		// "-> order" lines as orders). The status word is CertCentral's.
		fmt.Fprintf(g.stdout, "  %s %s: %s on order %d -> certificate %d %s (%s)\n", r.Action.Symbol(), termsafe.Text(r.Name), r.Action, r.OrderID, r.CertificateID, termsafe.Text(r.Status), r.Outcome)
	default:
		// The status word is CertCentral's.
		fmt.Fprintf(g.stdout, "  %s %s: %s -> order %d %s (%s)\n", r.Action.Symbol(), termsafe.Text(r.Name), r.Action, r.OrderID, termsafe.Text(r.Status), r.Outcome)
	}
}

func printSummary(g *globals, rep apply.Report) {
	counts := map[apply.Outcome]int{}
	for _, r := range rep.Results {
		counts[r.Outcome]++
	}
	closed := ""
	if n := counts[apply.OutcomeClosed]; n > 0 {
		closed = fmt.Sprintf(", %d closed", n)
	}
	fmt.Fprintf(g.stdout, "\nApply complete: %d created, %d adopted, %d failed, %d unresolved, %d unknown outcome, %d skipped%s.\n",
		counts[apply.OutcomeCreated], counts[apply.OutcomeAdopted], counts[apply.OutcomeFailed],
		counts[apply.OutcomeUnresolved], counts[apply.OutcomeUnknown], counts[apply.OutcomeSkipped], closed)
}
