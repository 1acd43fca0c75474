// Package cli is the cronrelay command line: it parses flags, builds the
// real dependencies from what main hands it, and runs one command. All I/O
// comes in through Env, so the whole CLI runs in tests against buffers.
package cli

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/cronrelay/cronrelay/internal/clock"
	"github.com/cronrelay/cronrelay/internal/demo"
	"github.com/cronrelay/cronrelay/internal/devloop"
	"github.com/cronrelay/cronrelay/internal/diag"
	"github.com/cronrelay/cronrelay/internal/secret"
)

// Exit codes (contract section 2).
const (
	// ExitOK: done (retries may still be pending).
	ExitOK = 0
	// ExitFailed: a delivery was dead-lettered in this run (or failed, with --fail-on failure).
	ExitFailed = 1
	// ExitBadInput: bad manifest, flags, request, or an unreadable or unknown state.
	ExitBadInput = 2
	// ExitStore: the state store could not be read or written after its own retries.
	ExitStore = 3
	// ExitInterrupted: a run was stopped by SIGINT or SIGTERM. It stopped
	// starting deliveries and recorded what it had done; what it had not
	// started keeps its attempt number for the next run. 130 is how shells
	// report a command ended by SIGINT (128 + 2).
	ExitInterrupted = 130
)

// Env is everything a command reads from or writes to the outside world.
type Env struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// LookupEnv reads an environment variable.
	LookupEnv func(string) (string, bool)
	// Clock is real time, and the waits between retries and inside the
	// lookahead; nil is clock.Real. The scheduling clock derives from it
	// and CRONRELAY_NOW.
	Clock clock.Clock
	// HTTP is the client deliveries use; nil builds the default one.
	HTTP *http.Client
	// Random is the source of run ids and generated ids; nil uses crypto/rand.
	Random io.Reader
	// Dir is the working directory relative paths are resolved against; "" is the process's.
	Dir string
}

func (e *Env) getenv(name string) string {
	if e.LookupEnv == nil {
		return ""
	}
	v, _ := e.LookupEnv(name)
	return v
}

func (e *Env) fill() {
	if e.Stdin == nil {
		e.Stdin = strings.NewReader("")
	}
	if e.Stdout == nil {
		e.Stdout = io.Discard
	}
	if e.Stderr == nil {
		e.Stderr = io.Discard
	}
	if e.LookupEnv == nil {
		e.LookupEnv = func(string) (string, bool) { return "", false }
	}
	if e.Clock == nil {
		e.Clock = clock.Real{}
	}
	if e.Random == nil {
		e.Random = rand.Reader
	}
}

func (e *Env) newID() string {
	b := make([]byte, 8)
	if _, err := io.ReadFull(e.Random, b); err != nil {
		panic(fmt.Sprintf("cronrelay: no randomness: %v", err))
	}
	return hex.EncodeToString(b)
}

// command is one subcommand: a row of the command table.
type command struct {
	name    string
	summary string
	// help is what --help prints, a constant beside the command.
	help string
	// run runs the command; report prints the error it returns.
	run func(ctx context.Context, env *Env, args []string) error
}

// commands is the command table, in the order the usage lists them. It is
// built when asked for, so that a command may look at the table (run's
// state operations do) without an initialisation cycle.
func commands() []*command {
	return []*command{
		{"init", "set up a repository: workflow, manifest, signing key, secrets to add", initHelp, runInit},
		{"run", "the main job: decide, claim, deliver, record", runHelp, runRun},
		{"validate", "check a manifest; every problem as FILE:LINE:COL: message", validateHelp, runValidate},
		{"plan", "what a run at T would deliver and why; calls and writes nothing", planHelp, runPlan},
		{"next", "the next fire times per job, in its zone and in UTC", nextHelp, runNext},
		{"enqueue", "add a delayed job to the state", enqueueHelp, runEnqueue},
		{"cancel", "cancel open deliveries: delayed jobs, retries, orphans", cancelHelp, runCancel},
		{"status", "last result per job, claims and leases, pending, retrying, dead letters", statusHelp, runStatus},
		{"replay", "move dead letters back to pending", replayHelp, runReplay},
		{"release", "drop the claims of a run that died, so the next run delivers them", releaseHelp, runRelease},
		{"demo", "a simulated day of the real engine against a demo app on loopback", demo.Help, runDemo},
		{"dev", "run locally against your app on localhost; take enqueues on 127.0.0.1:8787", devloop.Help, runDev},
		{"schema", "print the manifest's JSON Schema (for editors)", schemaHelp, runSchema},
		{"state-key", "print a new key for encrypting the state's payloads", stateKeyHelp, runStateKey},
		{"version", "version, commit, Go version", versionHelp, runVersion},
	}
}

const usage = `cronrelay: a scheduler for serverless apps that runs as a GitHub Action.

Usage: cronrelay COMMAND [flags]

Commands:
%s
Run "cronrelay COMMAND --help" for the flags of a command.

Exit codes: 0 done, 1 a delivery was dead-lettered (or failed, with
--fail-on failure), 2 bad input, 3 the state store could not be read or
written, 130 run was stopped by SIGINT or SIGTERM.
`

func usageText() string {
	var b strings.Builder
	for _, c := range commands() {
		fmt.Fprintf(&b, "  %-9s %s\n", c.name, c.summary)
	}
	return fmt.Sprintf(usage, b.String())
}

// Run runs the command line args (without the program name) and returns
// the exit code.
//
// Commands return errors; Run is the one place that prints them (as
// "cronrelay NAME: message", see report) and turns them into exit codes.
// Everything a command prints goes through one writer per stream
// (secret.Masker.Writer): a line that a GitHub Actions runner would read
// as a workflow command is neutralised, whatever mode cronrelay runs in;
// the commands cronrelay issues itself go through its Commands path.
func Run(ctx context.Context, args []string, env Env) int {
	env.fill()
	stdout, stderr := (*secret.Masker)(nil).Writer(env.Stdout), (*secret.Masker)(nil).Writer(env.Stderr)
	defer stderr.Flush()
	defer stdout.Flush()
	env.Stdout, env.Stderr = stdout, stderr
	if len(args) == 0 {
		fmt.Fprint(env.Stderr, usageText())
		return ExitBadInput
	}
	name := args[0]
	switch name {
	case "-h", "--help", "help":
		if len(args) > 1 && name == "help" {
			return Run(ctx, []string{args[1], "--help"}, env)
		}
		fmt.Fprint(env.Stdout, usageText())
		return ExitOK
	case "--version", "-version":
		name = "version"
	}
	c, err := lookup(name)
	if err != nil {
		return report(env.Stderr, "", err)
	}
	err = c.run(ctx, &env, args[1:])
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(env.Stdout, c.help)
		return ExitOK
	}
	return report(env.Stderr, c.name, err)
}

// lookup finds a command in the table by name.
func lookup(name string) (*command, error) {
	var names []string
	for _, c := range commands() {
		if c.name == name {
			return c, nil
		}
		names = append(names, c.name)
	}
	if s := diag.Closest(name, names); s != "" {
		return nil, badInputf("unknown command %q; did you mean %q? (valid are %q)", name, s, names)
	}
	return nil, badInputf("unknown command %q; valid are %q", name, names)
}

// newFlags makes the flag set of a command; --help is left to Run.
func newFlags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

// parse parses flags and positional arguments in any order. It returns
// flag.ErrHelp when --help was asked (Run prints the command's help), and
// a bad-input error when the flags were bad.
func parse(fs *flag.FlagSet, args []string) (pos []string, err error) {
	for {
		err := fs.Parse(args)
		if errors.Is(err, flag.ErrHelp) {
			return nil, err
		}
		if err != nil {
			return nil, badInputf("%s\nRun \"cronrelay %s --help\" for usage.", flagError(fs, err), fs.Name())
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if rest[0] == "--" {
			return append(pos, rest[1:]...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

var badValueRE = regexp.MustCompile(`^invalid (?:boolean )?value "(.*)" for (?:flag )?-([^:]+): (.*)$`)

// flagError rewords the flag package's "invalid value" errors as the rest
// of cronrelay words them: the flag, the value, and what it should be.
func flagError(fs *flag.FlagSet, err error) string {
	m := badValueRE.FindStringSubmatch(err.Error())
	if m == nil {
		return err.Error()
	}
	value, name, why := m[1], m[2], m[3]
	want := "a valid value"
	if fl := fs.Lookup(name); fl != nil {
		if g, ok := fl.Value.(flag.Getter); ok {
			switch g.Get().(type) {
			case time.Duration:
				want = "a duration like 4m or 90s"
			case int, int64, uint, uint64:
				want = "a whole number"
				if strings.Contains(why, "out of range") {
					want = "a whole number in range"
				}
			case bool:
				want = `"true" or "false"`
			}
		}
	}
	return fmt.Sprintf("--%s: %s", name, diag.Want(want, strconv.Quote(value)))
}
