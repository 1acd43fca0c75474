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
	pos, err := parse(newFlags("version"), args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return badInputf("unexpected argument %q", pos[0])
	}
	fmt.Fprintf(env.Stdout, "cronrelay %s (commit %s, %s)\n", version.Version, version.Commit, version.GoVersion())
	return nil
}
