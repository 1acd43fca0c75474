package cli

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/cronrelay/cronrelay/internal/manifest"
)

const nextHelp = `Usage: cronrelay next [--job J] [--count N] [--manifest PATH]

Prints the next N fire times of each scheduled job (or of job J), each in the
job's zone and in UTC. Daylight saving is applied as cronrelay fires: a fixed
time skipped by spring-forward fires at the first instant after the gap; a
fixed time repeated by fall-back fires once, at its first instant.

Flags:
  --job J           only this job
  --count N         how many (default 5, at most 1000)
  --manifest PATH   the manifest (default .github/cronrelay.yml)

Environment: CRONRELAY_NOW (RFC 3339) sets "now".
`

func runNext(_ context.Context, env *Env, args []string) error {
	var c common
	var job string
	var count int
	fs := newFlags("next")
	c.register(fs)
	fs.StringVar(&job, "job", "", "")
	fs.IntVar(&count, "count", 5, "")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	if count < 1 || count > 1000 {
		return badInputf("--count: want a number from 1 to 1000, got %d", count)
	}
	m, _, err := loadManifest(env, c.manifest)
	if err != nil {
		return err
	}
	clk, err := schedulingClock(env)
	if err != nil {
		return badInput(err)
	}
	if job != "" && m.Job(job) == nil {
		return badInputf("--job: unknown job %q; valid are %q", job, jobNames(m))
	}
	printNext(env.Stdout, m, job, count, clk.Now())
	return nil
}

// printNext prints the next count fire times after now of each scheduled
// job, or of job.
func printNext(w io.Writer, m *manifest.Manifest, job string, count int, now time.Time) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "JOB\tLOCAL\tUTC")
	for _, j := range m.Jobs {
		if job != "" && j.Name != job {
			continue
		}
		if j.Schedule == nil {
			if job != "" {
				fmt.Fprintf(tw, "%s\t(no schedule: runs when enqueued)\t\n", j.Name)
			}
			continue
		}
		t := now
		for i := 0; i < count; i++ {
			n, ok := j.Schedule.Next(t)
			if !ok {
				break
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\n", j.Name, local(n, j.Location()), n.UTC().Format(time.RFC3339))
			t = n
		}
	}
	tw.Flush()
}

// local shows t in loc with the zone's abbreviation and name
// ("2026-03-29T03:00:00+02:00 CEST Europe/Berlin").
func local(t time.Time, loc *time.Location) string {
	t = t.In(loc)
	abbr := t.Format("MST")
	if abbr == loc.String() {
		return t.Format(time.RFC3339) + " " + abbr
	}
	return t.Format(time.RFC3339) + " " + abbr + " " + loc.String()
}
