// Package server assembles the connector's HTTP service: the chi router
// with its middleware (request id, access log, body limit, panic recovery),
// the REST and SOAP faces, the health endpoints, and the lifecycle of the
// listener, the database pool and the graceful shutdown.
package server

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"go.uber.org/zap"
	"golang.org/x/time/rate"

	"github.com/aglae-connector/aglae-connector/internal/auth"
	"github.com/aglae-connector/aglae-connector/internal/bourse"
	"github.com/aglae-connector/aglae-connector/internal/console"
	"github.com/aglae-connector/aglae-connector/internal/journal"
	"github.com/aglae-connector/aglae-connector/internal/postgres"
	"github.com/aglae-connector/aglae-connector/internal/rest"
	"github.com/aglae-connector/aglae-connector/internal/soap"
	"github.com/aglae-connector/aglae-connector/internal/suivi"
	"github.com/aglae-connector/aglae-connector/internal/web"
)

// Config is the service's configuration.
type Config struct {
	Listen           string // host:port; port 0 picks a free one
	DatabaseURL      string // the primary: the consultation log and the API clients, and lookups unless DatabaseReadURL is set
	DatabaseReadURL  string // where lookups read Aglaé's data: a streaming replica, or several hosts with target_session_attrs
	SuiviDatabaseURL string // where the follow-up and control lists read the consultation log, as role aglae_suivi; "" = DatabaseURL
	MaxInFlight      int    // requests served at once; past it, 503 at once instead of a queue
	// MaxInFlightPerClient bounds the requests one client has in progress,
	// slow bodies included; past it, 429 at once. 0: no bound.
	MaxInFlightPerClient int
	MaxBatches           int    // batches answered at once, all clients together; past it, 503 at once. 0: no bound
	MaxBatchesPerClient  int    // batches one client has answered at once; past it, 429 at once. 0: no bound
	MemoryLimit          int64  // the Go runtime's soft memory limit in bytes, unless GOMEMLIMIT is set; 0: none
	PublicURL            string // the URL clients reach the service at, for the WSDL's address; "" = the request's host
	MaxBody              int64
	ReadHeaderTimeout    time.Duration
	ReadTimeout          time.Duration
	WriteTimeout         time.Duration
	IdleTimeout          time.Duration
	ShutdownTimeout      time.Duration
	LookupTimeout        time.Duration // a lookup's deadline, carried down to the query
	SwitchDate           bourse.SwitchDate

	TLSCert     string // PEM certificate and key: HTTPS when set
	TLSKey      string
	TLSClientCA string // PEM CA bundle: client certificates it signed authenticate their client (mutual TLS)

	MetricsListen         string // host:port of the Prometheus metrics; "" disables them
	SpoolDir              string // where consultation records wait while the database is down; "" = journal.DefaultSpoolDir()
	RateLimit             float64
	RateBurst             int
	TrustForwardedHeaders bool // the WSDL address follows X-Forwarded-Proto/Host (behind a trusted proxy)
	// InstanceHeartbeat is how often the instance beats in
	// connecteur.instance; the instances that beat within three intervals
	// share each client's rate limit. 0: DefaultInstanceHeartbeat.
	InstanceHeartbeat time.Duration
	// InscriptionRescue is how long a registration event's job may run
	// before it is taken for the job of a crashed instance and run again;
	// a job gets half of it. 0: a minute.
	InscriptionRescue time.Duration
}

// Defaults returns the configuration used when nothing is set.
func Defaults() Config {
	return Config{
		Listen:               "127.0.0.1:8080",
		MaxBody:              web.DefaultMaxBody,
		ReadHeaderTimeout:    5 * time.Second,
		ReadTimeout:          10 * time.Second,
		WriteTimeout:         10 * time.Second,
		IdleTimeout:          2 * time.Minute,
		ShutdownTimeout:      15 * time.Second,
		LookupTimeout:        2 * time.Second,
		MaxInFlight:          512,
		MaxInFlightPerClient: 64,
		MaxBatches:           2,
		MaxBatchesPerClient:  4,
		MemoryLimit:          DefaultMemoryLimit,
		SwitchDate:           bourse.DefaultSwitchDate,
		MetricsListen:        "127.0.0.1:9464",
		RateLimit:            float64(auth.DefaultRate),
		RateBurst:            auth.DefaultBurst,
		InstanceHeartbeat:    DefaultInstanceHeartbeat,
		InscriptionRescue:    time.Minute,
	}
}

// DefaultMemoryLimit is the Go runtime's soft memory limit when neither
// Config.MemoryLimit nor GOMEMLIMIT says otherwise: the garbage collector
// works harder as the heap nears it, so that the resident memory stays
// near the live data (see BENCHMARKS.md for the ceiling it keeps).
const DefaultMemoryLimit = 48 << 20

// ConsultationLinger is the least time between two writes of the
// consultation log (journal.Options.Linger): at 1,000 lookups/s, COPYs of
// a few records each, one as soon as the last ended (2.4 ms of backend CPU
// each: a transaction, a commit, the follow-up's triggers), took PostgreSQL
// to 345-374 µs of CPU per lookup; with COPYs of ~200 records, 183-203 µs
// (BENCHMARKS.md). The follow-up sees a consultation up to that much later.
const ConsultationLinger = 200 * time.Millisecond

// applyMemoryLimit sets the Go runtime's soft memory limit to limit bytes,
// unless GOMEMLIMIT (which the runtime read at start) is set or limit is
// not positive. It returns the limit in force.
func applyMemoryLimit(limit int64) int64 {
	if os.Getenv("GOMEMLIMIT") == "" && limit > 0 {
		debug.SetMemoryLimit(limit)
	}
	return debug.SetMemoryLimit(-1)
}

// Main is the running service: open it, serve, close it. Tests start it on
// port 0 and call it over REST and SOAP.
type Main struct {
	Config Config
	Logger *zap.Logger

	pool    *postgres.Pool
	read    *postgres.Pool // lookups; the same as pool without a read URL
	suivi   *postgres.Pool // the follow-up's reads of the log; the same as pool without a suivi URL
	ln      net.Listener
	http    *http.Server
	journal *journal.Journal
	// instances counts the live instances, among which each client's rate
	// limit is shared.
	instances *instances
	metrics   *metrics
	queue     *queueRunner // the registration events' worker
	mln       net.Listener
	mhttp     *http.Server
}

// Open connects to the database, opens the consultation log and starts
// listening; it does not serve yet.
func (m *Main) Open(ctx context.Context) (err error) {
	if m.Logger == nil {
		m.Logger = zap.NewNop()
	}
	if m.Config.DatabaseURL == "" {
		return errors.New("DATABASE_URL is not set")
	}
	defer func() {
		if err != nil {
			m.closeAll(context.Background())
		}
	}()
	if m.Config.DatabaseReadURL == "" {
		if m.pool, err = postgres.Open(ctx, m.Config.DatabaseURL); err != nil {
			return err
		}
		m.read = m.pool
	} else {
		// With replicas, neither the primary nor a replica being down at
		// start is fatal: pgx connects on demand, lookups go to whichever
		// answers, and the consultation log spools until the primary is back.
		if m.pool, err = postgres.OpenLazy(m.Config.DatabaseURL); err != nil {
			return fmt.Errorf("DATABASE_URL: %w", err)
		}
		if m.read, err = postgres.OpenLazy(m.Config.DatabaseReadURL); err != nil {
			return fmt.Errorf("DATABASE_READ_URL: %w", err)
		}
	}
	m.suivi = m.pool
	if m.Config.SuiviDatabaseURL != "" {
		if m.suivi, err = postgres.OpenLazy(m.Config.SuiviDatabaseURL); err != nil {
			return fmt.Errorf("SUIVI_DATABASE_URL: %w", err)
		}
	}
	consultations := postgres.NewConsultations(m.pool)
	m.journal, err = journal.Open(ctx, journal.Options{Store: consultations, Partitions: consultations, SpoolDir: m.Config.SpoolDir,
		Logger: m.Logger.Named("journal"), Linger: ConsultationLinger})
	if err != nil {
		return fmt.Errorf("consultation log: %w", err)
	}
	var tlsConfig *tls.Config
	if m.Config.TLSCert != "" || m.Config.TLSKey != "" {
		if tlsConfig, err = loadTLS(m.Config); err != nil {
			return err
		}
	}
	m.instances = newInstances(postgres.NewInstances(m.pool), m.Config.InstanceHeartbeat, m.Logger.Named("instances"))
	go m.instances.run()
	m.metrics = newMetrics()
	m.metrics.watchPool(m.pool)
	m.metrics.watchJournal(m.journal)

	inscriptions, err := postgres.NewInscriptions(m.pool)
	if err != nil {
		return err
	}
	im := m.metrics.watchInscriptions(inscriptions)
	m.queue = runQueue(m.Config.DatabaseURL, postgres.QueueOptions{OnProcessed: im.observe,
		RescueAfter: m.Config.InscriptionRescue}, m.Logger.Named("inscriptions"))

	svc := journal.Tracer(&bourse.Service{Store: postgres.NewStore(m.read), SwitchDate: m.Config.SwitchDate, Timeout: m.Config.LookupTimeout}, m.journal)
	h := handler(deps{
		cfg:  m.Config,
		log:  m.Logger,
		svc:  svc,
		ping: m.read.Ping,
		// API clients replicate like Aglaé's data: read them where lookups
		// read, so that lookups go on while the primary is down.
		authn:        &auth.Authenticator{Store: postgres.NewClients(m.read), Logger: m.Logger.Named("auth")},
		limiter:      &auth.Limiter{Default: rate.Limit(m.Config.RateLimit), DefaultBurst: m.Config.RateBurst, Instances: m.instances},
		batches:      newQuota(m.Config.MaxBatches, m.Config.MaxBatchesPerClient),
		inscriptions: inscriptions,
		metrics:      m.metrics,
		suiviPool:    m.suivi,
		console: console.New(console.Options{
			Utilisateurs: postgres.NewUtilisateurs(m.pool), Sessions: postgres.NewSessions(m.pool),
			Journal: postgres.NewConsole(m.suivi), Suivi: postgres.NewSuivi(m.suivi), Consultant: svc,
			SwitchDate: m.Config.SwitchDate, TrustForwardedHeaders: m.Config.TrustForwardedHeaders, Logger: m.Logger,
		}).Handler(),
	})
	if m.ln, err = net.Listen("tcp", m.Config.Listen); err != nil {
		return fmt.Errorf("listen on %s: %w", m.Config.Listen, err)
	}
	if tlsConfig != nil {
		m.ln = tls.NewListener(m.ln, tlsConfig)
	}
	m.http = &http.Server{
		Handler:           h,
		ReadHeaderTimeout: m.Config.ReadHeaderTimeout,
		ReadTimeout:       m.Config.ReadTimeout,
		WriteTimeout:      m.Config.WriteTimeout,
		IdleTimeout:       m.Config.IdleTimeout,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          zap.NewStdLog(m.Logger.Named("http")),
	}
	if m.Config.MetricsListen != "" {
		if m.mln, err = net.Listen("tcp", m.Config.MetricsListen); err != nil {
			return fmt.Errorf("metrics: listen on %s: %w", m.Config.MetricsListen, err)
		}
		mux := http.NewServeMux()
		mux.Handle("/metrics", m.metrics.handler())
		// Profiles for the operator, on the same private listener.
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
		m.mhttp = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
		go m.mhttp.Serve(m.mln)
	}
	return nil
}

// MetricsAddr is the address of the metrics listener, "" when disabled.
func (m *Main) MetricsAddr() string {
	if m.mln == nil {
		return ""
	}
	return m.mln.Addr().String()
}

// loadTLS builds the TLS configuration: the service's certificate and,
// with a client CA, client certificates verified when given (a client
// without one still authenticates with its secret).
func loadTLS(cfg Config) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
	if err != nil {
		return nil, fmt.Errorf("TLS certificate and key: %w", err)
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
	if cfg.TLSClientCA != "" {
		pem, err := os.ReadFile(cfg.TLSClientCA)
		if err != nil {
			return nil, fmt.Errorf("TLS client CA: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("TLS client CA %s: no PEM certificate in it", cfg.TLSClientCA)
		}
		tc.ClientCAs = pool
		tc.ClientAuth = tls.VerifyClientCertIfGiven
	}
	return tc, nil
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
// shutdown timeout, flushes the consultation log (to the database, or to
// its spool when the database is down), then closes the pool.
func (m *Main) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), m.Config.ShutdownTimeout)
	defer cancel()
	return m.closeAll(ctx)
}

func (m *Main) closeAll(ctx context.Context) error {
	var errs []error
	if m.http != nil {
		errs = append(errs, m.http.Shutdown(ctx))
	} else if m.ln != nil {
		errs = append(errs, m.ln.Close())
	}
	if m.journal != nil {
		// The log gets its own few seconds even when requests used the
		// whole shutdown timeout: no record may be lost.
		jctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		errs = append(errs, m.journal.Close(jctx))
		cancel()
	}
	if m.queue != nil {
		// Jobs in progress finish (or roll back) before the pool closes.
		errs = append(errs, m.queue.close(ctx))
	}
	if m.instances != nil {
		m.instances.close(ctx)
	}
	if m.mhttp != nil {
		errs = append(errs, m.mhttp.Close())
	} else if m.mln != nil {
		m.mln.Close()
	}
	if m.read != nil && m.read != m.pool {
		m.read.Close()
	}
	if m.suivi != nil && m.suivi != m.pool {
		m.suivi.Close()
	}
	if m.pool != nil {
		m.pool.Close()
	}
	return errors.Join(errs...)
}

// Run sets the process's soft memory limit (Config.MemoryLimit), opens
// the service, serves until ctx is done, then closes it. (Open alone, as
// tests call it, leaves the process's memory limit alone.)
func (m *Main) Run(ctx context.Context) error {
	limit := applyMemoryLimit(m.Config.MemoryLimit)
	if m.Logger != nil {
		m.Logger.Info("memory limit", zap.Int64("bytes", limit))
	}
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

// deps are what the routes need.
type deps struct {
	cfg     Config
	log     *zap.Logger
	svc     bourse.Consultant
	ping    func(context.Context) error
	authn   *auth.Authenticator
	limiter *auth.Limiter
	batches *quota // nil: batches are not bounded
	metrics *metrics
	// suiviPool reads the consultation log for the follow-up and the
	// control lists; nil: those routes are not mounted.
	suiviPool *postgres.Pool
	// inscriptions keeps the registration events; nil: their routes are
	// not mounted.
	inscriptions rest.InscriptionStore
	// console is the gestionnaires' console, mounted at console.Path; nil:
	// not mounted.
	console http.Handler
}

// handler builds the service's routes. Health, the WSDL and the OpenAPI
// description are open; every lookup needs an API client's credentials.
func handler(d deps) http.Handler {
	soapSvc := soap.New(d.svc, soap.Options{PublicURL: d.cfg.PublicURL, Logger: d.log, TrustForwardedHeaders: d.cfg.TrustForwardedHeaders})
	// Refusals speak the caller's protocol: a SOAP fault on /ws, a problem elsewhere.
	onError := func(w http.ResponseWriter, r *http.Request, err error) {
		if strings.HasPrefix(r.URL.Path, "/ws/") {
			soapSvc.WriteFault(w, r, err)
			return
		}
		rest.WriteProblem(w, r, err)
	}

	// Load shedding counts the requests of authenticated clients only, and
	// after each client's own bound: neither wrong credentials, which are
	// refused from the headers in microseconds, nor one client's flood
	// takes the places of the others.
	shedding := shed(d.cfg.MaxInFlight, onError)
	batches := d.batches
	if batches == nil {
		batches = newQuota(0, 0)
	}
	r := chi.NewRouter()
	r.Use(requestID, accessLog(d.log, d.metrics), recoverer(d.log), web.LimitBody(d.cfg.MaxBody))
	r.NotFound(rest.NotFoundHandler())
	r.MethodNotAllowed(rest.MethodNotAllowedHandler())

	r.Get("/healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("ok\n"))
	})
	r.Get("/readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), time.Second)
		defer cancel()
		if err := d.ping(ctx); err != nil {
			d.log.Warn("not ready: the database does not answer", zap.Error(err))
			w.Header().Set("Retry-After", "1")
			rest.WriteProblem(w, r, bourse.Unavailable("readyz", err))
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("ready\n"))
	})

	if d.console != nil {
		r.Mount(console.Path, d.console)
	}

	r.Group(func(r chi.Router) {
		r.Use(protect(shedding, auth.Middleware(d.authn, canal, onError), perClient(d.cfg.MaxInFlightPerClient, onError),
			shedding, charge(d.limiter, batches, d.cfg.LookupTimeout), auth.LimitMiddleware(d.limiter, onError)))
		rest.New(d.svc, rest.Options{Logger: d.log}).Mount(r)
		r.Handle(soap.Path, soapSvc)
		if d.inscriptions != nil {
			rest.MountInscriptions(r, d.inscriptions, rest.Options{Logger: d.log})
		}
		if d.suiviPool != nil {
			rest.MountSuivi(r, suivi.Reader{Store: postgres.NewSuivi(d.suiviPool)}, rest.SuiviOptions{SwitchDate: d.cfg.SwitchDate, Logger: d.log})
		}
	})
	return r
}

// canal tells the consultation log which face a lookup came through; the
// authentication puts it in the request's bourse.Appelant.
func canal(r *http.Request) bourse.Canal {
	switch {
	case strings.HasPrefix(r.URL.Path, "/ws/"):
		return bourse.CanalSOAP
	case r.URL.Path == "/v1/consultations/lot":
		return bourse.CanalBatch
	}
	return bourse.CanalREST
}

// protect applies the access-control middleware to every request of the
// group but the open ones, the WSDL (a GET on the SOAP endpoint) and the
// OpenAPI description, which get openMW instead.
func protect(openMW func(http.Handler) http.Handler, mw ...func(http.Handler) http.Handler) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		openH := openMW(next)
		guarded := next
		for i := len(mw) - 1; i >= 0; i-- {
			guarded = mw[i](guarded)
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			open := r.URL.Path == "/openapi.yaml" ||
				r.URL.Path == soap.Path && (r.Method == http.MethodGet || r.Method == http.MethodHead)
			if open {
				openH.ServeHTTP(w, r)
				return
			}
			guarded.ServeHTTP(w, r)
		})
	}
}
