// Package servertest starts the whole service inside a test, as the
// end-to-end tests of several packages do: server.Main on a loopback port,
// stopped at the test's end.
package servertest

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/zap"

	"github.com/aglae-connector/aglae-connector/internal/server"
)

// Config is server.Defaults() for a test on the database at dbURL: a
// loopback port chosen by the system, no metrics listener, the spool in a
// folder of the test's.
func Config(t testing.TB, dbURL string) server.Config {
	cfg := server.Defaults()
	cfg.Listen = "127.0.0.1:0"
	cfg.MetricsListen = ""
	cfg.DatabaseURL = dbURL
	cfg.SpoolDir = t.TempDir()
	return cfg
}

// Service is a started server.Main.
type Service struct {
	*server.Main
	done chan error
	once sync.Once
	err  error
}

// Start opens cfg's service, logging to log (nothing when nil), and serves
// it; it is stopped at the test's end unless Stop was called before.
func Start(t testing.TB, cfg server.Config, log *zap.Logger) *Service {
	t.Helper()
	if log == nil {
		log = zap.NewNop()
	}
	s := &Service{Main: &server.Main{Config: cfg, Logger: log}, done: make(chan error, 1)}
	require.NoError(t, s.Open(context.Background()))
	go func() { s.done <- s.Serve() }()
	t.Cleanup(func() { require.NoError(t, s.Stop()) })
	return s
}

// Stop closes the service and returns what Close and Serve returned; later
// calls return the same.
func (s *Service) Stop() error {
	s.once.Do(func() { s.err = errors.Join(s.Close(), <-s.done) })
	return s.err
}

// URL is the service's base URL: http://127.0.0.1:PORT, https under TLS.
func (s *Service) URL() string {
	if s.Config.TLSCert != "" {
		return "https://" + s.Addr()
	}
	return "http://" + s.Addr()
}
