package spec

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestCertValidityMustFitTheOrder(t *testing.T) {
	tests := []struct {
		name, orderValidity, certValidity string
		wantErr                           bool
	}{
		{"397 days in a 1-year order", "{years: 1}", "{days: 397}", true},
		{"1 year in a 1-year order", "{years: 1}", "{years: 1}", false},
		{"397 days in a 2-year order", "{years: 2}", "{days: 397}", false},
		{"days win over years", "{years: 3, days: 200}", "{days: 300}", true},
		{"custom dates are not compared", "{custom_expiration_date: 09 JUN 2027}", "{days: 397}", false},
		{"a year of order may hold a leap day", "{years: 1}", "{days: 366}", false},
		{"two years of certificate in one of order", "{years: 1}", "{days: 367}", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			order := strings.Replace(validSecureSite, "order_validity: {years: 1}", "order_validity: "+tt.orderValidity, 1)
			order = strings.Replace(order, "  signature_hash: sha256\n", "  signature_hash: sha256\n  cert_validity: "+tt.certValidity+"\n", 1)
			res := loadIn(t, map[string]string{"csr.pem": "@csr:rsa2048.csr", "a.yaml": certYAML("a", "ssl_securesite_flex", order)})
			var got []string
			for _, d := range res.Diagnostics {
				if strings.Contains(d.Message, "cannot exceed order_validity") {
					got = append(got, d.String())
				}
			}
			if (len(got) == 1) != tt.wantErr {
				t.Fatalf("validity diagnostics = %v, want error: %v (all: %v)", got, tt.wantErr, diagStrings(res.Diagnostics))
			}
			if tt.wantErr && !strings.HasPrefix(got[0], "a.yaml:13:7:") {
				t.Errorf("reported at %s, want the cert_validity key (a.yaml:13:7)", got[0])
			}
		})
	}
}

func TestProjectDir(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		"repo/.git/HEAD":         "ref: refs/heads/main\n",
		"repo/certplan.yaml":     "apiVersion: certplan/v1\n",
		"repo/certs/team/a.yaml": "x: 1\n",
		"bare/.git/HEAD":         "ref: refs/heads/main\n",
		"bare/certs/b.yaml":      "x: 1\n",
		"certplan.yaml":          "above the repository: never used\n",
		"repo/sub/certplan.yaml": "apiVersion: certplan/v1\n",
		"repo/sub/certs/c.yaml":  "x: 1\n",
	})
	tests := []struct {
		path, want string
		ok         bool
	}{
		{"repo/certs/team", "repo", true},
		{"repo/certs/team/a.yaml", "repo", true},
		{"repo", "repo", true},
		{"repo/sub/certs", "repo/sub", true}, // the nearest wins
		{"bare/certs", "", false},            // stops at the Git root
		{"missing", "", false},
	}
	t.Chdir(dir)
	for _, tt := range tests {
		got, ok := ProjectDir(tt.path)
		if ok != tt.ok || filepath.ToSlash(got) != tt.want {
			t.Errorf("ProjectDir(%s) = %q, %v; want %q, %v", tt.path, got, ok, tt.want, tt.ok)
		}
	}
}
