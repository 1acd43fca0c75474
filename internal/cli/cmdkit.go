package cli

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
)

// parseNoArgs parses the flags of a command that takes no arguments.
func parseNoArgs(fs *flag.FlagSet, args []string) error {
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return badInputf("unexpected argument %q", pos[0])
	}
	return nil
}

// stateFlagSet is the flag set of a command that reads the state: the
// common flags and the remote-state flags, parsed into c.
func stateFlagSet(name string, c *common) *flag.FlagSet {
	fs := newFlags(name)
	c.register(fs)
	c.registerRemote(fs)
	return fs
}

// parseState parses the flags of a command that reads the state and
// returns its arguments and env with the state flags applied: a flag error
// comes first, then a state flag error.
func parseState(fs *flag.FlagSet, args []string, c *common, env *Env) ([]string, *Env, error) {
	pos, err := parse(fs, args)
	if err != nil {
		return nil, nil, err
	}
	if env, err = c.stateEnv(env, fs.Name()); err != nil {
		return nil, nil, badInput(err)
	}
	return pos, env, nil
}

// parseStateFlags is parseState for a command that takes no arguments:
// an argument is an error after the flag errors.
func parseStateFlags(fs *flag.FlagSet, args []string, c *common, env *Env) (*Env, error) {
	pos, env, err := parseState(fs, args, c, env)
	if err != nil {
		return nil, err
	}
	if len(pos) > 0 {
		return nil, badInputf("unexpected argument %q", pos[0])
	}
	return env, nil
}

// idsOrAll checks the arguments of a command that takes delivery ids or
// --all; want names the id to give when there is neither.
func idsOrAll(ids []string, all bool, want string) error {
	switch {
	case all && len(ids) > 0:
		return badInputf("give delivery ids or --all, not both")
	case !all && len(ids) == 0:
		return badInputf("give %s (see cronrelay status) or --all", want)
	}
	return nil
}

// printAs prints v as indented JSON (--json), or else as print lays it out.
func printAs[T any](out io.Writer, asJSON bool, v T, print func(io.Writer, T)) {
	if asJSON {
		b, _ := json.MarshalIndent(v, "", "  ")
		fmt.Fprintf(out, "%s\n", b)
		return
	}
	print(out, v)
}
