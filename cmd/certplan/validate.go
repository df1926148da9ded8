package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/certplan/certplan/pkg/spec"
	"github.com/certplan/certplan/pkg/termsafe"
)

const validateLong = `Check manifests without contacting CertCentral: YAML syntax, the JSON Schema of
each product (after Defaults are merged in), CSRs (parseable, valid self-signature,
RSA >= 2048 or ECDSA P-256/P-384), unique names, and secrets given only as
{env: NAME} or {file: PATH}, no auto_renew: 1, and for Secure Site a renewBefore
shorter than the certificate caps in force on the planning date (--now, --caps;
a cert_validity above the cap is a warning). Every problem of the run is reported as
file:line:column: field.path: message. Warnings do not fail the run.

PATH may be files or directories (walked recursively for *.yaml and *.yml); the
default is the current directory. YAML files found in directories that have no
apiVersion or kind (CI pipelines and the like) are skipped and listed. The
nearest certplan.yaml at or above each PATH is loaded too, for its Defaults.
See docs/manifests.md.

Exit codes: 0 valid (warnings allowed), 3 invalid manifests, 1 other errors.`

const validateExample = `  certplan validate
  certplan validate certs/ other/shop.yaml
  # annotations on the pull request in a GitHub Actions job
  certplan validate certs/ --format github`

func newValidateCmd(g *globals) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:     "validate [PATH...]",
		Short:   "Check manifests against the schemas and certplan's rules",
		Long:    validateLong,
		Example: validateExample,
		RunE: func(cmd *cobra.Command, args []string) error {
			render, ok := validateRenderers[format]
			if !ok {
				return withCode(exitError, fmt.Errorf("unknown --format %q: use text, json or github", format))
			}
			if len(args) == 0 {
				args = []string{"."}
			}
			opts, err := g.loadOptions()
			if err != nil {
				return withCode(exitError, err)
			}
			res, err := spec.LoadWith(args, opts)
			if err != nil {
				return withCode(exitError, err)
			}
			if err := render(g.stdout, res); err != nil {
				return withCode(exitError, fmt.Errorf("write output: %w", err))
			}
			if res.HasErrors() {
				return withCode(exitInvalid, nil)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&format, "format", "text", "output format: text, json or github (workflow command annotations)")
	return cmd
}

var validateRenderers = map[string]func(io.Writer, *spec.Result) error{
	"text":   renderValidateText,
	"json":   renderValidateJSON,
	"github": renderValidateGitHub,
}

func renderValidateText(w io.Writer, res *spec.Result) error {
	var b strings.Builder
	for _, d := range res.Diagnostics {
		b.WriteString(d.String())
		b.WriteByte('\n')
	}
	b.WriteString(validateSummary(res))
	b.WriteByte('\n')
	_, err := io.WriteString(w, b.String())
	return err
}

// validateSummary is e.g. "3 manifests valid, 0 errors, 1 warning" or
// "2 of 3 manifests valid, 4 errors, 0 warnings".
func validateSummary(res *spec.Result) string {
	errs, warns := res.Counts()
	valid := fmt.Sprintf("%d %s valid", res.Manifests, plural(res.Manifests, "manifest"))
	if len(res.Certificates) != res.Manifests {
		valid = fmt.Sprintf("%d of %d %s valid", len(res.Certificates), res.Manifests, plural(res.Manifests, "manifest"))
	}
	out := fmt.Sprintf("%s, %d %s, %d %s", valid, errs, plural(errs, "error"), warns, plural(warns, "warning"))
	if n := len(res.Skipped); n > 0 {
		skipped := make([]string, n)
		for i, f := range res.Skipped {
			skipped[i] = termsafe.Text(f)
		}
		out += fmt.Sprintf(" (skipped %d other YAML %s: %s)", n, plural(n, "file"), strings.Join(skipped, ", "))
	}
	return out
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// validateJSON is the stable --format json output.
type validateJSON struct {
	Valid       bool             `json:"valid"`
	Manifests   int              `json:"manifests"`
	Errors      int              `json:"errors"`
	Warnings    int              `json:"warnings"`
	Diagnostics []diagnosticJSON `json:"diagnostics"`
	Files       []string         `json:"files"`   // manifest files read
	Skipped     []string         `json:"skipped"` // YAML files found that are not manifests
}

type diagnosticJSON struct {
	File     string `json:"file"`
	Line     int    `json:"line"`
	Column   int    `json:"column"`
	Path     string `json:"path"`
	Message  string `json:"message"`
	Severity string `json:"severity"`
}

func renderValidateJSON(w io.Writer, res *spec.Result) error {
	errs, warns := res.Counts()
	out := validateJSON{
		Valid: errs == 0, Manifests: res.Manifests, Errors: errs, Warnings: warns,
		Diagnostics: []diagnosticJSON{}, Files: nonNil(res.Files), Skipped: nonNil(res.Skipped),
	}
	for _, d := range res.Diagnostics {
		out.Diagnostics = append(out.Diagnostics, diagnosticJSON{
			File: d.Pos.File, Line: d.Pos.Line, Column: d.Pos.Col,
			Path: d.Path, Message: d.Message, Severity: d.Severity.String(),
		})
	}
	enc := json.NewEncoder(termsafe.NewWriter(w)) // "##[" in a file name, as valid JSON
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(out)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// renderValidateGitHub prints GitHub Actions workflow commands, which GitHub
// turns into annotations on the pull request's files.
func renderValidateGitHub(w io.Writer, res *spec.Result) error {
	var b strings.Builder
	for _, d := range res.Diagnostics {
		cmd := "error"
		if d.Severity == spec.SeverityWarning {
			cmd = "warning"
		}
		props := "file=" + escapeGitHubProperty(d.Pos.File)
		if d.Pos.Line > 0 {
			props += fmt.Sprintf(",line=%d,col=%d", d.Pos.Line, d.Pos.Col)
		}
		msg := d.Message
		if d.Path != "" {
			msg = d.Path + ": " + msg
		}
		fmt.Fprintf(&b, "::%s %s::%s\n", cmd, props, escapeGitHubData(msg))
	}
	b.WriteString(validateSummary(res))
	b.WriteByte('\n')
	_, err := io.WriteString(w, b.String())
	return err
}

// escapeGitHubData escapes a workflow command's message as GitHub's toolkit
// does, then every other control character and the legacy "##[" command
// (termsafe), so that a message from the repository can neither end the
// annotation nor reach the log raw.
func escapeGitHubData(s string) string {
	return termsafe.Text(strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s))
}

// escapeGitHubProperty escapes a workflow command property value (a file
// name from the repository) likewise, ":" and "," included.
func escapeGitHubProperty(s string) string {
	return termsafe.Text(strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s))
}
