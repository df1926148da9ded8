package main

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDocsUseRealCommands keeps the README and docs/ honest: every certplan
// command line in their code blocks must name a real subcommand with flags
// it has and a valid number of arguments.
func TestDocsUseRealCommands(t *testing.T) {
	files, err := filepath.Glob("../../docs/*.md")
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, "../../README.md", "../../examples/README.md", "../../examples/ci/README.md")
	checked := 0
	for _, f := range files {
		for _, c := range docCommands(t, f) {
			checked++
			if err := checkCLICommand(c.args); err != nil {
				t.Errorf("%s:%d: %q: %v", f, c.line, strings.Join(c.args, " "), err)
			}
		}
	}
	if checked < 20 {
		t.Fatalf("found only %d certplan commands in the docs; the extractor is broken", checked)
	}
}

type docCommand struct {
	line int
	args []string
}

// docCommands returns the certplan invocations inside shell code blocks
// (```sh, ```bash, ```shell, ```console; plain ``` blocks are output).
// A prompt ("$ ") and a path to the binary (bin/certplan, ./certplan) are
// stripped; lines continued with a backslash are joined.
func docCommands(t *testing.T, path string) []docCommand {
	t.Helper()
	fh, err := os.Open(path)
	if err != nil {
		if os.IsNotExist(err) {
			return nil
		}
		t.Fatal(err)
	}
	defer fh.Close()
	var (
		out     []docCommand
		inBlock bool
		isShell bool
		pending string
		start   int
	)
	sc := bufio.NewScanner(fh)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if fence := strings.TrimSpace(line); strings.HasPrefix(fence, "```") {
			inBlock = !inBlock
			switch strings.TrimPrefix(fence, "```") {
			case "sh", "bash", "shell", "console":
				isShell = inBlock
			default:
				isShell = false
			}
			continue
		}
		if !inBlock || !isShell {
			continue
		}
		if pending == "" {
			start = n
		}
		if strings.HasSuffix(line, "\\") {
			pending += strings.TrimSuffix(line, "\\") + " "
			continue
		}
		line, pending = pending+line, ""
		for _, words := range shellCommands(line) {
			for i, w := range words {
				if w == "$" {
					continue
				}
				if binaries[w] {
					args := append([]string{"certplan"}, words[i+1:]...)
					out = append(out, docCommand{line: start, args: args})
				}
				break
			}
		}
	}
	return out
}

// binaries are the ways the docs invoke certplan.
var binaries = map[string]bool{"certplan": true, "bin/certplan": true, "./bin/certplan": true, "./certplan": true, "$BIN": true}
