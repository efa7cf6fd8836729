package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"
)

// plainCommand is the hidden subcommand that serves the plainest handler.
// It runs as a child process, like the service, so that the HTTP ceiling
// is measured in the same conditions (its own runtime and garbage
// collector, the load generator in another process) and its RSS can be
// read.
const plainCommand = "_plain"

// plainBody is the plainest handler's answer: a fixed JSON of the size of
// a real answer.
var plainBody = []byte(`{"identifiant":"1111037734L","anneeUniversitaire":2014,"statut":"BOURSIER","typeDecision":"CONDITIONNELLE","echelon":"1","numeroDossier":"2014MON1111037734L","correspondance":"IDENTIFIANT"}` + "\n")

func plainHandler(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Write(plainBody)
}

// servePlain serves plainHandler on the address in args until SIGTERM or
// SIGINT.
func servePlain(args []string) int {
	if len(args) != 1 {
		fmt.Fprintln(os.Stderr, "usage: bench "+plainCommand+" HOST:PORT")
		return 2
	}
	ln, err := net.Listen("tcp", args[0])
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench plain:", err)
		return 1
	}
	srv := &http.Server{Handler: http.HandlerFunc(plainHandler)}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	if err := srv.Serve(ln); err != http.ErrServerClosed {
		fmt.Fprintln(os.Stderr, "bench plain:", err)
		return 1
	}
	return 0
}

// startPlain starts the plainest handler on a free port and waits until it
// answers.
func startPlain(ctx context.Context, tmp string) (*child, string, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, "", err
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, "", err
	}
	c, err := startChild("plain handler", exec.Command(exe, plainCommand, addr), filepath.Join(tmp, "plain.log"))
	if err != nil {
		return nil, "", err
	}
	if err := waitReady(ctx, "http://"+addr+"/", c, 10*time.Second); err != nil {
		c.stop(5 * time.Second)
		return nil, "", err
	}
	return c, "http://" + addr, nil
}
