package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"text/tabwriter"

	"github.com/cronrelay/cronrelay/internal/manifest"
	"github.com/cronrelay/cronrelay/internal/secret"
)

var planCmd = &command{
	name:    "plan",
	summary: "what a run at T would deliver and why; calls and writes nothing",
	help: `Usage: cronrelay plan [--at T] [flags]

Shows what a run at T (default now) would do with the current state: what is
due, coalesced, missed, skipped for overlap, waiting on backoff, in flight,
orphaned (its job left the manifest), and when the next thing is due. Calls
nothing and writes nothing.

Flags:
` + commonHelp + remoteHelp + `  --at T            the time of the imagined run (RFC 3339; default now)
  --json            print the plan as JSON
`,
}

func init() { planCmd.run = runPlan }

func runPlan(ctx context.Context, env *Env, args []string) int {
	var c common
	var at string
	var asJSON bool
	fs := newFlags(planCmd, env)
	c.register(fs)
	c.registerRemote(fs)
	fs.StringVar(&at, "at", "", "")
	fs.BoolVar(&asJSON, "json", false, "")
	pos, code, done := parse(planCmd, fs, env, args)
	if done {
		return code
	}
	renv, err := c.stateEnv(env, "plan")
	if err != nil {
		fmt.Fprintf(env.Stderr, "cronrelay plan: %v\n", err)
		return ExitBadInput
	}
	env = renv
	if len(pos) > 0 {
		fmt.Fprintf(env.Stderr, "cronrelay plan: unexpected argument %q\n", pos[0])
		return ExitBadInput
	}
	clk, err := schedulingClock(env)
	if err != nil {
		fmt.Fprintf(env.Stderr, "cronrelay plan: %v\n", err)
		return ExitBadInput
	}
	when := clk.Now()
	if at != "" {
		if when, err = parseTime("--at", at); err != nil {
			fmt.Fprintf(env.Stderr, "cronrelay plan: %v\n", err)
			return ExitBadInput
		}
	}
	m, _, code := loadManifest(env, "plan", c.manifest)
	if m == nil {
		return code
	}
	st, err := openStore(env, c.state)
	if err != nil {
		fmt.Fprintf(env.Stderr, "cronrelay plan: %v\n", err)
		return ExitBadInput
	}
	masker := &secret.Masker{}
	eng := newEngine(env, m, st, clk, masker)
	p, err := eng.Plan(ctx, when)
	if err != nil {
		return exitFor(env, "plan", masker, err)
	}
	out := masker.Writer(env.Stdout)
	defer out.Flush()
	if asJSON {
		b, _ := json.MarshalIndent(p, "", "  ")
		fmt.Fprintf(out, "%s\n", b)
		return ExitOK
	}
	fmt.Fprintf(out, "plan for a run at %s: %d due\n", fmtTime(p.At), p.Due)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "DECISION\tDELIVERY\tDUE\tWHY")
	for _, n := range p.Notes {
		id := n.ID
		if id == "" {
			id = n.Job
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", n.Kind, id, fmtTime(n.Due), n.Reason)
	}
	tw.Flush()
	fmt.Fprintf(out, "next due: %s\n", fmtTime(p.NextDue))
	return ExitOK
}

func jobNames(m *manifest.Manifest) []string {
	names := make([]string, 0, len(m.Jobs))
	for _, j := range m.Jobs {
		names = append(names, j.Name)
	}
	return names
}
