package spec

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite golden files (testdata/*.golden, schemas/certplan.schema.json)")

// checkGolden compares got with testdata/NAME.golden, or rewrites it with -update.
func checkGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./pkg/spec -run %s -update to create it)", err, t.Name())
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s is out of date (-want +got); if the change is intended, rerun with -update:\n%s", path, diff)
	}
}

// TestGoldenDiagnostics renders every diagnostic and certificate of each
// testdata/golden/* tree.
func TestGoldenDiagnostics(t *testing.T) {
	dirs, err := filepath.Glob("testdata/golden/*")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no golden trees: %v", err)
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			res, err := Load([]string{dir})
			if err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			for _, d := range res.Diagnostics {
				fmt.Fprintln(&b, d)
			}
			errs, warns := res.Counts()
			fmt.Fprintf(&b, "-- %d of %d certificates valid, %d errors, %d warnings\n", len(res.Certificates), res.Manifests, errs, warns)
			for _, c := range res.Certificates {
				fmt.Fprintf(&b, "%s %s renewBefore=%s at %s\n", c.Name, c.Product, c.RenewBefore, c.Pos)
			}
			checkGolden(t, filepath.Join("testdata", filepath.Base(dir)+".golden"), []byte(b.String()))
		})
	}
}
