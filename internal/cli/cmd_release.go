package cli

import (
	"context"
	"fmt"
)

const releaseHelp = `Usage: cronrelay release (DELIVERY-ID... | --all) [--force] [flags]

A run claims what it delivers, with a lease of its budget plus 2 minutes.
When a run is killed, its claims block those deliveries until the lease
runs out. release drops the claims of the given open deliveries (or of all
claimed ones), so that the next run delivers them at once, as the next
attempt, with the same delivery id. cronrelay status lists the claims, the
run holding each and its lease end.

A claim whose lease has not run out is refused unless --force: its run may
still be delivering it, and the delivery would then arrive twice (with the
same Idempotency-Key). Use --force only when you know that run is dead. An
id that is not open or not claimed refuses the whole command; nothing is
written then.

Flags:
` + commonHelp + remoteHelp + `  --all             every claimed delivery
  --force           also release claims whose lease has not run out
`

func runRelease(ctx context.Context, env *Env, args []string) error {
	var c common
	var all, force bool
	fs := stateFlagSet("release", &c)
	fs.BoolVar(&all, "all", false, "")
	fs.BoolVar(&force, "force", false, "")
	ids, env, err := parseState(fs, args, &c, env)
	if err != nil {
		return err
	}
	if err := idsOrAll(ids, all, "a claimed delivery's id"); err != nil {
		return err
	}
	eng, masker, err := openEngine(env, c, nil)
	if err != nil {
		return err
	}
	released, err := eng.Release(ctx, ids, all, force)
	if err != nil {
		return failed(masker, err)
	}
	for _, r := range released {
		how := "its lease had run out"
		if r.Live {
			how = "forced: its lease was live, so that run may still deliver it"
		}
		fmt.Fprintf(env.Stdout, "released %s: claimed by run %s until %s (%s); the next run delivers it\n", r.ID, r.Run, fmtTime(r.Until), how)
	}
	if len(released) == 0 {
		fmt.Fprintln(env.Stdout, "no claims to release")
	}
	return nil
}
