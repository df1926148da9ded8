package main

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
)

// hostileNames are manifest file names a pull request could add: a GitHub
// annotation and terminal escape codes in one, a name that starts a line
// with a workflow command, and the runner's legacy marker.
var hostileNames = []string{
	"::warning::x\x1b[31m.yaml",
	"##[error]forged.yaml",
	"bidi\u202egnp.yaml",
}

// checkNoRawControl fails on anything a terminal or the GitHub runner would
// interpret: control characters (but newlines), the legacy "##[" marker, and
// lines that start with "::" unless allowed matches them.
func checkNoRawControl(t *testing.T, what, out string, allowed *regexp.Regexp) {
	t.Helper()
	for _, r := range out {
		if (r < 0x20 && r != '\n') || r == 0x7f || (r >= 0x80 && r <= 0x9f) || r == '\u202e' {
			t.Errorf("%s holds raw %U:\n%q", what, r, out)
			break
		}
	}
	if strings.Contains(out, "##[") {
		t.Errorf("%s holds the runner's ##[ marker:\n%s", what, out)
	}
	for _, line := range strings.Split(out, "\n") {
		if l := strings.TrimLeft(line, " \t"); strings.HasPrefix(l, "::") && (allowed == nil || !allowed.MatchString(l)) {
			t.Errorf("%s: line forges a workflow command: %q", what, line)
		}
	}
}

func runCLI(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var o, e bytes.Buffer
	code = runMain(args, strings.NewReader(""), &o, &e)
	return o.String(), e.String(), code
}

// TestHostileFileNamesAreEscaped: file names and manifest values reach the
// text diagnostics, the GitHub annotations and plan's stderr escaped: a file
// name can neither forge an annotation nor send escape codes to a CI log.
func TestHostileFileNamesAreEscaped(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the file system refuses these names")
	}
	dir := t.TempDir()
	certs := filepath.Join(dir, "certs")
	if err := os.MkdirAll(certs, 0o755); err != nil {
		t.Fatal(err)
	}
	// Invalid manifests, so that every file gets a diagnostic; the value of
	// common_name carries escape codes and a workflow command too.
	for _, name := range hostileNames {
		body := "apiVersion: certplan/v1\nkind: Certificate\nmetadata: {name: bad}\nspec:\n  product: \"ssl_\\e[2J##[error]x\\n::warning::y\"\n"
		if err := os.WriteFile(filepath.Join(certs, name), []byte(body), 0o644); err != nil {
			t.Skipf("the file system refuses %q: %v", name, err)
		}
	}
	// A top-level file, whose name starts the diagnostic line.
	top := filepath.Join(dir, "::error::top.yaml")
	if err := os.WriteFile(top, []byte("apiVersion: certplan/v1\nkind: Certificate\n"), 0o644); err != nil {
		t.Skipf("the file system refuses %q: %v", top, err)
	}
	t.Chdir(dir)

	out, _, code := runCLI(t, "validate", "certs", "::error::top.yaml")
	if code != exitInvalid {
		t.Fatalf("validate exit %d, want %d:\n%s", code, exitInvalid, out)
	}
	checkNoRawControl(t, "validate (text)", out, nil)
	for _, want := range []string{`certs/::warning::x\x1b[31m.yaml:`, `certs/##\[error]forged.yaml:`, `certs/bidi\u202egnp.yaml:`, `\::error::top.yaml`} {
		if !strings.Contains(out, want) {
			t.Errorf("validate (text) does not show %s:\n%s", want, out)
		}
	}

	out, _, _ = runCLI(t, "validate", "certs", "::error::top.yaml", "--format", "github")
	annotation := regexp.MustCompile(`^::(error|warning) file=[^:,]*(,line=\d+,col=\d+)?::`)
	checkNoRawControl(t, "validate --format github", out, annotation)
	for _, want := range []string{"file=certs/%3A%3Awarning%3A%3Ax\\x1b[31m.yaml", "file=%3A%3Aerror%3A%3Atop.yaml"} {
		if !strings.Contains(out, want) {
			t.Errorf("validate --format github lacks %s:\n%s", want, out)
		}
	}

	out, _, _ = runCLI(t, "validate", "certs", "--format", "json")
	checkNoRawControl(t, "validate --format json", out, nil)

	_, errOut, code := runCLI(t, "plan", "certs", "--refresh=false")
	if code != exitInvalid {
		t.Fatalf("plan exit %d, want %d:\n%s", code, exitInvalid, errOut)
	}
	checkNoRawControl(t, "plan's diagnostics", errOut, nil)

	_, errOut, _ = runCLI(t, "plan", "certs", "--refresh=false", "--log-format", "json")
	checkNoRawControl(t, "plan's JSON diagnostics", errOut, nil)
}

// TestServerTextIsEscaped: an error message from CertCentral (or whatever
// answers at the endpoint) with escape codes and workflow commands reaches
// the terminal escaped.
func TestServerTextIsEscaped(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, `{"errors":[{"code":"not_found|order","message":"\u001b[2J\u009b31m##[error]forged\n::warning::forged \u202egnp"}]}`)
	}))
	defer srv.Close()
	t.Setenv("DIGICERT_API_KEY", "k")
	t.Setenv("CERTPLAN_ENDPOINT", srv.URL+"/services/v2")
	t.Chdir(t.TempDir())
	for _, format := range []string{"text", "json"} {
		_, errOut, code := runCLI(t, "import", "shop", "7", "--log-format", format, "--log-level", "debug")
		if code != exitError || !strings.Contains(errOut, "read order 7") {
			t.Fatalf("import exit %d:\n%s", code, errOut)
		}
		checkNoRawControl(t, "import's error ("+format+" logs)", errOut, nil)
	}
}
