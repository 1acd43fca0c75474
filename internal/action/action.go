// Package action is cronrelay's GitHub Actions glue: it tells whether the
// process runs as an Actions step, reads the action's inputs and the event
// that started the workflow, and writes what a step writes besides its log:
// secret masks, annotations, log groups, outputs and the step summary.
//
// It wraps github.com/sethvargo/go-githubactions behind a small type of its
// own. The CLI keeps doing the work (same flags, same engine, same report);
// this package only changes where options come from and adds the outputs.
//
// See https://docs.github.com/actions/using-workflows/workflow-commands-for-github-actions.
package action

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"

	"github.com/sethvargo/go-githubactions"

	"github.com/cronrelay/cronrelay/internal/diag"
	"github.com/cronrelay/cronrelay/internal/manifest"
)

// Enabled reports whether the process runs as a GitHub Actions step: the
// runner sets GITHUB_ACTIONS=true in every step, container actions included.
func Enabled(lookup func(string) (string, bool)) bool {
	v, _ := lookup("GITHUB_ACTIONS")
	return v == "true"
}

// Input names (contract §7). They arrive as INPUT_<NAME>, upper-cased with
// hyphens kept (INPUT_DRY-RUN).
const (
	InputManifest    = "manifest"
	InputState       = "state"
	InputToken       = "token"
	InputJobs        = "jobs"
	InputEnqueue     = "enqueue"
	InputDryRun      = "dry-run"
	InputLookahead   = "lookahead"
	InputConcurrency = "concurrency"
	InputFailOn      = "fail-on"
	// InputStateHistory is the most commits the state branch keeps.
	InputStateHistory = "state-history"
	// InputStateKey holds the keys that encrypt the state's payloads; it
	// overrides CRONRELAY_STATE_KEY. It is a secret, so it has no flag.
	InputStateKey = "state-key"
	// InputCommand and InputArgument operate the install from the Actions
	// tab: what to do (Commands) and its argument.
	InputCommand  = "command"
	InputArgument = "argument"
)

// Commands are the values of the command input: a normal run, a run that
// delivers the argument's jobs now, enqueues the argument's request, or
// decides only, and the state operations that run the CLI command of the
// same name against the state branch.
var Commands = []string{"run", "deliver", "enqueue", "dry-run", "replay", "cancel", "release"}

// Inputs lists every input in the order action.yml declares them.
var Inputs = []string{
	InputManifest, InputState, InputToken, InputJobs, InputEnqueue,
	InputDryRun, InputLookahead, InputConcurrency, InputFailOn, InputStateHistory, InputStateKey,
}

// DispatchInputs are the inputs a workflow_dispatch event may carry in its
// payload; they are read from there when the action input is empty.
var DispatchInputs = []string{InputJobs, InputEnqueue, InputDryRun}

// InputEnv returns the environment variable an input arrives in, as the
// runner names it: INPUT_ and the name upper-cased, spaces to "_",
// hyphens kept.
func InputEnv(name string) string {
	return "INPUT_" + strings.ToUpper(strings.ReplaceAll(name, " ", "_"))
}

// Action writes workflow commands for one step. Commands other than masks
// go to the writer given to New, which the caller usually masks as well;
// masks go to the raw writer, since masking a mask command would defeat it.
// Each command is one line: go-githubactions escapes line breaks in what
// it carries.
type Action struct {
	gha    *githubactions.Action
	raw    *githubactions.Action
	getenv func(string) string
}

// New returns an Action that writes commands to out and ::add-mask::
// commands to raw, and reads the environment with lookup. Both are usually
// the command paths of the process's one output writer
// (secret.MaskWriter.Commands and RawCommands): commands pass its
// neutralisation of workflow commands, and out its masking too.
func New(out, raw io.Writer, lookup func(string) (string, bool)) *Action {
	getenv := func(k string) string {
		v, _ := lookup(k)
		return v
	}
	return &Action{
		gha:    githubactions.New(githubactions.WithWriter(out), githubactions.WithGetenv(getenv)),
		raw:    githubactions.New(githubactions.WithWriter(raw), githubactions.WithGetenv(getenv)),
		getenv: getenv,
	}
}

// Getenv returns an environment variable, "" when unset.
func (a *Action) Getenv(name string) string { return a.getenv(name) }

// Input returns an input's value with surrounding white space removed, ""
// when it is unset or empty.
func (a *Action) Input(name string) string { return a.gha.GetInput(name) }

// Mask asks the runner to mask each value in the log from now on. Empty
// values are skipped: masking "" would mask nothing or everything.
func (a *Action) Mask(values ...string) error {
	return catch(func() {
		for _, v := range values {
			if strings.TrimSpace(v) != "" {
				a.raw.AddMask(v)
			}
		}
	})
}

// Annotation is where an annotation points; every field is optional.
type Annotation struct {
	Title string
	File  string
	Line  int
	Col   int
}

func (an Annotation) fields() map[string]string {
	m := map[string]string{}
	if an.Title != "" {
		m["title"] = an.Title
	}
	if an.File != "" {
		m["file"] = an.File
		if an.Line > 0 {
			m["line"] = fmt.Sprint(an.Line)
			if an.Col > 0 {
				m["col"] = fmt.Sprint(an.Col)
			}
		}
	}
	return m
}

// Error writes an error annotation (::error ...::msg).
func (a *Action) Error(an Annotation, msg string) error {
	return catch(func() { a.gha.WithFieldsMap(an.fields()).Errorf("%s", msg) })
}

// Warning writes a warning annotation (::warning ...::msg).
func (a *Action) Warning(an Annotation, msg string) error {
	return catch(func() { a.gha.WithFieldsMap(an.fields()).Warningf("%s", msg) })
}

// Diagnostics writes one annotation per manifest problem, pointing at its
// file, line and column: errors as ::error, warnings as ::warning. file is
// the manifest's path relative to the repository root (see RepoPath).
func (a *Action) Diagnostics(file string, diags manifest.Diagnostics) error {
	for _, d := range diags {
		an := Annotation{Title: "cronrelay manifest", File: file, Line: d.Pos.Line, Col: d.Pos.Col}
		var err error
		if d.Severity == diag.Warning {
			err = a.Warning(an, d.Detail())
		} else {
			err = a.Error(an, d.Detail())
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// RepoPath returns path relative to the repository root, for annotations:
// relative paths are relative to the workspace (the step's working
// directory) already; an absolute path inside GITHUB_WORKSPACE is made
// relative to it. ok is false for a path outside the repository.
func (a *Action) RepoPath(path string) (string, bool) {
	if filepath.IsAbs(path) {
		ws := a.getenv("GITHUB_WORKSPACE")
		if ws == "" {
			return "", false
		}
		rel, err := filepath.Rel(ws, path)
		if err != nil {
			return "", false
		}
		path = rel
	}
	path = filepath.ToSlash(filepath.Clean(path))
	if path == "." || path == ".." || strings.HasPrefix(path, "../") || strings.HasPrefix(path, "/") {
		return "", false
	}
	return path, true
}

// Group starts a collapsible log group; EndGroup ends it.
func (a *Action) Group(title string) error { return catch(func() { a.gha.Group(title) }) }

// EndGroup ends the current log group.
func (a *Action) EndGroup() error { return catch(a.gha.EndGroup) }

// multiLineDelimiter is the delimiter go-githubactions v1.4.0 writes around
// every output value (name<<DELIM, value, DELIM). A value with a line equal
// to it would end the value early, so SetOutputs refuses one.
const multiLineDelimiter = "_GitHubActionsFileCommandDelimeter_"

// SetOutputs appends the outputs to the GITHUB_OUTPUT file in the runner's
// multi-line format, in name order.
func (a *Action) SetOutputs(outputs map[string]string) error {
	if a.getenv("GITHUB_OUTPUT") == "" {
		return errors.New("GITHUB_OUTPUT is not set, so the step's outputs cannot be written (is this an old runner?)")
	}
	names := make([]string, 0, len(outputs))
	for k := range outputs {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		for _, line := range strings.Split(outputs[k], "\n") {
			if strings.TrimRight(line, "\r") == multiLineDelimiter {
				return fmt.Errorf("output %s: the value has a line %q, which the runner would take for the end of the value", k, multiLineDelimiter)
			}
		}
	}
	return catch(func() {
		for _, k := range names {
			a.gha.SetOutput(k, outputs[k])
		}
	})
}

// AddSummary appends markdown to the GITHUB_STEP_SUMMARY file.
func (a *Action) AddSummary(markdown string) error {
	if a.getenv("GITHUB_STEP_SUMMARY") == "" {
		return errors.New("GITHUB_STEP_SUMMARY is not set, so the step summary cannot be written")
	}
	return catch(func() { a.gha.AddStepSummary(markdown) })
}

// catch turns the panics go-githubactions raises when it cannot write (a
// closed stdout, an unwritable file) into errors.
func catch(f func()) (err error) {
	defer func() {
		if r := recover(); r != nil {
			if e, ok := r.(error); ok {
				err = e
				return
			}
			err = fmt.Errorf("%v", r)
		}
	}()
	f()
	return nil
}
