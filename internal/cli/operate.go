package cli

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/cronrelay/cronrelay/internal/action"
	"github.com/cronrelay/cronrelay/internal/secret"
)

// dispatchCommand returns the command and argument inputs: the action's
// own, or for a workflow_dispatch event the event's when the action's are
// empty (a workflow that passes no with:).
func dispatchCommand(act *action.Action, ev *action.Event) (name, arg, src string) {
	name, arg, src = strings.TrimSpace(act.Input(action.InputCommand)), act.Input(action.InputArgument), "input"
	if name == "" && ev.Name == action.EventWorkflowDispatch {
		name, src = strings.TrimSpace(ev.Inputs[action.InputCommand]), "workflow_dispatch input"
		if arg == "" {
			arg = ev.Inputs[action.InputArgument]
		}
	}
	return name, strings.TrimSpace(arg), src
}

// applyCommand turns the run-shaped commands into the run's options:
// deliver sets the jobs, enqueue the request, dry-run the flag. It returns
// operate=true for the state operations, which runOperation carries out
// instead of a run.
func applyCommand(fs *flag.FlagSet, f *runFlags, name, arg, src string) (operate bool, err error) {
	from := fmt.Sprintf("%s %q", src, action.InputArgument)
	switch name {
	case "", "run":
		if arg != "" {
			return false, fmt.Errorf("%s %q is set, but command %q takes none; choose a command", src, action.InputArgument, "run")
		}
		return false, nil
	case "deliver":
		if arg == "" {
			return false, fmt.Errorf(`command "deliver" needs the jobs to deliver now as its argument (like daily-emails, or a,b)`)
		}
		if err := fs.Set("jobs", arg); err != nil {
			return false, err
		}
		f.src["jobs"] = from
		return false, nil
	case "enqueue":
		if arg == "" {
			return false, fmt.Errorf(`command "enqueue" needs an enqueue request as its argument (like {"job": "welcome-followup", "id": "user-123", "delay": "24h"})`)
		}
		if err := fs.Set("enqueue", arg); err != nil {
			return false, err
		}
		f.src["enqueue"], f.enqueueLiteral = from, true
		return false, nil
	case "dry-run":
		if err := fs.Set("dry-run", "true"); err != nil {
			return false, err
		}
		return false, nil
	case "replay", "cancel", "release":
		return true, nil
	}
	return false, fmt.Errorf("%s %q: unknown command %q; valid are %q", src, action.InputCommand, name, action.Commands)
}

// operationArgs builds the command line of a state operation from its
// argument, with the run's manifest and state. The argument may not choose
// another manifest or state: those are the workflow's.
func operationArgs(name, arg, manifest, state string) ([]string, error) {
	words := strings.Fields(arg)
	if name == "cancel" && len(words) == 1 && strings.Contains(words[0], "#") {
		job, id, _ := strings.Cut(words[0], "#")
		words = []string{"--job", job, "--id", id}
	}
	for _, w := range words {
		for _, f := range []string{"--state", "-state", "--manifest", "-manifest", "--remote", "-remote"} {
			if w == f || strings.HasPrefix(w, f+"=") {
				return nil, fmt.Errorf("the argument of command %q may not set %s: the workflow's inputs choose the manifest and the state", name, f)
			}
		}
	}
	if len(words) == 0 {
		return nil, fmt.Errorf("command %q needs an argument: %s", name, map[string]string{
			"replay":  "delivery ids (see cronrelay status or the status page) or --all",
			"cancel":  "JOB#ID, or --job J --id ID",
			"release": "a delivery id",
		}[name])
	}
	if state == "" {
		state = DefaultBranchState
	}
	return append([]string{name, "--manifest", manifest, "--state", state}, words...), nil
}

// runOperation runs a state operation (replay, cancel, release) chosen in
// the Actions tab as the CLI command of that name, against the run's
// state, and puts what it printed in the step summary. The operation
// printed its own errors; the error returned carries its exit code.
func runOperation(ctx context.Context, env *Env, act *action.Action, out io.Writer, masker *secret.Masker, name string, args []string) error {
	if _, err := lookup(name); err != nil {
		err := fmt.Errorf("command %q is not in this version of cronrelay", name)
		act.Error(action.Annotation{Title: "cronrelay"}, err.Error())
		return badInput(err)
	}
	fmt.Fprintf(out, "cronrelay %s\n", strings.Join(args, " "))
	var buf bytes.Buffer
	sub := *env
	sub.Stdout = io.MultiWriter(out, &buf)
	sub.Stderr = io.MultiWriter(env.Stderr, &buf)
	code := Run(ctx, args, sub)
	text := masker.Mask(strings.TrimSpace(buf.String()))
	status := "done"
	if code != ExitOK {
		status = fmt.Sprintf("failed (exit %d)", code)
		act.Error(action.Annotation{Title: "cronrelay " + name}, text)
	}
	summary := fmt.Sprintf("### cronrelay %s: %s\n\n```\n%s\n```\n", name, status, text)
	if err := act.AddSummary(summary); err != nil {
		act.Warning(action.Annotation{Title: "cronrelay"}, masker.Mask(err.Error()))
	}
	return reported(code)
}
