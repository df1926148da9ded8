package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/certplan/certplan/pkg/scaffold"
)

// The shipped pipelines against issue 12 (items 1, 2, 3, 5, 6) and issue 11
// item 6.

// ghWorkflow is the part of a GitHub workflow these tests read.
type ghWorkflow struct {
	Env  map[string]string `yaml:"env"`
	Jobs map[string]struct {
		Permissions map[string]string `yaml:"permissions"`
		Steps       []ghStep          `yaml:"steps"`
	} `yaml:"jobs"`
}

type ghStep struct {
	Name string            `yaml:"name"`
	ID   string            `yaml:"id"`
	If   string            `yaml:"if"`
	Uses string            `yaml:"uses"`
	With map[string]string `yaml:"with"`
	Env  map[string]string `yaml:"env"`
	Run  string            `yaml:"run"`
}

func (w ghWorkflow) step(t *testing.T, job, name string) ghStep {
	t.Helper()
	for _, s := range w.Jobs[job].Steps {
		if s.Name == name || (name == "checkout" && strings.HasPrefix(s.Uses, "actions/checkout@")) {
			return s
		}
	}
	t.Fatalf("job %s has no step %q", job, name)
	return ghStep{}
}

// evalGitHubExpr evaluates the `${{ a || b }}` expressions of a value with
// context lookups (enough for the workflow's checkout ref): a missing or
// empty value is falsy, and || yields the first truthy operand.
func evalGitHubExpr(t *testing.T, v string, ctx map[string]string) string {
	t.Helper()
	re := regexp.MustCompile(`\$\{\{\s*(.*?)\s*\}\}`)
	return re.ReplaceAllStringFunc(v, func(m string) string {
		expr := re.FindStringSubmatch(m)[1]
		for _, operand := range strings.Split(expr, "||") {
			operand = strings.TrimSpace(operand)
			if !regexp.MustCompile(`^[a-z_.]+$`).MatchString(operand) {
				t.Fatalf("expression %q: only context lookups joined by || are understood", expr)
			}
			if got := ctx[operand]; got != "" {
				return got
			}
		}
		return ""
	})
}

// Item 2: on `schedule` events github.event has no repository, so
// `${{ github.event.repository.default_branch }}` is empty and
// actions/checkout fell back to the commit the run was queued at. The ref
// must name the default branch on every event that runs the apply job.
func TestCIExamplesScheduledApplyChecksOutMain(t *testing.T) {
	var wf ghWorkflow
	decodeCIExample(t, "github-actions/certplan.yml", &wf)
	ref := wf.step(t, "apply", "checkout").With["ref"]
	for event, ctx := range map[string]map[string]string{
		"schedule":          {"github.ref_name": "main"},
		"workflow_dispatch": {"github.ref_name": "main", "github.event.repository.default_branch": "main"},
		"push":              {"github.ref_name": "main", "github.event.repository.default_branch": "main"},
	} {
		if got := evalGitHubExpr(t, ref, ctx); got != "main" {
			t.Errorf("%s: the apply job checks out %q (ref %q), want main", event, got, ref)
		}
	}
}

// Item 3: no pipeline installs @latest; each pins CERTPLAN_VERSION, and
// `certplan init` writes the release that runs it there.
func TestCIExamplesPinTheVersion(t *testing.T) {
	install := regexp.MustCompile(`go install "?github\.com/certplan/certplan/cmd/certplan@([^"\s]+)`)
	for _, name := range ciExamples {
		data, err := os.ReadFile(filepath.Join("..", "..", "examples", "ci", filepath.FromSlash(name)))
		if err != nil {
			t.Fatal(err)
		}
		text := string(data)
		if strings.Contains(text, "@latest") {
			t.Errorf("%s installs @latest", name)
		}
		if !strings.Contains(text, "  CERTPLAN_VERSION: "+scaffold.VersionPlaceholder+"\n") {
			t.Errorf("%s does not pin CERTPLAN_VERSION", name)
		}
		ms := install.FindAllStringSubmatch(text, -1)
		if len(ms) == 0 {
			t.Errorf("%s installs no certplan", name)
		}
		for _, m := range ms {
			if m[1] != "$CERTPLAN_VERSION" {
				t.Errorf("%s installs certplan@%s, want @$CERTPLAN_VERSION", name, m[1])
			}
		}
	}
	for _, state := range []string{"file", "postgres"} {
		for _, f := range scaffold.FilesFor(scaffold.Options{State: state, Version: "v1.4.2"}) {
			if f.Path != scaffold.WorkflowPath {
				continue
			}
			if !strings.Contains(string(f.Data), "  CERTPLAN_VERSION: v1.4.2\n") || strings.Contains(string(f.Data), "CERTPLAN_VERSION: "+scaffold.VersionPlaceholder) {
				t.Errorf("%s: init from v1.4.2 does not pin v1.4.2", state)
			}
		}
	}
}

// Items 1 and 5: the pull-request plan keeps its plan file as an artifact and
// links it from the comment; the apply after a merge places only what that
// plan showed (--reviewed), every other run only renews and reissues.
func TestCIExamplesApplyOnlyWhatWasReviewed(t *testing.T) {
	for _, name := range ciExamples {
		t.Run(name, func(t *testing.T) {
			cmds := certplanCommands(readCIExample(t, name))
			var plans, applies [][]string
			for _, c := range cmds {
				switch c[1] {
				case "plan":
					plans = append(plans, c)
				case "apply":
					applies = append(applies, c)
				}
			}
			for _, c := range plans {
				if i := slices.Index(c, "--out"); i < 0 || i+1 >= len(c) || c[i+1] != "certplan.plan" {
					t.Errorf("`%s` keeps no plan file (--out certplan.plan)", strings.Join(c, " "))
				}
			}
			var reviewed, renewOnly int
			for _, c := range applies {
				s := strings.Join(c, " ")
				switch {
				case strings.Contains(s, "--reviewed reviewed/certplan.plan"):
					reviewed++
				case strings.Contains(s, "--only renew,reissue"):
					renewOnly++
				default:
					t.Errorf("`%s` applies without --reviewed or --only renew,reissue: it would buy what nobody reviewed", s)
				}
			}
			if reviewed != 1 || renewOnly != 1 {
				t.Errorf("%d applies with --reviewed, %d with --only renew,reissue; want one each", reviewed, renewOnly)
			}
			data, _ := os.ReadFile(filepath.Join("..", "..", "examples", "ci", filepath.FromSlash(name)))
			if !strings.Contains(string(data), "Plan file: [") {
				t.Errorf("the comment does not link the plan file")
			}
		})
	}
	var wf ghWorkflow
	decodeCIExample(t, "github-actions/certplan.yml", &wf)
	up := wf.step(t, "plan", "Keep the plan file")
	if !strings.HasPrefix(up.Uses, "actions/upload-artifact@") || up.With["name"] != "certplan-plan" || !strings.Contains(up.With["path"], "certplan.plan") {
		t.Errorf("plan artifact step %+v", up)
	}
	if c := wf.step(t, "plan", "Comment the plan on the pull request"); !strings.Contains(c.Env["ARTIFACT_URL"], "steps.artifact.outputs.artifact-url") {
		t.Errorf("the comment step does not get the artifact's URL: %+v", c.Env)
	}
	if p := wf.Jobs["apply"].Permissions; p["actions"] != "read" || p["pull-requests"] != "read" {
		t.Errorf("apply permissions %v: it needs actions: read and pull-requests: read to find the reviewed plan", p)
	}
	if f := wf.step(t, "apply", "Find the reviewed plan"); !strings.Contains(f.Run, "gh run download") || !strings.Contains(f.Run, "head_repository.full_name") {
		t.Errorf("the reviewed plan is not downloaded from this repository's own run:\n%s", f.Run)
	}
}

// Issue 11 item 6: a runner stopped while an order is in flight leaves the
// journal, the whole "unknown outcome" safety net. The file-state pipelines
// commit it with the state (and GitHub keeps it as an artifact too), and
// never claim "nothing was ever ordered" when there is no state file.
func TestCIExamplesKeepTheJournal(t *testing.T) {
	for _, name := range []string{"github-actions/certplan.yml", "gitlab-ci.yml"} {
		data, err := os.ReadFile(filepath.Join("..", "..", "examples", "ci", filepath.FromSlash(name)))
		if err != nil {
			t.Fatal(err)
		}
		text := string(data)
		for _, want := range []string{
			`journal="$CERTPLAN_STATE.journal"`,
			`for f in "$CERTPLAN_STATE" "$journal"; do`,
			`git add -f -- "$f"`,
			"certplan.state.json.journal",
		} {
			if !strings.Contains(text, want) {
				t.Errorf("%s lacks %q", name, want)
			}
		}
		if strings.Contains(text, "nothing was ever ordered") {
			t.Errorf("%s still says \"nothing was ever ordered\" without knowing it", name)
		}
	}
	var wf ghWorkflow
	decodeCIExample(t, "github-actions/certplan.yml", &wf)
	if s := wf.step(t, "apply", "Keep the journal"); s.If != "always() && hashFiles('certplan.state.json.journal') != ''" || !strings.HasPrefix(s.Uses, "actions/upload-artifact@") {
		t.Errorf("journal artifact step %+v", s)
	}
	if s := wf.step(t, "apply", "Commit the state file and journal"); s.If != "always()" {
		t.Errorf("the commit step runs only %q", s.If)
	}
}

// The journal-keeping shell works: run the GitHub commit step's script in a
// scratch repository where an apply was interrupted, then where the next
// apply finished it.
func TestCIExamplesCommitStepCommitsTheJournal(t *testing.T) {
	var wf ghWorkflow
	decodeCIExample(t, "github-actions/certplan.yml", &wf)
	script := wf.step(t, "apply", "Commit the state file and journal").Run
	// No remote here: stop before pulling and pushing.
	script = strings.Replace(script, "git pull --rebase origin main\ngit push origin HEAD:main\n", "", 1)
	if strings.Contains(script, "git push") {
		t.Fatalf("the script's push lines were not found:\n%s", script)
	}
	dir := t.TempDir()
	gitRun(t, dir, "init", "-q", "-b", "main")
	gitRun(t, dir, "config", "user.email", "t@example.com")
	gitRun(t, dir, "config", "user.name", "t")
	writeFile(t, dir, ".gitignore", "*.journal\n")
	gitRun(t, dir, "add", ".gitignore")
	gitRun(t, dir, "commit", "-qm", "init")

	out := shRun(t, dir, script)
	if !strings.Contains(out, "No state file and no journal: this run recorded no order.") {
		t.Errorf("nothing to commit:\n%s", out)
	}
	writeFile(t, dir, "certplan.state.json", "{}\n")
	writeFile(t, dir, "certplan.state.json.journal", "{\"type\":\"intent\"}\n")
	out = shRun(t, dir, script)
	if !strings.Contains(out, "An interrupted apply left certplan.state.json.journal") {
		t.Errorf("no warning:\n%s", out)
	}
	if files := gitRun(t, dir, "ls-files"); !strings.Contains(files, "certplan.state.json.journal") {
		t.Errorf("the journal was not committed: %s", files)
	}
	// The next apply finished the orders and folded the journal away.
	if err := os.Remove(filepath.Join(dir, "certplan.state.json.journal")); err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "certplan.state.json", "{\"serial\":2}\n")
	shRun(t, dir, script)
	if files := gitRun(t, dir, "ls-files"); strings.Contains(files, "journal") {
		t.Errorf("the finished journal is still in Git: %s", files)
	}
	if st := gitRun(t, dir, "status", "--porcelain"); st != "" {
		t.Errorf("uncommitted: %s", st)
	}
}

func gitRun(t *testing.T, dir string, args ...string) string {
	t.Helper()
	return runIn(t, dir, "git", args...)
}

func shRun(t *testing.T, dir, script string) string {
	t.Helper()
	return runIn(t, dir, "sh", "-ec", script)
}

func writeFile(t *testing.T, dir, name, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func runIn(t *testing.T, dir, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CERTPLAN_STATE=certplan.state.json", "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
	return string(out)
}

// Item 3: `certplan init` writes the release that runs it into the workflow;
// a development build keeps the placeholder and says so.
func TestInitPinsItsOwnVersion(t *testing.T) {
	old := version
	t.Cleanup(func() { version = old })
	for _, tt := range []struct {
		version, want, say string
	}{
		{version: "v1.4.2", want: "  CERTPLAN_VERSION: v1.4.2\n", say: "The workflow installs certplan v1.4.2"},
		{version: "1.4.3", want: "  CERTPLAN_VERSION: v1.4.3\n", say: "certplan v1.4.3"},
		{version: "dev", want: "  CERTPLAN_VERSION: " + scaffold.VersionPlaceholder + "\n", say: "This certplan is a development build (dev)"},
	} {
		version = tt.version
		dir := t.TempDir()
		var out strings.Builder
		g := &globals{stdout: &out, stderr: &out}
		if err := runInit(g, dir, false, "file"); err != nil {
			t.Fatal(err)
		}
		wf, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(scaffold.WorkflowPath)))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(wf), tt.want) {
			t.Errorf("%s: the workflow does not pin %q", tt.version, tt.want)
		}
		if !strings.Contains(out.String(), tt.say) {
			t.Errorf("%s: init does not say %q:\n%s", tt.version, tt.say, out.String())
		}
	}
}

// Item 6: two checkouts buy twice unless CertCentral's "Require unique
// alternative order IDs" is on; the README, init's next steps and the
// pipelines tell the user to turn it on (the plan does too, with a state
// file: pkg/plan TestCommentDescribesThePurchase).
func TestUniqueAlternativeOrderIDsAdvice(t *testing.T) {
	const setting = `"Require unique alternative order IDs"`
	for _, f := range []string{"README.md", "examples/ci/README.md", "examples/ci/github-actions/certplan.yml", "examples/ci/gitlab-ci.yml"} {
		data, err := os.ReadFile(filepath.Join("..", "..", filepath.FromSlash(f)))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(strings.Join(strings.Fields(string(data)), " "), setting) {
			t.Errorf("%s does not ask for %s", f, setting)
		}
	}
	if !strings.Contains(nextSteps("."), `turn on "Require unique alternative order IDs"`) {
		t.Errorf("init's next steps do not ask for it:\n%s", nextSteps("."))
	}
}
