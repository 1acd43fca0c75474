// Command cronrelay is a scheduler for serverless apps that runs as a
// GitHub Action. See the README for what it does and how to use it.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/cronrelay/cronrelay/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Run(ctx, os.Args[1:], cli.Env{
		Stdin:     os.Stdin,
		Stdout:    os.Stdout,
		Stderr:    os.Stderr,
		LookupEnv: os.LookupEnv,
	})
	stop()
	os.Exit(code)
}
