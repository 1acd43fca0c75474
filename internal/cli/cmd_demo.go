package cli

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/cronrelay/cronrelay/internal/demo"
	"github.com/cronrelay/cronrelay/internal/devloop"
	"github.com/cronrelay/cronrelay/internal/version"
)

func runDemo(ctx context.Context, env *Env, args []string) error {
	var seed, day, keep string
	fs := newFlags("demo")
	fs.StringVar(&seed, "seed", strconv.Itoa(demo.DefaultSeed), "")
	fs.StringVar(&day, "day", "", "")
	fs.StringVar(&keep, "keep-state", "", "")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	cfg := demo.Config{Out: env.Stdout, Now: env.Clock.Now}
	n, err := strconv.ParseUint(seed, 10, 64)
	if err != nil || n == 0 {
		return badInputf("--seed: want a positive whole number, got %q", seed)
	}
	cfg.Seed = n
	if day != "" {
		d, err := time.Parse("2006-01-02", day)
		if err != nil {
			return badInputf("--day: want a date like 2026-11-28, got %q", day)
		}
		cfg.Day = d
	}
	if keep != "" {
		cfg.StateDir = env.path(keep)
	}
	if err := demo.Run(ctx, cfg); err != nil {
		return badInput(err)
	}
	return nil
}

func runDev(ctx context.Context, env *Env, args []string) error {
	var manifestPath, statePath, addr string
	fs := newFlags("dev")
	fs.StringVar(&manifestPath, "manifest", DefaultManifest, "")
	fs.StringVar(&statePath, "state", "", "")
	fs.StringVar(&addr, "addr", devloop.DefaultAddr, "")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	clk, err := schedulingClock(env)
	if err != nil {
		return badInput(err)
	}
	cfg := devloop.Config{
		ManifestPath: env.path(manifestPath), Addr: addr, Out: env.Stdout, Lookup: env.LookupEnv,
		Real: env.Clock, Clock: clk, Location: time.Local, HTTP: env.HTTP,
		NewID: env.newID, UserAgent: version.UserAgent(),
	}
	if statePath != "" {
		cfg.StatePath = env.path(strings.TrimPrefix(statePath, "file:"))
	}
	if err := devloop.Run(ctx, cfg); err != nil && ctx.Err() == nil {
		return badInput(err)
	}
	return nil
}
