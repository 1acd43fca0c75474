package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/cronrelay/cronrelay/internal/action"
	"github.com/cronrelay/cronrelay/internal/secret"
	"github.com/cronrelay/cronrelay/internal/state"
	"github.com/cronrelay/cronrelay/internal/statekey"
)

const stateKeyHelp = `Usage: cronrelay state-key

Prints a new random key (an age X25519 identity, AGE-SECRET-KEY-1...) for
CRONRELAY_STATE_KEY. Store it as a repository secret and pass it to the
action as the state-key input: request bodies, failure reports and response
excerpts are then stored encrypted. To rotate, set the secret to the new key
followed by the old one ("NEW OLD"); once a run has written the state, drop
the old one.
`

func runStateKey(_ context.Context, env *Env, args []string) error {
	if err := parseNoArgs(newFlags("state-key"), args); err != nil {
		return err
	}
	k, err := statekey.Generate()
	if err != nil {
		return badInput(err)
	}
	fmt.Fprintln(env.Stdout, k)
	return nil
}

// stateKeys returns the state keys CRONRELAY_STATE_KEY holds, masked, or
// nil when it is unset. Keys that do not parse give a Sealer that fails
// with the reason on first use, so that the command stops (exit 2) before
// it reads payloads or writes anything.
func stateKeys(env *Env, masker *secret.Masker) state.Sealer {
	v, _ := env.LookupEnv(statekey.Env)
	if strings.TrimSpace(v) == "" {
		return nil
	}
	for _, f := range stateKeyValues(env) {
		masker.Add(f)
	}
	k, err := statekey.Parse(statekey.Env, v)
	if err != nil {
		return badKeys{err}
	}
	return k
}

// badKeys is a Sealer for keys that did not parse.
type badKeys struct{ err error }

func (b badKeys) Seal([]byte) (string, error) { return "", b.err }
func (b badKeys) Open(string) ([]byte, error) { return nil, b.err }

// stateKeyValues splits CRONRELAY_STATE_KEY into its keys, for masking.
func stateKeyValues(env *Env) []string {
	v, _ := env.LookupEnv(statekey.Env)
	return strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\r' || r == '\t' })
}

// withStateKeyInput returns env with CRONRELAY_STATE_KEY taken from the
// action input state-key when that is set.
func withStateKeyInput(env *Env, act *action.Action) *Env {
	k := act.Input(action.InputStateKey)
	if k == "" {
		return env
	}
	e := *env
	lookup := env.LookupEnv
	e.LookupEnv = func(name string) (string, bool) {
		if name == statekey.Env {
			return k, true
		}
		return lookup(name)
	}
	return &e
}

// publicPayloadsWarning is what a run on a public repository without a
// state key says, once.
const publicPayloadsWarning = "This repository is public and no state key is set: request bodies, failure reports and response excerpts in the state are readable by anyone. " +
	"Set the state-key input from a secret (cronrelay state-key prints one) to encrypt them; see the README's Privacy section."

func warnPublicPayloads(act *action.Action) {
	act.Warning(action.Annotation{Title: "cronrelay: payloads are public"}, publicPayloadsWarning)
	act.AddSummary("> [!WARNING]\n> " + publicPayloadsWarning + "\n\n")
}
