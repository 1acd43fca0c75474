package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/cronrelay/cronrelay/internal/action"
	"github.com/cronrelay/cronrelay/internal/diag"
	"github.com/cronrelay/cronrelay/internal/engine"
	"github.com/cronrelay/cronrelay/internal/lateness"
	"github.com/cronrelay/cronrelay/internal/manifest"
	"github.com/cronrelay/cronrelay/internal/readfile"
	"github.com/cronrelay/cronrelay/internal/secret"
)

// runAction is cronrelay run as a GitHub Actions step (GITHUB_ACTIONS=true).
// It is the CLI's run with options also taken from the action's inputs
// (flags win over inputs, inputs over defaults) and from the event that
// started the workflow, and with the step's extras: secret masks before
// anything else is printed, annotations, a log group per job, outputs and
// a step summary. It reads the inputs, runs, and publishes, in that order;
// a state operation chosen in the Actions tab runs instead of a run.
func runAction(ctx context.Context, env *Env, fs *flag.FlagSet, f *runFlags, pos []string) error {
	s, err := startStep(env)
	if err != nil {
		return err
	}
	defer s.out.Flush()
	in, err := s.readInputs(ctx, fs, f, pos)
	if err != nil {
		return err
	}
	if in.operation != nil {
		s.out.Flush()
		return runOperation(ctx, s.env, s.act, s.out, s.masker, in.operation[0], in.operation)
	}
	rr, err := s.run(ctx, in)
	if rr != nil {
		s.publish(in, rr)
	}
	return err
}

// step is a run as a GitHub Actions step: where it reports, and the
// masker every secret is registered with before anything could show it.
type step struct {
	env    *Env
	masker *secret.Masker
	// out is standard output, masked; act writes the workflow commands,
	// annotations, outputs and summary through it.
	out *secret.MaskWriter
	act *action.Action
	// masked are the values the runner was told to mask already.
	masked map[string]bool
}

// stepInputs is what a step reads before it runs: the event, the options
// of the run (or the state operation to run instead), and the manifest.
type stepInputs struct {
	ev *action.Event
	// operation is the command line of the state operation chosen (replay,
	// cancel, release); nil for a run.
	operation []string
	m         *manifest.Manifest
	// file is the manifest's path in the repository, for annotations; ""
	// when it is outside.
	file string
	rc   *runConfig
	// lateness is how late GitHub started a scheduled run; nil if unknown.
	lateness *action.Lateness
}

// startStep makes the step's writers and masks the token and the state
// keys: nothing may be printed before they are masked.
func startStep(env *Env) (*step, error) {
	s := &step{masker: &secret.Masker{}, masked: map[string]bool{}}
	s.out = s.masker.Writer(env.Stdout)
	// Commands cronrelay issues pass the writer's neutralisation; masks
	// pass its masking too.
	s.act = action.New(s.out.Commands(), s.out.RawCommands(), env.LookupEnv)
	token := githubToken(env)
	if err := s.mask(token); err != nil {
		return nil, err
	}
	// The state keys next: the input overrides CRONRELAY_STATE_KEY.
	s.env = withStateKeyInput(env, s.act)
	if keys := stateKeyValues(s.env); len(keys) > 0 {
		if err := s.mask(keys...); err != nil {
			return nil, err
		}
	} else if s.act.PublicRepository() {
		warnPublicPayloads(s.act)
	}
	return s, nil
}

// mask registers values with the masker and tells the runner to mask them.
func (s *step) mask(values ...string) error {
	for _, v := range values {
		s.masker.Add(v)
		s.masked[v] = true
	}
	if err := s.act.Mask(values...); err != nil {
		return badInputf("writing to standard output: %v", err)
	}
	return nil
}

// annotate puts an error that stopped the run in an annotation and in the
// step summary; Run prints it.
func (s *step) annotate(msg string) {
	msg = s.masker.Mask(msg)
	s.act.Error(action.Annotation{Title: "cronrelay"}, msg)
	s.act.AddSummary(s.masker.Mask("### cronrelay run failed\n\n" + secret.CodeBlock(msg)))
}

// fail annotates err and returns it masked, for Run to print.
func (s *step) fail(err error) error {
	s.annotate(err.Error())
	s.out.Flush()
	return masked(s.masker, err)
}

// readInputs reads the event, the options (flags, then the action's
// inputs, then the event's) and the manifest, and masks every secret the
// manifest substitutes. Its errors are annotated already.
func (s *step) readInputs(ctx context.Context, fs *flag.FlagSet, f *runFlags, pos []string) (*stepInputs, error) {
	ev, err := s.act.ReadEvent()
	if err != nil {
		return nil, s.fail(err)
	}
	in := &stepInputs{ev: ev}
	cmdName, cmdArg, cmdSrc := dispatchCommand(s.act, ev)
	operate, err := applyCommand(fs, f, cmdName, cmdArg, cmdSrc)
	if err != nil {
		return nil, s.fail(err)
	}
	if err := applyInputs(s.act, fs, f, ev); err != nil {
		return nil, s.fail(err)
	}
	if operate {
		if in.operation, err = operationArgs(cmdName, cmdArg, f.manifest, f.state); err != nil {
			return nil, s.fail(err)
		}
		return in, nil
	}
	if err := f.check(pos); err != nil {
		return nil, s.fail(err)
	}
	in.rc = &runConfig{masker: s.masker, out: s.out}
	in.rc.gh = newGHSession(s.env, githubToken(s.env), s.env.Clock.Now().Add(f.budget+f.lookahead))
	if err := s.readManifest(ctx, in, f.manifest); err != nil {
		return nil, err
	}
	var extra []engine.Incoming
	if ev.Request != nil {
		extra = append(extra, engine.Incoming{Source: action.DispatchSource, Data: ev.Request, Origin: engine.OriginEvent})
	} else if ev.Name == action.EventRepositoryDispatch {
		fmt.Fprintln(s.out, "repository_dispatch without a client_payload: a normal run")
	}
	if err := f.configure(s.env, in.rc, extra); err != nil {
		return nil, s.fail(err)
	}
	if in.rc.clk, err = schedulingClock(s.env); err != nil {
		return nil, s.fail(err)
	}
	s.readLateness(in)
	return in, nil
}

// readManifest reads and parses the manifest (through the API when the
// workspace has none), masks the secrets it substitutes, and prints and
// annotates its problems.
func (s *step) readManifest(ctx context.Context, in *stepInputs, path string) error {
	data, viaAPI, err := actionManifest(ctx, s.env, s.act, in.rc.gh, path)
	if err != nil {
		return s.fail(err)
	}
	if file, inRepo := s.act.RepoPath(path); inRepo {
		in.file = file
	}
	m, diags := manifest.Parse(path, data)
	if diags.HasErrors() {
		printDiagnostics(s.env, diags)
		s.act.Diagnostics(in.file, diags)
		s.annotate(fmt.Sprintf("manifest %s has %s; nothing was run\n\n%s", path, countErrors(diags), diags.String()))
		return manifestErrors(path, diags)
	}
	// Every secret the manifest substitutes is masked before anything that
	// could show it is printed. A job whose variables are missing is
	// skipped by the engine and reported at its file and line.
	registerSecrets(s.env, m, s.masker)
	var fresh []string
	for _, v := range s.masker.Values() {
		if !s.masked[v] {
			fresh = append(fresh, v)
		}
	}
	if err := s.mask(fresh...); err != nil {
		return err
	}
	if viaAPI != "" {
		fmt.Fprintf(s.out, "manifest %s is not in the workspace (no actions/checkout step?): read it through the API at %s\n", path, viaAPI)
	}
	diags = withFrequencyWarnings(s.env, path, m, diags)
	printDiagnostics(s.env, diags)
	s.act.Diagnostics(in.file, diags)
	in.m = m
	return nil
}

// readLateness reads from a schedule event how late GitHub started this
// run; the run records the sample in the state (see package lateness).
func (s *step) readLateness(in *stepInputs) {
	ev, clk := in.ev, in.rc.clk
	if ev.Name != action.EventSchedule {
		return
	}
	if ev.Schedule == "" {
		s.act.Warning(action.Annotation{Title: "cronrelay"}, "the schedule event names no schedule, so how late GitHub started this run is unknown")
		return
	}
	l, err := action.ComputeLateness(ev.Schedule, ev.Timezone, clk.Now())
	if err != nil {
		s.act.Warning(action.Annotation{Title: "cronrelay"}, "how late GitHub started this run is unknown: "+err.Error())
		return
	}
	in.lateness = l
	fmt.Fprintf(s.out, "GitHub started this run %s after its tick %s (schedule %q)\n", round(l.Late), fmtTime(l.Tick), l.Schedule)
	if sched, err := lateness.Parse(ev.Schedule, ev.Timezone); err == nil {
		in.rc.opts.Workflow = &engine.Workflow{Schedule: sched, Started: clk.Now()}
	}
}

// run runs the engine with the log in a group per job. It returns the
// report to publish, and the error that sets the exit code. When the run
// stopped before it had a report, or its log could not be written, the
// report is nil and the step's annotation says why.
func (s *step) run(ctx context.Context, in *stepInputs) (*runReport, error) {
	groups := action.NewGroupLog(s.act, s.out, jobNames(in.m))
	in.rc.log = groups
	rr, err := runWith(ctx, s.env, in.m, in.rc)
	ferr := groups.Flush()
	switch {
	case rr == nil:
		s.annotate(err.Error())
	case ferr != nil:
		s.annotate(ferr.Error())
		return nil, err
	}
	return rr, err
}

// publish writes what the run did where the workflow shows it: an
// annotation per skipped job and refused request, the outputs and the
// step summary.
func (s *step) publish(in *stepInputs, rr *runReport) {
	for _, b := range rr.Broken {
		s.act.Diagnostics(in.file, b.Diagnostics)
	}
	for _, r := range rr.Rejected {
		s.act.Error(action.Annotation{Title: "cronrelay request refused"}, s.masker.Mask(r.Error()))
	}
	res := action.Result{Event: in.ev.Name, Masker: s.masker, Lateness: in.lateness, Report: rr.Report}
	res.JSON, _ = json.Marshal(rr)
	if err := s.act.Finish(res); err != nil {
		s.act.Warning(action.Annotation{Title: "cronrelay"}, s.masker.Mask(err.Error()))
	}
}

// applyInputs sets every option no flag set from its action input, or for
// a workflow_dispatch event from the event's inputs when the action input
// is empty. Values are checked as the flags are, and errors name the input.
func applyInputs(act *action.Action, fs *flag.FlagSet, f *runFlags, ev *action.Event) error {
	set := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	for _, in := range action.Inputs {
		if in == action.InputToken || in == action.InputStateKey || set[in] {
			continue
		}
		v, src := act.Input(in), fmt.Sprintf("input %q (%s)", in, action.InputEnv(in))
		if v == "" && ev.Name == action.EventWorkflowDispatch && slices.Contains(action.DispatchInputs, in) {
			v, src = ev.Inputs[in], fmt.Sprintf("workflow_dispatch input %q", in)
		}
		if v == "" {
			continue
		}
		if err := fs.Set(in, v); err != nil {
			return fmt.Errorf("%s: %s", src, diag.Want(inputWant(in), strconv.Quote(v)))
		}
		f.src[in] = src
		if in == action.InputEnqueue {
			// A value the event supplied (the starter workflow forwards
			// ${{ inputs.enqueue }}) is data from whoever dispatched the
			// workflow: never @FILE, and it reaches only the jobs that
			// accept events.
			f.enqueueLiteral = strings.HasPrefix(src, "workflow_dispatch") || ev.Carries(v)
		}
	}
	return nil
}

// inputWant says what an input that failed to parse should look like.
func inputWant(name string) string {
	switch name {
	case action.InputDryRun:
		return `"true" or "false"`
	case action.InputLookahead:
		return "a duration like 4m or 90s"
	case action.InputConcurrency, action.InputStateHistory:
		return "a whole number"
	}
	return "a valid value"
}

// actionManifest reads the manifest from the workspace, or, when the
// workflow did not check the repository out, through the Contents API at
// GITHUB_SHA. via is the commit when it came through the API.
func actionManifest(ctx context.Context, env *Env, act *action.Action, sess *ghSession, path string) (data []byte, via string, err error) {
	data, err = readfile.Limited(env.path(path), maxManifestFile)
	if err == nil {
		return data, "", nil
	}
	if !errors.Is(err, readfile.ErrNotExist) {
		return nil, "", fmt.Errorf("manifest %s: %v", path, err)
	}
	rel, ok := act.RepoPath(path)
	if !ok {
		return nil, "", fmt.Errorf("manifest %s: no such file, and it is outside the repository, so it cannot be read through the API", path)
	}
	sha := strings.TrimSpace(act.Getenv("GITHUB_SHA"))
	if sha == "" {
		return nil, "", fmt.Errorf("manifest %s: no such file in the workspace, and GITHUB_SHA is not set, so it cannot be read through the API; add an actions/checkout step before cronrelay", path)
	}
	data, err = sess.ReadFile(ctx, rel, sha)
	if err != nil {
		return nil, "", fmt.Errorf("manifest %s: not in the workspace (no actions/checkout step?), and reading it through the API failed: %w", path, err)
	}
	return data, sha, nil
}
