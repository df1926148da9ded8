package main

import (
	"io"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// Every command a user can reach documents itself: a Short line for the
// command list and an Example for --help; the root lists the exit codes.
func TestEveryCommandHasHelp(t *testing.T) {
	root := newRootCmd(strings.NewReader(""), io.Discard, io.Discard)
	if !strings.Contains(root.Long, "Exit codes:") {
		t.Error("certplan --help does not list the exit codes")
	}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Name() == "help" || c.Name() == "completion" { // cobra's own
			return
		}
		if c.Short == "" {
			t.Errorf("%q has no Short description", c.CommandPath())
		}
		if strings.TrimSpace(c.Example) == "" {
			t.Errorf("%q has no Example", c.CommandPath())
		}
		for _, line := range shellCommands(c.Example) {
			if line[0] != "certplan" {
				continue
			}
			if err := checkCLICommand(line); err != nil {
				t.Errorf("%q example `%s`: %v", c.CommandPath(), strings.Join(line, " "), err)
			}
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	if n := len(root.Commands()); n < 5 {
		t.Errorf("walked only %d subcommands of the root", n)
	}
}

// cobra's `certplan completion bash|zsh|fish|powershell` must stay enabled.
func TestCompletionCommandEnabled(t *testing.T) {
	root := newRootCmd(strings.NewReader(""), io.Discard, io.Discard)
	if root.CompletionOptions.DisableDefaultCmd {
		t.Fatal("the completion command is disabled")
	}
	root.InitDefaultCompletionCmd()
	for _, shell := range []string{"bash", "zsh", "fish", "powershell"} {
		c, _, err := root.Find([]string{"completion", shell})
		if err != nil || c.Name() != shell {
			t.Errorf("certplan completion %s: not found (%v)", shell, err)
		}
	}
}
