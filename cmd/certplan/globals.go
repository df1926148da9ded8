package main

import (
	"io"
	"os"
	"time"

	"github.com/rs/zerolog"
	"github.com/spf13/cobra"

	"github.com/certplan/certplan/pkg/certcentral"
)

// globals are the persistent flags every command shares. Flags beat environment.
type globals struct {
	stdin          io.Reader
	stdout, stderr io.Writer

	endpoint       string
	legacyEndpoint string
	stateFlag      string
	now            string
	capsFlag       string
	logFormat      string
	logLevel       string
	lockTimeout    time.Duration
	// commit is plan's and apply's --commit: the commit planned from.
	commit string

	// Built once per run, on first use: one client means one rate limiter
	// for the API key across refresh, apply and --wait.
	log *zerolog.Logger
	cc  *certcentral.Client
}

func (g *globals) register(root *cobra.Command) {
	f := root.PersistentFlags()
	f.StringVar(&g.endpoint, "endpoint", "", `CertCentral v2 base URL, or "us" / "eu" (env CERTPLAN_ENDPOINT; default us)`)
	f.StringVar(&g.legacyEndpoint, "legacy-endpoint", "", "legacy v1 base URL (env CERTPLAN_LEGACY_ENDPOINT; default https://api.digicert.com)")
	f.StringVar(&g.stateFlag, "state", "", "state file, or a postgres:// URL (libpq form; PG* variables apply) for a state in PostgreSQL (env CERTPLAN_STATE; default certplan.state.json in the project directory, where certplan.yaml is)")
	f.StringVar(&g.now, "now", "", "RFC 3339 time to plan at, for tests and demos (env CERTPLAN_NOW)")
	f.StringVar(&g.capsFlag, "caps", "", `public TLS certificate caps by issuance date that plan and validate assume, e.g. "397,2026-02-24=199,2027-03-15=99,2029-03-15=46", or "none" (env CERTPLAN_CAPS; default: DigiCert's dates, see docs/lifecycle.md)`)
	f.StringVar(&g.logFormat, "log-format", "text", "log format: text or json")
	f.StringVar(&g.logLevel, "log-level", "warn", "log level: debug, info, warn, error")
	f.DurationVar(&g.lockTimeout, "lock-timeout", 0, "how long to wait for the state lock")
}

// env returns the flag value if set, else the environment variable.
func env(flagValue, name string) string {
	if flagValue != "" {
		return flagValue
	}
	return os.Getenv(name)
}
