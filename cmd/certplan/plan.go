package main

import (
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/certplan/certplan/pkg/plan"
	"github.com/certplan/certplan/pkg/run"
	"github.com/certplan/certplan/pkg/termsafe"
)

type planFlags struct {
	format           string
	out              string
	refresh          bool
	detailedExitcode bool
}

func newPlanCmd(g *globals) *cobra.Command {
	f := &planFlags{}
	cmd := &cobra.Command{
		Use:   "plan [PATH...]",
		Short: "Show what apply would order: create, renew or no-op per certificate",
		Long: `Load the manifests and the state, refresh pending and soon-to-expire orders from
CertCentral (in bulk list calls), and print the plan. Nothing is ordered, and
nothing is written: plan takes no lock, so it works on a read-only checkout and
while an apply runs (a plan saved with --out is checked against the state again
when it is applied).

Exit codes: 0 success (with --detailed-exitcode: no changes), 1 error,
2 changes present (--detailed-exitcode only), 3 invalid manifests.`,
		Example: `  certplan plan certs/
  certplan plan certs/ --format markdown > plan.md
  certplan plan certs/ --out plan.json && certplan apply plan.json
  certplan plan certs/ --refresh=false --detailed-exitcode`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runPlan(cmd, g, f, args)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.format, "format", "text", "output format: text, json or markdown")
	fl.StringVar(&f.out, "out", "", "also save the plan to `FILE`, to apply exactly that plan with certplan apply FILE")
	fl.BoolVar(&f.refresh, "refresh", true, "ask CertCentral about pending and soon-to-expire orders first")
	fl.BoolVar(&f.detailedExitcode, "detailed-exitcode", false, "exit 2 when the plan has changes (orders or moves), 0 when none")
	fl.StringVar(&g.commit, "commit", "", "the commit the manifests are planned from, shown in the plan (default: $GITHUB_SHA, else $CI_COMMIT_SHA)")
	fl.StringArrayVar(&g.allowDuplicate, "allow-duplicate-order", nil, allowDuplicateUsage)
	return cmd
}

func runPlan(cmd *cobra.Command, g *globals, f *planFlags, args []string) error {
	render, err := renderer(f.format)
	if err != nil {
		return err
	}
	s, err := g.prepare(cmd.Context(), args, f.refresh, run.OpPlan)
	if err != nil {
		return err
	}
	s.Release()
	s.Plan.SavedAs = f.out
	if err := render(g.stdout, s.Plan, useColor(g.stdout)); err != nil {
		return err
	}
	if f.out != "" {
		if err := plan.WriteFile(f.out, s.Plan); err != nil {
			return fmt.Errorf("save plan: %w", err)
		}
		fmt.Fprintf(g.stderr, "Saved the plan to %s: apply exactly this plan with `certplan apply %s`.\n", f.out, f.out)
	}
	if err := appendStepSummary(s.Plan); err != nil {
		g.note("Warning", fmt.Sprintf("GITHUB_STEP_SUMMARY: %v", err))
	}
	if f.detailedExitcode && (s.Plan.HasChanges() || s.Plan.HasMoves()) {
		return withCode(exitChanges, nil)
	}
	return nil
}

type renderFunc func(w io.Writer, p *plan.Plan, color bool) error

func renderer(format string) (renderFunc, error) {
	switch format {
	case "text", "":
		return plan.RenderText, nil
	case "json":
		return func(w io.Writer, p *plan.Plan, _ bool) error { return plan.RenderJSON(termsafe.NewWriter(w), p) }, nil
	case "markdown", "md":
		return func(w io.Writer, p *plan.Plan, _ bool) error { return plan.RenderMarkdown(w, p) }, nil
	}
	return nil, fmt.Errorf("--format %q: want text, json or markdown", format)
}

// appendStepSummary adds the markdown plan to the GitHub Actions job summary.
func appendStepSummary(p *plan.Plan) error {
	path := os.Getenv("GITHUB_STEP_SUMMARY")
	if path == "" {
		return nil
	}
	fh, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if err := plan.RenderMarkdown(fh, p); err != nil {
		fh.Close()
		return err
	}
	return fh.Close()
}

func newShowCmd(g *globals) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:     "show PLANFILE",
		Short:   "Render a plan saved with `certplan plan --out`",
		Example: "  certplan show plan.json --format markdown",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			render, err := renderer(format)
			if err != nil {
				return err
			}
			p, err := plan.ReadFile(args[0])
			if err != nil {
				return err
			}
			p.SavedAs = args[0]
			return render(g.stdout, p, useColor(g.stdout))
		},
	}
	cmd.Flags().StringVar(&format, "format", "text", "output format: text, json or markdown")
	return cmd
}
