package cli

import (
	"context"
	"fmt"
)

const replayHelp = `Usage: cronrelay replay (DELIVERY-ID... | --all) [flags]

Moves dead letters back to the open deliveries, due now. Each keeps its
delivery id (so Idempotency-Key and webhook-id stay the same) and its attempt
count goes on from where it stopped; retry.until counts again from now.

Flags:
` + commonHelp + remoteHelp + `  --all             replay every dead letter
`

func runReplay(ctx context.Context, env *Env, args []string) error {
	var c common
	var all bool
	fs := stateFlagSet("replay", &c)
	fs.BoolVar(&all, "all", false, "")
	ids, env, err := parseState(fs, args, &c, env)
	if err != nil {
		return err
	}
	if err := idsOrAll(ids, all, "a delivery id"); err != nil {
		return err
	}
	eng, masker, err := openEngine(env, c, nil)
	if err != nil {
		return err
	}
	replayed, err := eng.Replay(ctx, ids, all)
	if err != nil {
		return failed(masker, err)
	}
	for _, id := range replayed {
		fmt.Fprintf(env.Stdout, "replayed %s\n", id)
	}
	if len(replayed) == 0 {
		fmt.Fprintln(env.Stdout, "no dead letters to replay")
	}
	return nil
}
