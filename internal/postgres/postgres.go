// Package postgres is the connector's PostgreSQL side: the connection pool,
// the migrations, the store the decision engine reads from, and the import
// of Aglaé extracts. Driver errors are translated here, once, into the
// kinds of package bourse.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"net"
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

func translate(op string, err error) error { return Translate(op, err) }

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
	return cfg, nil
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

// Translate turns a driver error into an error of a bourse kind, wrapped
// with the operation's name: connection failures and timeouts are
// Unavailable, a missing row NotFound, a constraint violation Invalid, the
// rest Internal. An error that already has a kind is returned as it is.
// The packages that run their own queries (the consultation log, the
// follow-up) use it too: driver errors are translated here only.
func Translate(op string, err error) error {
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
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
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
	var connErr *pgconn.ConnectError
	if errors.As(err, &netErr) || errors.As(err, &connErr) || pgconn.SafeToRetry(err) {
		return bourse.Unavailable(op, err)
	}
	return bourse.Internal(op, err)
}
