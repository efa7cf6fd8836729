// Package server assembles the connector's HTTP service: the chi router
// with its middleware (request id, access log, body limit, panic recovery),
// the REST and SOAP faces, the health endpoints, and the lifecycle of the
// listener, the database pool and the graceful shutdown.
package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.uber.org/zap"

	"github.com/aglae-connector/aglae-connector/internal/bourse"
	"github.com/aglae-connector/aglae-connector/internal/postgres"
	"github.com/aglae-connector/aglae-connector/internal/rest"
	"github.com/aglae-connector/aglae-connector/internal/soap"
	"github.com/aglae-connector/aglae-connector/internal/web"
)

// Config is the service's configuration.
type Config struct {
	Listen            string // host:port; port 0 picks a free one
	DatabaseURL       string
	PublicURL         string // the URL clients reach the service at, for the WSDL's address; "" = the request's host
	MaxBody           int64
	ReadHeaderTimeout time.Duration
	ReadTimeout       time.Duration
	WriteTimeout      time.Duration
	IdleTimeout       time.Duration
	ShutdownTimeout   time.Duration
	LookupTimeout     time.Duration // a lookup's deadline, carried down to the query
	Bascule           bourse.Bascule
}

// Defaults returns the configuration used when nothing is set.
func Defaults() Config {
	return Config{
		Listen:            "127.0.0.1:8080",
		MaxBody:           web.DefaultMaxBody,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ShutdownTimeout:   15 * time.Second,
		LookupTimeout:     2 * time.Second,
		Bascule:           bourse.BasculeParDefaut,
	}
}

// Main is the running service: open it, serve, close it. Tests start it on
// port 0 and call it over REST and SOAP.
type Main struct {
	Config Config
	Logger *zap.Logger

	pool *pgxpool.Pool
	ln   net.Listener
	http *http.Server
}

// Open connects to the database and starts listening; it does not serve yet.
func (m *Main) Open(ctx context.Context) error {
	if m.Logger == nil {
		m.Logger = zap.NewNop()
	}
	if m.Config.DatabaseURL == "" {
		return errors.New("DATABASE_URL is not set")
	}
	pool, err := postgres.Open(ctx, m.Config.DatabaseURL)
	if err != nil {
		return err
	}
	m.pool = pool
	ln, err := net.Listen("tcp", m.Config.Listen)
	if err != nil {
		pool.Close()
		return fmt.Errorf("listen on %s: %w", m.Config.Listen, err)
	}
	m.ln = ln
	svc := &bourse.Service{Store: postgres.NewStore(pool), Bascule: m.Config.Bascule, Delai: m.Config.LookupTimeout}
	m.http = &http.Server{
		Handler:           Handler(m.Config, m.Logger, svc, pool.Ping),
		ReadHeaderTimeout: m.Config.ReadHeaderTimeout,
		ReadTimeout:       m.Config.ReadTimeout,
		WriteTimeout:      m.Config.WriteTimeout,
		IdleTimeout:       m.Config.IdleTimeout,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          zap.NewStdLog(m.Logger.Named("http")),
	}
	return nil
}

// Addr is the address the service listens on.
func (m *Main) Addr() string { return m.ln.Addr().String() }

// Serve answers requests until Close; it returns nil after a graceful stop.
func (m *Main) Serve() error {
	m.Logger.Info("listening", zap.String("addr", m.Addr()))
	if err := m.http.Serve(m.ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Close stops accepting, lets requests in flight finish within the
// shutdown timeout, then closes the pool.
func (m *Main) Close() error {
	var err error
	if m.http != nil {
		ctx, cancel := context.WithTimeout(context.Background(), m.Config.ShutdownTimeout)
		defer cancel()
		err = m.http.Shutdown(ctx)
	}
	if m.pool != nil {
		m.pool.Close()
	}
	return err
}

// Run opens the service, serves until ctx is done, then closes it.
func (m *Main) Run(ctx context.Context) error {
	if err := m.Open(ctx); err != nil {
		return err
	}
	errc := make(chan error, 1)
	go func() { errc <- m.Serve() }()
	select {
	case err := <-errc:
		m.Close()
		return err
	case <-ctx.Done():
		m.Logger.Info("shutting down")
		err := m.Close()
		if serr := <-errc; serr != nil && err == nil {
			err = serr
		}
		return err
	}
}

// Handler builds the service's routes over svc; ping tells whether the
// database answers, for /readyz.
func Handler(cfg Config, log *zap.Logger, svc bourse.Consultant, ping func(context.Context) error) http.Handler {
	r := chi.NewRouter()
	r.Use(requestID, accessLog(log), recoverer(log), web.LimitBody(cfg.MaxBody))
	r.NotFound(rest.NotFoundHandler())
	r.MethodNotAllowed(rest.MethodNotAllowedHandler())

	rest.New(svc, rest.Options{Logger: log}).Mount(r)
	r.Handle("/ws/connecteur", soap.New(svc, soap.Options{PublicURL: cfg.PublicURL, Logger: log}))

	r.Get("/healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("ok\n"))
	})
	r.Get("/readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), time.Second)
		defer cancel()
		if err := ping(ctx); err != nil {
			log.Warn("not ready: the database does not answer", zap.Error(err))
			rest.WriteProblem(w, r, bourse.Unavailable("readyz", err))
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("ready\n"))
	})
	return r
}
