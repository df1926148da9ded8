package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
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
	allowFilesIn   []string
	// Time limits of the CertCentral client: flag, else environment, else
	// the default (resolved by check).
	requestTimeout, runTimeout durationFlag
	start                      time.Time // when the run started, for --timeout
	// commit is plan's and apply's --commit: the commit planned from.
	commit string
	// allowDuplicate: plan and apply --allow-duplicate-order NAME.
	allowDuplicate []string

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
	f.Var(&g.requestTimeout, "request-timeout", fmt.Sprintf("time limit of one CertCentral request, its retries included (env CERTPLAN_REQUEST_TIMEOUT; default %s)", certcentral.DefaultRequestTimeout))
	f.Var(&g.runTimeout, "timeout", fmt.Sprintf("time limit of the run's CertCentral calls, apply --wait included (env CERTPLAN_TIMEOUT; default %s; 0 = none)", defaultRunTimeout))
	f.StringArrayVar(&g.allowFilesIn, "allow-files-in", nil, "also let manifests reference files ({file: PATH}) in `DIR`, outside the project; repeatable (env CERTPLAN_ALLOW_FILES_IN, a list like PATH)")
}

// fileDirs are the directories outside the project that file references
// may point into: --allow-files-in, else CERTPLAN_ALLOW_FILES_IN.
func (g *globals) fileDirs() []string {
	if len(g.allowFilesIn) > 0 {
		return g.allowFilesIn
	}
	return filepath.SplitList(os.Getenv("CERTPLAN_ALLOW_FILES_IN"))
}

// defaultRunTimeout is --timeout's default: far above what planning or
// applying thousands of orders takes at CertCentral's rate limits, short
// enough that a stuck CI job ends with a message instead of its runner's kill.
const defaultRunTimeout = 2 * time.Hour

// durationFlag is a duration flag that knows whether it was given.
type durationFlag struct {
	d   time.Duration
	set bool
}

func (f *durationFlag) String() string {
	if !f.set {
		return ""
	}
	return f.d.String()
}

func (f *durationFlag) Set(v string) error {
	d, err := time.ParseDuration(v)
	if err != nil {
		return err
	}
	f.d, f.set = d, true
	return nil
}

func (f *durationFlag) Type() string { return "duration" }

// resolve returns the flag's value if given, else the environment
// variable's, else def; name words the error.
func (f *durationFlag) resolve(name, envName string, def time.Duration) (time.Duration, error) {
	d, where := def, ""
	switch {
	case f.set:
		d, where = f.d, "--"+name
	case os.Getenv(envName) != "":
		v, err := time.ParseDuration(os.Getenv(envName))
		if err != nil {
			return 0, fmt.Errorf("%s %q: want a duration such as 90s or 2h", envName, os.Getenv(envName))
		}
		d, where = v, envName
	}
	if d < 0 {
		return 0, fmt.Errorf("%s %s: want 0 or more", where, d)
	}
	return d, nil
}

// env returns the flag value if set, else the environment variable.
func env(flagValue, name string) string {
	if flagValue != "" {
		return flagValue
	}
	return os.Getenv(name)
}
