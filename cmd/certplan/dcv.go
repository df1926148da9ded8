package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/certplan/certplan/pkg/dcv"
	"github.com/certplan/certplan/pkg/run"
	"github.com/certplan/certplan/pkg/state"
)

func newDCVCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "dcv",
		Short: "Domain validation: the records to publish, and checking them",
		Long: `Orders for public TLS certificates wait in pending until DigiCert has validated
control of every name (DCV). With dcv_method dns-txt-token, dns-cname-token or
http-token, that means publishing the order's random value where DigiCert looks.

  certplan dcv records   prints what to publish (text, JSON, or a BIND zone fragment)
  certplan dcv check     looks the records up in DNS, then asks CertCentral to check

Nothing here publishes records: that is your DNS pipeline's job. See docs/dcv.md.`,
		Example: `  certplan dcv records --format bind > dcv.zone
  certplan dcv check --resolver 127.0.0.1:5353`,
	}
	cmd.AddCommand(newDCVRecordsCmd(g), newDCVCheckCmd(g))
	return cmd
}

type dcvRecordsFlags struct {
	format  string
	refresh bool
}

func newDCVRecordsCmd(g *globals) *cobra.Command {
	f := &dcvRecordsFlags{}
	cmd := &cobra.Command{
		Use:   "records [NAME...]",
		Short: "Print the DCV records the orders awaiting validation need published",
		Long: `Print, for every order in the state that awaits domain validation, the records
to publish: TXT at _dnsauth.<name> (dns-txt-token), a CNAME from _dnsauth.<name> to
<value>.dcv.digicert.com (dns-cname-token), or the file at
http://<name>/.well-known/pki-validation/fileauth.txt (http-token). A wildcard
*.example.com is validated as example.com.

NAME selects certificates (metadata.name) or domains; all when none is given.
With refresh on (the default) the orders in flight are read from CertCentral and
an order's random value is fetched when the state lacks it or it expired (values
live 30 days). Read-only: it takes no lock and writes nothing.

--format bind prints a BIND zone file fragment (TTL 300) that a DNS-as-code
pipeline can apply as it is.`,
		Example: `  certplan dcv records
  certplan dcv records shop-frontend --format json
  certplan dcv records --format bind > dcv.zone`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDCVRecords(cmd.Context(), g, f, args)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.format, "format", "text", "output format: text, json or bind")
	fl.BoolVar(&f.refresh, "refresh", true, "read the orders in flight from CertCentral first (else the state alone)")
	return cmd
}

func dcvWriter(format string) (func(io.Writer, []dcv.Pending) error, error) {
	switch format {
	case "text", "":
		return dcv.WriteText, nil
	case "json":
		return dcv.WriteJSON, nil
	case "bind", "zone":
		return dcv.WriteBIND, nil
	}
	return nil, fmt.Errorf("--format %q: want text, json or bind", format)
}

// dcvPending loads the state (no lock), refreshes the orders in flight when
// asked, and lists what awaits validation.
func (g *globals) dcvPending(ctx context.Context, b state.Backend, refresh bool, only []string) (map[int64]state.OrderFacts, []dcv.Pending, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	l, err := g.loadExistingState(ctx, b)
	if err != nil {
		return nil, nil, err
	}
	facts := map[int64]state.OrderFacts{}
	if refresh {
		env, err := g.runEnv(b)
		if err != nil {
			return nil, nil, err
		}
		if facts, err = run.DCVRefresh(ctx, env, l.State); err != nil {
			return nil, nil, g.runError(ctx, b, err)
		}
	}
	pending := run.PendingDCV(l.State, facts, only)
	for _, name := range only {
		if len(run.PendingDCV(l.State, facts, []string{name})) == 0 {
			g.note("Warning", fmt.Sprintf("no order awaiting domain validation matches %q", dcv.Safe(name)))
		}
	}
	return facts, pending, nil
}

func runDCVRecords(ctx context.Context, g *globals, f *dcvRecordsFlags, args []string) error {
	write, err := dcvWriter(f.format)
	if err != nil {
		return err
	}
	b, err := g.openState(nil)
	if err != nil {
		return err
	}
	_, pending, err := g.dcvPending(ctx, b, f.refresh, args)
	if err != nil {
		return err
	}
	return write(g.stdout, pending)
}

type dcvCheckFlags struct {
	resolver string
	wait     time.Duration
	format   string
}

func newDCVCheckCmd(g *globals) *cobra.Command {
	f := &dcvCheckFlags{}
	cmd := &cobra.Command{
		Use:   "check [NAME...]",
		Short: "Look the DCV records up in DNS, then ask CertCentral to validate",
		Long: `For every order awaiting domain validation (NAME selects certificates or domains),
look each record up in DNS first, with the system resolver or --resolver
HOST:PORT, and report which are visible. Orders whose records are all visible
are checked by CertCentral (PUT /order/certificate/{id}/check-dcv); while it
answers that it cannot see them yet (invalid_dns_txt: its resolvers may still
cache the old answer), certplan asks again after 30 s, 1, 2, 4 and then every
5 minutes, until --wait runs out. http-token files are not fetched: CertCentral
checks them itself.

What it learns (statuses, validated names, orders now issued) is recorded in
the state. Nothing here publishes records.

Exit codes: 0 every selected order is validated (or none awaits validation),
1 an error, 2 some orders still await validation (records not visible, or
CertCentral cannot see them yet), 4 state locked.`,
		Example: `  certplan dcv check
  certplan dcv check shop-frontend --resolver 127.0.0.1:5353
  certplan dcv check --wait 0   # look up and ask once, no waiting`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDCVCheck(cmd.Context(), g, f, args)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.resolver, "resolver", "", "DNS server to look the records up at, HOST:PORT (default: the first name server of /etc/resolv.conf)")
	fl.DurationVar(&f.wait, "wait", 10*time.Minute, "how long to keep asking CertCentral while it cannot see the records yet (0: ask once)")
	fl.StringVar(&f.format, "format", "text", "output format: text or json")
	return cmd
}

// dcvCheckReport is --format json of dcv check.
type dcvCheckReport struct {
	Orders []dcvCheckOrder `json:"orders"`
}

type dcvCheckOrder struct {
	dcv.Pending
	Lookups   []dcvLookup `json:"lookups"`
	Asked     int         `json:"asked"`
	Validated bool        `json:"validated"`
	Waiting   string      `json:"waiting,omitempty"`
	Error     string      `json:"error,omitempty"`
}

type dcvLookup struct {
	Name       string `json:"name"`
	Type       string `json:"type"`
	Visibility string `json:"visibility"`
	Detail     string `json:"detail,omitempty"`
}

func runDCVCheck(parent context.Context, g *globals, f *dcvCheckFlags, args []string) error {
	if f.format != "text" && f.format != "json" {
		return fmt.Errorf("--format %q: want text or json", f.format)
	}
	if f.wait < 0 {
		return fmt.Errorf("--wait %s: want 0 or more", f.wait)
	}
	if parent == nil {
		parent = context.Background()
	}
	ctx, stop := signal.NotifyContext(parent, os.Interrupt, syscall.SIGTERM)
	defer stop()

	var resolver *dcv.Resolver
	var err error
	if f.resolver != "" {
		resolver, err = dcv.NewResolver(f.resolver)
	} else {
		resolver, err = dcv.SystemResolver()
	}
	if err != nil {
		return err
	}
	b, err := g.openState(nil)
	if err != nil {
		return err
	}
	facts, pending, err := g.dcvPending(ctx, b, true, args)
	if err != nil {
		return err
	}
	env, err := g.runEnv(b)
	if err != nil {
		return err
	}
	text := f.format == "text"
	if len(pending) == 0 && text {
		fmt.Fprintln(g.stdout, "No order awaits domain validation with a DNS or HTTP token.")
	}
	opts := dcv.CheckOptions{Lookup: resolver.Lookup, Wait: f.wait}
	if text && len(pending) > 0 {
		fmt.Fprintf(g.stdout, "Looking the records up at %s.\n", dcv.Safe(resolver.Server))
		opts.Progress = func(e dcv.Event) { printDCVEvent(g.stdout, e) }
	}
	outcomes, err := run.CheckDCV(ctx, env, pending, facts, opts)
	if err != nil {
		return g.runError(ctx, b, err)
	}
	waiting, failed := 0, 0
	for _, o := range outcomes {
		switch {
		case o.Err != nil:
			failed++
		case !o.Validated:
			waiting++
		}
	}
	if text && len(outcomes) > 0 {
		fmt.Fprintf(g.stdout, "\nDCV check: %d validated, %d waiting, %d failed.\n", len(outcomes)-waiting-failed, waiting, failed)
	} else {
		rep := dcvCheckReport{Orders: []dcvCheckOrder{}}
		for _, o := range outcomes {
			c := dcvCheckOrder{Pending: o.Order, Asked: o.Asked, Validated: o.Validated, Lookups: []dcvLookup{}}
			if !o.Validated && o.Err == nil {
				c.Waiting = o.Why
			}
			if o.Err != nil {
				c.Error = dcv.Safe(o.Err.Error())
			}
			for _, l := range o.Lookups {
				c.Lookups = append(c.Lookups, dcvLookup{Name: l.Record.Name, Type: l.Record.Type, Visibility: l.Visibility.String(), Detail: l.Detail})
			}
			rep.Orders = append(rep.Orders, c)
		}
		enc := json.NewEncoder(g.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	}
	switch {
	case failed > 0:
		return withCode(exitError, fmt.Errorf("%d of %d orders could not be checked", failed, len(outcomes)))
	case ctx.Err() != nil:
		return withCode(exitInterrupted, fmt.Errorf("interrupted: %d orders still await validation", waiting))
	case waiting > 0:
		return withCode(exitChanges, nil)
	}
	return nil
}

// printDCVEvent prints one step of the check for people.
func printDCVEvent(w io.Writer, e dcv.Event) {
	head := fmt.Sprintf("%s (order %d, %s)", dcv.Safe(e.Order.Certificate), e.Order.OrderID, dcv.Safe(e.Order.Method))
	switch e.Kind {
	case dcv.EventLookedUp:
		fmt.Fprintf(w, "\n%s:\n", head)
		for _, l := range e.Lookups {
			line := fmt.Sprintf("  %-13s %s", l.Visibility.String(), dcv.RecordLine(l.Record))
			if l.Detail != "" && l.Visibility != dcv.Visible {
				line += ": " + dcv.Safe(l.Detail)
			}
			fmt.Fprintln(w, strings.TrimRight(line, " "))
		}
	case dcv.EventNotAsked:
		fmt.Fprintf(w, "  not asked: publish the records that are not visible (certplan dcv records --format bind), then run certplan dcv check again\n")
	case dcv.EventRetryWait:
		fmt.Fprintf(w, "  %s: records not visible yet; looking again in %s\n", head, e.RetryIn)
	case dcv.EventNotYet:
		fmt.Fprintf(w, "  %s: CertCentral cannot see the records yet (%s); asking again in %s\n", head, dcv.Safe(errText(e.Err, "names still pending")), e.RetryIn)
	case dcv.EventValidated:
		fmt.Fprintf(w, "  %s: validated by CertCentral\n", head)
	case dcv.EventFailed:
		fmt.Fprintf(w, "  %s: check failed: %s\n", head, dcv.Safe(errText(e.Err, "")))
	case dcv.EventGaveUp:
		fmt.Fprintf(w, "  %s: still waiting when --wait ran out; run certplan dcv check again later\n", head)
	}
}

func errText(err error, otherwise string) string {
	if err == nil {
		return otherwise
	}
	return err.Error()
}

// dcvWaitLookup is apply --dcv-resolver's look-up: the named server, the
// system resolver for "system", none for "".
func dcvWaitLookup(resolver string) func(context.Context, dcv.Record) dcv.Lookup {
	var r *dcv.Resolver
	var err error
	switch resolver {
	case "":
		return nil
	case "system":
		r, err = dcv.SystemResolver()
	default:
		r, err = dcv.NewResolver(resolver)
	}
	if err != nil {
		return func(_ context.Context, rec dcv.Record) dcv.Lookup {
			return dcv.Lookup{Record: rec, Visibility: dcv.LookupFailed, Detail: dcv.Safe(err.Error())}
		}
	}
	return r.Lookup
}
