package main

import "github.com/spf13/cobra"

// addLaterCommands registers the plan/apply/state commands.
func addLaterCommands(root *cobra.Command, g *globals) {
	root.AddCommand(
		newPlanCmd(g),
		newApplyCmd(g),
		newShowCmd(g),
		newStateCmd(g),
		newImportCmd(g),
		newForceUnlockCmd(g),
		newSimulatorCmd(g),
		newInitCmd(g),
		newFetchCmd(g),
		newDCVCmd(g),
	)
}
