package cli

import (
	"context"

	"github.com/cronrelay/cronrelay/internal/manifest"
)

const schemaHelp = `Usage: cronrelay schema

Prints the JSON Schema of the manifest. Editors with yaml-language-server use
it from a comment on the manifest's first line:

  # yaml-language-server: $schema=./cronrelay.schema.json
`

func runSchema(_ context.Context, env *Env, args []string) error {
	if err := parseNoArgs(newFlags("schema"), args); err != nil {
		return err
	}
	env.Stdout.Write(manifest.Schema())
	return nil
}
