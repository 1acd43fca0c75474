package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/cronrelay/cronrelay/internal/engine"
	"github.com/cronrelay/cronrelay/internal/manifest"
	"github.com/cronrelay/cronrelay/internal/secret"
)

var runCmd = &command{
	name:    "run",
	summary: "the main job: decide, claim, deliver, record",
	help: `Usage: cronrelay run [flags]

Decides which deliveries are due (cron occurrences since the last run,
delayed jobs whose time has come, retries whose backoff has passed), claims
them in the state, calls the endpoints, and records the outcome.

Flags:
` + commonHelp + `  --jobs a,b        deliver these jobs now, whatever their schedule
  --enqueue JSON    an enqueue request ({"enqueue":[...],"cancel":[...]});
                    @FILE reads it from a file, @- from standard input
  --dry-run         decide and report, but claim, call and write nothing
  --lookahead D     stay up to D and deliver what falls due inside it at its time
  --concurrency N   deliveries at once (default 8)
  --budget D        how long the run may take before it stops waiting and
                    leaves retries to the next run (default 5m, plus lookahead)
  --fail-on WHAT    dead (default): exit 1 when a delivery was dead-lettered;
                    failure: also when any delivery failed; never: exit 0
  --json            print the report as JSON on stdout

Environment: CRONRELAY_NOW (RFC 3339) sets the scheduling clock at the start.
`,
}

func init() { runCmd.run = runRun }

// runFlags are the flags of cronrelay run.
type runFlags struct {
	common
	jobs        string
	enqueue     string
	dryRun      bool
	lookahead   time.Duration
	concurrency int
	budget      time.Duration
	failOn      string
	json        bool
}

func runRun(ctx context.Context, env *Env, args []string) int {
	var f runFlags
	fs := newFlags(runCmd, env)
	f.register(fs)
	fs.StringVar(&f.jobs, "jobs", "", "")
	fs.StringVar(&f.enqueue, "enqueue", "", "")
	fs.BoolVar(&f.dryRun, "dry-run", false, "")
	fs.DurationVar(&f.lookahead, "lookahead", 0, "")
	fs.IntVar(&f.concurrency, "concurrency", engine.DefaultConcurrency, "")
	fs.DurationVar(&f.budget, "budget", engine.DefaultBudget, "")
	fs.StringVar(&f.failOn, "fail-on", "dead", "")
	fs.BoolVar(&f.json, "json", false, "")
	pos, code, done := parse(runCmd, fs, env, args)
	if done {
		return code
	}
	if err := f.check(pos); err != nil {
		fmt.Fprintf(env.Stderr, "cronrelay run: %v\n", err)
		return ExitBadInput
	}
	m, _, code := loadManifest(env, "run", f.manifest)
	if m == nil {
		return code
	}
	opts := engine.Options{
		Jobs: splitList(f.jobs), DryRun: f.dryRun, Lookahead: f.lookahead,
		Concurrency: f.concurrency, Budget: f.budget,
	}
	if f.enqueue != "" {
		data, err := readArg(env, "--enqueue", f.enqueue)
		if err != nil {
			fmt.Fprintf(env.Stderr, "cronrelay run: %v\n", err)
			return ExitBadInput
		}
		opts.Requests = append(opts.Requests, engine.Incoming{Source: "--enqueue", Data: data})
	}
	return runWith(ctx, env, m, f.state, opts, f.failOn, f.json)
}

func (f *runFlags) check(pos []string) error {
	switch {
	case len(pos) > 0:
		return fmt.Errorf("unexpected argument %q (run takes only flags)", pos[0])
	case f.concurrency < 1 || f.concurrency > 256:
		return fmt.Errorf("--concurrency: %d is out of range 1-256", f.concurrency)
	case f.lookahead < 0 || f.lookahead > 6*time.Hour:
		return fmt.Errorf("--lookahead: %s is out of range 0-6h", f.lookahead)
	case f.budget <= 0 || f.budget > 6*time.Hour:
		return fmt.Errorf("--budget: %s is out of range (0-6h]", f.budget)
	}
	switch f.failOn {
	case "dead", "failure", "never":
	default:
		return fmt.Errorf("--fail-on: %q is not one of dead, failure, never", f.failOn)
	}
	return nil
}

// runWith runs the engine and prints its report; the action mode shares it.
func runWith(ctx context.Context, env *Env, m *manifest.Manifest, stateURI string, opts engine.Options, failOn string, asJSON bool) int {
	masker := &secret.Masker{}
	st, err := openStore(env, stateURI)
	if err != nil {
		fmt.Fprintf(env.Stderr, "cronrelay run: %v\n", err)
		return ExitBadInput
	}
	clk, err := schedulingClock(env)
	if err != nil {
		fmt.Fprintf(env.Stderr, "cronrelay run: %v\n", err)
		return ExitBadInput
	}
	eng := newEngine(env, m, st, clk, masker)
	out := masker.Writer(env.Stdout)
	defer out.Flush()
	logw := masker.Writer(env.Stderr)
	defer logw.Flush()
	eng.Log = logw
	rep, err := eng.Run(ctx, opts)
	if err != nil {
		return exitFor(env, "run", masker, err)
	}
	if asJSON {
		b, _ := json.MarshalIndent(rep, "", "  ")
		fmt.Fprintf(out, "%s\n", b)
	} else {
		printReport(out, rep)
	}
	switch {
	case failOn == "never":
		return ExitOK
	case rep.Dead > 0:
		return ExitFailed
	case failOn == "failure" && rep.Failed > 0:
		return ExitFailed
	}
	return ExitOK
}

func printReport(w io.Writer, rep *engine.Report) {
	if rep.DryRun {
		fmt.Fprintln(w, "dry run: nothing was claimed, called or written")
	}
	if len(rep.Deliveries) > 0 {
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "DELIVERY\tDUE\tLATE\tOUTCOME\tATTEMPTS\tSTATUS\tTIME")
		for _, d := range rep.Deliveries {
			status := "-"
			if d.Status != 0 {
				status = fmt.Sprint(d.Status)
			}
			if d.Error != "" && d.Outcome != "delivered" {
				status = d.Error
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", d.ID, fmtTime(d.Due), round(d.Lateness), d.Outcome, attempts(d.Attempts), status, round(d.Duration))
		}
		tw.Flush()
	}
	for _, n := range rep.Notes {
		switch n.Kind {
		case engine.NoteDue, engine.NoteWaiting:
			continue
		}
		id := n.ID
		if id == "" {
			id = n.Job
		}
		fmt.Fprintf(w, "%s %s: %s\n", n.Kind, id, n.Reason)
	}
	for _, p := range rep.Problems {
		fmt.Fprintln(w, "problem:", p)
	}
	fmt.Fprintf(w, "delivered %d, failed %d, dead %d; pending %d, retrying %d, dead letters %d; next due %s\n",
		rep.Delivered, rep.Failed, rep.Dead, rep.Pending, rep.Retrying, rep.DeadTotal, fmtTime(rep.NextDue))
}

func attempts(a []int) string {
	switch len(a) {
	case 0:
		return "-"
	case 1:
		return fmt.Sprint(a[0])
	}
	return fmt.Sprintf("%d-%d", a[0], a[len(a)-1])
}

func round(d time.Duration) string {
	switch {
	case d < 0:
		return "-" + round(-d)
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	default:
		return d.Round(time.Second).String()
	}
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
