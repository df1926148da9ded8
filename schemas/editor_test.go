package schemas_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// lsFile is one file for yamlls.js: its path and where to ask for completion.
type lsFile struct {
	Path     string   `json:"path"`
	Complete [][2]int `json:"complete,omitempty"`
}

type lsResult struct {
	Diagnostics []string   `json:"diagnostics"`
	Completion  [][]string `json:"completion"`
}

// project copies examples/ and the schemas into a temporary directory, laid
// out as in the repository, so that the manifests' schema lines resolve.
func project(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	copyTree := func(src, dst string, keep func(string) bool) {
		err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || !keep(p) {
				return err
			}
			rel, _ := filepath.Rel(src, p)
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			out := filepath.Join(dst, rel)
			if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
				return err
			}
			return os.WriteFile(out, data, 0o644)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	copyTree(".", filepath.Join(dir, "schemas"), func(p string) bool {
		return !strings.Contains(p, string(filepath.Separator)) && strings.HasSuffix(p, ".json")
	})
	copyTree(examplesDir, filepath.Join(dir, "examples"), func(p string) bool {
		return !strings.Contains(p, string(filepath.Separator)+"ci"+string(filepath.Separator))
	})
	return dir
}

const examplesDir = "../examples"

// edit rewrites a file of the project: after the nth line equal to after
// (1-based), it inserts lines; it returns the line number of the first one.
func edit(t *testing.T, dir, file, after string, nth int, lines ...string) int {
	t.Helper()
	p := filepath.Join(dir, file)
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	all := strings.Split(string(data), "\n")
	for i, seen := 0, 0; i < len(all); i++ {
		if all[i] != after {
			continue
		}
		if seen++; seen == nth {
			all = slices.Insert(all, i+1, lines...)
			if err := os.WriteFile(p, []byte(strings.Join(all, "\n")), 0o644); err != nil {
				t.Fatal(err)
			}
			return i + 2
		}
	}
	t.Fatalf("%s has no line %q (%d)", file, after, nth)
	return 0
}

func replaceLine(t *testing.T, dir, file, old, new string) int {
	t.Helper()
	p := filepath.Join(dir, file)
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	all := strings.Split(string(data), "\n")
	i := slices.Index(all, old)
	if i < 0 {
		t.Fatalf("%s has no line %q", file, old)
	}
	all[i] = new
	if err := os.WriteFile(p, []byte(strings.Join(all, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	return i + 1
}

func runLanguageServer(t *testing.T, dir string, files []lsFile) map[string]lsResult {
	t.Helper()
	node, env := nodeWith(t, "yaml-language-server/bin/yaml-language-server")
	req, _ := json.Marshal(map[string]any{"root": dir, "files": files})
	script, _ := filepath.Abs(filepath.Join("testdata", "yamlls.js"))
	cmd := exec.Command(node, script)
	cmd.Env, cmd.Stdin = env, bytes.NewReader(req)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("yamlls.js: %v\n%s", err, stderr.String())
	}
	res := map[string]lsResult{}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("yamlls.js output: %v\n%s", err, out)
	}
	return res
}

func hasDiag(diags []string, line int, text string) bool {
	for _, d := range diags {
		if strings.HasPrefix(d, fmt.Sprintf("%d:", line)) && strings.Contains(d, text) {
			return true
		}
	}
	return false
}

// yaml-language-server, driven as an editor over LSP, checks and completes
// every document of the examples with the editor bundle: the second document
// of a multi-document file (the schema line is read per document), a
// Defaults document's spec.order (against the schemas of the products it
// lists), and it offers neither alternative_order_id nor deprecated fields.
// It reports nothing on the examples as written, and applies the same email
// rule as certplan (testdata/emails.json).
func TestEditorLanguageServer(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a language server")
	}
	dir := project(t)
	var clean []lsFile
	for _, pattern := range []string{"examples/certplan.yaml", "examples/certs/*.yaml"} {
		matches, _ := filepath.Glob(filepath.Join(dir, pattern))
		for _, m := range matches {
			rel, _ := filepath.Rel(dir, m)
			clean = append(clean, lsFile{Path: filepath.ToSlash(rel)})
		}
	}
	if len(clean) < 9 {
		t.Fatalf("example files: %v", clean)
	}

	// Mistakes and completion points in copies of three examples.
	multi, defaults, shop := "examples/certs/intranet-edited.yaml", "examples/certplan-edited/certplan.yaml", "examples/certs/shop-edited.yaml"
	for src, dst := range map[string]string{"examples/certs/intranet.yaml": multi, "examples/certplan.yaml": defaults, "examples/certs/shop-frontend.yaml": shop} {
		data, err := os.ReadFile(filepath.Join(dir, src))
		if err != nil {
			t.Fatal(err)
		}
		data = bytes.ReplaceAll(data, []byte("$schema=../schemas/"), []byte("$schema=../../schemas/"))
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, dst)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, dst), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	multiAt := edit(t, dir, multi, "  order:", 2, "    ")
	typo := edit(t, dir, multi, "      days: 365", 1, "    auto_renw: 0", "    additional_emails: [ops@localhost]")
	defaultsAt := edit(t, dir, defaults, "  order:", 1, "    ")
	bitcoin := replaceLine(t, dir, defaults, "    payment_method: balance", "    payment_method: bitcoin")
	shopAt := edit(t, dir, shop, "  order:", 1, "    ", "    validity_years: 1")

	// Every address of the email table, one a line.
	emails := map[string]bool{}
	data, err := os.ReadFile(filepath.Join("testdata", "emails.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &emails); err != nil {
		t.Fatal(err)
	}
	var addrs []string
	for a := range emails {
		addrs = append(addrs, a)
	}
	slices.Sort(addrs)
	lines := []string{"    additional_emails:"}
	for _, a := range addrs {
		q, _ := json.Marshal(a)
		lines = append(lines, "      - "+string(q))
	}
	emailFile := "examples/certs/emails-edited.yaml"
	shopData, err := os.ReadFile(filepath.Join(dir, "examples/certs/shop-frontend.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	firstEmail := strings.Count(strings.TrimRight(string(shopData), "\n"), "\n") + 3 // after the file and the key
	shopData = append(bytes.TrimRight(shopData, "\n"), []byte("\n"+strings.Join(lines, "\n")+"\n")...)
	if err := os.WriteFile(filepath.Join(dir, emailFile), shopData, 0o644); err != nil {
		t.Fatal(err)
	}

	files := append(clean, lsFile{Path: multi, Complete: [][2]int{{multiAt, 5}}},
		lsFile{Path: defaults, Complete: [][2]int{{defaultsAt, 5}}},
		lsFile{Path: shop, Complete: [][2]int{{shopAt, 5}}}, lsFile{Path: emailFile})
	res := runLanguageServer(t, dir, files)

	for _, f := range clean {
		if d := res[f.Path].Diagnostics; len(d) > 0 {
			t.Errorf("%s as written: %q", f.Path, d)
		}
	}
	m := res[multi]
	if !hasDiag(m.Diagnostics, typo, "auto_renw") || !hasDiag(m.Diagnostics, typo+1, "email address") {
		t.Errorf("the second document of a multi-document file is not checked: %q", m.Diagnostics)
	}
	d := res[defaults]
	if !hasDiag(d.Diagnostics, bitcoin, "") {
		t.Errorf("the Defaults document's spec.order is not checked: %q", d.Diagnostics)
	}
	for name, c := range map[string]lsResult{multi: m, defaults: d, shop: res[shop]} {
		if len(c.Completion) != 1 || !slices.Contains(c.Completion[0], "comments") && !slices.Contains(c.Completion[0], "organization_contact") {
			t.Errorf("%s: no completion inside spec.order: %q", name, c.Completion)
			continue
		}
		for _, never := range []string{"alternative_order_id", "validity_years", "validity_days", "custom_expiration_date"} {
			if slices.Contains(c.Completion[0], never) {
				t.Errorf("%s: completion offers %s: %q", name, never, c.Completion[0])
			}
		}
	}
	s := res[shop]
	if !hasDiag(s.Diagnostics, shopAt+1, "validity_years is deprecated: use order_validity") {
		t.Errorf("no deprecation warning for validity_years: %q", s.Diagnostics)
	}

	e := res[emailFile]
	for i, a := range addrs {
		if flagged := hasDiag(e.Diagnostics, firstEmail+i, ""); flagged == emails[a] {
			t.Errorf("email %q: yaml-language-server says valid=%v, certplan's rule %v", a, !flagged, emails[a])
		}
	}
	if n := len(e.Diagnostics); n != len(addrs)-countTrue(emails) {
		t.Errorf("%d diagnostics on the email file, want one per invalid address: %q", n, e.Diagnostics)
	}
}

func countTrue(m map[string]bool) int {
	n := 0
	for _, v := range m {
		if v {
			n++
		}
	}
	return n
}
