package cli

import (
	"context"
	"fmt"
)

var validateCmd = &command{
	name:    "validate",
	summary: "check a manifest; every problem as FILE:LINE:COL: message",
	help: `Usage: cronrelay validate [--manifest PATH] [PATH]

Checks the manifest and prints every problem at once, one per line, as
FILE:LINE:COL: message. Warnings do not fail the check: a schedule that sets
both day-of-month and day-of-week (cron ORs them), a schedule more frequent
than GitHub's 5-minute minimum or than the cron of the workflow in
.github/workflows that runs cronrelay, a fixed-offset zone (EST, MST, HST).
Secrets (${VAR}) need not be set.

Exit 0 when the manifest is valid (warnings allowed), 2 otherwise.
`,
}

func init() { validateCmd.run = runValidate }

func runValidate(_ context.Context, env *Env, args []string) int {
	var c common
	fs := newFlags(validateCmd, env)
	c.register(fs)
	pos, code, done := parse(validateCmd, fs, env, args)
	if done {
		return code
	}
	if len(pos) > 1 {
		fmt.Fprintf(env.Stderr, "cronrelay validate: one manifest at a time; got %d\n", len(pos))
		return ExitBadInput
	}
	if len(pos) == 1 {
		c.manifest = pos[0]
	}
	m, diags, code := loadManifest(env, "validate", c.manifest)
	if m == nil {
		return code
	}
	for _, d := range withFrequencyWarnings(env, c.manifest, m, diags) {
		fmt.Fprintln(env.Stderr, d.String())
	}
	jobs := fmt.Sprintf("%d jobs", len(m.Jobs))
	if len(m.Jobs) == 1 {
		jobs = "1 job"
	}
	fmt.Fprintf(env.Stdout, "%s: ok, %s\n", c.manifest, jobs)
	return ExitOK
}
