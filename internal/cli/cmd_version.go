package cli

import (
	"context"
	"fmt"

	"github.com/cronrelay/cronrelay/internal/version"
)

const versionHelp = `Usage: cronrelay version

Prints the version, the commit it was built from, and the Go version.
`

func runVersion(_ context.Context, env *Env, args []string) error {
	if err := parseNoArgs(newFlags("version"), args); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "cronrelay %s (commit %s, %s)\n", version.Version, version.Commit, version.GoVersion())
	return nil
}
