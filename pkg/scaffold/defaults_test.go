package scaffold

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/certplan/certplan/pkg/spec"
)

// The Defaults init writes fit every manifest a user adds next, legacy_ssl
// included: their v2 order fields (organization, payment_method,
// certificate) are scoped to the v2 products, as examples/certplan.yaml
// scopes them, rather than merged into every product.
func TestDefaultsFitEveryProduct(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, ".git"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := Write(dir, false); err != nil {
		t.Fatal(err)
	}
	examples := filepath.Join("..", "..", "examples")
	certs, err := filepath.Glob(filepath.Join(examples, "certs", "*.yaml"))
	if err != nil || len(certs) < 8 {
		t.Fatalf("example manifests: %v %v", certs, err)
	}
	copyFile := func(src, dst string) {
		data, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// Every example manifest (one per product), with its CSR, in the new project.
	for _, c := range certs {
		copyFile(c, filepath.Join(dir, "certs", filepath.Base(c)))
	}
	csrs, _ := filepath.Glob(filepath.Join(examples, "csr", "*.csr"))
	for _, c := range csrs {
		copyFile(c, filepath.Join(dir, "csr", filepath.Base(c)))
	}
	copyFile(filepath.Join(examples, "csr", "shop-frontend.csr"), filepath.Join(dir, "csr", "example.csr"))
	t.Chdir(dir)
	t.Setenv("CARD_NUMBER", "4111111111111111")
	t.Setenv("CARD_CVV", "123")
	res, err := spec.Load([]string{"certs"})
	if err != nil {
		t.Fatal(err)
	}
	var errs []string
	for _, d := range res.Diagnostics {
		if d.Severity == spec.SeverityError {
			errs = append(errs, d.String())
		}
	}
	if len(errs) > 0 {
		t.Errorf("init's Defaults with the example manifests:\n%s", strings.Join(errs, "\n"))
	}
}
