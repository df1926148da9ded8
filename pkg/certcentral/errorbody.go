package certcentral

import (
	"bytes"
	"encoding/json"
	"regexp"
	"sort"
	"strings"
	"unicode"

	"github.com/certplan/certplan/pkg/termsafe"
)

// Limits on what a server-provided text may contribute to an error or a log.
const (
	maxMessageLen = 300
	maxSnippetLen = 200
)

// parseErrorBody reads the errors of a 4xx/5xx body. It accepts the documented
// {"errors":[{"code","message"}]} (v1: "description"), errors given as a single
// object or as an object of field -> message, a top-level code/message, and
// anything else as a short sanitized snippet. Every text is cleaned of control
// characters, shortened, and has each of secrets replaced by "(redacted)".
func parseErrorBody(body []byte, secrets ...string) ([]ErrorDetail, string) {
	clean := func(s string, max int) string { return sanitize(s, max, secrets) }
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil {
		return nil, clean(string(body), maxSnippetLen)
	}
	var details []ErrorDetail
	if raw, ok := top["errors"]; ok {
		details = parseErrorsValue(raw)
	}
	if len(details) == 0 {
		// Some error bodies carry code/message (or error) at the top level.
		if d, ok := parseDetail(body); ok {
			details = []ErrorDetail{d}
		}
	}
	if len(details) == 0 {
		return nil, clean(string(body), maxSnippetLen)
	}
	for i := range details {
		details[i].Code = clean(details[i].Code, maxMessageLen)
		details[i].Detail = clean(details[i].Detail, maxMessageLen)
		details[i].Message = clean(details[i].Message, maxMessageLen)
	}
	return details, ""
}

func parseErrorsValue(raw json.RawMessage) []ErrorDetail {
	var list []json.RawMessage
	if err := json.Unmarshal(raw, &list); err == nil {
		var out []ErrorDetail
		for _, item := range list {
			if d, ok := parseDetail(item); ok {
				out = append(out, d)
			} else if s, ok := parseString(item); ok {
				out = append(out, ErrorDetail{Message: s})
			}
		}
		return out
	}
	if d, ok := parseDetail(raw); ok {
		return []ErrorDetail{d}
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err == nil {
		keys := make([]string, 0, len(obj))
		for k := range obj {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var out []ErrorDetail
		for _, k := range keys {
			if d, ok := parseDetail(obj[k]); ok {
				if d.Code == "" {
					d.Code = k
				}
				out = append(out, d)
			} else if s, ok := parseString(obj[k]); ok {
				out = append(out, ErrorDetail{Code: k, Message: s})
			}
		}
		return out
	}
	if s, ok := parseString(raw); ok {
		return []ErrorDetail{{Message: s}}
	}
	return nil
}

// parseDetail reads one error object; ok is false unless it has a code or a message.
func parseDetail(raw json.RawMessage) (ErrorDetail, bool) {
	var e struct {
		Code        any `json:"code"`
		Message     any `json:"message"`
		Description any `json:"description"`
		Error       any `json:"error"`
	}
	if err := json.Unmarshal(raw, &e); err != nil {
		return ErrorDetail{}, false
	}
	code := scalarText(e.Code)
	msg := scalarText(e.Message)
	if msg == "" {
		msg = scalarText(e.Description)
	}
	if msg == "" {
		msg = scalarText(e.Error)
	}
	if code == "" && msg == "" {
		return ErrorDetail{}, false
	}
	d := ErrorDetail{Code: code, Message: msg}
	if c, detail, ok := strings.Cut(code, "|"); ok {
		d.Code, d.Detail = c, detail
	}
	return d, true
}

func parseString(raw json.RawMessage) (string, bool) {
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", false
	}
	return s, true
}

// scalarText renders a JSON scalar; objects and lists give "".
func scalarText(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case float64, bool:
		b, _ := json.Marshal(t)
		return string(b)
	}
	return ""
}

// cardNumberLike matches runs of digits as long as a payment card number.
var cardNumberLike = regexp.MustCompile(`\d{13,19}`)

// sanitize collapses whitespace, drops control characters, redacts secrets and
// anything that looks like a card number, shortens s to at most max runes,
// and defuses GitHub workflow commands (termsafe.Text): the text is the
// server's, and it ends up in errors and logs printed in CI.
func sanitize(s string, max int, secrets []string) string {
	return termsafe.Text(sanitizeRaw(s, max, secrets))
}

func sanitizeRaw(s string, max int, secrets []string) string {
	for _, sec := range secrets {
		if len(sec) >= 4 {
			s = strings.ReplaceAll(s, sec, "(redacted)")
		}
	}
	s = cardNumberLike.ReplaceAllString(s, "(redacted)")
	var b bytes.Buffer
	space := false
	n := 0
	for _, r := range s {
		if unicode.IsSpace(r) {
			space = b.Len() > 0
			continue
		}
		if !unicode.IsPrint(r) {
			continue
		}
		if space {
			b.WriteByte(' ')
			n++
			space = false
		}
		if n >= max {
			b.WriteString("...")
			break
		}
		b.WriteRune(r)
		n++
	}
	return b.String()
}
