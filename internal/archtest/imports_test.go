package archtest

import (
	"bufio"
	"errors"
	"fmt"
	"go/build"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
)

// A group is a package named by its directory below the module: pkg/spec is
// "spec", internal/projectgen is "projectgen", schemas is "schemas", and
// anything under cmd/ is "cmd". A sub-package belongs to its parent's group
// (pkg/state/statetest is "state"), and imports within a group are always
// allowed.
//
// Only the packages' own files are checked, not their tests: a test may
// import what it needs (certcentral's tests run the simulator).

// leaves are small vocabularies every layer shares. A leaf imports nothing
// of ours, so depending on one never drags a layer along; any package
// except another leaf may import one.
var leaves = []string{"product", "secret", "lifecycle", "atomicfile", "termsafe"}

// testOnly groups are helpers for tests; no package may import them.
var testOnly = []string{"projectgen", "archtest", "pgtest"}

// edges says, for one group, which groups it may import and why each edge
// exists. The key anyGroup allows every group except cmd and the test-only
// ones, which nothing may import.
type edges map[string]string

const anyGroup = "*"

// rules is the allowed import graph. A group missing here fails the test
// until it gets a row; a row for a group that does not exist (yet) is fine.
var rules = map[string]edges{
	// Leaves: they import nothing of ours.
	"product":    {}, // products and families
	"secret":     {}, // secret references, resolved only when a request is built
	"lifecycle":  {}, // dated rules of public TLS certificates (validity caps, DCV reuse)
	"atomicfile": {}, // temp file, fsync, rename, directory fsync
	"termsafe":   {}, // escaping of repository and server text for terminals and CI logs
	"schemas":    {}, // the JSON Schemas, embedded (data only)

	// Manifests. spec is the bottom of the planning stack: it knows nothing of
	// state, the API or plans.
	"spec": withLeaves(edges{
		"schemas": "manifests are validated against the embedded JSON Schemas",
		"product": "a manifest names its product; the family picks the schema",
		"secret":  "secret fields are loaded as references, never as values",
	}),

	// What was ordered. It must not depend on manifests, the API client or the
	// planner, so that another backend can be plugged in beneath them.
	"state": withLeaves(edges{}),

	// The state on PostgreSQL. Its rate-limit log implements the client's
	// SharedWindow, so runs sharing an API key and a database share one budget.
	"pgstate": withLeaves(edges{
		"state":       "it is a state.Backend and stores state's records and snapshots",
		"certcentral": "RateWindow implements certcentral.SharedWindow over the state database",
	}),

	// Turns a --state value into a Backend (file or PostgreSQL), and migrates.
	"backends": withLeaves(edges{
		"state":       "it returns state.Backend values and copies states between them",
		"pgstate":     "postgres:// locations open the PostgreSQL backend",
		"certcentral": "a PostgreSQL location also gives the client its shared rate-limit window",
	}),

	// The HTTP client. Manifests and state are its callers' business.
	"certcentral": withLeaves(edges{
		"product": "the order URL names the product; the family decides renewal_of_order_id",
		"secret":  "secrets are resolved into the request body, and nowhere earlier",
	}),

	// The stand-in for CertCentral: it speaks the client's wire types and
	// knows the products, nothing of certplan's own machinery.
	"simulator": {
		"certcentral": "request and response types are the client's, so both sides agree",
		"product":     "which products it accepts and how it validates them",
		"lifecycle":   "the dated validity caps and DCV reuse periods it enforces",
		"dnstest":     "--dns-serve runs the in-memory DNS server that DCV is checked at",
	},

	// An in-memory DNS server on loopback (tests, the simulator's --dns-serve,
	// make demo). It imports nothing of ours.
	"dnstest": {},

	// Domain validation: the records to publish, BIND fragments, DNS
	// look-ups, the check loop, the random value's refresh.
	"dcv": withLeaves(edges{
		"certcentral": "it asks CertCentral for random values and to check (dcv-random-value, check-dcv)",
		"state":       "an order's DCV facts are state.DCV, kept in the state",
	}),

	// Manifests + state + refreshed facts + clock -> plan.
	"plan": withLeaves(edges{
		"spec":        "the manifests are the desired state",
		"state":       "the state is what exists",
		"certcentral": "refresh lists orders through the client (refresh.go only; decisions use state.OrderFacts)",
		"dcv":         "the records an order awaiting validation needs published, and when a validation lapses",
	}),

	// Executes a plan.
	"apply": withLeaves(edges{
		"plan":        "it executes a plan",
		"spec":        "certificates and their orders come from the manifests",
		"state":       "it journals intents and outcomes",
		"certcentral": "it places and looks up orders",
		"dcv":         "a create reply's random value is recorded as DCV facts",
	}),

	// `certplan fetch`: issued certificates into files.
	"delivery": withLeaves(edges{
		"state":       "which certificates are issued, and their ids",
		"certcentral": "it downloads certificates (and names formats by the client's constants)",
	}),

	// The files `certplan init` writes.
	"scaffold": withLeaves(edges{
		"spec": "the editor schema comes from spec's embedded schemas",
	}),

	// lock -> load -> refresh -> plan -> confirm -> execute -> fold.
	"run": {anyGroup: "it runs the whole command, given a backend, a client and a clock"},

	// Flags, prompts, rendering, exit codes; wires everything together.
	"cmd": {anyGroup: "the CLI wires every package together"},

	// Test helpers import nothing of ours.
	"projectgen": {},
	"archtest":   {},
	"pgtest":     {"state": "it opens test schemas for the state backends", "pgstate": "test databases for the PostgreSQL backend"},
}

func withLeaves(e edges) edges {
	for _, l := range leaves {
		if _, ok := e[l]; !ok {
			e[l] = "leaf package: imports nothing of ours"
		}
	}
	return e
}

// ownGroups are sub-packages that form a group of their own rather than
// belonging to their parent's: the PostgreSQL backend and the package that
// picks a backend sit beside the state's files, but depend on more than the
// state may.
var ownGroups = map[string]string{
	"pkg/state/pgstate":        "pgstate",
	"pkg/state/pgstate/pgtest": "pgtest",
	"pkg/state/backends":       "backends",
}

// groupOf names the group of a package directory relative to the module root.
func groupOf(rel string) string {
	if g, ok := ownGroups[filepath.ToSlash(rel)]; ok {
		return g
	}
	parts := strings.Split(filepath.ToSlash(rel), "/")
	switch {
	case parts[0] == "cmd":
		return "cmd"
	case (parts[0] == "pkg" || parts[0] == "internal") && len(parts) > 1:
		return parts[1]
	case rel == "." || rel == "":
		return "(module root)"
	}
	return parts[0]
}

// importEdge is one import of one of our packages by another, found in file.
type importEdge struct {
	from, to string // package directories relative to the module root
	file     string // where the import is written, relative to the module root
}

// check returns one message per import the rules forbid, sorted.
func check(imports []importEdge) []string {
	seen := map[string]bool{}
	for _, imp := range imports {
		from, to := groupOf(imp.from), groupOf(imp.to)
		if from == to {
			continue
		}
		var msg string
		allowed, known := rules[from]
		switch {
		case !known:
			msg = fmt.Sprintf("%s imports %s (%s), but %s is not in the rules table: add a row saying what it may import and why",
				imp.from, imp.to, imp.file, from)
		case to == "cmd" || slices.Contains(testOnly, to):
			msg = fmt.Sprintf("%s imports %s (%s): nothing may import %s", imp.from, imp.to, imp.file, to)
		case allowed[to] != "" || allowed[anyGroup] != "":
			continue
		default:
			msg = fmt.Sprintf("%s imports %s (%s): %s may import %s", imp.from, imp.to, imp.file, from, describe(allowed))
		}
		seen[msg] = true
	}
	out := make([]string, 0, len(seen))
	for m := range seen {
		out = append(out, m)
	}
	sort.Strings(out)
	return out
}

func describe(e edges) string {
	if len(e) == 0 {
		return "nothing of ours (it is a leaf)"
	}
	if e[anyGroup] != "" {
		return "anything but cmd and test helpers"
	}
	names := make([]string, 0, len(e))
	for g := range e {
		names = append(names, g)
	}
	sort.Strings(names)
	return "only " + strings.Join(names, ", ")
}

// TestImports walks every package of the module, for the platforms whose
// build constraints our files use, and checks each import of one of our
// packages against rules.
func TestImports(t *testing.T) {
	root, module := moduleRoot(t)
	var imports []importEdge
	groups := map[string]bool{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		name := d.Name()
		if path != root && (strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") || name == "testdata" || name == "vendor") {
			return filepath.SkipDir
		}
		if path != root {
			if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil {
				return filepath.SkipDir // another module
			}
		}
		rel, _ := filepath.Rel(root, path)
		for _, goos := range []string{"linux", "darwin", "windows"} {
			ctx := build.Default
			ctx.GOOS, ctx.GOARCH, ctx.CgoEnabled = goos, "amd64", false
			pkg, err := ctx.ImportDir(path, 0)
			var noGo *build.NoGoError
			if errors.As(err, &noGo) {
				return nil
			}
			if err != nil {
				return fmt.Errorf("%s (GOOS=%s): %w", rel, goos, err)
			}
			groups[groupOf(rel)] = true
			for _, imp := range pkg.Imports {
				to, ok := strings.CutPrefix(imp, module+"/")
				if !ok && imp != module {
					continue // not ours
				}
				file := "?"
				if pos := pkg.ImportPos[imp]; len(pos) > 0 {
					file, _ = filepath.Rel(root, pos[0].Filename)
					file = fmt.Sprintf("%s:%d", filepath.ToSlash(file), pos[0].Line)
				}
				imports = append(imports, importEdge{from: filepath.ToSlash(rel), to: to, file: file})
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Guard against a walk that found nothing and so checked nothing.
	for _, g := range []string{"cmd", "spec", "state", "certcentral", "plan", "apply", "product", "secret"} {
		if !groups[g] {
			t.Fatalf("package group %s not found under %s: the walk is broken", g, root)
		}
	}
	for _, msg := range check(imports) {
		t.Error(msg)
	}
}

// TestRulesCatchForbiddenImports shows that the rules reject the imports
// that would point the dependency direction the wrong way, and name them.
func TestRulesCatchForbiddenImports(t *testing.T) {
	bad := []importEdge{
		{from: "pkg/spec", to: "pkg/plan", file: "pkg/spec/load.go:9"},
		{from: "pkg/plan", to: "pkg/apply", file: "pkg/plan/build.go:9"},
		{from: "pkg/certcentral", to: "pkg/spec", file: "pkg/certcentral/body.go:11"},
		{from: "pkg/state", to: "pkg/certcentral", file: "pkg/state/state.go:9"},
		{from: "pkg/product", to: "pkg/secret", file: "pkg/product/product.go:9"},
		{from: "pkg/simulator", to: "pkg/spec", file: "pkg/simulator/place.go:9"},
		{from: "pkg/run", to: "cmd/certplan", file: "pkg/run/run.go:9"},
		{from: "pkg/apply", to: "internal/projectgen", file: "pkg/apply/apply.go:9"},
		{from: "pkg/newthing", to: "pkg/spec", file: "pkg/newthing/x.go:3"},
	}
	got := check(bad)
	if len(got) != len(bad) {
		t.Errorf("check found %d violations, want %d:\n%s", len(got), len(bad), strings.Join(got, "\n"))
	}
	for _, b := range bad {
		want := b.from + " imports " + b.to + " (" + b.file + ")"
		if !slices.ContainsFunc(got, func(m string) bool { return strings.HasPrefix(m, want) }) {
			t.Errorf("no violation reported for %s", want)
		}
	}

	good := []importEdge{
		{from: "pkg/spec", to: "schemas"},
		{from: "pkg/spec", to: "pkg/product"},
		{from: "pkg/plan", to: "pkg/spec"},
		{from: "pkg/apply", to: "pkg/plan"},
		{from: "pkg/certcentral", to: "pkg/secret"},
		{from: "pkg/state", to: "pkg/atomicfile"},
		{from: "pkg/state/file", to: "pkg/state"},
		{from: "pkg/run", to: "pkg/apply"},
		{from: "cmd/certplan", to: "pkg/run"},
	}
	if got := check(good); len(got) != 0 {
		t.Errorf("allowed imports reported:\n%s", strings.Join(got, "\n"))
	}
}

// TestEveryEdgeSaysWhy keeps the table readable: each allowed edge names a
// known group and carries its reason.
func TestEveryEdgeSaysWhy(t *testing.T) {
	for from, e := range rules {
		for to, why := range e {
			if _, ok := rules[to]; !ok && to != anyGroup {
				t.Errorf("%s may import %s, which has no row", from, to)
			}
			if strings.TrimSpace(why) == "" {
				t.Errorf("%s -> %s: no reason given", from, to)
			}
			if slices.Contains(testOnly, to) || to == "cmd" {
				t.Errorf("%s may import %s, which nothing may import", from, to)
			}
		}
		if slices.Contains(leaves, from) && len(e) != 0 {
			t.Errorf("leaf %s may import %v; a leaf imports nothing of ours", from, e)
		}
	}
}

// moduleRoot finds go.mod above the working directory and reads the module path.
func moduleRoot(t *testing.T) (dir, module string) {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		f, err := os.Open(filepath.Join(dir, "go.mod"))
		if err == nil {
			defer f.Close()
			s := bufio.NewScanner(f)
			for s.Scan() {
				if m, ok := strings.CutPrefix(strings.TrimSpace(s.Text()), "module "); ok {
					return dir, strings.Trim(strings.TrimSpace(m), `"`)
				}
			}
			t.Fatalf("%s/go.mod: no module line", dir)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the working directory")
		}
		dir = parent
	}
}
