package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"slices"
	"strings"

	"github.com/cronrelay/cronrelay/internal/action"
	"github.com/cronrelay/cronrelay/internal/engine"
	"github.com/cronrelay/cronrelay/internal/lateness"
	"github.com/cronrelay/cronrelay/internal/manifest"
	"github.com/cronrelay/cronrelay/internal/secret"
)

// runAction is cronrelay run as a GitHub Actions step (GITHUB_ACTIONS=true).
// It is the CLI's run with options also taken from the action's inputs
// (flags win over inputs, inputs over defaults) and from the event that
// started the workflow, and with the step's extras: secret masks before
// anything else is printed, annotations, a log group per job, outputs and
// a step summary.
func runAction(ctx context.Context, env *Env, fs *flag.FlagSet, f *runFlags, pos []string) int {
	masker := &secret.Masker{}
	out := masker.Writer(env.Stdout)
	defer out.Flush()
	// Commands cronrelay issues pass the writer's neutralisation; masks
	// pass its masking too.
	act := action.New(out.Commands(), out.RawCommands(), env.LookupEnv)
	// failed annotates an error that stopped the run and puts it in the
	// step summary; the error was printed already.
	failed := func(msg string) {
		msg = masker.Mask(msg)
		act.Error(action.Annotation{Title: "cronrelay"}, msg)
		act.AddSummary(masker.Mask("### cronrelay run failed\n\n" + secret.CodeBlock(msg)))
	}
	fail := func(err error) int {
		fmt.Fprintf(env.Stderr, "cronrelay run: %s\n", masker.Mask(err.Error()))
		failed(err.Error())
		out.Flush()
		return exitCode(err)
	}

	// The token first: nothing may be printed before it is masked.
	token := githubToken(env)
	masker.Add(token)
	if err := act.Mask(token); err != nil {
		fmt.Fprintf(env.Stderr, "cronrelay run: writing to standard output: %v\n", err)
		return ExitBadInput
	}

	// The state keys next: the input overrides CRONRELAY_STATE_KEY.
	env = withStateKeyInput(env, act)
	masked := map[string]bool{token: true}
	if keys := stateKeyValues(env); len(keys) > 0 {
		for _, k := range keys {
			masker.Add(k)
			masked[k] = true
		}
		if err := act.Mask(keys...); err != nil {
			fmt.Fprintf(env.Stderr, "cronrelay run: writing to standard output: %v\n", err)
			return ExitBadInput
		}
	} else if act.PublicRepository() {
		warnPublicPayloads(act)
	}

	ev, err := act.ReadEvent()
	if err != nil {
		return fail(err)
	}
	cmdName, cmdArg, cmdSrc := dispatchCommand(act, ev)
	operate, err := applyCommand(fs, f, cmdName, cmdArg, cmdSrc)
	if err != nil {
		return fail(err)
	}
	if err := applyInputs(act, fs, f, ev); err != nil {
		return fail(err)
	}
	if operate {
		args, err := operationArgs(cmdName, cmdArg, f.manifest, f.state)
		if err != nil {
			return fail(err)
		}
		out.Flush()
		return runOperation(ctx, env, act, out, masker, cmdName, args)
	}
	if err := f.check(pos); err != nil {
		return fail(err)
	}
	rc := &runConfig{masker: masker, out: out}
	rc.gh = newGHSession(env, token, env.Clock.Now().Add(f.budget+f.lookahead))

	data, viaAPI, err := actionManifest(ctx, env, act, rc.gh, f.manifest)
	if err != nil {
		return fail(err)
	}
	file, inRepo := act.RepoPath(f.manifest)
	if !inRepo {
		file = ""
	}
	m, diags := manifest.Parse(f.manifest, data)
	if diags.HasErrors() {
		printDiagnostics(env, "run", f.manifest, diags)
		act.Diagnostics(file, diags)
		failed(fmt.Sprintf("manifest %s has %s; nothing was run\n\n%s", f.manifest, countErrors(diags), diags.Error()))
		return ExitBadInput
	}

	// Every secret the manifest substitutes is masked before anything that
	// could show it is printed. A job whose variables are missing is
	// skipped by the engine and reported at its file and line.
	registerSecrets(env, m, masker)
	var values []string
	for _, v := range masker.Values() {
		if !masked[v] {
			values = append(values, v)
		}
	}
	if err := act.Mask(values...); err != nil {
		fmt.Fprintf(env.Stderr, "cronrelay run: writing to standard output: %v\n", err)
		return ExitBadInput
	}

	if viaAPI != "" {
		fmt.Fprintf(out, "manifest %s is not in the workspace (no actions/checkout step?): read it through the API at %s\n", f.manifest, viaAPI)
	}
	diags = withFrequencyWarnings(env, f.manifest, m, diags)
	printDiagnostics(env, "run", f.manifest, diags)
	act.Diagnostics(file, diags)

	var extra []engine.Incoming
	if ev.Request != nil {
		extra = append(extra, engine.Incoming{Source: action.DispatchSource, Data: ev.Request, Origin: engine.OriginEvent})
	} else if ev.Name == action.EventRepositoryDispatch {
		fmt.Fprintln(out, "repository_dispatch without a client_payload: a normal run")
	}
	if err := f.configure(env, rc, extra); err != nil {
		return fail(err)
	}
	clk, err := schedulingClock(env)
	if err != nil {
		return fail(err)
	}
	rc.clk = clk

	res := action.Result{Event: ev.Name, Masker: masker}
	if ev.Name == action.EventSchedule {
		if ev.Schedule == "" {
			act.Warning(action.Annotation{Title: "cronrelay"}, "the schedule event names no schedule, so how late GitHub started this run is unknown")
		} else if l, err := action.ComputeLateness(ev.Schedule, ev.Timezone, clk.Now()); err != nil {
			act.Warning(action.Annotation{Title: "cronrelay"}, "how late GitHub started this run is unknown: "+err.Error())
		} else {
			res.Lateness = l
			fmt.Fprintf(out, "GitHub started this run %s after its tick %s (schedule %q)\n", round(l.Late), fmtTime(l.Tick), l.Schedule)
			if sched, err := lateness.Parse(ev.Schedule, ev.Timezone); err == nil {
				// The run records the sample in the state (see package lateness).
				rc.opts.Workflow = &engine.Workflow{Schedule: sched, Started: clk.Now()}
			}
		}
	}

	groups := action.NewGroupLog(act, out, jobNames(m))
	rc.log = groups
	code, rep, err := runWith(ctx, env, m, rc)
	if ferr := groups.Flush(); ferr != nil && err == nil {
		err = ferr
	}
	if err != nil {
		failed(err.Error())
		return code
	}
	for _, b := range rep.Broken {
		act.Diagnostics(file, b.Diagnostics)
	}
	for _, r := range rep.Rejected {
		act.Error(action.Annotation{Title: "cronrelay request refused"}, masker.Mask(r.Error()))
	}
	res.Report = rep.Report
	res.JSON, _ = json.Marshal(rep)
	if err := act.Finish(res); err != nil {
		act.Warning(action.Annotation{Title: "cronrelay"}, masker.Mask(err.Error()))
	}
	return code
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
			return fmt.Errorf("%s: %q %s", src, v, inputWant(in))
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
		return `is not a boolean; use "true" or "false"`
	case action.InputLookahead:
		return "is not a duration like 4m or 90s"
	case action.InputConcurrency, action.InputStateHistory:
		return "is not a whole number"
	}
	return "is not valid"
}

// actionManifest reads the manifest from the workspace, or, when the
// workflow did not check the repository out, through the Contents API at
// GITHUB_SHA. via is the commit when it came through the API.
func actionManifest(ctx context.Context, env *Env, act *action.Action, sess *ghSession, path string) (data []byte, via string, err error) {
	data, err = readFile(env.path(path), maxManifestFile)
	if err == nil {
		return data, "", nil
	}
	if !errors.Is(err, errNoFile) {
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
