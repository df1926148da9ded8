package spec

import (
	"fmt"
	"sort"

	"github.com/certplan/certplan/pkg/termsafe"
)

// Severity of a diagnostic.
type Severity int

// Severities. Errors make a run invalid; warnings are printed but do not fail.
const (
	SeverityError Severity = iota
	SeverityWarning
)

func (s Severity) String() string {
	if s == SeverityWarning {
		return "warning"
	}
	return "error"
}

// MarshalText renders the severity as "error" or "warning".
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Diagnostic is one problem found in the manifests, at a YAML position.
type Diagnostic struct {
	Pos      Pos
	Path     string // dotted field path, e.g. spec.order.order_validity.years; empty for file-level problems
	Message  string
	Severity Severity
}

// String renders "file:line:col: path: message" (warnings: "file:line:col:
// warning: path: message") for a terminal or a CI log: the file name, the
// path and the message come from the repository, so control characters and
// GitHub workflow commands in them are escaped (termsafe.Text).
func (d Diagnostic) String() string {
	s := termsafe.Text(d.Pos.String()) + ": "
	if d.Severity == SeverityWarning {
		s += "warning: "
	}
	if d.Path != "" {
		s += termsafe.Text(d.Path) + ": "
	}
	return s + termsafe.Text(d.Message)
}

func errorAt(pos Pos, path, format string, args ...any) Diagnostic {
	return Diagnostic{Pos: pos, Path: path, Message: fmt.Sprintf(format, args...), Severity: SeverityError}
}

func warningAt(pos Pos, path, format string, args ...any) Diagnostic {
	return Diagnostic{Pos: pos, Path: path, Message: fmt.Sprintf(format, args...), Severity: SeverityWarning}
}

// sortDiagnostics orders by file, line, column, then path and message, and
// drops exact duplicates (a bad field from a Defaults document is reported by
// every Certificate it merges into, at the same place).
func sortDiagnostics(ds []Diagnostic) []Diagnostic {
	sort.SliceStable(ds, func(i, j int) bool {
		a, b := ds[i], ds[j]
		switch {
		case a.Pos.File != b.Pos.File:
			return a.Pos.File < b.Pos.File
		case a.Pos.Line != b.Pos.Line:
			return a.Pos.Line < b.Pos.Line
		case a.Pos.Col != b.Pos.Col:
			return a.Pos.Col < b.Pos.Col
		case a.Path != b.Path:
			return a.Path < b.Path
		case a.Severity != b.Severity:
			return a.Severity < b.Severity
		}
		return a.Message < b.Message
	})
	out := ds[:0]
	for _, d := range ds {
		if len(out) > 0 && d == out[len(out)-1] {
			continue
		}
		out = append(out, d)
	}
	return out
}
