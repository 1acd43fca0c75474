package cli

import (
	"context"
	"fmt"

	"github.com/cronrelay/cronrelay/internal/manifest"
)

var schemaCmd = &command{
	name:    "schema",
	summary: "print the manifest's JSON Schema (for editors)",
	help: `Usage: cronrelay schema

Prints the JSON Schema of the manifest. Editors with yaml-language-server use
it from a comment on the manifest's first line:

  # yaml-language-server: $schema=./cronrelay.schema.json
`,
}

func init() { schemaCmd.run = runSchema }

func runSchema(_ context.Context, env *Env, args []string) int {
	fs := newFlags(schemaCmd, env)
	pos, code, done := parse(schemaCmd, fs, env, args)
	if done {
		return code
	}
	if len(pos) > 0 {
		fmt.Fprintf(env.Stderr, "cronrelay schema: unexpected argument %q\n", pos[0])
		return ExitBadInput
	}
	env.Stdout.Write(manifest.Schema())
	return ExitOK
}
