package spec

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestLoadBuildsCertificates(t *testing.T) {
	manifest := "# leading comment\n" + certYAML("zeta", "ssl_securesite_flex", validSecureSite+`payment_method: card
credit_card:
  number: {env: CARD_NUMBER}
  cvv: {file: ../secrets/cvv}
  expiration_month: 12
  expiration_year: {env: CARD_YEAR}
  cardholder_name: A B
billing_address: {address: x, city: y, country: us}
`)
	manifest = strings.Replace(manifest, "  name: zeta\n", "  name: zeta\n  labels: {team: web}\n", 1)
	manifest = strings.Replace(manifest, "spec:\n", "spec:\n  renewBefore: 1d12h\n", 1)
	files := map[string]string{
		"certs/csr.pem": "@csr:rsa2048.csr",
		"certs/z.yaml":  manifest,
		"certs/a.yaml":  certYAML("alpha", "ssl_securesite_flex", validSecureSite),
	}
	res := loadIn(t, files)
	if res.HasErrors() || len(res.Diagnostics) != 0 {
		t.Fatalf("diagnostics: %v", diagStrings(res.Diagnostics))
	}
	if got := []string{res.Certificates[0].Name, res.Certificates[1].Name}; !cmp.Equal(got, []string{"alpha", "zeta"}) {
		t.Fatalf("certificates %v, want sorted by name", got)
	}
	z := res.Certificates[1]
	wd, _ := os.Getwd()
	csrPEM, _ := os.ReadFile("certs/csr.pem")
	if z.Product != SecureSiteFlex || z.RenewBefore != 36*time.Hour || !cmp.Equal(z.Labels, map[string]string{"team": "web"}) {
		t.Errorf("got product %q renewBefore %v labels %v", z.Product, z.RenewBefore, z.Labels)
	}
	if z.Pos != (Pos{File: "certs/z.yaml", Line: 2, Col: 1}) {
		t.Errorf("Pos = %v, want the document's first key", z.Pos)
	}
	if res.Certificates[0].RenewBefore != DefaultRenewBefore {
		t.Errorf("default renewBefore = %v, want %v", res.Certificates[0].RenewBefore, DefaultRenewBefore)
	}
	want := map[string]any{
		"certificate": map[string]any{
			"common_name":    "shop.example.com",
			"dns_names":      []any{"www.shop.example.com"},
			"csr":            string(csrPEM),
			"signature_hash": "sha256",
		},
		"order_validity": map[string]any{"years": 1},
		"organization":   map[string]any{"id": 1},
		"payment_method": "card",
		"credit_card": map[string]any{
			"number":           Secret{Ref: SecretRef{Env: "CARD_NUMBER"}},
			"cvv":              Secret{Ref: SecretRef{File: filepath.Join(wd, "secrets/cvv")}},
			"expiration_month": 12,
			"expiration_year":  Secret{Ref: SecretRef{Env: "CARD_YEAR"}},
			"cardholder_name":  "A B",
		},
		"billing_address": map[string]any{"address": "x", "city": "y", "country": "us"},
	}
	if diff := cmp.Diff(want, z.Order); diff != "" {
		t.Errorf("Order (-want +got):\n%s", diff)
	}
	body, err := json.Marshal(z.Order)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(body), "CARD_NUMBER") || !strings.Contains(string(body), `"number":"(sensitive)"`) {
		t.Errorf("order JSON leaks or misses the secret marker: %s", body)
	}

	wantFiles := []string{"certs/a.yaml", "certs/z.yaml"}
	if diff := cmp.Diff(wantFiles, res.Files); diff != "" {
		t.Errorf("Files (-want +got):\n%s", diff)
	}
	for _, f := range wantFiles {
		data, _ := os.ReadFile(f)
		sum := sha256.Sum256(data)
		if got := res.FileDigests[f]; got != hex.EncodeToString(sum[:]) {
			t.Errorf("FileDigests[%s] = %q", f, got)
		}
		if d, err := FileDigest(f); err != nil || d != res.FileDigests[f] {
			t.Errorf("FileDigest(%s) = %q, %v; want %q", f, d, err, res.FileDigests[f])
		}
	}
}

func TestLiteralSecretsNeverReachDiagnostics(t *testing.T) {
	const number, cvv = "4111111111111111", "7373"
	files := map[string]string{
		"csr.pem": "@csr:rsa2048.csr",
		"a.yaml": certYAML("shop", "ssl_securesite_flex", validSecureSite+`payment_method: card
credit_card:
  number: {env: "`+number+`"}
  cvv: [`+cvv+`]
  expiration_month: 1
  expiration_year: 2030
  cardholder_name: A B
billing_address: {address: x, city: y, country: us}
`),
		"b.yaml": certYAML("shop-b", "ssl_securesite_flex", validSecureSite+`payment_method: card
credit_card:
  number: `+number+`
  cvv: "`+cvv+`"
`),
	}
	res := loadIn(t, files)
	if !res.HasErrors() {
		t.Fatal("want errors")
	}
	for _, d := range res.Diagnostics {
		if strings.Contains(d.String(), number) || strings.Contains(d.String(), cvv) {
			t.Errorf("diagnostic leaks a secret: %s", d)
		}
	}
}

func TestLoadErrors(t *testing.T) {
	if _, err := Load([]string{filepath.Join(t.TempDir(), "missing")}); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("Load(missing) error = %v, want a not-found error", err)
	}
	if _, err := Load(nil); err == nil {
		t.Error("Load(nil) succeeded, want an error")
	}
}

func TestAliasBomb(t *testing.T) {
	bomb := `a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
`
	res := loadIn(t, map[string]string{"bomb.yaml": bomb})
	want := "YAML aliases expand to more than 10000 nodes"
	if len(res.Diagnostics) != 1 || !strings.Contains(res.Diagnostics[0].Message, want) {
		t.Fatalf("diagnostics %v, want one containing %q", diagStrings(res.Diagnostics), want)
	}

	// Aliases within the budget are expanded like the values they name.
	small := "apiVersion: &v certplan/v1\nkind: Defaults\nspec:\n  order:\n    comments: *v\n"
	res = loadIn(t, map[string]string{"ok.yaml": small})
	if len(res.Diagnostics) != 0 {
		t.Errorf("small alias: %v", diagStrings(res.Diagnostics))
	}
}
