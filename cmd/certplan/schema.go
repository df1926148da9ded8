package main

import (
	"github.com/spf13/cobra"
)

func newSchemaCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "schema",
		Short: "Print the combined manifest JSON Schema (for editors)",
		Long: `Print the JSON Schema (draft 2020-12) that every manifest is checked against.
Point yaml-language-server at it for completion and inline errors, at the top
of every YAML document (after each --- too: the line is read per document):

  # yaml-language-server: $schema=./certplan.schema.json`,
		Example: "  certplan schema > certplan.schema.json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return printSchema(g)
		},
	}
}
