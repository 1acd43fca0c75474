package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/cronrelay/cronrelay/internal/action"
	"github.com/cronrelay/cronrelay/internal/clock"
	"github.com/cronrelay/cronrelay/internal/engine"
	"github.com/cronrelay/cronrelay/internal/manifest"
	"github.com/cronrelay/cronrelay/internal/secret"
)

const runHelp = `Usage: cronrelay run [flags]

Decides which deliveries are due (cron occurrences since the last run,
delayed jobs whose time has come, retries whose backoff has passed), claims
them in the state, calls the endpoints, and records the outcome.

Flags:
` + commonHelp + `  --jobs a,b        deliver these jobs now, whatever their schedule
  --enqueue JSON    an enqueue request ({"enqueue":[...],"cancel":[...]});
                    @FILE reads it from a file, @- from standard input.
                    Items that break a rule are refused (every problem is
                    printed, and the manifest's on_reject job is called);
                    the other items and what is due still run, then exit 2
  --dry-run         decide and report, but claim, call and write nothing
  --lookahead D     stay up to D and deliver what falls due inside it at its time
  --concurrency N   deliveries at once (default 8)
  --budget D        how long the run may take before it stops waiting and
                    starting deliveries, and leaves the rest to the next run
                    (default 5m, plus lookahead); recording what it did may
                    take half the budget more, at most 1m
  --fail-on WHAT    dead (default): exit 1 when a delivery was dead-lettered;
                    failure: also when any delivery failed; never: exit 0
  --json            print the report as JSON on stdout
  --state-history N the most commits a state branch keeps before it is
                    squashed to one (default: the manifest's state_history,
                    or 500)

Before claiming, every job is checked (its ${VAR} secrets are set, its URL
and headers are valid, its signing keys decode); a job that fails is
skipped and reported as FILE:LINE:COL, the other jobs run, then exit 2.

On SIGINT or SIGTERM the run starts no more deliveries, records what it did
(deliveries it never sent keep their attempt numbers) and exits 130.

Environment: CRONRELAY_NOW (RFC 3339) sets the scheduling clock at the start.
GITHUB_TOKEN is the token for branch: and gist: state; GITHUB_REPOSITORY
(owner/repo) and GITHUB_API_URL say where branch: state lives.

In GitHub Actions (GITHUB_ACTIONS=true) run is the action: an option not
given as a flag comes from the action's input of the same name (INPUT_JOBS,
INPUT_DRY-RUN, ...; the token from INPUT_TOKEN), and for workflow_dispatch
jobs, enqueue and dry-run also from the event's inputs. It reads the event
(schedule, workflow_dispatch, or repository_dispatch with event_type
cronrelay, whose client_payload is an enqueue request), masks every secret
first, reads the manifest through the API at GITHUB_SHA when the workspace
has none, and writes annotations, a log group per job, the outputs and the
step summary. The default state there is branch:cronrelay-state.
`

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
	// stateHistory is --state-history: 0 takes the manifest's
	// state_history, or the default.
	stateHistory int
	// src names where a value came from when it was not a flag, for
	// messages: flag name -> `input "lookahead"`.
	src map[string]string
	// enqueueLiteral is set when enqueue came from an event's payload:
	// it is JSON as is, never @FILE, since whoever dispatches the workflow
	// does not choose files on the runner.
	enqueueLiteral bool
}

func (f *runFlags) register(fs *flag.FlagSet) {
	f.common.register(fs)
	fs.StringVar(&f.jobs, "jobs", "", "")
	fs.StringVar(&f.enqueue, "enqueue", "", "")
	fs.BoolVar(&f.dryRun, "dry-run", false, "")
	fs.DurationVar(&f.lookahead, "lookahead", 0, "")
	fs.IntVar(&f.concurrency, "concurrency", engine.DefaultConcurrency, "")
	fs.DurationVar(&f.budget, "budget", engine.DefaultBudget, "")
	fs.StringVar(&f.failOn, "fail-on", "dead", "")
	fs.BoolVar(&f.json, "json", false, "")
	fs.IntVar(&f.stateHistory, "state-history", 0, "")
}

// name returns how messages name an option: "--concurrency", or the input
// it came from.
func (f *runFlags) name(flagName string) string {
	if s, ok := f.src[flagName]; ok {
		return s
	}
	return "--" + flagName
}

func runRun(ctx context.Context, env *Env, args []string) error {
	f := runFlags{src: map[string]string{}}
	fs := newFlags("run")
	f.register(fs)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if action.Enabled(env.LookupEnv) {
		return runAction(ctx, env, fs, &f, pos)
	}
	if err := f.check(pos); err != nil {
		return badInput(err)
	}
	m, _, err := loadManifest(env, f.manifest)
	if err != nil {
		return err
	}
	rc := &runConfig{masker: &secret.Masker{}}
	registerSecrets(env, m, rc.masker)
	if err := f.configure(env, rc, nil); err != nil {
		return badInput(err)
	}
	out := rc.masker.Writer(env.Stdout)
	defer out.Flush()
	logw := rc.masker.Writer(env.Stderr)
	defer logw.Flush()
	rc.out, rc.log = out, logw
	_, err = runWith(ctx, env, m, rc)
	return err
}

func (f *runFlags) check(pos []string) error {
	switch {
	case len(pos) > 0:
		return fmt.Errorf("unexpected argument %q (run takes only flags)", pos[0])
	case f.concurrency < 1 || f.concurrency > 256:
		return fmt.Errorf("%s: want a number from 1 to 256, got %d", f.name("concurrency"), f.concurrency)
	case f.lookahead < 0 || f.lookahead > 6*time.Hour:
		return fmt.Errorf("%s: want a duration from 0 to 6h, got %s", f.name("lookahead"), f.lookahead)
	case f.budget <= 0 || f.budget > 6*time.Hour:
		return fmt.Errorf("%s: want more than 0 and at most 6h, got %s", f.name("budget"), f.budget)
	case f.stateHistory != 0 && (f.stateHistory < manifest.MinStateHistory || f.stateHistory > manifest.MaxStateHistory):
		return fmt.Errorf("%s: want a number from %d to %d, got %d", f.name("state-history"), manifest.MinStateHistory, manifest.MaxStateHistory, f.stateHistory)
	}
	switch f.failOn {
	case "dead", "failure", "never":
	default:
		return fmt.Errorf("%s: want one of dead, failure, never, got %q", f.name("fail-on"), f.failOn)
	}
	return nil
}

// configure fills the run's options from the flags; extra are enqueue
// requests from elsewhere (the event that started the workflow).
func (f *runFlags) configure(env *Env, rc *runConfig, extra []engine.Incoming) error {
	rc.state, rc.failOn, rc.json, rc.history = f.state, f.failOn, f.json, f.stateHistory
	rc.opts = engine.Options{
		Jobs: splitList(f.jobs), JobsSource: f.name("jobs"), DryRun: f.dryRun, Lookahead: f.lookahead,
		Concurrency: f.concurrency, Budget: f.budget,
	}
	if f.enqueue != "" {
		data := []byte(f.enqueue)
		origin := engine.OriginOperator
		if f.enqueueLiteral {
			origin = engine.OriginEvent
			if strings.HasPrefix(strings.TrimSpace(f.enqueue), "@") {
				return fmt.Errorf("%s: %.60q came from the event, and values from events are data, never paths: @FILE is read only from --enqueue and from an enqueue: written in the workflow file; send the request as JSON", f.name("enqueue"), f.enqueue)
			}
		} else {
			var err error
			if data, err = readArg(env, f.name("enqueue"), f.enqueue); err != nil {
				return err
			}
		}
		rc.opts.Requests = append(rc.opts.Requests, engine.Incoming{Source: f.name("enqueue"), Data: data, Origin: origin})
	}
	rc.opts.Requests = append(rc.opts.Requests, extra...)
	// Items without an id get one derived from the workflow run, so that
	// re-running the run repeats the delivery instead of making a new one.
	if runKey, ok := env.LookupEnv("GITHUB_RUN_ID"); ok {
		for i := range rc.opts.Requests {
			rc.opts.Requests[i].RunKey = strings.TrimSpace(runKey)
		}
	}
	if rc.gh == nil {
		rc.gh = newGHSession(env, githubToken(env), env.Clock.Now().Add(f.budget+f.lookahead))
	}
	rc.masker.Add(rc.gh.token)
	return nil
}

// runConfig is one run's options and the writers it reports to.
type runConfig struct {
	state string
	// history is the most commits the state branch keeps (0: the
	// manifest's state_history, or the default).
	history int
	opts    engine.Options
	failOn  string
	json    bool
	masker  *secret.Masker
	gh      *ghSession
	// clk is the scheduling clock; nil reads CRONRELAY_NOW.
	clk clock.Clock
	// out receives the report, log the engine's log lines; both mask.
	out, log io.Writer
}

// runReport is the run report as --json prints it and the action's report
// output: the engine's report and the GitHub API calls the run made.
type runReport struct {
	*engine.Report
	APICalls *apiCalls `json:"api_calls,omitempty"`
}

// runWith opens the store, runs the engine and prints the report; the
// action mode shares it and adds its outputs. It returns the report (nil
// when the run failed) and the error that sets the exit code: why the run
// failed, or the outcome of a run that finished (a dead letter, bad input
// it went past, a signal).
func runWith(ctx context.Context, env *Env, m *manifest.Manifest, rc *runConfig) (*runReport, error) {
	history := rc.history
	if history == 0 {
		history = m.StateHistory
	}
	st, err := openStoreWith(env, rc.state, rc.gh, storeOptions{history: history, log: rc.log})
	if err != nil {
		return nil, failed(rc.masker, err)
	}
	clk := rc.clk
	if clk == nil {
		if clk, err = schedulingClock(env); err != nil {
			return nil, failed(rc.masker, err)
		}
	}
	eng := newEngine(env, m, st, clk, rc.masker)
	eng.Log = rc.log
	rep, err := eng.Run(ctx, rc.opts)
	if fl, ok := rc.log.(interface{ Flush() error }); ok {
		// The log of the deliveries comes before the report.
		fl.Flush()
	}
	if err != nil {
		e := failed(rc.masker, err)
		if ctx.Err() != nil {
			e.code = ExitInterrupted
		}
		return nil, e
	}
	rr := &runReport{Report: rep, APICalls: rc.gh.calls()}
	printAs(rc.out, rc.json, rr, printReport)
	bad := inputProblems(env, rc.masker, rep)
	if ctx.Err() != nil {
		// A signal: the run stopped starting deliveries and recorded what
		// it did; say so, and fail so that the stop is visible.
		return rr, &exitError{code: ExitInterrupted, err: fmt.Errorf("stopped (%s): %d delivered, %d not started (they keep their attempt numbers for the next run); the outcomes were recorded",
			context.Cause(ctx), rep.Delivered, rep.NotStarted)}
	}
	// The report and inputProblems said what went wrong; what is left is
	// the exit code.
	return rr, reported(outcome(rc.failOn, rep, bad))
}

// outcome is the exit code of a run that finished.
func outcome(failOn string, rep *engine.Report, bad bool) int {
	switch {
	case bad:
		// Bad input the run went past (a job it skipped, a request it
		// refused) fails the run whatever --fail-on says: --fail-on is
		// about deliveries, and the Actions run must be red.
		return ExitBadInput
	case len(rep.Problems) > 0:
		// A job the state stops (a cursor far ahead): the other jobs ran,
		// and the run fails so that someone looks.
		return ExitBadInput
	case failOn == "never":
		return ExitOK
	case rep.Dead > 0:
		return ExitFailed
	case failOn == "failure" && rep.Failed > 0:
		return ExitFailed
	}
	return ExitOK
}

// inputProblems prints, on standard error, the bad input a run went past:
// the jobs it skipped because their configuration cannot run, each problem
// as FILE:LINE:COL. It reports whether there was any.
func inputProblems(env *Env, masker *secret.Masker, rep *engine.Report) bool {
	for _, r := range rep.Rejected {
		// Each problem a line, as a request refused before the run was.
		fmt.Fprintf(env.Stderr, "cronrelay run: %s\n", masker.Mask(r.Error()))
		what := "nothing in it was applied"
		if r.Accepted > 0 {
			what = fmt.Sprintf("its other %s applied", plural(r.Accepted, "item was", "items were"))
		}
		if r.Report != "" {
			what += "; the on_reject job is called with the problems (" + r.Report + ")"
		}
		fmt.Fprintf(env.Stderr, "cronrelay run: refused %s: %s; the run went on\n", r.Source, what)
	}
	if len(rep.Broken) == 0 {
		return len(rep.Rejected) > 0
	}
	var names []string
	for _, b := range rep.Broken {
		names = append(names, b.Job)
		for _, d := range b.Diagnostics {
			fmt.Fprintln(env.Stderr, masker.Mask(d.String()))
		}
	}
	what := "1 job"
	if len(names) > 1 {
		what = fmt.Sprintf("%d jobs", len(names))
	}
	fmt.Fprintf(env.Stderr, "cronrelay run: skipped %s whose configuration cannot run (%s): nothing of it was claimed, its deliveries wait; the other jobs ran\n", what, strings.Join(names, ", "))
	return true
}

func printReport(w io.Writer, rr *runReport) {
	rep := rr.Report
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
			if d.Error != "" && d.Outcome != engine.OutcomeDelivered {
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
	notStarted := ""
	if rep.NotStarted > 0 {
		notStarted = fmt.Sprintf(", not started %d", rep.NotStarted)
	}
	fmt.Fprintf(w, "delivered %d, failed %d, dead %d%s; pending %d, retrying %d, dead letters %d; next due %s\n",
		rep.Delivered, rep.Failed, rep.Dead, notStarted, rep.Pending, rep.Retrying, rep.DeadTotal, fmtTime(rep.NextDue))
	if c := rr.APICalls; c != nil {
		fmt.Fprintf(w, "GitHub API: %d calls (%d reads, %d writes, %d retries)\n", c.Total, c.Reads, c.Writes, c.Retries)
	}
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

// plural is "1 item was" or "3 items were".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
