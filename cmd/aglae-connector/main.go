// Command aglae-connector is the synchronous connector between Apogée and
// Aglaé: it answers "is this student a boursier this year?" from an
// Aglaé-like PostgreSQL database. See `aglae-connector help`.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/aglae-connector/aglae-connector/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Run(ctx, os.Args[1:], cli.OSEnv())
	stop()
	os.Exit(code)
}
