// Package termsafe makes text that comes from a repository (file names,
// manifest values, the state file) or from a server (statuses, error
// messages) safe to print to a terminal or a CI log, in one place.
//
// Text escapes, Go-style, every control character (C0 including newline and
// tab, DEL, C1 such as the 8-bit CSI) and every other character that is not
// printable (bidirectional overrides, zero-width characters, invalid UTF-8),
// so that no escape sequence reaches a terminal raw and no line break splits
// a line. It also defuses GitHub Actions workflow commands: "::" at the start
// of a line (after spaces) and the legacy "##[", which the runner parses
// anywhere in a line, so that a file name cannot forge an annotation
// (`::warning::`), mask output or stop command processing. Printable text,
// non-ASCII letters included, passes unchanged, and so does a backslash.
package termsafe

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// Text returns s safe for one line of output (see the package doc).
func Text(s string) string {
	if isPlain(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r == ' ' || unicode.IsPrint(r):
			b.WriteRune(r)
		case r > 0xffff:
			fmt.Fprintf(&b, `\U%08x`, r)
		default:
			fmt.Fprintf(&b, `\u%04x`, r)
		}
		i += size
	}
	out := strings.ReplaceAll(b.String(), "##[", `##\[`)
	if rest := strings.TrimLeft(out, " "); strings.HasPrefix(rest, "::") {
		out = out[:len(out)-len(rest)] + `\` + rest
	}
	return out
}

// Lines is Text for text of several lines: the line breaks stay, everything
// else in each line is escaped as Text does (so no line can start a
// workflow command either).
func Lines(s string) string {
	if isPlain(strings.ReplaceAll(s, "\n", " ")) {
		return s
	}
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = Text(l)
	}
	return strings.Join(lines, "\n")
}

// isPlain reports printable ASCII without a workflow command.
func isPlain(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f {
			return false
		}
	}
	return !strings.Contains(s, "##[") && !strings.HasPrefix(strings.TrimLeft(s, " "), "::")
}

// NewWriter returns a writer for log and JSON output, written one event or
// one document per Write (zerolog, json.Encoder), that makes what goes
// through it safe for a CI log without changing what it means: GitHub's
// legacy workflow-command marker "##[" (parsed anywhere in a line) becomes
// `##\u005b`, and DEL, C1 controls and other non-printable characters
// (bidirectional overrides, zero-width characters) become \uXXXX escapes.
// Both are JSON's own escapes, so JSON stays valid and decodes to the same
// text. Newlines, tabs and the other C0 controls pass: JSON escapes them
// inside strings itself, and zerolog's text writer uses ESC for its colours.
// A marker split across two writes is not seen. Text goes through Text.
func NewWriter(w io.Writer) io.Writer { return jsonSafeWriter{w} }

type jsonSafeWriter struct{ w io.Writer }

func (j jsonSafeWriter) Write(p []byte) (int, error) {
	if !needsJSONEscape(p) {
		return j.w.Write(p)
	}
	var b bytes.Buffer
	for i := 0; i < len(p); {
		if bytes.HasPrefix(p[i:], []byte("##[")) {
			b.WriteString(`##\u005b`)
			i += 3
			continue
		}
		r, size := utf8.DecodeRune(p[i:])
		switch {
		case r == utf8.RuneError && size == 1, r < 0x7f, r == ' ' || unicode.IsPrint(r):
			b.Write(p[i : i+size])
		default:
			for _, u := range utf16.Encode([]rune{r}) {
				fmt.Fprintf(&b, `\u%04x`, u)
			}
		}
		i += size
	}
	if _, err := j.w.Write(b.Bytes()); err != nil {
		return 0, err
	}
	return len(p), nil
}

func needsJSONEscape(p []byte) bool {
	if bytes.Contains(p, []byte("##[")) {
		return true
	}
	for _, c := range p {
		if c >= 0x7f {
			return true
		}
	}
	return false
}
