package spec

import (
	"strings"
	"testing"
)

// A YAML syntax error is reported on the line (and, where it can be told,
// the column) that holds the mistake. yaml.v3 (and go.yaml.in/yaml/v3, the
// same parser) reports its parser errors one line early; yamlError corrects
// it (see the comment there).
func TestYAMLSyntaxErrorLines(t *testing.T) {
	manifest := certYAML("shop", "ssl_securesite_flex", validSecureSite) // spec.order from line 8; organization on line 14
	tests := []struct {
		name string
		data string
		want string // file:line:col: message prefix
	}{
		{
			name: "unclosed flow mapping on the last line",
			data: strings.Replace(manifest, "organization: {id: 1}", "organization: {id: 1", 1),
			want: "x.yaml:14:19: invalid YAML: did not find expected ',' or '}'",
		},
		{
			name: "unclosed flow mapping followed by more keys",
			data: strings.Replace(manifest, "order_validity: {years: 1}", "order_validity: {years: 1", 1),
			want: "x.yaml:13:21: invalid YAML: did not find expected ',' or '}'",
		},
		{
			name: "unclosed flow sequence",
			data: "apiVersion: certplan/v1\nkind: [Certificate\nmetadata: {name: a}\n",
			want: "x.yaml:2:7: invalid YAML: did not find expected ',' or ']'",
		},
		{
			name: "key indented deeper than its siblings",
			data: strings.Replace(manifest, "  signature_hash: sha256", "   signature_hash: sha256", 1),
			want: "x.yaml:12:8: invalid YAML: did not find expected key",
		},
		{
			// " product:" alone is valid YAML (spec's mapping indented by 1):
			// the next line, indented by 2, is the first that cannot be read.
			name: "key dedented between two levels",
			data: strings.Replace(manifest, "  product: ssl_securesite_flex", " product: ssl_securesite_flex", 1),
			want: "x.yaml:7:3: invalid YAML: mapping values are not allowed in this context",
		},
		{
			name: "tab in the indentation",
			data: strings.Replace(manifest, "    order_validity:", "\torder_validity:", 1),
			want: "x.yaml:13:1: invalid YAML: found a tab character",
		},
		{
			name: "unterminated double quote",
			data: strings.Replace(manifest, "common_name: shop.example.com", `common_name: "shop.example.com`, 1),
			want: "x.yaml:9:20: invalid YAML: found unexpected end of stream",
		},
		{
			name: "unterminated single quote",
			data: strings.Replace(manifest, "common_name: shop.example.com", `common_name: 'shop.example.com`, 1),
			want: "x.yaml:9:20: invalid YAML: found unexpected end of stream",
		},
		{
			name: "error in the second document",
			data: manifest + "---\n" + strings.Replace(manifest, "organization: {id: 1}", "organization: {id: 1", 1),
			want: "x.yaml:29:19: invalid YAML: did not find expected ',' or '}'",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, diags := parseYAML("x.yaml", []byte(tt.data))
			if len(diags) != 1 {
				t.Fatalf("diagnostics %v, want one", diagStrings(diags))
			}
			if got := diags[0].String(); !strings.HasPrefix(got, tt.want) {
				line := diags[0].Pos.Line
				text := ""
				if lines := strings.Split(tt.data, "\n"); line >= 1 && line <= len(lines) {
					text = lines[line-1]
				}
				t.Errorf("got  %s\nwant %s...\n(line %d is %q)", got, tt.want, line, text)
			}
		})
	}
}
