package spec

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// TestLoadRules checks each loading and validation rule by the exact
// diagnostics it produces.
func TestLoadRules(t *testing.T) {
	csr := map[string]string{"csr.pem": "@csr:rsa2048.csr"}
	with := func(extra map[string]string) map[string]string {
		out := map[string]string{}
		for k, v := range csr {
			out[k] = v
		}
		for k, v := range extra {
			out[k] = v
		}
		return out
	}
	tests := []struct {
		name  string
		files map[string]string
		paths []string // default "."
		want  []string
	}{
		{
			name:  "valid manifest",
			files: with(map[string]string{"a.yaml": certYAML("shop", "ssl_securesite_flex", validSecureSite)}),
		},
		{
			name: "value out of range",
			files: with(map[string]string{"a.yaml": certYAML("shop", "ssl_securesite_flex",
				strings.Replace(validSecureSite, "{years: 1}", "{years: 5}", 1))}),
			want: []string{"a.yaml:13:29: spec.order.order_validity.years: must be <= 3, got 5"},
		},
		{
			name: "unknown field points at the key",
			files: with(map[string]string{"a.yaml": certYAML("shop", "ssl_securesite_flex",
				validSecureSite+"foo: bar\n")}),
			want: []string{`a.yaml:15:5: spec.order: unknown field "foo"`},
		},
		{
			name: "missing field points at the parent",
			files: with(map[string]string{"a.yaml": certYAML("shop", "ssl_securesite_flex",
				strings.Replace(validSecureSite, "  csr: {file: csr.pem}\n", "", 1))}),
			want: []string{`a.yaml:8:5: spec.order.certificate: missing required field "csr"`},
		},
		{
			name: "enum",
			files: with(map[string]string{"a.yaml": certYAML("shop", "ssl_securesite_flex",
				strings.Replace(validSecureSite, "sha256", "md5", 1))}),
			want: []string{"a.yaml:12:23: spec.order.certificate.signature_hash: must be one of: sha256, sha384, sha512"},
		},
		{
			name: "wrong type",
			files: with(map[string]string{"a.yaml": certYAML("shop", "ssl_securesite_flex",
				strings.Replace(validSecureSite, "{id: 1}", "{id: one}", 1))}),
			want: []string{`a.yaml:14:24: spec.order.organization.id: must be an integer, got "one"`},
		},
		{
			name: "anyOf of required fields names the alternatives",
			files: with(map[string]string{"a.yaml": certYAML("shop", "ssl_securesite_flex",
				strings.Replace(validSecureSite, "{years: 1}", "{}", 1))}),
			want: []string{`a.yaml:13:5: spec.order.order_validity: missing required field: one of "years", "days" or "custom_expiration_date"`},
		},
		{
			name: "every problem of a run is reported",
			files: with(map[string]string{
				"a.yaml": certYAML("shop", "ssl_securesite_flex", strings.Replace(validSecureSite, "{years: 1}", "{years: 0}", 1)),
				"b.yaml": certYAML("Bad", "ssl_securesite_flex", strings.Replace(validSecureSite, "sha256", "sha1", 1)),
			}),
			want: []string{
				"a.yaml:13:29: spec.order.order_validity.years: must be >= 1, got 0",
				`b.yaml:4:9: metadata.name: must match ^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$, got "Bad" (Unique name of the certificate across all manifests: lower-case letters, digits and dashes, 1 to 63 characters, starting and ending with a letter or digit)`,
				"b.yaml:12:23: spec.order.certificate.signature_hash: must be one of: sha256, sha384, sha512",
			},
		},
		{
			name: "alternative_order_id is owned by certplan",
			files: with(map[string]string{"a.yaml": certYAML("shop", "ssl_securesite_flex",
				validSecureSite+"alternative_order_id: mine\n")}),
			want: []string{"a.yaml:15:5: spec.order.alternative_order_id: certplan owns alternative_order_id: it derives one per intended order (from the name, product, spec and the order it replaces) and uses it as the idempotency key, so no retry orders twice; remove the field"},
		},
		{
			name: "literal card number and cvv",
			files: with(map[string]string{"a.yaml": certYAML("shop", "ssl_securesite_flex", validSecureSite+`payment_method: card
credit_card:
  number: "4111111111111111"
  cvv: 737
  expiration_month: 12
  expiration_year: 2030
  cardholder_name: A B
billing_address: {address: x, city: y, country: us}
`)}),
			want: []string{
				"a.yaml:17:15: spec.order.credit_card.number: a literal card number is not allowed in a manifest; use {env: NAME} or {file: PATH} and keep the value out of Git",
				"a.yaml:18:12: spec.order.credit_card.cvv: a literal CVV is not allowed in a manifest; use {env: NAME} or {file: PATH} and keep the value out of Git",
			},
		},
		{
			name: "renewal fields warn",
			files: with(map[string]string{"a.yaml": certYAML("shop", "ssl_securesite_flex",
				validSecureSite+"renewal_of_order_id: 12\nrenewed_thumbprint: \"0123456789012345678901234567890123456789\"\n")}),
			want: []string{
				"a.yaml:15:5: warning: spec.order.renewal_of_order_id: certplan sets renewal_of_order_id itself when it plans a renewal; set renewal_of_order_id only to renew an order that certplan did not place",
				"a.yaml:16:5: warning: spec.order.renewed_thumbprint: certplan sets renewal_of_order_id itself when it plans a renewal; set renewed_thumbprint only to renew an order that certplan did not place",
			},
		},
		{
			name: "deprecated field warns",
			files: with(map[string]string{"a.yaml": certYAML("shop", "ssl_securesite_flex",
				validSecureSite+"validity_years: 1\n")}),
			want: []string{"a.yaml:15:5: warning: spec.order.validity_years: deprecated field: use order_validity (and certificate.cert_validity)"},
		},
		{
			name: "deprecated only where the product's schema says so",
			files: with(map[string]string{"a.yaml": certYAML("shop", "private_ssl_flex",
				strings.Replace(validSecureSite, "  signature_hash: sha256\n", "  signature_hash: sha256\n  organization_units: [IT]\n", 1))}),
		},
		{
			name: "duplicate names across files name both places",
			files: with(map[string]string{
				"a.yaml":      certYAML("shop", "ssl_securesite_flex", validSecureSite),
				"sub/b.yaml":  certYAML("shop", "ssl_securesite_flex", validSecureSite),
				"sub/csr.pem": "@csr:rsa2048.csr",
			}),
			want: []string{`sub/b.yaml:4:9: metadata.name: duplicate name "shop": also defined at a.yaml:4:9; names must be unique across all manifests`},
		},
		{
			name: "CSR names differ",
			files: with(map[string]string{"a.yaml": certYAML("shop", "ssl_securesite_flex",
				strings.Replace(validSecureSite, "[www.shop.example.com]", "[shop2.example.com]", 1))}),
			want: []string{"a.yaml:11:12: warning: spec.order.certificate.csr: CSR names differ from common_name/dns_names (in the CSR only: www.shop.example.com; in the manifest only: shop2.example.com); the certificate gets the manifest's names"},
		},
		{
			name: "CSR with a weak key",
			files: map[string]string{
				"csr.pem": "@csr:rsa1024.csr",
				"a.yaml":  certYAML("shop", "ssl_securesite_flex", validSecureSite),
			},
			want: []string{"a.yaml:11:12: spec.order.certificate.csr: CSR key is RSA 1024 bits; use RSA with 2048 bits or more, or ECDSA P-256 or P-384"},
		},
		{
			name:  "CSR file missing",
			files: map[string]string{"a.yaml": certYAML("shop", "ssl_securesite_flex", validSecureSite)},
			want:  []string{"a.yaml:11:12: spec.order.certificate.csr: cannot read CSR file csr.pem: no such file or directory"},
		},
		{
			name: "inline CSR that is not PEM replaces the schema's pattern error",
			files: map[string]string{"a.yaml": certYAML("shop", "ssl_securesite_flex",
				strings.Replace(validSecureSite, "{file: csr.pem}", "not a csr", 1))},
			want: []string{"a.yaml:11:12: spec.order.certificate.csr: not a PEM certificate signing request: no -----BEGIN CERTIFICATE REQUEST----- block found"},
		},
		{
			name: "CSR path is relative to the manifest",
			files: map[string]string{
				"csr/shop.csr":    "@csr:rsa2048.csr",
				"certs/a.yaml":    certYAML("shop", "ssl_securesite_flex", strings.Replace(validSecureSite, "csr.pem", "../csr/shop.csr", 1)),
				"notes/readme.md": "not yaml",
			},
		},
		{
			name: "legacy CSR and sans",
			files: with(map[string]string{"a.yaml": certYAML("www", "legacy_ssl", `csr: {file: csr.pem}
validity: 1
common_name: shop.example.com
sans: [www.example.com]
org_name: Example
org_addr1: 1 Road
org_city: Lehi
org_state: UT
org_zip: "84043"
org_country: us
org_contact_firstname: A
org_contact_lastname: B
org_contact_email: a@example.com
org_contact_telephone: "801-555-0100"
`)}),
			want: []string{"a.yaml:8:10: warning: spec.order.csr: CSR names differ from common_name/sans (in the CSR only: www.shop.example.com; in the manifest only: www.example.com); the certificate gets the manifest's names"},
		},
		{
			name:  "kind and apiVersion",
			files: map[string]string{"a.yaml": "apiVersion: certplan/v2\nkind: Certificat\nspec: {}\n"},
			want: []string{
				`a.yaml:1:13: apiVersion: must be "certplan/v1", got "certplan/v2"`,
				"a.yaml:2:7: kind: must be one of: Certificate, Defaults",
			},
		},
		{
			name:  "a document that is not a mapping",
			files: map[string]string{"a.yaml": "- a\n- b\n"},
			want:  []string{"a.yaml:1:1: a manifest document must be a mapping with apiVersion, kind, metadata and spec; got a list"},
		},
		{
			name: "several documents per file, empty ones skipped",
			files: with(map[string]string{"a.yaml": "---\n" + certYAML("one", "ssl_securesite_flex", validSecureSite) + "---\n---\n" +
				certYAML("two", "ssl_securesite_flex", strings.Replace(validSecureSite, "{years: 1}", "{years: 9}", 1))}),
			want: []string{"a.yaml:30:29: spec.order.order_validity.years: must be <= 3, got 9"},
		},
		{
			name:  "empty file named on the command line",
			files: map[string]string{"a.yaml": "# nothing\n"},
			paths: []string{"a.yaml"},
			want:  []string{"a.yaml: warning: no YAML documents in this file"},
		},
		{
			name:  "other YAML named on the command line is checked",
			files: map[string]string{"ci.yml": "stages: [test]\n"},
			paths: []string{"ci.yml"},
			want: []string{
				`ci.yml:1:1: missing required field "apiVersion"`,
				`ci.yml:1:1: missing required field "kind"`,
				`ci.yml:1:1: missing required field "spec"`,
				`ci.yml:1:1: unknown field "stages"`,
			},
		},
		{
			name:  "a document without apiVersion next to manifests is checked",
			files: with(map[string]string{"a.yaml": certYAML("shop", "ssl_securesite_flex", validSecureSite) + "---\nname: x\n"}),
			want: []string{
				`a.yaml:16:1: missing required field "apiVersion"`,
				`a.yaml:16:1: missing required field "kind"`,
				`a.yaml:16:1: missing required field "spec"`,
				`a.yaml:16:1: unknown field "name"`,
			},
		},
		{
			name:  "duplicate keys",
			files: with(map[string]string{"a.yaml": certYAML("shop", "ssl_securesite_flex", validSecureSite+"organization: {id: 2}\n")}),
			want:  []string{`a.yaml:15:5: spec.order.organization: duplicate key "organization" (first at line 14)`},
		},
		{
			name:  "YAML syntax error",
			files: map[string]string{"a.yaml": "apiVersion: certplan/v1\nkind: [Certificate\n"},
			want:  []string{"a.yaml:2:7: invalid YAML: did not find expected ',' or ']'"}, // at the "[" left open
		},
		{
			name:  "non-UTF-8",
			files: map[string]string{"a.yaml": "apiVersion: certplan/v1\nkind: Cert\xffificate\n"},
			want:  []string{"a.yaml:2:11: not valid UTF-8 (byte 0xff); save the file as UTF-8"},
		},
		{
			name:  "file over 1 MiB",
			files: map[string]string{"a.yaml": "# " + strings.Repeat("x", MaxFileSize) + "\n"},
			want:  []string{"a.yaml: file is larger than 1 MiB; split it into one manifest per certificate"},
		},
		{
			name:  "merge keys are refused",
			files: map[string]string{"a.yaml": "base: &b {x: 1}\nother:\n  <<: *b\n"},
			want: []string{
				"a.yaml:1:1: missing required field \"apiVersion\"",
				"a.yaml:1:1: missing required field \"kind\"",
				"a.yaml:1:1: missing required field \"spec\"",
				`a.yaml:1:1: unknown field "base"`,
				`a.yaml:2:1: unknown field "other"`,
				"a.yaml:3:3: other: YAML merge keys (<<) are not supported; share fields with a kind: Defaults document",
			},
		},
		{
			name:  "custom tags are refused",
			files: map[string]string{"a.yaml": "apiVersion: !vault certplan/v1\nkind: Defaults\nspec: {}\n"},
			want:  []string{"a.yaml:1:13: apiVersion: unsupported YAML tag !vault"},
		},
		{
			name:  "nesting too deep",
			files: map[string]string{"a.yaml": "a: " + strings.Repeat("[", 100) + strings.Repeat("]", 100) + "\n"},
			want:  []string{"a.yaml:1:68: a[0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0]: nested deeper than 64 levels"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := loadIn(t, tt.files, tt.paths...)
			if diff := cmp.Diff(tt.want, diagStrings(res.Diagnostics), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("diagnostics (-want +got):\n%s", diff)
			}
			if !res.HasErrors() && len(res.Certificates) != res.Manifests {
				t.Errorf("no errors but %d of %d certificates built", len(res.Certificates), res.Manifests)
			}
		})
	}
}

// Hostile sizes stay linear: a mapping with tens of thousands of keys in one
// file (just under the 1 MiB limit) is reported key by key. The test timeout
// would catch quadratic behaviour (each key costing a scan of the others).
func TestHugeMapping(t *testing.T) {
	var b strings.Builder
	b.WriteString("apiVersion: certplan/v1\nkind: Defaults\nspec:\n  order:\n    comments: x\n")
	n := 0
	for b.Len() < MaxFileSize-64 {
		fmt.Fprintf(&b, "k%d: 1\n", n)
		n++
	}
	res := loadIn(t, map[string]string{"big.yaml": b.String()})
	unknown := 0
	for _, d := range res.Diagnostics {
		if strings.HasPrefix(d.Message, "unknown field") {
			unknown++
		}
	}
	if unknown != n {
		t.Errorf("got %d unknown-field diagnostics, want %d", unknown, n)
	}
}

// YAML files found in a directory that are not manifests (no document has
// apiVersion or kind: CI pipelines, empty files) are skipped and listed.
func TestForeignYAMLIsSkipped(t *testing.T) {
	res := loadIn(t, map[string]string{
		"csr.pem":          "@csr:rsa2048.csr",
		"a.yaml":           certYAML("shop", "ssl_securesite_flex", validSecureSite),
		"ci/pipeline.yml":  "stages: [test]\njobs:\n  - run: make\n",
		"ci/empty.yaml":    "# nothing yet\n",
		"ci/compose.yaml":  "services: {web: {image: x}}\n---\nversion: 3\n",
		"ci/broken.yaml":   "a: [unclosed\n",
		"ci/dupe-keys.yml": "a: 1\na: 2\n",
	})
	wantSkipped := []string{"ci/compose.yaml", "ci/empty.yaml", "ci/pipeline.yml"}
	if diff := cmp.Diff(wantSkipped, res.Skipped); diff != "" {
		t.Errorf("Skipped (-want +got):\n%s", diff)
	}
	wantFiles := []string{"a.yaml", "ci/broken.yaml", "ci/dupe-keys.yml"}
	if diff := cmp.Diff(wantFiles, res.Files); diff != "" {
		t.Errorf("Files (-want +got):\n%s", diff)
	}
	want := []string{ // a broken file is never skipped: it may be a manifest
		"ci/broken.yaml:1:4: invalid YAML: did not find expected ',' or ']'",
		`ci/dupe-keys.yml:1:1: missing required field "apiVersion"`,
		`ci/dupe-keys.yml:1:1: missing required field "kind"`,
		`ci/dupe-keys.yml:1:1: missing required field "spec"`,
		`ci/dupe-keys.yml:1:1: unknown field "a"`,
		`ci/dupe-keys.yml:2:1: a: duplicate key "a" (first at line 1)`,
	}
	if diff := cmp.Diff(want, diagStrings(res.Diagnostics)); diff != "" {
		t.Errorf("diagnostics (-want +got):\n%s", diff)
	}
}

func TestSymlinkedManifestIsRead(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		".git/HEAD":        "ref: refs/heads/main\n",
		"shared/shop.yaml": certYAML("shop", "ssl_securesite_flex", strings.Replace(validSecureSite, "csr.pem", "../shared/csr.pem", 1)),
		"shared/csr.pem":   "@csr:rsa2048.csr",
	})
	if err := os.Mkdir(filepath.Join(dir, "certs"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../shared/shop.yaml", filepath.Join(dir, "certs", "shop.yaml")); err != nil {
		t.Skip("no symlinks here:", err)
	}
	t.Chdir(dir)
	res, err := Load([]string{"certs"})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Diagnostics) != 0 || len(res.Certificates) != 1 {
		t.Fatalf("got %d certificates, diagnostics %v", len(res.Certificates), diagStrings(res.Diagnostics))
	}
}
