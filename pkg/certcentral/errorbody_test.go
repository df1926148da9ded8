package certcentral

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseErrorBody(t *testing.T) {
	const key = "k3y-SECRET-abcdef"
	tests := []struct {
		name        string
		body        string
		want        []ErrorDetail
		wantSnippet string
	}{
		{
			name: "documented list with code detail",
			body: `{"errors":[{"code":"not_found|order","message":"Order not found"}]}`,
			want: []ErrorDetail{{Code: "not_found", Detail: "order", Message: "Order not found"}},
		},
		{
			name: "several errors",
			body: `{"errors":[{"code":"invalid_value:validity_years","message":"bad"},{"code":"csr_invalid_cannot_parse","message":"csr"}]}`,
			want: []ErrorDetail{{Code: "invalid_value:validity_years", Message: "bad"}, {Code: "csr_invalid_cannot_parse", Message: "csr"}},
		},
		{
			name: "v1 description",
			body: `{"errors":[{"code":"required_param:note","description":"Note is required"}]}`,
			want: []ErrorDetail{{Code: "required_param:note", Message: "Note is required"}},
		},
		{
			name: "errors as a single object",
			body: `{"errors":{"code":"access_denied|missing_permission","message":"nope"}}`,
			want: []ErrorDetail{{Code: "access_denied", Detail: "missing_permission", Message: "nope"}},
		},
		{
			name: "errors as an object of field messages",
			body: `{"errors":{"organization":"Organization is required","csr":{"message":"bad csr"}}}`,
			want: []ErrorDetail{{Code: "csr", Message: "bad csr"}, {Code: "organization", Message: "Organization is required"}},
		},
		{
			name: "errors as strings",
			body: `{"errors":["something broke"]}`,
			want: []ErrorDetail{{Message: "something broke"}},
		},
		{
			name: "top-level code and message",
			body: `{"code":"request_limit_exceeded","message":"slow down"}`,
			want: []ErrorDetail{{Code: "request_limit_exceeded", Message: "slow down"}},
		},
		{
			name: "numeric code",
			body: `{"errors":[{"code":42,"message":"x"}]}`,
			want: []ErrorDetail{{Code: "42", Message: "x"}},
		},
		{
			name:        "html",
			body:        "<html>\n<body>502 Bad\tGateway</body>\n</html>",
			wantSnippet: "<html> <body>502 Bad Gateway</body> </html>",
		},
		{
			name:        "json without errors",
			body:        `{"status":"weird"}`,
			wantSnippet: `{"status":"weird"}`,
		},
		{
			name: "empty",
			body: "",
		},
		{
			name:        "control characters dropped",
			body:        "bad\x00\x1b[31mthing",
			wantSnippet: "bad[31mthing",
		},
		{
			name: "key echoed by server is redacted",
			body: `{"errors":[{"code":"access_denied|access_denied_invalid_key","message":"key ` + key + ` is invalid"}]}`,
			want: []ErrorDetail{{Code: "access_denied", Detail: "access_denied_invalid_key", Message: "key (redacted) is invalid"}},
		},
		{
			name: "card number echoed by server is redacted",
			body: `{"errors":[{"code":"invalid_value|credit_card","message":"card 4111111111111111 declined"}]}`,
			want: []ErrorDetail{{Code: "invalid_value", Detail: "credit_card", Message: "card (redacted) declined"}},
		},
		{
			name:        "key echoed in a snippet is redacted",
			body:        "invalid key " + key,
			wantSnippet: "invalid key (redacted)",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, snippet := parseErrorBody([]byte(tt.body), key)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("details (-want +got):\n%s", diff)
			}
			if snippet != tt.wantSnippet {
				t.Errorf("snippet = %q, want %q", snippet, tt.wantSnippet)
			}
		})
	}
}

func TestParseErrorBodyShortensLongBodies(t *testing.T) {
	_, snippet := parseErrorBody([]byte(strings.Repeat("x", 5000)))
	if len(snippet) > maxSnippetLen+3 || !strings.HasSuffix(snippet, "...") {
		t.Errorf("snippet of %d bytes, want at most %d ending in ...", len(snippet), maxSnippetLen+3)
	}
	details, _ := parseErrorBody([]byte(`{"errors":[{"code":"x","message":"` + strings.Repeat("m", 5000) + `"}]}`))
	if len(details) != 1 || len(details[0].Message) > maxMessageLen+3 {
		t.Errorf("message not shortened: %d bytes", len(details[0].Message))
	}
}

func FuzzParseErrorBody(f *testing.F) {
	f.Add([]byte(`{"errors":[{"code":"a|b","message":"m"}]}`))
	f.Add([]byte(`{"errors":{"a":{"code":1}}}`))
	f.Add([]byte(`{"errors":null}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		parseErrorBody(body, "secretkey")
	})
}
