package cli

import (
	"context"
	"fmt"

	"github.com/cronrelay/cronrelay/internal/version"
)

var versionCmd = &command{
	name:    "version",
	summary: "version, commit, Go version",
	help: `Usage: cronrelay version

Prints the version, the commit it was built from, and the Go version.
`,
}

func init() { versionCmd.run = runVersion }

func runVersion(_ context.Context, env *Env, args []string) int {
	fs := newFlags(versionCmd, env)
	pos, code, done := parse(versionCmd, fs, env, args)
	if done {
		return code
	}
	if len(pos) > 0 {
		fmt.Fprintf(env.Stderr, "cronrelay version: unexpected argument %q\n", pos[0])
		return ExitBadInput
	}
	fmt.Fprintf(env.Stdout, "cronrelay %s (commit %s, %s)\n", version.Version, version.Commit, version.GoVersion())
	return ExitOK
}
