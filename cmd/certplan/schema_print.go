package main

import (
	"fmt"

	"github.com/certplan/certplan/pkg/spec"
)

// printSchema writes the combined manifest schema (certplan schema).
func printSchema(g *globals) error {
	data, err := spec.BundledSchema()
	if err != nil {
		return withCode(exitError, err)
	}
	if _, err := g.stdout.Write(data); err != nil {
		return withCode(exitError, fmt.Errorf("write schema: %w", err))
	}
	return nil
}
