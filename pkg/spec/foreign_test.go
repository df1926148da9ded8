package spec

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// A document with spec.product or spec.order is a certplan manifest however
// its apiVersion and kind are spelled: skipping it as "other YAML" would
// orphan its certificate and never renew it. Documents of other tools
// (cert-manager's Certificate, Kubernetes objects, CI pipelines) are skipped.
func TestMisspelledManifestIsNotSkipped(t *testing.T) {
	typo := strings.NewReplacer("apiVersion:", "apiVerison:", "kind:", "knd:").Replace(
		certYAML("shop", "ssl_securesite_flex", validSecureSite))
	res := loadIn(t, map[string]string{
		"csr.pem":         "@csr:rsa2048.csr",
		"certs/typo.yaml": typo,
		"certs/value-typo.yaml": strings.Replace(certYAML("api", "ssl_securesite_flex", validSecureSite),
			"apiVersion: certplan/v1\nkind: Certificate", "apiVersion: certplan.io/v1\nkind: Certficate", 1),
		"certs/cert-manager.yaml": "apiVersion: cert-manager.io/v1\nkind: Certificate\nmetadata: {name: shop}\n" +
			"spec:\n  secretName: shop-tls\n  dnsNames: [shop.example.com]\n  issuerRef: {name: letsencrypt}\n",
		"certs/configmap.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: {a: b}\n",
		"certs/.drone.yml":     "kind: pipeline\ntype: docker\nname: default\nsteps: [{name: test, image: golang}]\n",
	})
	wantSkipped := []string{"certs/.drone.yml", "certs/cert-manager.yaml", "certs/configmap.yaml"}
	if diff := cmp.Diff(wantSkipped, res.Skipped); diff != "" {
		t.Errorf("Skipped (-want +got):\n%s", diff)
	}
	got := strings.Join(diagStrings(res.Diagnostics), "\n")
	for _, want := range []string{
		`certs/typo.yaml:1:1: unknown field "apiVerison" (did you mean "apiVersion"?)`,
		`certs/typo.yaml:2:1: unknown field "knd" (did you mean "kind"?)`,
		`certs/value-typo.yaml:1:13: apiVersion: must be "certplan/v1", got "certplan.io/v1"`,
		`certs/value-typo.yaml:2:7: kind: must be one of: Certificate, Defaults`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("diagnostics lack %q; got:\n%s", want, got)
		}
	}
	if res.Manifests != 2 || len(res.Certificates) != 0 {
		t.Errorf("%d manifests, %d valid certificates; want 2 and 0", res.Manifests, len(res.Certificates))
	}
}

// An unknown field that is a misspelling of a missing required one is
// reported once, where it is written, with the right name.
func TestMisspelledFieldReplacesMissing(t *testing.T) {
	doc := strings.Replace(certYAML("shop", "ssl_securesite_flex", validSecureSite), "order_validity:", "order_valdity:", 1)
	res := loadIn(t, map[string]string{"csr.pem": "@csr:rsa2048.csr", "a.yaml": doc})
	want := []string{`a.yaml:13:5: spec.order: unknown field "order_valdity" (did you mean "order_validity"?)`}
	if diff := cmp.Diff(want, diagStrings(res.Diagnostics)); diff != "" {
		t.Errorf("diagnostics (-want +got):\n%s", diff)
	}
}
