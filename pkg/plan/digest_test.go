package plan

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"regexp"
	"strings"
	"testing"
	"testing/quick"

	"github.com/certplan/certplan/pkg/spec"
)

func TestSpecDigest(t *testing.T) {
	base := SpecDigest(tlsCert("a"))
	if !regexp.MustCompile(`^sha256:[0-9a-f]{64}$`).MatchString(base) {
		t.Fatalf("SpecDigest = %q, want sha256:<64 hex>", base)
	}
	tests := []struct {
		name    string
		edit    func(c *spec.Certificate)
		changes bool
	}{
		{"nothing", func(c *spec.Certificate) {}, false},
		{"comments", func(c *spec.Certificate) { c.Order["comments"] = "other" }, false},
		{"payment by card", func(c *spec.Certificate) { withCard(c.Order) }, false},
		{"notification emails", func(c *spec.Certificate) { c.Order["additional_emails"] = []any{"x@example.com"} }, false},
		{"server platform", func(c *spec.Certificate) { setPath("certificate.server_platform.id", 2)(c.Order) }, false},
		{"renewBefore", func(c *spec.Certificate) { c.RenewBefore = 1 }, false},
		{"labels", func(c *spec.Certificate) { c.Labels = map[string]string{"team": "x"} }, false},
		{"a number as int64 instead of int", func(c *spec.Certificate) { setPath("order_validity.years", int64(1))(c.Order) }, false},
		{"common name", setCN("b.example.com"), true},
		{"dns names: another name", func(c *spec.Certificate) {
			setPath("certificate.dns_names", []any{"other.example.com"})(c.Order)
		}, true},
		{"dns names: order, case and duplicates do not matter", func(c *spec.Certificate) {
			names := c.Order["certificate"].(map[string]any)["dns_names"].([]any)
			respelled := []any{}
			for i := len(names) - 1; i >= 0; i-- {
				respelled = append(respelled, strings.ToUpper(names[i].(string)), names[i])
			}
			setPath("certificate.dns_names", respelled)(c.Order)
		}, false},
		{"common name case", func(c *spec.Certificate) {
			cn := c.Order["certificate"].(map[string]any)["common_name"].(string)
			setPath("certificate.common_name", strings.ToUpper(cn))(c.Order)
		}, false},
		{"documented default spelled out (disable_ct: false)", func(c *spec.Certificate) { c.Order["disable_ct"] = false }, false},
		{"disable_ct: true", func(c *spec.Certificate) { c.Order["disable_ct"] = true }, true},
		{"csr", func(c *spec.Certificate) { setPath("certificate.csr", csrPEM("other"))(c.Order) }, true},
		{"signature hash", func(c *spec.Certificate) { setPath("certificate.signature_hash", "sha384")(c.Order) }, true},
		{"order validity: the Multi-year Plan, not the certificate", func(c *spec.Certificate) { setPath("order_validity.years", 2)(c.Order) }, false},
		{"cert validity", func(c *spec.Certificate) { setPath("certificate.cert_validity.days", 200)(c.Order) }, true},
		{"organization", func(c *spec.Certificate) { setPath("organization.id", 7)(c.Order) }, true},
		{"product", func(c *spec.Certificate) { c.Product = spec.PrivateSSLFlex }, true},
		{"shaping field removed", func(c *spec.Certificate) { delete(c.Order["certificate"].(map[string]any), "dns_names") }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tlsCert("a")
			tt.edit(c)
			if got := SpecDigest(c) != base; got != tt.changes {
				t.Errorf("digest changed = %v, want %v", got, tt.changes)
			}
		})
	}
}

func TestSpecDigestIgnoresName(t *testing.T) {
	a, b := tlsCert("a"), tlsCert("a")
	b.Name = "b"
	if SpecDigest(a) != SpecDigest(b) {
		t.Error("the spec digest depends on the name; the key adds the name itself")
	}
}

func TestRequestDigest(t *testing.T) {
	c := tlsCert("a", withCard)
	d := RequestDigest(c.Order)
	if !strings.HasPrefix(d, "sha256:") || len(d) != 71 {
		t.Fatalf("RequestDigest = %q", d)
	}
	// The digest of the body read back from a file (secrets as "(sensitive)",
	// numbers as json.Number) equals the digest of the in-memory body.
	if got := RequestDigest(roundTrip(t, c.Order)); got != d {
		t.Errorf("digest after a JSON round trip = %s, want %s", got, d)
	}
	c.Order["comments"] = "other"
	if RequestDigest(c.Order) == d {
		t.Error("request digest ignores a comment")
	}
	// A secret's value never reaches the digest: only its rendering does.
	c2 := tlsCert("a", withCard)
	c2.Order["credit_card"].(map[string]any)["number"] = spec.Secret{Ref: spec.SecretRef{Env: "OTHER"}}
	if RequestDigest(c2.Order) != d {
		t.Error("request digest depends on the secret reference")
	}
}

var keyPattern = regexp.MustCompile(`^[a-z0-9]{64}$`)

func TestAlternativeOrderIDFormatAndVector(t *testing.T) {
	got := AlternativeOrderID("shop", spec.SecureSiteFlex, "sha256:00", "initial")
	if !keyPattern.MatchString(got) || !strings.HasPrefix(got, "cp") {
		t.Fatalf("key %q is not cp + 62 lowercase hex", got)
	}
	// printf 'shop\0ssl_securesite_flex\0sha256:00\0initial' | sha256sum | cut -c1-62
	if want := "cp2a3f75417f7f44b90097822997f3f69a84db0d648406d036b7d20501711f13"; got != want {
		t.Errorf("key = %s, want %s", got, want)
	}
}

// The key is exactly the documented hash of its four inputs.
func TestAlternativeOrderIDMatchesDefinition(t *testing.T) {
	f := func(name, product, digest, pred string) bool {
		got := AlternativeOrderID(name, spec.Product(product), digest, pred)
		want := "cp" + hexSHA256(name + "\x00" + product + "\x00" + digest + "\x00" + pred)[:62]
		return got == want && keyPattern.MatchString(got)
	}
	if err := quick.Check(f, nil); err != nil {
		t.Error(err)
	}
}

// Keys are stable, and differ when any of their inputs differs.
func TestAlternativeOrderIDStableAndDistinct(t *testing.T) {
	f := func(name, digest string, pred int64, other string) bool {
		if pred < 0 {
			pred = -pred
		}
		k := AlternativeOrderID(name, spec.SecureSiteFlex, digest, predecessorKey(pred))
		if k != AlternativeOrderID(name, spec.SecureSiteFlex, digest, predecessorKey(pred)) {
			return false
		}
		diff := []string{}
		if other != name {
			diff = append(diff, AlternativeOrderID(other, spec.SecureSiteFlex, digest, predecessorKey(pred)))
		}
		if other != digest {
			diff = append(diff, AlternativeOrderID(name, spec.SecureSiteFlex, other, predecessorKey(pred)))
		}
		diff = append(diff,
			AlternativeOrderID(name, spec.PrivateSSLFlex, digest, predecessorKey(pred)),
			AlternativeOrderID(name, spec.SecureSiteFlex, digest, predecessorKey(pred+1)),
		)
		for _, d := range diff {
			if d == k {
				return false
			}
		}
		return true
	}
	if err := quick.Check(f, nil); err != nil {
		t.Error(err)
	}
	// The separator keeps ("ab", "c") and ("a", "bc") apart.
	if AlternativeOrderID("ab", "c", "d", "initial") == AlternativeOrderID("a", "bc", "d", "initial") {
		t.Error("fields run together")
	}
	if predecessorKey(0) != "initial" || predecessorKey(1234) != "1234" {
		t.Errorf("predecessorKey: %q %q", predecessorKey(0), predecessorKey(1234))
	}
}

func hexSHA256(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func TestSpecDigestCSRIsItsDER(t *testing.T) {
	read := func(name string) string {
		b, err := os.ReadFile("../../examples/csr/" + name)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	shop := read("shop-frontend.csr")
	withCSR := func(pemText string) string {
		c := tlsCert("a")
		setPath("certificate.csr", pemText)(c.Order)
		return SpecDigest(c)
	}
	if withCSR(shop) != withCSR(strings.ReplaceAll(shop, "\n", "\r\n")+"\n") {
		t.Error("re-wrapping the same CSR (CRLF, trailing newline) changed the digest")
	}
	if withCSR(shop) == withCSR(read("api-gateway.csr")) {
		t.Error("a different CSR did not change the digest")
	}
}
