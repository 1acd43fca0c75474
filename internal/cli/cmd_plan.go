package cli

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/cronrelay/cronrelay/internal/engine"
	"github.com/cronrelay/cronrelay/internal/manifest"
)

const planHelp = `Usage: cronrelay plan [--at T] [flags]

Shows what a run at T (default now) would do with the current state: what is
due, coalesced, missed, skipped for overlap, waiting on backoff, in flight,
orphaned (its job left the manifest), and when the next thing is due. Calls
nothing and writes nothing.

Flags:
` + commonHelp + remoteHelp + `  --at T            the time of the imagined run (RFC 3339; default now)
  --json            print the plan as JSON
`

func runPlan(ctx context.Context, env *Env, args []string) error {
	var c common
	var at string
	var asJSON bool
	fs := stateFlagSet("plan", &c)
	fs.StringVar(&at, "at", "", "")
	fs.BoolVar(&asJSON, "json", false, "")
	env, err := parseStateFlags(fs, args, &c, env)
	if err != nil {
		return err
	}
	clk, err := schedulingClock(env)
	if err != nil {
		return badInput(err)
	}
	when := clk.Now()
	if at != "" {
		if when, err = parseTime("--at", at); err != nil {
			return badInput(err)
		}
	}
	eng, masker, err := openEngine(env, c, clk)
	if err != nil {
		return err
	}
	p, err := eng.Plan(ctx, when)
	if err != nil {
		return failed(masker, err)
	}
	out := masker.Writer(env.Stdout)
	defer out.Flush()
	printAs(out, asJSON, p, printPlan)
	return nil
}

// printPlan prints a plan as a table of decisions.
func printPlan(out io.Writer, p *engine.Plan) {
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
}

func jobNames(m *manifest.Manifest) []string {
	names := make([]string, 0, len(m.Jobs))
	for _, j := range m.Jobs {
		names = append(names, j.Name)
	}
	return names
}
