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
	"strings"
	"time"

	"github.com/cronrelay/cronrelay/internal/clock"
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

// command is one subcommand.
type command struct {
	name    string
	summary string
	help    string
	run     func(ctx context.Context, env *Env, args []string) int
}

func commands() []*command {
	return []*command{
		initCmd, runCmd, validateCmd, planCmd, nextCmd, enqueueCmd, cancelCmd,
		statusCmd, replayCmd, releaseCmd, demoCmd, devCmd, schemaCmd, stateKeyCmd, versionCmd,
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
	var names []string
	for _, c := range commands() {
		if c.name == name {
			return c.run(ctx, &env, args[1:])
		}
		names = append(names, c.name)
	}
	msg := fmt.Sprintf("cronrelay: unknown command %q; valid are %q", name, names)
	if s := diag.Closest(name, names); s != "" {
		msg = fmt.Sprintf("cronrelay: unknown command %q; did you mean %q? (valid are %q)", name, s, names)
	}
	fmt.Fprintln(env.Stderr, msg)
	return ExitBadInput
}

// flags makes a flag set for a command whose --help prints help.
func newFlags(c *command, env *Env) *flag.FlagSet {
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

// parse parses flags and positional arguments in any order. It returns
// done=true with the exit code when --help was asked or the flags were bad.
func parse(c *command, fs *flag.FlagSet, env *Env, args []string) (pos []string, code int, done bool) {
	for {
		err := fs.Parse(args)
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(env.Stdout, c.help)
			return nil, ExitOK, true
		}
		if err != nil {
			fmt.Fprintf(env.Stderr, "cronrelay %s: %s\nRun \"cronrelay %s --help\" for usage.\n", c.name, flagError(fs, err), c.name)
			return nil, ExitBadInput, true
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, 0, false
		}
		if rest[0] == "--" {
			return append(pos, rest[1:]...), 0, false
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
	want := "is not valid"
	if fl := fs.Lookup(name); fl != nil {
		if g, ok := fl.Value.(flag.Getter); ok {
			switch g.Get().(type) {
			case time.Duration:
				want = "is not a duration like 4m or 90s"
			case int, int64, uint, uint64:
				want = "is not a whole number"
				if strings.Contains(why, "out of range") {
					want = "is out of range"
				}
			case bool:
				want = `is not a boolean; use "true" or "false"`
			}
		}
	}
	return fmt.Sprintf("--%s: %q %s", name, value, want)
}
