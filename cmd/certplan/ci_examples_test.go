package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"
)

// ciExamples are the CI pipelines shipped in examples/ci. Every `certplan ...`
// command in their scripts must name a real subcommand with real flags.
var ciExamples = []string{
	"github-actions/certplan.yml",
	"gitlab-ci.yml",
	"github-actions/certplan-postgres.yml",
	"gitlab-ci-postgres.yml",
}

func TestCIExamplesUseRealCommands(t *testing.T) {
	for _, name := range ciExamples {
		t.Run(name, func(t *testing.T) {
			doc := readCIExample(t, name)
			cmds := certplanCommands(doc)
			seen := map[string]bool{}
			for _, c := range cmds {
				if err := checkCLICommand(c); err != nil {
					t.Errorf("%s: `%s`: %v", name, strings.Join(c, " "), err)
				}
				if len(c) > 1 {
					seen[c[1]] = true
				}
			}
			// The extractor must really find the pipeline's commands.
			for _, want := range []string{"validate", "plan", "apply"} {
				if !seen[want] {
					t.Errorf("%s: no `certplan %s` found among %q", name, want, cmds)
				}
			}
		})
	}
}

// The promises examples/ci/README.md makes about concurrency and permissions.
func TestCIExamplesSerializeApply(t *testing.T) {
	t.Run("github", func(t *testing.T) {
		var wf struct {
			Jobs map[string]struct {
				Permissions map[string]string `yaml:"permissions"`
				Concurrency struct {
					Group            string `yaml:"group"`
					CancelInProgress bool   `yaml:"cancel-in-progress"`
				} `yaml:"concurrency"`
			} `yaml:"jobs"`
		}
		decodeCIExample(t, "github-actions/certplan.yml", &wf)
		apply, plan := wf.Jobs["apply"], wf.Jobs["plan"]
		if apply.Concurrency.Group != "certplan-apply" || apply.Concurrency.CancelInProgress {
			t.Errorf("apply concurrency = %+v, want group certplan-apply without cancel-in-progress", apply.Concurrency)
		}
		if apply.Permissions["contents"] != "write" {
			t.Errorf("apply permissions = %v, want contents: write", apply.Permissions)
		}
		if plan.Permissions["pull-requests"] != "write" {
			t.Errorf("plan permissions = %v, want pull-requests: write", plan.Permissions)
		}
	})
	t.Run("gitlab", func(t *testing.T) {
		var ci struct {
			Apply struct {
				ResourceGroup string `yaml:"resource_group"`
			} `yaml:"apply"`
		}
		decodeCIExample(t, "gitlab-ci.yml", &ci)
		if got := ci.Apply.ResourceGroup; got != "certplan-apply" {
			t.Errorf("apply resource_group = %q, want certplan-apply", got)
		}
	})
}

// checkCLICommand fails if args (starting with "certplan") name no
// subcommand, use a flag that subcommand lacks, or give it the wrong number of
// arguments.
func checkCLICommand(args []string) error {
	if len(args) == 0 || args[0] != "certplan" {
		return fmt.Errorf("not a certplan command")
	}
	root := newRootCmd(strings.NewReader(""), io.Discard, io.Discard)
	cmd, rest, err := root.Find(args[1:])
	if err != nil {
		return err
	}
	if cmd == root {
		return fmt.Errorf("no subcommand")
	}
	if err := cmd.ParseFlags(rest); err != nil {
		return fmt.Errorf("%s: %w", cmd.CommandPath(), err)
	}
	if err := cmd.ValidateArgs(cmd.Flags().Args()); err != nil {
		return fmt.Errorf("%s: %w", cmd.CommandPath(), err)
	}
	return nil
}

func TestCheckCLICommand(t *testing.T) {
	tests := []struct {
		line    string
		wantErr string // substring; "" means valid
	}{
		{line: "certplan validate certs/ --format github"},
		{line: "certplan plan certs/ --format markdown"},
		{line: "certplan apply certs/ --auto-approve"},
		{line: "certplan --state s.json apply certs/ --auto-approve"},
		{line: "certplan state list --state x.json"},
		{line: "certplan plan certs/ --bogus", wantErr: "unknown flag: --bogus"},
		{line: "certplan apply certs/ --auto-aprove", wantErr: "unknown flag: --auto-aprove"},
		{line: "certplan nosuch certs/", wantErr: "unknown command"},
		{line: "certplan version extra", wantErr: "unknown command"},
		{line: "certplan show", wantErr: "accepts 1 arg"},
		{line: "certplan --format github", wantErr: "no subcommand"},
		{line: "certplan", wantErr: "no subcommand"},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			err := checkCLICommand(strings.Fields(tt.line))
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("error %v, want none", err)
			case tt.wantErr != "" && err == nil:
				t.Errorf("no error, want %q", tt.wantErr)
			case tt.wantErr != "" && !strings.Contains(err.Error(), tt.wantErr):
				t.Errorf("error %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestShellCommands(t *testing.T) {
	tests := []struct {
		script string
		want   [][]string
	}{
		{script: "certplan plan certs/ --format markdown > plan.md\ncat plan.md",
			want: [][]string{{"certplan", "plan", "certs/", "--format", "markdown"}, {"cat", "plan.md"}}},
		{script: "certplan apply certs/ --auto-approve || status=$?",
			want: [][]string{{"certplan", "apply", "certs/", "--auto-approve"}, {"status=$?"}}},
		{script: "go install x/cmd/certplan@latest && certplan version 2>&1 | tee v.txt",
			want: [][]string{{"go", "install", "x/cmd/certplan@latest"}, {"certplan", "version"}, {"tee", "v.txt"}}},
		{script: "certplan plan \\\n  certs/ --format 'mark down' # a comment\n",
			want: [][]string{{"certplan", "plan", "certs/", "--format", "mark down"}}},
		{script: `echo "a \"b\" ; c"; if certplan validate; then :; fi`,
			want: [][]string{{"echo", `a "b" ; c`}, {"certplan", "validate"}, {":"}, {"fi"}}},
	}
	for _, tt := range tests {
		if d := cmp.Diff(tt.want, shellCommands(tt.script)); d != "" {
			t.Errorf("shellCommands(%q) (-want +got):\n%s", tt.script, d)
		}
	}
}

func readCIExample(t *testing.T, name string) *yaml.Node {
	t.Helper()
	var doc yaml.Node
	decodeCIExample(t, name, &doc)
	return &doc
}

func decodeCIExample(t *testing.T, name string, v any) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "examples", "ci", filepath.FromSlash(name)))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

// scriptKeys hold shell: GitHub's `run`, GitLab's `script` and friends.
var scriptKeys = map[string]bool{"run": true, "script": true, "before_script": true, "after_script": true}

// certplanCommands returns every simple command starting with `certplan` in
// the shell scripts anywhere in doc.
func certplanCommands(doc *yaml.Node) [][]string {
	var out [][]string
	var scripts []string
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		if n.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				if scriptKeys[k.Value] {
					scripts = append(scripts, scalarStrings(v)...)
				}
			}
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(doc)
	for _, s := range scripts {
		for _, c := range shellCommands(s) {
			if c[0] == "certplan" {
				out = append(out, c)
			}
		}
	}
	return out
}

func scalarStrings(n *yaml.Node) []string {
	switch n.Kind {
	case yaml.ScalarNode:
		return []string{n.Value}
	case yaml.SequenceNode:
		var out []string
		for _, c := range n.Content {
			out = append(out, scalarStrings(c)...)
		}
		return out
	}
	return nil
}

// shellKeywords are dropped from the front of a simple command.
var shellKeywords = map[string]bool{"if": true, "then": true, "else": true, "elif": true, "do": true, "while": true, "until": true, "!": true}

// shellCommands splits a POSIX shell script into simple commands (words
// without quotes), enough for CI scripts: quotes, backslashes, line
// continuations, comments, the operators ; & && | || ( ) and newlines, and
// redirections (dropped with their target).
func shellCommands(script string) [][]string {
	var (
		cmds     [][]string
		words    []string
		word     strings.Builder
		inWord   bool
		redirect bool // the next word is a redirection target
	)
	endWord := func() {
		if !inWord {
			return
		}
		if redirect {
			redirect = false
		} else {
			words = append(words, word.String())
		}
		word.Reset()
		inWord = false
	}
	endCmd := func() {
		endWord()
		for len(words) > 0 && shellKeywords[words[0]] {
			words = words[1:]
		}
		if len(words) > 0 {
			cmds = append(cmds, words)
		}
		words = nil
	}
	r := []rune(script)
	for i := 0; i < len(r); i++ {
		c := r[i]
		switch {
		case c == '\\' && i+1 < len(r):
			i++
			if r[i] != '\n' {
				word.WriteRune(r[i])
				inWord = true
			}
		case c == '\'':
			inWord = true
			for i++; i < len(r) && r[i] != '\''; i++ {
				word.WriteRune(r[i])
			}
		case c == '"':
			inWord = true
			for i++; i < len(r) && r[i] != '"'; i++ {
				if r[i] == '\\' && i+1 < len(r) && strings.ContainsRune("\"\\$`\n", r[i+1]) {
					i++
				}
				word.WriteRune(r[i])
			}
		case c == '#' && !inWord:
			for i < len(r) && r[i] != '\n' {
				i++
			}
			endCmd()
		case c == ' ' || c == '\t':
			endWord()
		case strings.ContainsRune("\n;&|()", c):
			endCmd()
		case c == '>' || c == '<':
			// A file descriptor number right before it (2>&1) is not a word.
			if inWord && strings.Trim(word.String(), "0123456789") == "" {
				word.Reset()
				inWord = false
			}
			endWord()
			for i+1 < len(r) && strings.ContainsRune("><&", r[i+1]) {
				i++
			}
			redirect = true
		default:
			word.WriteRune(c)
			inWord = true
		}
	}
	endCmd()
	return cmds
}

// TestCIExamplesApplyOnTheTipOfMain: a queued apply must plan against the
// state the previous apply committed, not the commit that triggered it.
func TestCIExamplesApplyOnTheTipOfMain(t *testing.T) {
	for file, want := range map[string]string{
		"github-actions/certplan.yml": "ref: ${{ github.event.repository.default_branch }}",
		"gitlab-ci.yml":               `git checkout -B "$CI_DEFAULT_BRANCH" FETCH_HEAD`,
	} {
		b, err := os.ReadFile(filepath.Join("../../examples/ci", file))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), want) {
			t.Errorf("%s: the apply job does not check out the tip of the default branch (%q)", file, want)
		}
	}
}
