package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/certplan/certplan/pkg/delivery"
	"github.com/certplan/certplan/pkg/state"
	"github.com/certplan/certplan/pkg/termsafe"
)

type fetchFlags struct {
	dir    string
	format string
}

func newFetchCmd(g *globals) *cobra.Command {
	f := &fetchFlags{}
	cmd := &cobra.Command{
		Use:   "fetch [NAME...] --dir DIR",
		Short: "Download issued certificates (with chains) into files",
		Long: `Download the issued certificate of every certificate in state (or only the
NAMEs given) into DIR/NAME.pem (DIR/NAME.p7b with --format p7b). Each file is
written atomically and only when its content changed, so a web server watching
DIR reloads only for real renewals. Certificates that are not issued yet are
skipped. The state is read, never written; no lock is taken.

Formats: pem_all (certificate, intermediates, root), pem_noroot (certificate and
intermediates), p7b (PKCS#7 bundle). Files are mode 0644: certificates are public.

Exit codes: 0 every selected certificate written, unchanged or skipped, 1 a
download or write failed (the others are still written) or an error.`,
		Example: `  certplan fetch --dir /etc/ssl/certplan --state certs/certplan.state.json
  certplan fetch shop-frontend --dir out --format pem_noroot
  certplan apply certs/ --auto-approve --fetch /etc/ssl/certplan`,
		RunE: func(cmd *cobra.Command, args []string) error {
			b, err := g.openState(nil)
			if err != nil {
				return err
			}
			return g.runFetch(cmd.Context(), b, args, f.dir, f.format)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.dir, "dir", "", "write the certificate files into `DIR` (created if missing)")
	fl.StringVar(&f.format, "format", string(delivery.FormatPEMAll), "download `FORMAT`: pem_all, pem_noroot or p7b")
	_ = cmd.MarkFlagRequired("dir")
	return cmd
}

// runFetch reads the state of b (no lock: it only reads) and delivers the
// named certificates (all when names is empty) into dir.
func (g *globals) runFetch(ctx context.Context, b state.Backend, names []string, dir, format string) error {
	if ctx == nil {
		ctx = context.Background()
	}
	fmtv, err := delivery.ParseFormat(format)
	if err != nil {
		return fmt.Errorf("--format: %w", err)
	}
	l, err := g.loadExistingState(ctx, b)
	if err != nil {
		return err
	}
	// Fail on a typo before any network set-up.
	if _, err := delivery.Select(l.State.Certificates, names); err != nil {
		var ue *delivery.UnknownNamesError
		if errors.As(err, &ue) {
			ue.Where = b.Describe().Name
		}
		return err
	}
	client, err := g.client()
	if err != nil {
		return err
	}
	rep, err := delivery.Fetch(ctx, l.State.Certificates, delivery.Options{
		API: client, Dir: dir, Format: fmtv, Names: names,
		Progress: func(r delivery.Result) { printFetchResult(g, r) },
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(g.stdout, "Fetch complete: %d written, %d unchanged, %d skipped, %d failed.\n",
		rep.Count(delivery.StatusWritten), rep.Count(delivery.StatusUnchanged),
		rep.Count(delivery.StatusSkipped), rep.Failed())
	if n := rep.Failed(); n > 0 {
		return withCode(exitError, fmt.Errorf("%d of %d certificates could not be fetched: see above, then run `certplan fetch` again", n, len(rep.Results)))
	}
	return nil
}

func printFetchResult(g *globals, r delivery.Result) {
	name, path := termsafe.Text(r.Name), termsafe.Text(r.Path)
	switch r.Status {
	case delivery.StatusWritten:
		fmt.Fprintf(g.stdout, "  + %s: written %s\n", name, path)
	case delivery.StatusUnchanged:
		fmt.Fprintf(g.stdout, "  = %s: unchanged %s\n", name, path)
	case delivery.StatusSkipped:
		fmt.Fprintf(g.stdout, "  - %s: skipped, %s\n", name, termsafe.Text(r.Reason))
	default:
		fmt.Fprintf(g.stdout, "  ! %s: failed: %s\n", name, termsafe.Text(fmt.Sprint(r.Err)))
	}
}

// fetchAfterApply runs `fetch --dir dir` for every certificate in the state
// an apply just folded, unless dir is empty or the apply was interrupted.
// The apply's own error wins; a fetch error then only gets printed.
func (g *globals) fetchAfterApply(ctx context.Context, b state.Backend, dir string, applyErr error) error {
	var ce *exitCodeError
	if dir == "" || (errors.As(applyErr, &ce) && ce.code == exitInterrupted) {
		return applyErr
	}
	fmt.Fprintf(g.stdout, "\nFetching certificates into %s.\n", dir)
	err := g.runFetch(ctx, b, nil, dir, string(delivery.FormatPEMAll))
	if applyErr != nil {
		if err != nil {
			fmt.Fprintf(g.stderr, "Error: fetch: %s\n", termsafe.Lines(err.Error()))
		}
		return applyErr
	}
	return err
}
