// Command certplan brings GitOps to DigiCert CertCentral certificate orders.
// This package only parses flags and wires the packages under pkg/.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/certplan/certplan/pkg/termsafe"
)

// Exit codes (documented in `certplan --help`).
const (
	exitOK          = 0
	exitError       = 1
	exitChanges     = 2
	exitInvalid     = 3
	exitLocked      = 4
	exitInterrupted = 130
)

// version is set with -ldflags "-X main.version=..." by release builds.
var version = "dev"

// exitCodeError carries a specific exit code up to main.
type exitCodeError struct {
	code int
	err  error // may be nil when the command already printed everything
}

func (e *exitCodeError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit %d", e.code)
	}
	return e.err.Error()
}
func (e *exitCodeError) Unwrap() error { return e.err }

func withCode(code int, err error) error { return &exitCodeError{code: code, err: err} }

func main() {
	os.Exit(runMain(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// runMain executes the CLI and returns the process exit code.
func runMain(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	root := newRootCmd(stdin, stdout, stderr)
	root.SetArgs(args)
	err := root.Execute()
	if err == nil {
		return exitOK
	}
	var ce *exitCodeError
	if errors.As(err, &ce) {
		if ce.err != nil {
			fmt.Fprintf(stderr, "Error: %s\n", termsafe.Lines(ce.err.Error()))
		}
		return ce.code
	}
	// Errors echo file names and server text: escaped, line breaks kept.
	fmt.Fprintf(stderr, "Error: %s\n", termsafe.Lines(err.Error()))
	return exitError
}

const rootLong = `certplan brings GitOps to DigiCert CertCentral certificate orders.

Keep one YAML manifest per certificate in Git. certplan validates the manifests,
plans create / renew / no-op against a state file, renders the plan for review,
and applies it with alternative_order_id as an idempotency key, so no retry,
crash or lost state ever buys the same certificate twice.

Exit codes:
  0  success, or no changes (plan --detailed-exitcode)
  1  error
  2  changes present (plan --detailed-exitcode)
  3  invalid manifests
  4  state locked by another run
  130 interrupted (Ctrl-C); the next run resumes

Environment:
  DIGICERT_API_KEY          CertCentral API key (v2; never printed or stored)
  DIGICERT_ACCOUNT_ID       account id for the legacy v1 API (Basic auth with the key)
  CERTPLAN_ENDPOINT         v2 base URL, or "us" / "eu" (flag --endpoint wins)
  CERTPLAN_LEGACY_ENDPOINT  v1 base URL (flag --legacy-endpoint wins)
  CERTPLAN_STATE            state file (flag --state wins)
  CERTPLAN_NOW              RFC 3339 time to plan at (flag --now wins)
  CERTPLAN_CAPS             certificate caps by issuance date (flag --caps wins)
  CERTPLAN_REQUEST_TIMEOUT  time limit of one CertCentral request (flag --request-timeout wins; default 1m30s)
  CERTPLAN_TIMEOUT          time limit of the run's CertCentral calls (flag --timeout wins; default 2h, 0 = none)

When CertCentral answers 429 (its limits count every run using the API key),
reads and orders wait for its window, up to 3 minutes per request, and say so.`

const rootExample = `  # check manifests
  certplan validate certs/
  # review what would be ordered
  certplan plan certs/ --format markdown
  # order it, unattended in CI
  certplan apply certs/ --auto-approve
  # try everything on the embedded simulator
  certplan simulator --addr 127.0.0.1:8443`

func newRootCmd(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	g := &globals{stdin: stdin, stdout: stdout, stderr: stderr}
	root := &cobra.Command{
		Use:           "certplan",
		Short:         "GitOps for DigiCert CertCentral certificate orders",
		Long:          rootLong,
		Example:       rootExample,
		SilenceUsage:  true,
		SilenceErrors: true,
		// Check the shared flags before any command runs, so a typo is an
		// error even when the command would not have used the value.
		PersistentPreRunE: func(*cobra.Command, []string) error { return g.check() },
	}
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	g.register(root)
	root.AddCommand(
		newVersionCmd(g),
		newSchemaCmd(g),
		newValidateCmd(g),
	)
	addLaterCommands(root, g)
	return root
}

func newVersionCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:     "version",
		Short:   "Print the certplan version",
		Example: "  certplan version",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintf(g.stdout, "certplan %s\n", version)
			return nil
		},
	}
}
