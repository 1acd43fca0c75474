package cli

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/cronrelay/cronrelay/internal/demo"
	"github.com/cronrelay/cronrelay/internal/devloop"
	"github.com/cronrelay/cronrelay/internal/version"
)

var demoCmd = &command{
	name:    "demo",
	summary: "a simulated day of the real engine against a demo app on loopback",
	help:    demo.Help,
}

var devCmd = &command{
	name:    "dev",
	summary: "run locally against your app on localhost; take enqueues on 127.0.0.1:8787",
	help:    devloop.Help,
}

func init() {
	demoCmd.run = runDemo
	devCmd.run = runDev
}

func runDemo(ctx context.Context, env *Env, args []string) int {
	var seed, day, keep string
	fs := newFlags(demoCmd, env)
	fs.StringVar(&seed, "seed", strconv.Itoa(demo.DefaultSeed), "")
	fs.StringVar(&day, "day", "", "")
	fs.StringVar(&keep, "keep-state", "", "")
	pos, code, done := parse(demoCmd, fs, env, args)
	if done {
		return code
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(env.Stderr, "cronrelay demo: "+format+"\n", a...)
		return ExitBadInput
	}
	if len(pos) > 0 {
		return fail("unexpected argument %q", pos[0])
	}
	cfg := demo.Config{Out: env.Stdout, Now: env.Clock.Now}
	n, err := strconv.ParseUint(seed, 10, 64)
	if err != nil || n == 0 {
		return fail("--seed: %q is not a positive whole number", seed)
	}
	cfg.Seed = n
	if day != "" {
		d, err := time.Parse("2006-01-02", day)
		if err != nil {
			return fail("--day: %q is not a date like 2026-11-28", day)
		}
		cfg.Day = d
	}
	if keep != "" {
		cfg.StateDir = env.path(keep)
	}
	if err := demo.Run(ctx, cfg); err != nil {
		return fail("%v", err)
	}
	return ExitOK
}

func runDev(ctx context.Context, env *Env, args []string) int {
	var manifestPath, statePath, addr string
	fs := newFlags(devCmd, env)
	fs.StringVar(&manifestPath, "manifest", DefaultManifest, "")
	fs.StringVar(&statePath, "state", "", "")
	fs.StringVar(&addr, "addr", devloop.DefaultAddr, "")
	pos, code, done := parse(devCmd, fs, env, args)
	if done {
		return code
	}
	if len(pos) > 0 {
		fmt.Fprintf(env.Stderr, "cronrelay dev: unexpected argument %q\n", pos[0])
		return ExitBadInput
	}
	clk, err := schedulingClock(env)
	if err != nil {
		fmt.Fprintf(env.Stderr, "cronrelay dev: %v\n", err)
		return ExitBadInput
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
		fmt.Fprintf(env.Stderr, "cronrelay dev: %v\n", err)
		return ExitBadInput
	}
	return ExitOK
}
