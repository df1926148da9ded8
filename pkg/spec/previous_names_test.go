package spec

import (
	"slices"
	"strings"
	"testing"
)

// metadata.previousNames (#12 item 8): loaded into Certificate.PreviousNames;
// its own name, another manifest's name and an old name two manifests claim
// are errors.
func TestPreviousNames(t *testing.T) {
	withPrev := func(name, prev string) string {
		return strings.Replace(certYAML(name, "ssl_securesite_flex", validSecureSite),
			"  name: "+name+"\n", "  name: "+name+"\n  previousNames: ["+prev+"]\n", 1)
	}
	tests := []struct {
		name  string
		files map[string]string
		want  string // a diagnostic's substring; "" none
	}{
		{name: "a rename", files: map[string]string{"a.yaml": withPrev("shop", "shop-frontend")}},
		{name: "its own name", files: map[string]string{"a.yaml": withPrev("shop", "shop")},
			want: `metadata.previousNames: "shop" is this certificate's own name`},
		{name: "another manifest's name", files: map[string]string{"a.yaml": withPrev("shop", "api"), "b.yaml": certYAML("api", "ssl_securesite_flex", validSecureSite)},
			want: `metadata.previousNames: "api" is the name of another certificate (b.yaml:1:1)`},
		{name: "claimed twice", files: map[string]string{"a.yaml": withPrev("shop", "old"), "b.yaml": withPrev("web", "old")},
			want: `metadata.previousNames: "old" is also a previous name of shop`},
		{name: "not a name", files: map[string]string{"a.yaml": withPrev("shop", "Old_1")}, want: "metadata.previousNames"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			files := map[string]string{"csr.pem": "@csr:rsa2048.csr"}
			for k, v := range tt.files {
				files[k] = v
			}
			writeTree(t, dir, files)
			t.Chdir(dir)
			res, err := Load([]string{"."})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, d := range res.Diagnostics {
				got = append(got, d.String())
			}
			if tt.want == "" {
				if res.HasErrors() {
					t.Fatalf("diagnostics %q", got)
				}
				if c := res.Certificates[0]; !slices.Equal(c.PreviousNames, []string{"shop-frontend"}) {
					t.Errorf("PreviousNames = %q", c.PreviousNames)
				}
				return
			}
			if !slices.ContainsFunc(got, func(s string) bool { return strings.Contains(s, tt.want) }) {
				t.Errorf("diagnostics %q, want one with %q", got, tt.want)
			}
		})
	}
}
