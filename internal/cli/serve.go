package cli

import (
	"context"
	"fmt"
	"io"
	"os"
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
	// Syncing flushes the buffer, and no more: stderr is a pipe or a socket
	// under systemd, in a container or under a test, where fsync(2) fails
	// with EINVAL, and zap printed "sync /dev/stderr: invalid argument"
	// after every error line.
	stderr := zapcore.AddSync(struct{ io.Writer }{os.Stderr})
	out := &zapcore.BufferedWriteSyncer{WS: zapcore.Lock(stderr), Size: 256 << 10, FlushInterval: time.Second}
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
	c, cfg, err := readServeConfig(env, args)
	if err != nil {
		return err
	}
	log, err := newLogger(string(c.LogLevel))
	if err != nil {
		return err
	}
	defer log.Sync()
	log.Info("starting", c.logField())
	m := &server.Main{Config: cfg, Logger: log}
	return m.Run(ctx)
}
