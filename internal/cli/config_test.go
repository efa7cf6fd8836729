package cli

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap/zapcore"

	"github.com/aglae-connector/aglae-connector/internal/bourse"
	"github.com/aglae-connector/aglae-connector/internal/server"
)

// setServeEnv gives serve's variables the values of vars and blanks the
// others (blank counts as unset), for the test. conf reads the process's
// environment: these tests cannot run in parallel.
func setServeEnv(t *testing.T, vars map[string]string) {
	t.Helper()
	for _, v := range ServeVariables() {
		t.Setenv(v, "")
	}
	for k, v := range vars {
		require.Contains(t, ServeVariables(), k)
		t.Setenv(k, v)
	}
}

const envDatabase = "postgres://env@db.example/aglae"

// TestServeConfigDefaults checks that the defaults of the tags are those
// of server.Defaults: nothing set, nothing changes.
func TestServeConfigDefaults(t *testing.T) {
	setServeEnv(t, map[string]string{"DATABASE_URL": envDatabase})
	_, cfg, err := readServeConfig(Env{}, nil)
	require.NoError(t, err)
	want := server.Defaults()
	want.DatabaseURL = envDatabase
	assert.Equal(t, want, cfg)
}

func TestServeConfigPrecedence(t *testing.T) {
	for _, c := range []struct {
		name string
		env  map[string]string
		args []string
		want func(*server.Config) // applied to the defaults
	}{
		{"env over default", map[string]string{"MAX_IN_FLIGHT": "100"}, nil,
			func(c *server.Config) { c.MaxInFlight = 100 }},
		{"flag over env", map[string]string{"MAX_IN_FLIGHT": "100"}, []string{"--max-in-flight", "7"},
			func(c *server.Config) { c.MaxInFlight = 7 }},
		{"flag over default", nil, []string{"--max-in-flight=7"},
			func(c *server.Config) { c.MaxInFlight = 7 }},
		{"single-dash flag", nil, []string{"-listen", "127.0.0.1:0"},
			func(c *server.Config) { c.Listen = "127.0.0.1:0" }},
		{"blank env is unset", map[string]string{"MAX_IN_FLIGHT": "  ", "LISTEN_ADDR": "", "LOOKUP_TIMEOUT": " "}, nil,
			func(c *server.Config) {}},
		{"env trimmed", map[string]string{"MAX_IN_FLIGHT": " 100 ", "PUBLIC_URL": " https://c.example.fr "}, nil,
			func(c *server.Config) { c.MaxInFlight, c.PublicURL = 100, "https://c.example.fr" }},
		{"zero from env over default", map[string]string{"MAX_BATCHES": "0", "MAX_IN_FLIGHT_PER_CLIENT": "0"}, nil,
			func(c *server.Config) { c.MaxBatches, c.MaxInFlightPerClient = 0, 0 }},
		{"zero from flag over env", map[string]string{"MEMORY_LIMIT_MIB": "64"}, []string{"--memory-limit-mib", "0"},
			func(c *server.Config) { c.MemoryLimit = 0 }},
		{"MiB", map[string]string{"MEMORY_LIMIT_MIB": "64"}, nil,
			func(c *server.Config) { c.MemoryLimit = 64 << 20 }},
		{"string env", map[string]string{"LISTEN_ADDR": "0.0.0.0:8080", "SPOOL_DIR": "/spool"}, nil,
			func(c *server.Config) { c.Listen, c.SpoolDir = "0.0.0.0:8080", "/spool" }},
		{"string flag over env", map[string]string{"LISTEN_ADDR": "0.0.0.0:8080"}, []string{"--listen", "127.0.0.1:0"},
			func(c *server.Config) { c.Listen = "127.0.0.1:0" }},
		{"bool env", map[string]string{"TRUST_FORWARDED_HEADERS": "true"}, nil,
			func(c *server.Config) { c.TrustForwardedHeaders = true }},
		{"bare bool flag over env", map[string]string{"TRUST_FORWARDED_HEADERS": "false"}, []string{"--trust-forwarded-headers"},
			func(c *server.Config) { c.TrustForwardedHeaders = true }},
		{"false bool flag over env", map[string]string{"TRUST_FORWARDED_HEADERS": "true"}, []string{"--trust-forwarded-headers=false"},
			func(c *server.Config) {}},
		{"duration env", map[string]string{"LOOKUP_TIMEOUT": "1s", "IDLE_TIMEOUT": "5m"}, nil,
			func(c *server.Config) { c.LookupTimeout, c.IdleTimeout = time.Second, 5*time.Minute }},
		{"duration flag over env", map[string]string{"SHUTDOWN_TIMEOUT": "1s"}, []string{"--shutdown-timeout", "3s"},
			func(c *server.Config) { c.ShutdownTimeout = 3 * time.Second }},
		{"float", map[string]string{"RATE_LIMIT": "2.5", "RATE_BURST": "5"}, []string{"--rate-burst", "6"},
			func(c *server.Config) { c.RateLimit, c.RateBurst = 2.5, 6 }},
		{"bytes", map[string]string{"MAX_BODY_BYTES": "1024"}, nil,
			func(c *server.Config) { c.MaxBody = 1024 }},
		{"metrics off", map[string]string{"METRICS_LISTEN": "off"}, nil,
			func(c *server.Config) { c.MetricsListen = "" }},
		{"year switch", map[string]string{"ACADEMIC_YEAR_SWITCH": "09-01"}, nil,
			func(c *server.Config) { c.SwitchDate = bourse.SwitchDate{Month: time.September, Day: 1} }},
		{"year switch flag over env", map[string]string{"ACADEMIC_YEAR_SWITCH": "09-01"}, []string{"--academic-year-switch", "08-15"},
			func(c *server.Config) { c.SwitchDate = bourse.SwitchDate{Month: time.August, Day: 15} }},
		{"databases", map[string]string{"DATABASE_READ_URL": "postgres://r@replica/aglae", "SUIVI_DATABASE_URL": "postgres://s@db/aglae"}, []string{"--database-url", "postgres://flag@db/aglae"},
			func(c *server.Config) {
				c.DatabaseURL, c.DatabaseReadURL, c.SuiviDatabaseURL = "postgres://flag@db/aglae", "postgres://r@replica/aglae", "postgres://s@db/aglae"
			}},
		{"TLS", map[string]string{"TLS_CERT": "c.pem", "TLS_KEY": "k.pem"}, []string{"--tls-client-ca", "ca.pem"},
			func(c *server.Config) { c.TLSCert, c.TLSKey, c.TLSClientCA = "c.pem", "k.pem", "ca.pem" }},
	} {
		t.Run(c.name, func(t *testing.T) {
			env := map[string]string{"DATABASE_URL": envDatabase}
			for k, v := range c.env {
				env[k] = v
			}
			setServeEnv(t, env)
			_, cfg, err := readServeConfig(Env{}, c.args)
			require.NoError(t, err)
			want := server.Defaults()
			want.DatabaseURL = envDatabase
			c.want(&want)
			assert.Equal(t, want, cfg)
		})
	}
}

// TestServeConfigErrors checks that a bad setting exits 2 with a message
// naming it.
func TestServeConfigErrors(t *testing.T) {
	for _, c := range []struct {
		env  map[string]string
		args []string
		want string
	}{
		{map[string]string{"DATABASE_URL": ""}, nil, "DATABASE_URL is not set"},
		{map[string]string{"MAX_IN_FLIGHT": "abc"}, nil, `MAX_IN_FLIGHT (--max-in-flight): want a whole number, got "abc"`},
		{nil, []string{"--max-in-flight", "abc"}, `MAX_IN_FLIGHT (--max-in-flight): want a whole number, got "abc"`},
		{map[string]string{"MAX_IN_FLIGHT": "0"}, nil, "MAX_IN_FLIGHT (--max-in-flight): want a positive number, got 0"},
		{map[string]string{"MAX_BATCHES": "-1"}, nil, "MAX_BATCHES (--max-batches): want a number, 0 for no bound"},
		{map[string]string{"MAX_BODY_BYTES": "0"}, nil, "MAX_BODY_BYTES (--max-body)"},
		{map[string]string{"MEMORY_LIMIT_MIB": "-1"}, nil, "MEMORY_LIMIT_MIB (--memory-limit-mib): want a number of MiB"},
		{map[string]string{"MEMORY_LIMIT_MIB": fmt.Sprint(1<<30 + 1)}, nil, "MEMORY_LIMIT_MIB (--memory-limit-mib): want a number of MiB"},
		{map[string]string{"READ_TIMEOUT": "soon"}, nil, `READ_TIMEOUT (--read-timeout): want a duration such as 10s, got "soon"`},
		{map[string]string{"LOOKUP_TIMEOUT": "-1s"}, nil, "LOOKUP_TIMEOUT (--lookup-timeout): want a positive duration"},
		{map[string]string{"RATE_LIMIT": "fast"}, nil, `RATE_LIMIT (--rate-limit): want a number, got "fast"`},
		{nil, []string{"--rate-limit", "0"}, "RATE_LIMIT (--rate-limit): want a positive number"},
		{map[string]string{"RATE_BURST": "0"}, nil, "RATE_BURST (--rate-burst): want a positive number"},
		{map[string]string{"TRUST_FORWARDED_HEADERS": "yes"}, nil, `TRUST_FORWARDED_HEADERS (--trust-forwarded-headers): want true or false, got "yes"`},
		{map[string]string{"ACADEMIC_YEAR_SWITCH": "13-01"}, nil, "ACADEMIC_YEAR_SWITCH (--academic-year-switch): academic year switch"},
		{map[string]string{"LOG_LEVEL": "loud"}, nil, "LOG_LEVEL (--log-level): want debug, info, warn or error"},
		{map[string]string{"TLS_CERT": "c.pem"}, nil, "TLS_CERT (--tls-cert) and TLS_KEY (--tls-key) go together"},
		{nil, []string{"--tls-client-ca", "ca.pem"}, "TLS_CLIENT_CA (--tls-client-ca) needs"},
		{nil, []string{"--bogus"}, "unrecognized flag: --bogus"},
		{nil, []string{"--version"}, "unrecognized flag: --version"},
		{nil, []string{"extra"}, `unexpected argument "extra"`},
	} {
		t.Run(c.want, func(t *testing.T) {
			env := map[string]string{"DATABASE_URL": envDatabase}
			for k, v := range c.env {
				env[k] = v
			}
			setServeEnv(t, env)
			var stderr bytes.Buffer
			code := Run(context.Background(), append([]string{"serve"}, c.args...), Env{Stderr: &stderr, Getenv: func(string) string { return "" }})
			assert.Equal(t, 2, code)
			assert.Contains(t, stderr.String(), c.want)
		})
	}
}

// logged returns the start-up line's configuration object.
func logged(t *testing.T, c *serveConfig) map[string]any {
	t.Helper()
	enc := zapcore.NewMapObjectEncoder()
	require.NoError(t, c.MarshalLogObject(enc))
	return enc.Fields
}

func TestServeConfigMasksSecrets(t *testing.T) {
	for _, c := range []struct {
		env, value string
		want       string // "" when the value must not be shown at all
	}{
		{"DATABASE_URL", "postgres://aglae:s3cret@db:5432/aglae?sslmode=verify-full", "postgres://aglae:xxxxx@db:5432/aglae?sslmode=verify-full"},
		{"DATABASE_URL", "postgres://aglae@db/aglae?password=s3cret&sslmode=verify-full", "postgres://aglae@db/aglae?password=xxxxx&sslmode=verify-full"},
		{"DATABASE_URL", "postgres://aglae@db/aglae?sslpassword=s3cret", "postgres://aglae@db/aglae?sslpassword=xxxxx"},
		{"DATABASE_URL", "host=db user=aglae password=s3cret dbname=aglae", ""},
		{"DATABASE_READ_URL", "postgres://aglae:s3cret@r1:5432,r2:5432/aglae?target_session_attrs=prefer-standby", "postgres://aglae:xxxxx@r1:5432,r2:5432/aglae?target_session_attrs=prefer-standby"},
		{"SUIVI_DATABASE_URL", "postgresql://aglae_suivi:s3cret@db/aglae", "postgresql://aglae_suivi:xxxxx@db/aglae"},
		{"SUIVI_DATABASE_URL", "postgres://aglae_suivi@db/aglae", "postgres://aglae_suivi@db/aglae"},
	} {
		t.Run(c.env+" "+c.value, func(t *testing.T) {
			env := map[string]string{"DATABASE_URL": envDatabase, c.env: c.value}
			setServeEnv(t, env)
			sc, _, err := readServeConfig(Env{}, nil)
			require.NoError(t, err)
			got := logged(t, &sc)[c.env]
			assert.NotContains(t, got, "s3cret")
			if c.want != "" {
				assert.Equal(t, c.want, got)
			} else {
				assert.Equal(t, "(set, not a URL: not shown)", got)
			}
			// A password passed as a flag is masked the same way.
			setServeEnv(t, map[string]string{"DATABASE_URL": envDatabase})
			sc, _, err = readServeConfig(Env{}, []string{"--" + strings.ToLower(strings.ReplaceAll(c.env, "_", "-")), c.value})
			require.NoError(t, err)
			assert.Equal(t, got, logged(t, &sc)[c.env])
		})
	}
	// Only the connection strings are secret: nothing else is masked.
	for _, s := range serveSettings() {
		assert.Equal(t, strings.Contains(s.env, "DATABASE"), s.mask, s.env)
	}
}

// TestServeConfigLogsEverySetting checks that the start-up line shows
// every setting, under its variable's name, including those set by flag.
func TestServeConfigLogsEverySetting(t *testing.T) {
	setServeEnv(t, map[string]string{"DATABASE_URL": envDatabase, "TRUST_FORWARDED_HEADERS": "true"})
	sc, _, err := readServeConfig(Env{}, []string{"--suivi-database-url", "postgres://s:pw@db/aglae", "--academic-year-switch", "09-01"})
	require.NoError(t, err)
	f := logged(t, &sc)
	for _, v := range ServeVariables() {
		assert.Contains(t, f, v)
	}
	assert.Len(t, f, len(ServeVariables()))
	assert.Equal(t, "postgres://s:xxxxx@db/aglae", f["SUIVI_DATABASE_URL"])
	assert.Equal(t, true, f["TRUST_FORWARDED_HEADERS"])
	assert.Equal(t, "09-01", f["ACADEMIC_YEAR_SWITCH"])
	assert.Equal(t, "2s", f["LOOKUP_TIMEOUT"])
	assert.Equal(t, 512, f["MAX_IN_FLIGHT"])
}

// TestServeHelp checks that serve --help shows every setting: its flag,
// its variable and its default.
func TestServeHelp(t *testing.T) {
	setServeEnv(t, nil) // no DATABASE_URL: help comes first
	var stderr bytes.Buffer
	code := Run(context.Background(), []string{"serve", "--help"}, Env{Stderr: &stderr})
	require.Equal(t, 0, code)
	help := stderr.String()
	for _, s := range serveSettings() {
		assert.Contains(t, help, "  "+s.env+" ", s.env)
		assert.Contains(t, help, "--"+s.flag+" ", s.flag)
	}
	for _, d := range []string{"127.0.0.1:8080", "127.0.0.1:9464", "512", "64", "65536", "48", "2s", "10s", "2m", "15s", "200", "400", "info", "07-01"} {
		assert.Contains(t, help, "(default: "+d+")")
	}
	_, _, err := readServeConfig(Env{Stderr: &bytes.Buffer{}}, []string{"-h"})
	assert.True(t, errors.Is(err, flag.ErrHelp), "-h is help too")
}

// TestReadmeConfiguration checks that the README's configuration table
// names every setting, by its variable and its flag.
func TestReadmeConfiguration(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	require.NoError(t, err)
	_, section, ok := strings.Cut(string(b), "### Configuration\n")
	require.True(t, ok, "README.md has no Configuration section")
	section, _, _ = strings.Cut(section, "\n## ")
	for _, s := range serveSettings() {
		assert.Contains(t, section, "`"+s.env+"`", s.env)
		assert.Contains(t, section, "`--"+s.flag+"`", s.flag)
	}
}
