package cli

import (
	"context"
	"fmt"

	"github.com/cronrelay/cronrelay/internal/secret"
)

var replayCmd = &command{
	name:    "replay",
	summary: "move dead letters back to pending",
	help: `Usage: cronrelay replay (DELIVERY-ID... | --all) [flags]

Moves dead letters back to the open deliveries, due now. Each keeps its
delivery id (so Idempotency-Key and webhook-id stay the same) and its attempt
count goes on from where it stopped; retry.until counts again from now.

Flags:
` + commonHelp + remoteHelp + `  --all             replay every dead letter
`,
}

func init() { replayCmd.run = runReplay }

func runReplay(ctx context.Context, env *Env, args []string) int {
	var c common
	var all bool
	fs := newFlags(replayCmd, env)
	c.register(fs)
	c.registerRemote(fs)
	fs.BoolVar(&all, "all", false, "")
	ids, code, done := parse(replayCmd, fs, env, args)
	if done {
		return code
	}
	renv, err := c.stateEnv(env, "replay")
	if err != nil {
		fmt.Fprintf(env.Stderr, "cronrelay replay: %v\n", err)
		return ExitBadInput
	}
	env = renv
	switch {
	case all && len(ids) > 0:
		fmt.Fprintln(env.Stderr, "cronrelay replay: give delivery ids or --all, not both")
		return ExitBadInput
	case !all && len(ids) == 0:
		fmt.Fprintln(env.Stderr, "cronrelay replay: give a delivery id (see cronrelay status) or --all")
		return ExitBadInput
	}
	m, _, code := loadManifest(env, "replay", c.manifest)
	if m == nil {
		return code
	}
	st, err := openStore(env, c.state)
	if err != nil {
		fmt.Fprintf(env.Stderr, "cronrelay replay: %v\n", err)
		return ExitBadInput
	}
	clk, err := schedulingClock(env)
	if err != nil {
		fmt.Fprintf(env.Stderr, "cronrelay replay: %v\n", err)
		return ExitBadInput
	}
	masker := &secret.Masker{}
	eng := newEngine(env, m, st, clk, masker)
	done2, err := eng.Replay(ctx, ids, all)
	if err != nil {
		return exitFor(env, "replay", masker, err)
	}
	for _, id := range done2 {
		fmt.Fprintf(env.Stdout, "replayed %s\n", id)
	}
	if len(done2) == 0 {
		fmt.Fprintln(env.Stdout, "no dead letters to replay")
	}
	return ExitOK
}
