package cli

import (
	"context"
	"fmt"
)

const validateHelp = `Usage: cronrelay validate [--manifest PATH] [PATH]

Checks the manifest and prints every problem at once, one per line, as
FILE:LINE:COL: message. Warnings do not fail the check: a schedule that sets
both day-of-month and day-of-week (cron ORs them), a schedule more frequent
than GitHub's 5-minute minimum or than the cron of the workflow in
.github/workflows that runs cronrelay, a fixed-offset zone (EST, MST, HST).
Secrets (${VAR}) need not be set.

Exit 0 when the manifest is valid (warnings allowed), 2 otherwise.
`

func runValidate(_ context.Context, env *Env, args []string) error {
	var c common
	fs := newFlags("validate")
	c.register(fs)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 1 {
		return badInputf("want one manifest, got %d", len(pos))
	}
	if len(pos) == 1 {
		c.manifest = pos[0]
	}
	m, diags, err := loadManifest(env, c.manifest)
	if err != nil {
		return err
	}
	printDiagnostics(env, withFrequencyWarnings(env, c.manifest, m, diags))
	jobs := fmt.Sprintf("%d jobs", len(m.Jobs))
	if len(m.Jobs) == 1 {
		jobs = "1 job"
	}
	fmt.Fprintf(env.Stdout, "%s: ok, %s\n", c.manifest, jobs)
	return nil
}
