package termsafe

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func TestText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"certs/shop.yaml", "certs/shop.yaml"},
		{"spec.order.certificate.common_name: must be a DNS name", "spec.order.certificate.common_name: must be a DNS name"},
		{"Zertifikat für München", "Zertifikat für München"},
		{`C:\certs\a.yaml`, `C:\certs\a.yaml`},
		{"certs/::warning::x\x1b[31m.yaml", `certs/::warning::x\x1b[31m.yaml`},
		{"::warning::x.yaml", `\::warning::x.yaml`},
		{"  ::error file=a::b", `  \::error file=a::b`},
		{"a::b", "a::b"},
		{"x ##[warning]forged", `x ##\[warning]forged`},
		{"##[stop-commands]tok", `##\[stop-commands]tok`},
		{"two\nlines", `two\nlines`},
		{"cr\rtab\tbell\a", `cr\rtab\tbell\x07`},
		{"del\x7f", `del\x7f`},
		{"csi\u009b31m", `csi\u009b31m`},
		{"bidi\u202egnp.exe", `bidi\u202egnp.exe`},
		{"zero\u200bwidth", `zero\u200bwidth`},
		{"bad\xffutf8", `bad\xffutf8`},
		{"tag\U000E0041", `tag\U000e0041`},
		{"", ""},
	}
	for _, tt := range tests {
		if got := Text(tt.in); got != tt.want {
			t.Errorf("Text(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestLines(t *testing.T) {
	in := "Error: bad file certs/\x1b[2Jx.yaml\n::warning::forged\nIf that run is gone: certplan force-unlock"
	want := "Error: bad file certs/\\x1b[2Jx.yaml\n\\::warning::forged\nIf that run is gone: certplan force-unlock"
	if got := Lines(in); got != want {
		t.Errorf("Lines = %q, want %q", got, want)
	}
	if got := Lines("plain\ntext"); got != "plain\ntext" {
		t.Errorf("Lines(plain) = %q", got)
	}
}

// FuzzText: whatever goes in, nothing that a terminal or the GitHub runner
// interprets comes out.
func FuzzText(f *testing.F) {
	for _, s := range []string{"::warning::x", "a\x1b[31mb", "##[error]", "\u202e", "\xff", " ::x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := Text(s)
		for _, r := range out {
			if r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f) {
				t.Fatalf("Text(%q) = %q holds control character %U", s, out, r)
			}
		}
		if strings.Contains(out, "##[") || strings.HasPrefix(strings.TrimLeft(out, " "), "::") {
			t.Fatalf("Text(%q) = %q holds a workflow command", s, out)
		}
	})
}

func TestWriterKeepsJSONValid(t *testing.T) {
	var b bytes.Buffer
	in := map[string]string{"file": "certs/##[error]forged.yaml", "bidi": "x\u202egnp\u009b\x7f\U000E0041 für"}
	if err := json.NewEncoder(NewWriter(&b)).Encode(in); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "##[") || strings.ContainsAny(b.String(), "\u202e\u009b\x7f\U000E0041") {
		t.Fatalf("output %q still holds the marker", b.String())
	}
	var out map[string]string
	if err := json.Unmarshal(b.Bytes(), &out); err != nil || out["file"] != in["file"] || out["bidi"] != in["bidi"] {
		t.Fatalf("decoded %v, %v; want %v", out, err, in)
	}
}
