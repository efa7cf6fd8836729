// Package postgres is the connector's PostgreSQL side: the connection pool,
// the migrations, the store the decision engine reads from, and the import
// of Aglaé extracts. Driver errors are translated here, once, into the
// kinds of package bourse.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/aglae-connector/aglae-connector/internal/bourse"
)

// Open connects a pool to the database at url and checks that it answers.
func Open(ctx context.Context, url string) (*pgxpool.Pool, error) {
	cfg, err := config(url)
	if err != nil {
		return nil, err
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, translate("connect", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, translate("connect", err)
	}
	return pool, nil
}

func config(url string) (*pgxpool.Config, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// The URL may hold a password: never print it.
		return nil, fmt.Errorf("not a valid PostgreSQL connection string")
	}
	cfg.ConnConfig.RuntimeParams["application_name"] = "aglae-connector"
	cfg.MaxConnIdleTime = 5 * time.Minute
	// Dead connections are found within seconds after a restart or a
	// failover, not at the next lookup only.
	cfg.HealthCheckPeriod = 5 * time.Second
	cfg.ConnConfig.ConnectTimeout = 2 * time.Second
	// pgxpool pings a connection idle for more than a second before handing
	// it out; a retried read has every connection it is given pinged: see
	// retryRead.
	cfg.ShouldPing = func(ctx context.Context, p pgxpool.ShouldPingParams) bool {
		return p.IdleDuration > time.Second || ctx.Value(pingKey{}) != nil
	}
	return cfg, nil
}

// pingKey marks the context of a retried read: the pool pings every
// connection before handing it out (and drops the dead ones) whatever its
// idle time.
type pingKey struct{}

// retryRead runs f, a read: a query whose only effect is its answer. When
// f fails because its connection was dead (a pooled connection that a
// restart, a crash or a failover of the server closed), f runs once more
// within the same ctx, so the same deadline, on a connection that answered
// a ping: the dead ones left in the pool are dropped on the way, and a new
// connection reaches whichever server is up. f must start afresh at every
// call; the error is translated with op. Never for a write: a statement
// that reached the server before the connection died may have taken effect.
func retryRead(ctx context.Context, op string, f func(context.Context) error) error {
	err := f(ctx)
	if err != nil && ctx.Err() == nil && (connectionLost(err) || pgconn.SafeToRetry(err)) {
		err = f(context.WithValue(ctx, pingKey{}, true))
	}
	return translate(op, err)
}

// connectionLost reports whether err means that the connection is gone or
// cannot be had: closed by the server or the network (EOF, reset, broken
// pipe, use of a closed connection), not made (a connect error, whatever
// the server said, or a network error), or dropped by a server that shuts
// down, crashed or does not accept connections yet (57P01, 57P02, 57P03,
// the 08 class). A timeout is not: the server may be alive and slow.
func connectionLost(err error) bool {
	var connErr *pgconn.ConnectError
	if errors.As(err, &connErr) {
		return true
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "57P01", "57P02", "57P03": // admin_shutdown, crash_shutdown, cannot_connect_now
			return true
		}
		return strings.HasPrefix(pgErr.Code, "08") // connection exception
	}
	if pgconn.Timeout(err) {
		return false
	}
	for _, target := range []error{io.EOF, io.ErrUnexpectedEOF, net.ErrClosed, pgconn.ErrConnClosed,
		syscall.ECONNRESET, syscall.ECONNABORTED, syscall.ECONNREFUSED, syscall.EPIPE} {
		if errors.Is(err, target) {
			return true
		}
	}
	var netErr net.Error
	return errors.As(err, &netErr) && !netErr.Timeout()
}

// OpenLazy returns a pool on url without connecting: the first lookup
// connects. For read replicas, which may be down when the service starts.
func OpenLazy(url string) (*pgxpool.Pool, error) {
	cfg, err := config(url)
	if err != nil {
		return nil, err
	}
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		return nil, translate("connect", err)
	}
	return pool, nil
}

// translate turns a driver error into an error of a bourse kind, wrapped
// with the operation's name: a lost or refused connection (see
// connectionLost), timeouts, a lack of resources and an operator's
// intervention are Unavailable, a missing row NotFound, a constraint
// violation Invalid, the rest Internal. An error that already has a kind
// is returned as it is. Every query of the module runs in this package, so
// driver errors are translated here only.
func translate(op string, err error) error {
	if err == nil {
		return nil
	}
	var be *bourse.Error
	if errors.As(err, &be) {
		return err
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return &bourse.Error{Kind: bourse.KindNotFound, Message: op + ": not found", Err: err}
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) || connectionLost(err) {
		return bourse.Unavailable(op, err)
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code[:2] {
		case "08", "53", "57": // connection exception, insufficient resources, operator intervention
			return bourse.Unavailable(op, err)
		case "23": // integrity constraint violation
			return &bourse.Error{Kind: bourse.KindInvalid, Message: op + ": " + pgErr.Message, Err: err}
		}
		return bourse.Internal(op, err)
	}
	var netErr net.Error
	if errors.As(err, &netErr) || pgconn.SafeToRetry(err) { // a network timeout, or nothing was sent
		return bourse.Unavailable(op, err)
	}
	return bourse.Internal(op, err)
}
