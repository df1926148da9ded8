package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/certplan/certplan/pkg/scaffold"
	"github.com/certplan/certplan/pkg/state/backends"
)

const initLong = `Scaffold a repository for certplan in DIR (default: the current directory):

  certplan.yaml                    project defaults (organization, payment, renewBefore)
  certs/example.yaml               one Certificate manifest naming csr/example.csr
  .github/workflows/certplan.yml   plan on pull requests, apply on main
  .gitignore                       certplan's journals, locks, backups, temp files, keys

With --state postgres the workflow keeps the state in PostgreSQL instead (its
URL and password from the repository secrets CERTPLAN_STATE_URL and
CERTPLAN_PG_PASSWORD) and commits nothing back, so a protected main works.

Existing files are never overwritten unless --force is given; without it
nothing is written and the files in the way are listed.

Exit codes: 0 written, 1 a file exists (without --force) or an error.`

const initExample = `  certplan init
  certplan init my-certs
  certplan init --force   # overwrite the scaffold files
  certplan init --state postgres   # state in PostgreSQL, nothing committed back`

func newInitCmd(g *globals) *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:     "init [DIR]",
		Short:   "Scaffold a repository: defaults, an example manifest, CI workflow, .gitignore",
		Long:    initLong,
		Example: initExample,
		Args:    cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := "."
			if len(args) == 1 {
				dir = args[0]
			}
			return runInit(g, dir, force, initStateKind(g.stateFlag))
		},
	}
	cmd.Flags().BoolVar(&force, "force", false, "overwrite scaffold files that already exist")
	return cmd
}

// initStateKind reads init's --state: "file" or "postgres" (a postgres://
// URL counts as postgres: the pipelines take the URL from a secret).
func initStateKind(flag string) string {
	if backends.IsURL(flag) {
		return "postgres"
	}
	return flag
}

func runInit(g *globals, dir string, force bool, stateKind string) error {
	// The workflow installs the release that runs init, so that the plan a
	// pull request shows and the apply after the merge come from it.
	opts := scaffold.Options{State: stateKind, Version: releaseVersion()}
	if err := opts.Check(); err != nil {
		return fmt.Errorf("init --state: %w", err)
	}
	if fi, err := os.Stat(dir); err == nil && !fi.IsDir() {
		return fmt.Errorf("init: %s is a file, not a directory", dir)
	}
	written, err := scaffold.WriteFor(dir, force, opts)
	var exists *scaffold.ExistsError
	if errors.As(err, &exists) {
		fmt.Fprintf(g.stderr, "These files already exist in %s:\n", dir)
		for _, p := range exists.Paths {
			fmt.Fprintf(g.stderr, "  %s\n", p)
		}
		return fmt.Errorf("init: nothing was written; move them away or re-run with --force to overwrite them")
	}
	for _, p := range written {
		fmt.Fprintf(g.stdout, "Wrote %s\n", p)
	}
	if err != nil {
		return fmt.Errorf("init %s: %w", dir, err)
	}
	fmt.Fprint(g.stdout, nextSteps(dir))
	if opts.Version == "" {
		fmt.Fprintf(g.stdout, `  #    This certplan is a development build (%s): the workflow names no release
  #    yet. Set CERTPLAN_VERSION in %s to the release to install (e.g. v1.2.0).
`, version, scaffold.WorkflowPath)
	} else {
		fmt.Fprintf(g.stdout, "  #    The workflow installs certplan %s (CERTPLAN_VERSION); upgrade it in a pull request.\n", opts.Version)
	}
	if opts.State == "postgres" {
		fmt.Fprint(g.stdout, `  #    The workflow keeps the state in PostgreSQL: also add the secrets
  #    CERTPLAN_STATE_URL (postgres://USER@HOST:5432/DB?sslmode=verify-full, no password)
  #    and CERTPLAN_PG_PASSWORD. To plan from here: export CERTPLAN_STATE and PGPASSWORD.
  #    An existing state file moves in with: certplan state migrate --to "$CERTPLAN_STATE"
`)
	}
	return nil
}

func nextSteps(dir string) string {
	cd := ""
	if dir != "." {
		cd = fmt.Sprintf("  cd %s\n", dir)
	}
	return `
Next steps:
` + cd + `  # 1. set your organization id in certplan.yaml (spec.order.organization.id)
  # 2. make a key and CSR for certs/example.yaml (keep the key out of Git):
  mkdir -p csr
  openssl req -new -newkey rsa:2048 -nodes -keyout example.key -out csr/example.csr \
      -subj "/CN=www.example.com" -addext "subjectAltName=DNS:www.example.com,DNS:example.com"
  # 3. check the manifests and see what would be ordered
  certplan validate certs/
  certplan plan certs/
  # 4. add the repository secret DIGICERT_API_KEY (Settings > Secrets and variables > Actions),
  #    push, and open a pull request: the plan appears as a comment; merging applies
  #    what it showed, and a daily run renews.
  # 5. in CertCentral turn on "Require unique alternative order IDs" (Settings > Preferences >
  #    Advanced Settings): the state file locks only one machine, and with it on CertCentral
  #    refuses a second order for one key, so two checkouts applying at once cannot buy twice.
`
}
