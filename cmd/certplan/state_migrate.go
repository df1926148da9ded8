package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/certplan/certplan/pkg/state/backends"
)

func newStateMigrateCmd(g *globals) *cobra.Command {
	var to string
	cmd := &cobra.Command{
		Use:   "migrate --to LOCATION",
		Short: "Copy the state into another, empty backend (a file or PostgreSQL)",
		Long: `Copy the current state (--state / CERTPLAN_STATE, or the project's state file)
into LOCATION: a state file, or a postgres:// URL (libpq form; the password from
PGPASSWORD or a password file, never on the command line). A journal left by an
interrupted run is folded in first; pending orders of an interrupted apply must
be resumed (certplan apply) before the move. The copy keeps the state's lineage
and every certificate; its serial starts over in the new store.

LOCATION must be empty or hold this very state already (then nothing is
written); a state of another lineage is never overwritten. The source is left as
it was: point --state / CERTPLAN_STATE at LOCATION from then on, and remove the
old state from Git once every pipeline uses the new one.`,
		Example: `  PGPASSWORD=... certplan state migrate --to 'postgres://certplan@db.example.com/certs?sslmode=verify-full'
  certplan state migrate --state 'postgres://certplan@db.example.com/certs' --to certplan.state.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if to == "" {
				return fmt.Errorf("state migrate: --to LOCATION is required (a state file or a postgres:// URL)")
			}
			dest, err := backends.Open(to)
			if err != nil {
				return fmt.Errorf("state migrate --to: %w", err)
			}
			from, err := g.openState(nil)
			if err != nil {
				return err
			}
			res, err := backends.Migrate(cmd.Context(), from, dest, g.lockTimeout)
			if err != nil {
				return err
			}
			if res.Folded > 0 {
				fmt.Fprintf(g.stdout, "Folded %d journal records into %s first.\n", res.Folded, res.From)
			}
			if res.AlreadyThere {
				fmt.Fprintf(g.stdout, "%s already holds this state (lineage %s, %d certificates): nothing was written.\n",
					res.To, res.Lineage, res.Certificates)
				return nil
			}
			fmt.Fprintf(g.stdout, "Copied state lineage %s (%d certificates, serial %d) from %s to %s, where its serial is %d.\n",
				res.Lineage, res.Certificates, res.FromSerial, res.From, res.To, res.ToSerial)
			fmt.Fprintf(g.stdout, "The source was left as it was. Use the new state from now on: --state / CERTPLAN_STATE=%s\n", res.To.Name)
			return nil
		},
	}
	cmd.Flags().StringVar(&to, "to", "", "the destination: a state file or a postgres:// URL (required)")
	return cmd
}
