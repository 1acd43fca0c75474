package cli

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/cronrelay/cronrelay/internal/engine"
	"github.com/cronrelay/cronrelay/internal/secret"
	"github.com/cronrelay/cronrelay/internal/state"
)

// exitError is a command's failure with the exit code it ends with.
// Commands return errors; report, called only by Run, prints them as
// "cronrelay NAME: message" and picks the exit code, the way litestream's
// main does. A plain error (not an exitError) exits as exitCode says.
type exitError struct {
	code int
	// err is the problem; nil when the command printed its own (multi-line)
	// diagnostics already and only the exit code is left to give.
	err error
	// masker, when set, masks the message as it is printed: the command
	// held secrets when it failed.
	masker *secret.Masker
	// strip drops "cronrelay NAME: " inside the message: a request built
	// by the command names the command as its source, which the prefix
	// says already.
	strip bool
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit %d (reported)", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// badInput is a bad flag, argument, manifest or request: exit 2.
func badInput(err error) error { return &exitError{code: ExitBadInput, err: err} }

// badInputf is badInput with a message formatted as fmt.Errorf does.
func badInputf(format string, a ...any) error {
	return badInput(fmt.Errorf(format, a...))
}

// reported ends a command with code after it printed its problems itself;
// nil for ExitOK.
func reported(code int) error {
	if code == ExitOK {
		return nil
	}
	return &exitError{code: code}
}

// failed is an error from the engine or a store: exit 3 when the store (or
// the GitHub API) could not be reached, 2 otherwise. Its message is masked
// with masker, and the command's own name is dropped from inside it.
func failed(masker *secret.Masker, err error) *exitError {
	return &exitError{code: exitCode(err), err: err, masker: masker, strip: true}
}

// masked is an error whose message is masked with masker, exiting as
// exitCode says.
func masked(masker *secret.Masker, err error) error {
	return &exitError{code: exitCode(err), err: err, masker: masker}
}

// problems are several errors of one command, each printed on its own
// line.
type problems []error

func (p problems) Error() string {
	msgs := make([]string, len(p))
	for i, err := range p {
		msgs[i] = err.Error()
	}
	return strings.Join(msgs, "\n")
}

// exitCode maps an error to an exit code: a store (or the GitHub API) that
// could not be reached after its retries is 3, anything else bad input.
func exitCode(err error) int {
	var e *exitError
	if errors.As(err, &e) {
		return e.code
	}
	if errors.Is(err, engine.ErrStore) || errors.Is(err, errAPIUnavailable) || errors.Is(err, state.ErrDamaged) {
		return ExitStore
	}
	return ExitBadInput
}

// report prints err as "cronrelay NAME: message" on w (nothing for an
// error the command reported itself) and returns the exit code. It is the
// one place a command's error is printed; name "" is cronrelay itself.
func report(w io.Writer, name string, err error) int {
	if err == nil {
		return ExitOK
	}
	e := &exitError{code: exitCode(err), err: err}
	errors.As(err, &e)
	if e.err == nil {
		return e.code
	}
	prefix := "cronrelay: "
	if name != "" {
		prefix = "cronrelay " + name + ": "
	}
	list, ok := e.err.(problems)
	if !ok {
		list = problems{e.err}
	}
	for _, p := range list {
		msg := p.Error()
		if e.masker != nil {
			msg = e.masker.Mask(msg)
		}
		if e.strip {
			msg = strings.ReplaceAll(msg, prefix, "")
		}
		fmt.Fprintf(w, "%s%s\n", prefix, msg)
	}
	return e.code
}
