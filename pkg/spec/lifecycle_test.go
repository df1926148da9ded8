package spec

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certplan/certplan/pkg/lifecycle"
)

// loadWithIn is loadIn with load options (a planning clock, caps).
func loadWithIn(t *testing.T, opts LoadOptions, files map[string]string) *Result {
	t.Helper()
	dir := t.TempDir()
	files[".git/HEAD"] = "ref: refs/heads/main\n"
	writeTree(t, dir, files)
	t.Chdir(dir)
	res, err := LoadWith([]string{"."}, opts)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// withSpec inserts lines (indented under spec:) before spec.order.
func withSpec(doc string, lines ...string) string {
	var b strings.Builder
	for _, l := range lines {
		b.WriteString("  " + l + "\n")
	}
	return strings.Replace(doc, "  order:\n", b.String()+"  order:\n", 1)
}

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 12, 0, 0, 0, time.UTC) }

// Validation judges renewBefore and cert_validity by the caps in force on
// the planning date, for products with plans only.
func TestLifecycleChecks(t *testing.T) {
	tests := []struct {
		name     string
		now      time.Time
		caps     lifecycle.Caps // nil: the defaults
		product  string
		spec     []string
		order    func(string) string
		want     []string // substrings of the diagnostics about renewBefore and cert_validity
		wantCert bool     // the certificate is valid (no error)
	}{
		{name: "30d under the 199-day cap", now: day(2026, 11, 23), product: "ssl_securesite_flex", wantCert: true},
		{name: "renewBefore as long as the cap", now: day(2026, 11, 23), product: "ssl_securesite_flex",
			spec: []string{"renewBefore: 199d"},
			want: []string{"a.yaml:7:3: spec.renewBefore: renewBefore 199d is as long as the certificate can be (public TLS certificates issued on 2026-11-23 are capped at 199 days)"}},
		{name: "renewBefore longer than the cap", now: day(2027, 4, 1), product: "ssl_securesite_flex",
			spec: []string{"renewBefore: 120d"},
			want: []string{"a.yaml:7:3: spec.renewBefore: renewBefore 120d is as long as the certificate can be (public TLS certificates issued on 2027-04-01 are capped at 99 days)"}},
		{name: "renewBefore fine now, not after the next cut-over", now: day(2026, 11, 23), product: "ssl_securesite_flex",
			spec: []string{"renewBefore: 100d"}, wantCert: true,
			want: []string{"a.yaml:7:3: warning: spec.renewBefore: from 2027-03-15 public TLS certificates are capped at 99 days: renewBefore 100d will then make every run act on this certificate"}},
		{name: "a short order bounds the certificate", now: day(2026, 11, 23), product: "ssl_securesite_flex",
			spec: []string{"renewBefore: 90d"},
			order: func(o string) string {
				return strings.Replace(o, "order_validity: {years: 1}", "order_validity: {days: 90}", 1)
			},
			want: []string{"renewBefore 90d is as long as the certificate can be (the order (order_validity) runs 90 days)"}},
		{name: "caps from the options", now: day(2026, 11, 23), caps: lifecycle.Caps{{Days: 20}}, product: "ssl_securesite_flex",
			want: []string{"a.yaml:5:1: spec.renewBefore: renewBefore 30d is as long as the certificate can be (public TLS certificates issued on 2026-11-23 are capped at 20 days)"}},
		{name: "no caps at all", now: day(2026, 11, 23), caps: lifecycle.Caps{}, product: "ssl_securesite_flex",
			spec: []string{"renewBefore: 300d"}, wantCert: true},
		{name: "cert_validity over the cap is clamped", now: day(2026, 11, 23), product: "ssl_securesite_flex", wantCert: true,
			order: func(o string) string {
				return strings.Replace(o, "  signature_hash: sha256\n", "  signature_hash: sha256\n  cert_validity: {days: 365}\n", 1)
			},
			want: []string{"a.yaml:13:7: warning: spec.order.certificate.cert_validity: asks for 365 days, but public TLS certificates issued on 2026-11-23 are capped at 199 days: CertCentral clamps"}},
		{name: "cert_validity within the cap", now: day(2026, 11, 23), product: "ssl_securesite_flex", wantCert: true,
			order: func(o string) string {
				return strings.Replace(o, "  signature_hash: sha256\n", "  signature_hash: sha256\n  cert_validity: {days: 180}\n", 1)
			}},
		{name: "cert_validity within the cap before the first cut-over", now: day(2026, 1, 10), product: "ssl_securesite_flex", wantCert: true,
			order: func(o string) string {
				return strings.Replace(o, "  signature_hash: sha256\n", "  signature_hash: sha256\n  cert_validity: {days: 365}\n", 1)
			}},
		{name: "private SSL has no caps", now: day(2026, 11, 23), product: "private_ssl_flex",
			spec: []string{"renewBefore: 300d"}, wantCert: true},
	}
	csr, err := os.ReadFile(filepath.Join("testdata", "csr", "rsa2048.csr"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			order := validSecureSite
			if tt.order != nil {
				order = tt.order(order)
			}
			doc := withSpec(certYAML("a", tt.product, order), tt.spec...)
			res := loadWithIn(t, LoadOptions{Now: tt.now, Caps: tt.caps}, map[string]string{"csr.pem": string(csr), "a.yaml": doc})
			var got []string
			for _, d := range res.Diagnostics {
				if d.Path == "spec.renewBefore" || d.Path == "spec.order.certificate.cert_validity" {
					got = append(got, d.String())
				}
			}
			if len(got) != len(tt.want) {
				t.Fatalf("diagnostics %q, want %d like %q (all: %v)", got, len(tt.want), tt.want, diagStrings(res.Diagnostics))
			}
			for i, w := range tt.want {
				if !strings.Contains(got[i], w) {
					t.Errorf("diagnostic %q, want it to contain %q", got[i], w)
				}
			}
			if (len(res.Certificates) == 1) != tt.wantCert {
				t.Errorf("%d certificates, want valid: %v (%v)", len(res.Certificates), tt.wantCert, diagStrings(res.Diagnostics))
			}
		})
	}
}

// auto_renew: 1 is refused where it is written, as alternative_order_id is;
// 0 is fine, and so is auto_reissue: 1.
func TestAutoRenewIsRefused(t *testing.T) {
	csr, err := os.ReadFile(filepath.Join("testdata", "csr", "rsa2048.csr"))
	if err != nil {
		t.Fatal(err)
	}
	res := loadWithIn(t, LoadOptions{Now: day(2026, 11, 23)}, map[string]string{
		"csr.pem": string(csr),
		"a.yaml":  certYAML("a", "ssl_securesite_flex", validSecureSite+"auto_renew: 1\n"),
		"b.yaml":  certYAML("b", "ssl_securesite_flex", validSecureSite+"auto_renew: 0\nauto_reissue: 1\n"),
		"c.yaml":  certYAML("c", "private_ssl_flex", validSecureSite+"auto_renew: 1\n"),
	})
	var got []string
	for _, d := range res.Diagnostics {
		if d.Path == "spec.order.auto_renew" {
			got = append(got, d.String())
		}
	}
	if len(got) != 2 || !strings.HasPrefix(got[0], "a.yaml:15:5: spec.order.auto_renew: auto_renew: 1 lets CertCentral buy a new, billed order") ||
		!strings.HasPrefix(got[1], "c.yaml:15:5: spec.order.auto_renew:") {
		t.Fatalf("auto_renew diagnostics %q (all: %v)", got, diagStrings(res.Diagnostics))
	}
	if len(res.Certificates) != 1 || res.Certificates[0].Name != "b" {
		t.Errorf("valid certificates %v, want only b", res.Certificates)
	}
}

// spec.allowDestructiveReissue reaches the Certificate; it is false by default.
func TestAllowDestructiveReissue(t *testing.T) {
	csr, err := os.ReadFile(filepath.Join("testdata", "csr", "rsa2048.csr"))
	if err != nil {
		t.Fatal(err)
	}
	res := loadWithIn(t, LoadOptions{Now: day(2026, 11, 23)}, map[string]string{
		"csr.pem": string(csr),
		"a.yaml":  withSpec(certYAML("a", "ssl_securesite_flex", validSecureSite), "allowDestructiveReissue: true"),
		"b.yaml":  certYAML("b", "ssl_securesite_flex", validSecureSite),
		"c.yaml":  withSpec(certYAML("c", "ssl_securesite_flex", validSecureSite), "allowDestructiveReissue: yes please"),
	})
	if len(res.Certificates) != 2 || !res.Certificates[0].AllowDestructiveReissue || res.Certificates[1].AllowDestructiveReissue {
		t.Fatalf("certificates %+v (%v)", res.Certificates, diagStrings(res.Diagnostics))
	}
	if !strings.Contains(strings.Join(diagStrings(res.Diagnostics), "\n"), "c.yaml:7:28: spec.allowDestructiveReissue: must be a boolean") {
		t.Errorf("a non-boolean is not reported: %v", diagStrings(res.Diagnostics))
	}
}

// CSRKeyDigest is the sha256 of the DER SubjectPublicKeyInfo, as
// `openssl req -pubkey -noout | openssl pkey -pubin -outform DER | sha256sum`
// computes it; PEM wrapping does not matter; anything else is an error.
func TestCSRKeyDigest(t *testing.T) {
	for name, want := range map[string]string{
		"rsa2048": "a4acc95903185e57345de548a8e33e4d4efe82ba36d56fbc3fd167637ebe8cad",
		"ecp256":  "9541f344db8fe1b95c00562f39ad54725e8c2ab7c937cc59f98ba4e9d7522632",
	} {
		b, err := os.ReadFile(filepath.Join("testdata", "csr", name+".csr"))
		if err != nil {
			t.Fatal(err)
		}
		got, err := CSRKeyDigest(string(b))
		if err != nil || got != want {
			t.Errorf("%s: %q, %v; want %q", name, got, err, want)
		}
		crlf, _ := CSRKeyDigest(strings.ReplaceAll(string(b), "\n", "\r\n"))
		if crlf != want {
			t.Errorf("%s with CRLF: %q", name, crlf)
		}
	}
	for _, bad := range []string{"", "not a csr", "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n"} {
		if d, err := CSRKeyDigest(bad); err == nil {
			t.Errorf("CSRKeyDigest(%q) = %q, want an error", bad, d)
		}
	}
}
