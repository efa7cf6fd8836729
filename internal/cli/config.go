package cli

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ardanlabs/conf/v3"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/aglae-connector/aglae-connector/internal/bourse"
	"github.com/aglae-connector/aglae-connector/internal/server"
)

// serveConfig is the configuration of `serve`, read by conf: each setting
// comes from its flag, else its environment variable, else the default of
// its tag (the same as server.Defaults, which a test checks). Every field
// names its env variable and its flag: operators and deploy/ use those
// names. A help text may not hold a comma (conf splits tags on them).
//
// A variable set to blanks counts as unset, and values are trimmed: an
// env file's `PUBLIC_URL=` leaves the default, as it always did.
type serveConfig struct {
	DatabaseURL      confString `conf:"env:DATABASE_URL,flag:database-url,mask,help:PostgreSQL connection string (URL or key=value) of the primary; required; prefer the environment: a command line is visible to local users"`
	DatabaseReadURL  confString `conf:"env:DATABASE_READ_URL,flag:database-read-url,mask,help:where lookups read the data of Aglaé (replicas or several hosts); default: DATABASE_URL"`
	SuiviDatabaseURL confString `conf:"env:SUIVI_DATABASE_URL,flag:suivi-database-url,mask,help:connection of the follow-up and control lists as role aglae_suivi; default: DATABASE_URL"`

	Listen                confString `conf:"env:LISTEN_ADDR,flag:listen,default:127.0.0.1:8080,help:address to listen on (HOST:PORT)"`
	PublicURL             confString `conf:"env:PUBLIC_URL,flag:public-url,help:URL clients reach the service at; written in the served WSDL; default: the host of the request"`
	TrustForwardedHeaders confBool   `conf:"env:TRUST_FORWARDED_HEADERS,flag:trust-forwarded-headers,default:false,help:the WSDL address follows X-Forwarded-Proto/-Host (behind a trusted proxy only)"`
	TLSCert               confString `conf:"env:TLS_CERT,flag:tls-cert,help:PEM certificate: serve HTTPS (with --tls-key)"`
	TLSKey                confString `conf:"env:TLS_KEY,flag:tls-key,help:PEM private key of --tls-cert (a file path)"`
	TLSClientCA           confString `conf:"env:TLS_CLIENT_CA,flag:tls-client-ca,help:PEM CA bundle: client certificates it signed authenticate their client"`

	MaxBody              confInt64 `conf:"env:MAX_BODY_BYTES,flag:max-body,default:65536,help:request body limit in bytes (413 beyond)"`
	MaxInFlight          confInt   `conf:"env:MAX_IN_FLIGHT,flag:max-in-flight,default:512,help:requests served at once; past it 503 at once"`
	MaxInFlightPerClient confInt   `conf:"env:MAX_IN_FLIGHT_PER_CLIENT,flag:max-in-flight-per-client,default:64,help:requests one client has in progress (slow bodies included); past it 429 at once; 0: no bound"`
	MaxBatches           confInt   `conf:"env:MAX_BATCHES,flag:max-batches,default:2,help:batches answered at once (all clients together); past it 503; 0: no bound"`
	MaxBatchesPerClient  confInt   `conf:"env:MAX_BATCHES_PER_CLIENT,flag:max-batches-per-client,default:4,help:batches one client has answered at once; past it 429 at once; 0: no bound"`
	MemoryLimitMiB       confInt64 `conf:"env:MEMORY_LIMIT_MIB,flag:memory-limit-mib,default:48,help:soft memory limit of the Go runtime in MiB; 0: none; GOMEMLIMIT when set wins"`

	LookupTimeout   confDuration `conf:"env:LOOKUP_TIMEOUT,flag:lookup-timeout,default:2s,help:deadline of a lookup ('duration') carried down to the query"`
	ReadTimeout     confDuration `conf:"env:READ_TIMEOUT,flag:read-timeout,default:10s,help:HTTP server read timeout ('duration')"`
	WriteTimeout    confDuration `conf:"env:WRITE_TIMEOUT,flag:write-timeout,default:10s,help:HTTP server write timeout ('duration')"`
	IdleTimeout     confDuration `conf:"env:IDLE_TIMEOUT,flag:idle-timeout,default:2m,help:HTTP server idle timeout ('duration')"`
	ShutdownTimeout confDuration `conf:"env:SHUTDOWN_TIMEOUT,flag:shutdown-timeout,default:15s,help:how long SIGTERM waits for the requests in flight ('duration')"`

	RateLimit     confFloat  `conf:"env:RATE_LIMIT,flag:rate-limit,default:200,help:default lookups per second per client"`
	RateBurst     confInt    `conf:"env:RATE_BURST,flag:rate-burst,default:400,help:default burst per client"`
	MetricsListen confString `conf:"env:METRICS_LISTEN,flag:metrics-listen,default:127.0.0.1:9464,help:address of the Prometheus metrics; off disables them"`
	SpoolDir      confString `conf:"env:SPOOL_DIR,flag:spool-dir,help:folder where consultation records wait while the database is down; default: $STATE_DIRECTORY/consultations else a temporary folder"`
	LogLevel      confString `conf:"env:LOG_LEVEL,flag:log-level,default:info,help:debug; info; warn or error"`
	YearSwitch    confString `conf:"env:ACADEMIC_YEAR_SWITCH,flag:academic-year-switch,default:07-01,help:the day (MM-DD; Europe/Paris) the default academic year moves on"`

	InscriptionRescue confDuration `conf:"env:INSCRIPTION_RESCUE_AFTER,flag:inscription-rescue-after,default:1m,help:a registration event's job still running after this long ('duration') is taken for the job of a crashed instance and run again; a job gets half of it to finish"`

	InstanceHeartbeat confDuration `conf:"env:INSTANCE_HEARTBEAT,flag:instance-heartbeat,default:5s,help:how often the instance beats in the database ('duration'); the instances live within three beats share each client's rate limit"`

	Rest conf.Args `conf:"noprint"` // positional arguments: serve takes none
}

// The setting types: conf calls their Set with the text of a default, an
// env variable or a flag. Blanks leave the value as it is.
type (
	confString   string
	confBool     bool
	confInt      int
	confInt64    int64
	confFloat    float64
	confDuration time.Duration
)

func setTrimmed[T any](p *T, s string, parse func(string) (T, error)) error {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil
	}
	v, err := parse(s)
	if err != nil {
		return err
	}
	*p = v
	return nil
}

func (v *confString) Set(s string) error {
	return setTrimmed((*string)(v), s, func(s string) (string, error) { return s, nil })
}

func (v *confBool) Set(s string) error {
	return setTrimmed((*bool)(v), s, func(s string) (bool, error) {
		b, err := strconv.ParseBool(s)
		if err != nil {
			return false, errors.New("want true or false")
		}
		return b, nil
	})
}

func (v *confInt) Set(s string) error {
	return setTrimmed((*int)(v), s, func(s string) (int, error) {
		n, err := strconv.Atoi(s)
		if err != nil {
			return 0, errors.New("want a whole number")
		}
		return n, nil
	})
}

func (v *confInt64) Set(s string) error {
	return setTrimmed((*int64)(v), s, func(s string) (int64, error) {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, errors.New("want a whole number")
		}
		return n, nil
	})
}

func (v *confFloat) Set(s string) error {
	return setTrimmed((*float64)(v), s, func(s string) (float64, error) {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return 0, errors.New("want a number")
		}
		return f, nil
	})
}

func (v *confDuration) Set(s string) error {
	return setTrimmed((*time.Duration)(v), s, func(s string) (time.Duration, error) {
		d, err := time.ParseDuration(s)
		if err != nil {
			return 0, errors.New("want a duration such as 10s")
		}
		return d, nil
	})
}

// setting is what the tags of one serveConfig field say.
type setting struct {
	field string // the Go field name
	env   string
	flag  string
	mask  bool
}

var serveSettings = sync.OnceValue(func() []setting {
	t := reflect.TypeFor[serveConfig]()
	var all []setting
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Type == reflect.TypeFor[conf.Args]() {
			continue
		}
		s := setting{field: f.Name}
		for _, part := range strings.Split(f.Tag.Get("conf"), ",") {
			k, v, _ := strings.Cut(part, ":")
			switch k {
			case "env":
				s.env = v
			case "flag":
				s.flag = v
			case "mask":
				s.mask = true
			}
		}
		all = append(all, s)
	}
	return all
})

// ServeVariables returns the environment variables `serve` reads, sorted.
func ServeVariables() []string {
	var vars []string
	for _, s := range serveSettings() {
		vars = append(vars, s.env)
	}
	slices.Sort(vars)
	return vars
}

// settingName names the setting of a Go field for an operator: its env
// variable and its flag.
func settingName(field string) string {
	i := slices.IndexFunc(serveSettings(), func(s setting) bool { return s.field == field })
	if i < 0 {
		return field
	}
	s := serveSettings()[i]
	return s.env + " (--" + s.flag + ")"
}

// osArgs serializes the calls of conf, which reads os.Args.
var osArgs sync.Mutex

// parseServeConfig runs conf on args and the process's environment (conf
// reads os.Args and os.Environ: the command's own arguments are handed to
// it as os.Args for the call). It returns conf's usage text with
// conf.ErrHelpWanted.
func parseServeConfig(args []string) (serveConfig, string, error) {
	osArgs.Lock()
	defer osArgs.Unlock()
	saved := os.Args
	defer func() { os.Args = saved }()
	os.Args = append([]string{"aglae-connector serve"}, args...)
	var c serveConfig
	help, err := conf.ParseWithOptions("", &c, conf.WithStrictFlags())
	return c, help, err
}

// fieldError reads conf's FieldError message, which carries no fields of
// its own: the Go field, the value and our setter's reason.
var fieldError = regexp.MustCompile(`(?s)error assigning to field (\w+): converting '(.*)' to type \S+\. details: (.*)$`)

// confError rewords an error of conf for an operator, naming the setting.
func confError(err error) error {
	if m := fieldError.FindStringSubmatch(err.Error()); m != nil {
		return exitError{2, fmt.Errorf("%s: %s, got %q", settingName(m[1]), m[3], m[2])}
	}
	msg := strings.TrimPrefix(err.Error(), "parsing config: ")
	if errors.Is(err, conf.ErrVersionWanted) {
		msg = "unrecognized flag: --version"
	}
	return exitError{2, errors.New(msg)}
}

// readServeConfig reads the configuration of `serve` (flags over the
// environment over the defaults) and checks it. It returns flag.ErrHelp
// once it has written the help.
func readServeConfig(env Env, args []string) (serveConfig, server.Config, error) {
	c, help, err := parseServeConfig(args)
	if errors.Is(err, conf.ErrHelpWanted) {
		fmt.Fprintln(env.Stderr, help)
		return c, server.Config{}, flag.ErrHelp
	}
	if err != nil {
		return c, server.Config{}, confError(err)
	}
	cfg, err := c.server()
	return c, cfg, err
}

// server checks c and returns the server's configuration.
func (c *serveConfig) server() (server.Config, error) {
	bad := func(field, want string, got any) error {
		return exitError{2, fmt.Errorf("%s: want %s, got %v", settingName(field), want, got)}
	}
	if len(c.Rest) > 0 {
		return server.Config{}, exitError{2, fmt.Errorf("unexpected argument %q", c.Rest[0])}
	}
	if c.DatabaseURL == "" {
		return server.Config{}, exitError{2, errors.New("DATABASE_URL is not set (e.g. postgres://user@/aglae?host=/run/postgresql)")}
	}
	for _, n := range []struct {
		field  string
		v, min int64
		want   string
	}{
		{"MaxInFlight", int64(c.MaxInFlight), 1, "a positive number"},
		{"MaxBody", int64(c.MaxBody), 1, "a positive number of bytes"},
		{"RateBurst", int64(c.RateBurst), 1, "a positive number"},
		{"MaxInFlightPerClient", int64(c.MaxInFlightPerClient), 0, "a number, 0 for no bound"},
		{"MaxBatches", int64(c.MaxBatches), 0, "a number, 0 for no bound"},
		{"MaxBatchesPerClient", int64(c.MaxBatchesPerClient), 0, "a number, 0 for no bound"},
		{"MemoryLimitMiB", int64(c.MemoryLimitMiB), 0, "a number of MiB, 0 for none"},
	} {
		if n.v < n.min {
			return server.Config{}, bad(n.field, n.want, n.v)
		}
	}
	if c.MemoryLimitMiB > 1<<30 {
		return server.Config{}, bad("MemoryLimitMiB", "a number of MiB, 0 for none", c.MemoryLimitMiB)
	}
	if c.RateLimit <= 0 {
		return server.Config{}, bad("RateLimit", "a positive number of lookups per second", float64(c.RateLimit))
	}
	for _, d := range []struct {
		field string
		v     confDuration
	}{
		{"LookupTimeout", c.LookupTimeout}, {"ReadTimeout", c.ReadTimeout}, {"WriteTimeout", c.WriteTimeout},
		{"IdleTimeout", c.IdleTimeout}, {"ShutdownTimeout", c.ShutdownTimeout},
		{"InstanceHeartbeat", c.InstanceHeartbeat}, {"InscriptionRescue", c.InscriptionRescue},
	} {
		if d.v <= 0 {
			return server.Config{}, bad(d.field, "a positive duration such as 10s", time.Duration(d.v))
		}
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return server.Config{}, exitError{2, errors.New("TLS_CERT (--tls-cert) and TLS_KEY (--tls-key) go together")}
	}
	if c.TLSClientCA != "" && c.TLSCert == "" {
		return server.Config{}, exitError{2, errors.New("TLS_CLIENT_CA (--tls-client-ca) needs TLS_CERT and TLS_KEY")}
	}
	if _, err := zapcore.ParseLevel(string(c.LogLevel)); err != nil {
		return server.Config{}, bad("LogLevel", "debug, info, warn or error", strconv.Quote(string(c.LogLevel)))
	}
	sw, err := bourse.ParseSwitchDate(string(c.YearSwitch))
	if err != nil {
		return server.Config{}, exitError{2, fmt.Errorf("%s: %w", settingName("YearSwitch"), err)}
	}
	metrics := string(c.MetricsListen)
	if metrics == "off" {
		metrics = ""
	}
	cfg := server.Defaults() // what serveConfig does not set
	cfg.Listen = string(c.Listen)
	cfg.DatabaseURL = string(c.DatabaseURL)
	cfg.DatabaseReadURL = string(c.DatabaseReadURL)
	cfg.SuiviDatabaseURL = string(c.SuiviDatabaseURL)
	cfg.PublicURL = string(c.PublicURL)
	cfg.TrustForwardedHeaders = bool(c.TrustForwardedHeaders)
	cfg.TLSCert, cfg.TLSKey, cfg.TLSClientCA = string(c.TLSCert), string(c.TLSKey), string(c.TLSClientCA)
	cfg.MaxBody = int64(c.MaxBody)
	cfg.MaxInFlight = int(c.MaxInFlight)
	cfg.MaxInFlightPerClient = int(c.MaxInFlightPerClient)
	cfg.MaxBatches = int(c.MaxBatches)
	cfg.MaxBatchesPerClient = int(c.MaxBatchesPerClient)
	cfg.MemoryLimit = int64(c.MemoryLimitMiB) << 20
	cfg.LookupTimeout = time.Duration(c.LookupTimeout)
	cfg.ReadTimeout = time.Duration(c.ReadTimeout)
	cfg.WriteTimeout = time.Duration(c.WriteTimeout)
	cfg.IdleTimeout = time.Duration(c.IdleTimeout)
	cfg.ShutdownTimeout = time.Duration(c.ShutdownTimeout)
	cfg.RateLimit = float64(c.RateLimit)
	cfg.RateBurst = int(c.RateBurst)
	cfg.MetricsListen = metrics
	cfg.SpoolDir = string(c.SpoolDir)
	cfg.SwitchDate = sw
	cfg.InstanceHeartbeat = time.Duration(c.InstanceHeartbeat)
	cfg.InscriptionRescue = time.Duration(c.InscriptionRescue)
	return cfg, nil
}

// MarshalLogObject writes every setting under its env variable's name,
// secrets masked: the start-up line shows the whole configuration.
func (c *serveConfig) MarshalLogObject(enc zapcore.ObjectEncoder) error {
	v := reflect.ValueOf(c).Elem()
	for _, s := range serveSettings() {
		switch f := v.FieldByName(s.field).Interface().(type) {
		case confString:
			if s.mask {
				enc.AddString(s.env, maskURL(string(f)))
			} else {
				enc.AddString(s.env, string(f))
			}
		case confBool:
			enc.AddBool(s.env, bool(f))
		case confInt:
			enc.AddInt(s.env, int(f))
		case confInt64:
			enc.AddInt64(s.env, int64(f))
		case confFloat:
			enc.AddFloat64(s.env, float64(f))
		case confDuration:
			enc.AddString(s.env, time.Duration(f).String())
		default:
			return fmt.Errorf("setting %s: type %T not logged", s.field, f)
		}
	}
	return nil
}

// logField is the start-up line's field of the configuration.
func (c *serveConfig) logField() zap.Field { return zap.Object("config", c) }
