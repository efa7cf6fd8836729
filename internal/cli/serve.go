package cli

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/aglae-connector/aglae-connector/internal/server"
)

// envOr returns the environment variable k, or def when it is unset.
func envOr(env Env, k, def string) string {
	if v := strings.TrimSpace(env.Getenv(k)); v != "" {
		return v
	}
	return def
}

func envDuration(env Env, k string, def time.Duration) (time.Duration, error) {
	v := envOr(env, k, "")
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%s=%q: want a positive duration such as 10s", k, v)
	}
	return d, nil
}

// serveConfig reads the service's configuration: flags win over the
// environment, which wins over the defaults.
func serveConfig(env Env, args []string) (server.Config, string, error) {
	cfg := server.Defaults()
	fs := newFlags("serve", env)
	fs.StringVar(&cfg.Listen, "listen", envOr(env, "LISTEN_ADDR", cfg.Listen), "address to listen on, HOST:PORT (env LISTEN_ADDR)")
	fs.StringVar(&cfg.PublicURL, "public-url", envOr(env, "PUBLIC_URL", ""), "URL clients reach the service at, written in the served WSDL (env PUBLIC_URL; default: the request's host)")
	fs.IntVar(&cfg.MaxInFlight, "max-in-flight", cfg.MaxInFlight, "requests served at once; past it, 503 at once (env MAX_IN_FLIGHT)")
	fs.StringVar(&cfg.TLSCert, "tls-cert", envOr(env, "TLS_CERT", ""), "PEM certificate: serve HTTPS (env TLS_CERT)")
	fs.StringVar(&cfg.TLSKey, "tls-key", envOr(env, "TLS_KEY", ""), "PEM private key of --tls-cert (env TLS_KEY)")
	fs.StringVar(&cfg.TLSClientCA, "tls-client-ca", envOr(env, "TLS_CLIENT_CA", ""), "PEM CA bundle: client certificates it signed authenticate their client (env TLS_CLIENT_CA)")
	fs.StringVar(&cfg.MetricsListen, "metrics-listen", envOr(env, "METRICS_LISTEN", cfg.MetricsListen), "address of the Prometheus metrics, \"\" or off to disable (env METRICS_LISTEN)")
	fs.StringVar(&cfg.SpoolDir, "spool-dir", envOr(env, "SPOOL_DIR", ""), "folder where consultation records wait while the database is down (env SPOOL_DIR)")
	fs.Float64Var(&cfg.RateLimit, "rate-limit", cfg.RateLimit, "default lookups per second per client (env RATE_LIMIT)")
	fs.IntVar(&cfg.RateBurst, "rate-burst", cfg.RateBurst, "default burst per client (env RATE_BURST)")
	fs.BoolVar(&cfg.TrustForwardedHeaders, "trust-forwarded-headers", envOr(env, "TRUST_FORWARDED_HEADERS", "") == "true", "the WSDL address follows X-Forwarded-Proto/Host (env TRUST_FORWARDED_HEADERS=true)")
	fs.IntVar(&cfg.MaxInFlightPerClient, "max-in-flight-per-client", cfg.MaxInFlightPerClient, "requests one client has in progress, slow bodies included; past it, 429 at once; 0: no bound (env MAX_IN_FLIGHT_PER_CLIENT)")
	fs.IntVar(&cfg.MaxBatches, "max-batches", cfg.MaxBatches, "batches answered at once, all clients together; past it, 503 at once; 0: no bound (env MAX_BATCHES)")
	fs.IntVar(&cfg.MaxBatchesPerClient, "max-batches-per-client", cfg.MaxBatchesPerClient, "batches one client has answered at once; past it, 429 at once; 0: no bound (env MAX_BATCHES_PER_CLIENT)")
	memoryMiB := fs.Int64("memory-limit-mib", cfg.MemoryLimit>>20, "the Go runtime's soft memory limit in MiB; 0: none; GOMEMLIMIT, when set, wins (env MEMORY_LIMIT_MIB)")
	maxBody := fs.Int64("max-body", cfg.MaxBody, "request body limit in bytes (env MAX_BODY_BYTES)")
	level := fs.String("log-level", envOr(env, "LOG_LEVEL", "info"), "debug, info, warn or error (env LOG_LEVEL)")
	if v := envOr(env, "MAX_IN_FLIGHT", ""); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return cfg, "", fmt.Errorf("MAX_IN_FLIGHT=%q: want a positive number", v)
		}
		cfg.MaxInFlight = n
	}
	for _, b := range []struct {
		env string
		n   *int
	}{
		{"MAX_IN_FLIGHT_PER_CLIENT", &cfg.MaxInFlightPerClient}, {"MAX_BATCHES", &cfg.MaxBatches},
		{"MAX_BATCHES_PER_CLIENT", &cfg.MaxBatchesPerClient},
	} {
		if v := envOr(env, b.env, ""); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return cfg, "", fmt.Errorf("%s=%q: want a number, 0 for no bound", b.env, v)
			}
			*b.n = n
		}
	}
	if v := envOr(env, "MEMORY_LIMIT_MIB", ""); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 || n > 1<<30 {
			return cfg, "", fmt.Errorf("MEMORY_LIMIT_MIB=%q: want a number of MiB, 0 for none", v)
		}
		*memoryMiB = n
	}
	if v := envOr(env, "RATE_LIMIT", ""); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f <= 0 {
			return cfg, "", fmt.Errorf("RATE_LIMIT=%q: want a positive number of lookups per second", v)
		}
		cfg.RateLimit = f
	}
	if v := envOr(env, "RATE_BURST", ""); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return cfg, "", fmt.Errorf("RATE_BURST=%q: want a positive number", v)
		}
		cfg.RateBurst = n
	}
	if v := envOr(env, "MAX_BODY_BYTES", ""); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return cfg, "", fmt.Errorf("MAX_BODY_BYTES=%q: want a positive number of bytes", v)
		}
		*maxBody = n
	}
	for _, t := range []struct {
		env string
		d   *time.Duration
	}{
		{"READ_TIMEOUT", &cfg.ReadTimeout}, {"WRITE_TIMEOUT", &cfg.WriteTimeout},
		{"IDLE_TIMEOUT", &cfg.IdleTimeout}, {"SHUTDOWN_TIMEOUT", &cfg.ShutdownTimeout},
		{"LOOKUP_TIMEOUT", &cfg.LookupTimeout},
	} {
		d, err := envDuration(env, t.env, *t.d)
		if err != nil {
			return cfg, "", err
		}
		*t.d = d
	}
	err := parseFlags(fs, args)
	if err != nil {
		return cfg, "", err
	}
	if *maxBody <= 0 {
		return cfg, "", exitError{2, fmt.Errorf("--max-body must be positive")}
	}
	cfg.MaxBody = *maxBody
	if cfg.MaxInFlightPerClient < 0 || cfg.MaxBatches < 0 || cfg.MaxBatchesPerClient < 0 {
		return cfg, "", exitError{2, fmt.Errorf("--max-in-flight-per-client, --max-batches and --max-batches-per-client must not be negative")}
	}
	if *memoryMiB < 0 || *memoryMiB > 1<<30 {
		return cfg, "", exitError{2, fmt.Errorf("--memory-limit-mib must be a number of MiB, 0 for none")}
	}
	cfg.MemoryLimit = *memoryMiB << 20
	if cfg.MetricsListen == "off" {
		cfg.MetricsListen = ""
	}
	if (cfg.TLSCert == "") != (cfg.TLSKey == "") {
		return cfg, "", exitError{2, fmt.Errorf("--tls-cert and --tls-key go together")}
	}
	if cfg.TLSClientCA != "" && cfg.TLSCert == "" {
		return cfg, "", exitError{2, fmt.Errorf("--tls-client-ca needs --tls-cert and --tls-key")}
	}
	if cfg.RateLimit <= 0 || cfg.RateBurst <= 0 {
		return cfg, "", exitError{2, fmt.Errorf("--rate-limit and --rate-burst must be positive")}
	}
	if cfg.DatabaseURL, err = databaseURL(env); err != nil {
		return cfg, "", err
	}
	cfg.DatabaseReadURL = envOr(env, "DATABASE_READ_URL", "")
	cfg.SuiviDatabaseURL = envOr(env, "SUIVI_DATABASE_URL", "")
	if cfg.Bascule, err = bascule(env); err != nil {
		return cfg, "", err
	}
	return cfg, *level, nil
}

// newLogger returns the JSON logger of the service, on stderr. Lines are
// buffered (256 KiB, flushed every second and at exit): one write(2) per
// request was a tenth of the service's CPU under load. Errors flush at once.
func newLogger(level string) (*zap.Logger, error) {
	lvl, err := zapcore.ParseLevel(level)
	if err != nil {
		return nil, fmt.Errorf("log level %q: want debug, info, warn or error", level)
	}
	enc := zap.NewProductionEncoderConfig()
	enc.TimeKey = "time"
	enc.EncodeTime = zapcore.ISO8601TimeEncoder
	out := &zapcore.BufferedWriteSyncer{WS: zapcore.Lock(os.Stderr), Size: 256 << 10, FlushInterval: time.Second}
	core := zapcore.NewCore(zapcore.NewJSONEncoder(enc), out, zap.NewAtomicLevelAt(lvl))
	// Every request is logged: no sampling.
	return zap.New(core, zap.AddCaller(), zap.Hooks(func(e zapcore.Entry) error {
		if e.Level >= zapcore.ErrorLevel {
			return out.Sync()
		}
		return nil
	})), nil
}

func runServe(ctx context.Context, env Env, args []string) error {
	cfg, level, err := serveConfig(env, args)
	if err != nil {
		return err
	}
	log, err := newLogger(level)
	if err != nil {
		return err
	}
	defer log.Sync()
	log.Info("starting", zap.String("listen", cfg.Listen), zap.String("public_url", cfg.PublicURL),
		zap.String("database", maskURL(cfg.DatabaseURL)), zap.String("database_read", maskURL(cfg.DatabaseReadURL)),
		zap.Int("max_in_flight", cfg.MaxInFlight), zap.Int("max_in_flight_per_client", cfg.MaxInFlightPerClient),
		zap.Int("max_batches", cfg.MaxBatches), zap.Int("max_batches_per_client", cfg.MaxBatchesPerClient),
		zap.Int64("max_body", cfg.MaxBody),
		zap.Duration("read_timeout", cfg.ReadTimeout), zap.Duration("write_timeout", cfg.WriteTimeout),
		zap.Duration("idle_timeout", cfg.IdleTimeout), zap.Duration("shutdown_timeout", cfg.ShutdownTimeout),
		zap.Duration("lookup_timeout", cfg.LookupTimeout), zap.Bool("tls", cfg.TLSCert != ""),
		zap.Bool("mutual_tls", cfg.TLSClientCA != ""), zap.String("metrics_listen", cfg.MetricsListen),
		zap.String("spool_dir", cfg.SpoolDir), zap.Float64("rate_limit", cfg.RateLimit), zap.Int("rate_burst", cfg.RateBurst))
	m := &server.Main{Config: cfg, Logger: log}
	return m.Run(ctx)
}
