package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/certplan/certplan/pkg/apply"
	"github.com/certplan/certplan/pkg/run"
	"github.com/certplan/certplan/pkg/state"
	"github.com/certplan/certplan/pkg/termsafe"
)

func newStateCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "state",
		Short: "Inspect and repair the state file (nothing is ever revoked)",
		Long: `The state file records the order certplan placed for each manifest. These
commands read it and make deliberate repairs. None of them talks to CertCentral
except set-order, and none ever cancels or revokes anything.`,
		Example: `  certplan state list
  certplan state show shop-frontend
  certplan state rm old-frontend`,
	}
	cmd.AddCommand(newStateListCmd(g), newStateShowCmd(g), newStateRmCmd(g), newStateSetOrderCmd(g), newStateMigrateCmd(g))
	return cmd
}

func newStateListCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:     "list",
		Short:   "List the certificates in state with their current order",
		Example: "  certplan state list --state certs/certplan.state.json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			b, err := g.openState(nil)
			if err != nil {
				return err
			}
			l, err := g.loadExistingState(cmd.Context(), b)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tPRODUCT\tORDER\tSTATUS\tVALID TILL")
			for _, name := range l.State.Names() {
				c := l.State.Certificates[name]
				order := "-"
				if c.OrderID != 0 {
					order = strconv.FormatInt(c.OrderID, 10)
				}
				till := c.ValidTill
				if till == "" {
					till = "-"
				}
				// The state file comes from the repository: escape what it says.
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", termsafe.Text(name), termsafe.Text(c.Product), order,
					termsafe.Text(string(c.Status)), termsafe.Text(till))
			}
			return tw.Flush()
		},
	}
}

func newStateShowCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:     "show NAME",
		Short:   "Print one certificate's state entry as JSON",
		Example: "  certplan state show shop-frontend",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			b, err := g.openState(nil)
			if err != nil {
				return err
			}
			l, err := g.loadExistingState(cmd.Context(), b)
			if err != nil {
				return err
			}
			c, ok := l.State.Certificates[args[0]]
			if !ok {
				return fmt.Errorf("%q is not in state %s: `certplan state list` shows what is", args[0], b.Describe().Name)
			}
			enc := json.NewEncoder(g.stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(c)
		},
	}
}

func newStateRmCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "rm NAME",
		Short: "Forget a certificate (its order is left alone in CertCentral)",
		Long: `Remove NAME from state. The order in CertCentral is not touched: nothing is
cancelled or revoked. If the manifest still exists, the next plan creates a new
order for it.`,
		Example: "  certplan state rm old-frontend",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.mutateState(cmd.Context(), "state rm", args[0], func(st *state.State) (string, error) {
				if !st.Remove(args[0]) {
					return "", fmt.Errorf("%q is not in state: `certplan state list` shows what is", args[0])
				}
				return fmt.Sprintf("Removed %s from state. Its order was left alone in CertCentral.", args[0]), nil
			})
		},
	}
}

func newStateSetOrderCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "set-order NAME ORDER_ID",
		Short: "Point a certificate at an existing order (resolves an unknown outcome)",
		Long: `Read ORDER_ID from CertCentral and make it NAME's current order; the previous
order moves to history. Use it after a legacy v1 submission whose outcome was
unknown, once you have found the order in CertCentral.`,
		Example: "  certplan state set-order legacy-www 1234567",
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.adopt(cmd.Context(), args[0], args[1], "state set-order", false)
		},
	}
}

func newImportCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "import NAME ORDER_ID",
		Short: "Adopt an order placed by hand into state (nothing is ordered)",
		Long: `Read ORDER_ID from CertCentral and record it as NAME's current order, so a
certificate ordered in the console comes under certplan without a new order.
Write a manifest named NAME that matches the order. Plan then shows no-op: an
imported order is renewed when its renewal window opens, and manifest changes
take effect with that renewal (certplan never re-buys a certificate it did not
order just because the manifest differs from it). See docs/importing.md.`,
		Example: "  certplan import shop-frontend 1234567",
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.adopt(cmd.Context(), args[0], args[1], "import", true)
		},
	}
}

// adopt reads an order and makes it NAME's current order.
func (g *globals) adopt(ctx context.Context, name, idText, op string, mustBeNew bool) error {
	id, err := strconv.ParseInt(idText, 10, 64)
	if err != nil || id <= 0 {
		return fmt.Errorf("ORDER_ID %q: want a CertCentral order number", idText)
	}
	client, err := g.client()
	if err != nil {
		return err
	}
	order, err := client.OrderInfo(ctx, id)
	if err != nil {
		return fmt.Errorf("read order %d: %w", id, err)
	}
	now, err := g.clock()
	if err != nil {
		return err
	}
	return g.mutateState(ctx, op, name, func(st *state.State) (string, error) {
		if _, exists := st.Certificates[name]; exists && mustBeNew {
			return "", fmt.Errorf("%q is already in state: use `certplan state set-order %s %d` to replace its order", name, name, id)
		}
		if err := st.SetOrder(name, apply.FactsFromOrder(order), order.Product.NameID, now); err != nil {
			return "", err
		}
		return fmt.Sprintf("%s now tracks order %d (%s, status %s).", name, id, order.Product.NameID, order.Status), nil
	})
}

// mutateState makes a person's change to the state through run.Repair and
// says what happened.
func (g *globals) mutateState(ctx context.Context, op, name string, change func(*state.State) (string, error)) error {
	b, err := g.openState(nil)
	if err != nil {
		return err
	}
	env, err := g.runEnv(b)
	if err != nil {
		return err
	}
	done, err := run.Repair(ctx, env, op, name, change)
	if c := done.Closed; c != nil {
		fmt.Fprintf(g.stdout, "Closed the interrupted %s of %s (alternative_order_id %s): apply will not resume it.\n",
			termsafe.Text(string(c.Action)), termsafe.Text(name), termsafe.Text(c.AlternativeOrderID))
	}
	if err != nil {
		return g.runError(ctx, env.Backend, err)
	}
	if done.Message != "" {
		fmt.Fprintln(g.stdout, termsafe.Lines(done.Message))
	}
	return nil
}

func newForceUnlockCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "force-unlock",
		Short: "Remove a stale state lock left by a run that is gone",
		Long: `Remove the lock information of a run that no longer exists (e.g. a CI runner
that was killed on another machine). Only do this when you are sure no apply
is running: two applies at once are what the lock prevents.`,
		Example: "  certplan force-unlock --state certs/certplan.state.json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			b, err := g.openState(nil)
			if err != nil {
				return err
			}
			info, err := b.ForceUnlock(cmd.Context())
			if err != nil {
				return err
			}
			if info == nil {
				fmt.Fprintln(g.stdout, "The state was not locked.")
				return nil
			}
			// The lock file may come from the repository: escape what it says.
			fmt.Fprintf(g.stdout, "Removed the lock held by %s@%s (pid %d, %s since %s).\n",
				termsafe.Text(info.Who), termsafe.Text(info.Host), info.PID, termsafe.Text(info.Operation), info.Created.Format("2006-01-02T15:04:05Z07:00"))
			return nil
		},
	}
}
