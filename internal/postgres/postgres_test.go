package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aglae-connector/aglae-connector/internal/auth"
	"github.com/aglae-connector/aglae-connector/internal/bourse"
	"github.com/aglae-connector/aglae-connector/internal/pgtest"
	"github.com/aglae-connector/aglae-connector/internal/postgres"
	"github.com/aglae-connector/aglae-connector/internal/testutil"
)

func TestTranslateKinds(t *testing.T) {
	pgErr := func(code string) error { return &pgconn.PgError{Severity: "FATAL", Code: code, Message: "m"} }
	// A real connect error: no server behind that socket.
	_, connectErr := pgconn.Connect(context.Background(), "host=/nonexistent-aglae-socket user=postgres connect_timeout=1")
	require.Error(t, connectErr)
	// A real connect error the server answered: this database takes no
	// connections (55000).
	refusedErr := refusedConnectError(t)
	known := &bourse.Error{Kind: bourse.KindInvalid, Message: "already translated"}
	for _, c := range []struct {
		name string
		err  error
		want bourse.Kind
	}{
		// The connection is gone: Unavailable.
		{"EOF", io.EOF, bourse.KindUnavailable},
		{"unexpected EOF", io.ErrUnexpectedEOF, bourse.KindUnavailable},
		{"wrapped unexpected EOF", fmt.Errorf("read: %w", io.ErrUnexpectedEOF), bourse.KindUnavailable},
		{"connection reset", &net.OpError{Op: "read", Net: "unix", Err: os.NewSyscallError("read", syscall.ECONNRESET)}, bourse.KindUnavailable},
		{"bare connection reset", syscall.ECONNRESET, bourse.KindUnavailable},
		{"broken pipe", os.NewSyscallError("write", syscall.EPIPE), bourse.KindUnavailable},
		{"connection refused", os.NewSyscallError("connect", syscall.ECONNREFUSED), bourse.KindUnavailable},
		{"use of closed network connection", fmt.Errorf("write: %w", net.ErrClosed), bourse.KindUnavailable},
		{"pgconn conn closed", fmt.Errorf("x: %w", pgconn.ErrConnClosed), bourse.KindUnavailable},
		{"net error", &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("no route to host")}, bourse.KindUnavailable},
		{"connect error", connectErr, bourse.KindUnavailable},
		{"connection refused by the server", refusedErr, bourse.KindUnavailable},
		{"admin shutdown 57P01", pgErr("57P01"), bourse.KindUnavailable},
		{"crash shutdown 57P02", pgErr("57P02"), bourse.KindUnavailable},
		{"cannot connect now 57P03", pgErr("57P03"), bourse.KindUnavailable},
		{"connection exception 08000", pgErr("08000"), bourse.KindUnavailable},
		{"connection failure 08006", pgErr("08006"), bourse.KindUnavailable},
		{"protocol violation 08P01", pgErr("08P01"), bourse.KindUnavailable},
		{"wrapped 57P01", fmt.Errorf("batch lookup: %w", pgErr("57P01")), bourse.KindUnavailable},
		// Busy or slow: Unavailable too.
		{"too many connections 53300", pgErr("53300"), bourse.KindUnavailable},
		{"statement timeout 57014", pgErr("57014"), bourse.KindUnavailable},
		{"deadline", context.DeadlineExceeded, bourse.KindUnavailable},
		{"canceled", fmt.Errorf("q: %w", context.Canceled), bourse.KindUnavailable},
		// The rest.
		{"no rows", pgx.ErrNoRows, bourse.KindNotFound},
		{"unique violation 23505", pgErr("23505"), bourse.KindInvalid},
		{"undefined table 42P01", pgErr("42P01"), bourse.KindInternal},
		{"invalid text 22P02", pgErr("22P02"), bourse.KindInternal},
		{"authentication failed 28P01", pgErr("28P01"), bourse.KindInternal},
		{"anything else", errors.New("boom"), bourse.KindInternal},
		{"already translated", known, bourse.KindInvalid},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := postgres.Translate("op", c.err)
			assert.Equal(t, c.want, bourse.KindOf(got), "%v", got)
			assert.ErrorIs(t, got, c.err, "the cause is kept")
		})
	}
	assert.NoError(t, postgres.Translate("op", nil))
}

// refusedConnectError returns the error of a connection to a database that
// does not allow connections.
func refusedConnectError(t *testing.T) error {
	t.Helper()
	ctx := context.Background()
	pool := pgtest.New(t)
	cfg := pool.Config().ConnConfig
	admin, err := pgx.Connect(ctx, os.Getenv("AGLAE_TEST_DATABASE_URL"))
	require.NoError(t, err)
	defer admin.Close(ctx)
	db := pgx.Identifier{cfg.Database}.Sanitize()
	_, err = admin.Exec(ctx, `ALTER DATABASE `+db+` ALLOW_CONNECTIONS false`)
	require.NoError(t, err)
	defer admin.Exec(ctx, `ALTER DATABASE `+db+` ALLOW_CONNECTIONS true`)
	_, err = pgx.ConnectConfig(ctx, cfg)
	require.Error(t, err)
	var pgErr *pgconn.PgError
	require.ErrorAs(t, err, &pgErr)
	require.Equal(t, "55000", pgErr.Code)
	return err
}

// deadPool returns a pool whose every connection is dead and would be handed
// out without a ping: their server processes were terminated (as a fast
// shutdown or a restart does) while they were in use, and they went back
// to the pool just now.
func deadPool(t *testing.T, ctx context.Context, pool *pgxpool.Pool) {
	t.Helper()
	n := int(pool.Config().MaxConns)
	conns := make([]*pgxpool.Conn, n)
	pids := make([]uint32, n)
	for i := range conns {
		c, err := pool.Acquire(ctx)
		require.NoError(t, err)
		conns[i], pids[i] = c, c.Conn().PgConn().PID()
	}
	admin, err := pgx.Connect(ctx, pool.Config().ConnConfig.ConnString())
	require.NoError(t, err)
	defer admin.Close(ctx)
	_, err = admin.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) AS pid`, pids)
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		var left int
		err := admin.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE pid = ANY($1::int[])`, pids).Scan(&left)
		return err == nil && left == 0
	}, 10*time.Second, 10*time.Millisecond, "the backends are gone")
	for _, c := range conns {
		c.Release()
	}
	require.Equal(t, int32(n), pool.Stat().IdleConns(), "the dead connections are back in the pool")
}

// Every read of the store, after its connection died, is answered from a
// fresh connection within its deadline: a restart of the server costs no
// lookup.
func TestReadsSurviveDeadConnections(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.New(t)
	pgtest.ImportFile(t, pool, testutil.Testdata("extract.jsonl"))
	store := postgres.NewStore(pool)
	clients := postgres.NewClients(pool)
	require.NoError(t, clients.Add(ctx, auth.NewClient{ID: "integrateur1", Nom: "Intégrateur", SecretHash: fakeHash}))
	naissance := time.Date(2006, 6, 6, 0, 0, 0, 0, time.UTC)

	for _, c := range []struct {
		name string
		read func(ctx context.Context) error
	}{
		{"by identifier (coalesced)", func(ctx context.Context) error {
			ds, _, err := store.Dossiers(ctx, bourse.Query{Identifiant: "2000000011F", Annee: 2025})
			if err == nil && len(ds) != 1 {
				err = fmt.Errorf("%d dossiers", len(ds))
			}
			return err
		}},
		{"by identifier, many at once (coalesced rounds)", func(ctx context.Context) error {
			errs := make(chan error, 20)
			var wg sync.WaitGroup
			for range 20 {
				wg.Go(func() {
					ds, _, err := store.Dossiers(ctx, bourse.Query{Identifiant: "2000000011F", Annee: 2025})
					if err == nil && len(ds) != 1 {
						err = fmt.Errorf("%d dossiers", len(ds))
					}
					errs <- err
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					return err
				}
			}
			return nil
		}},
		{"with an identity", func(ctx context.Context) error {
			ds, _, err := store.Dossiers(ctx, bourse.Query{Identifiant: "2000000011F", Annee: 2025,
				Identity: &bourse.Identity{Nom: "X", Prenom: "Y", DateNaissance: naissance}})
			if err == nil && len(ds) != 1 {
				err = fmt.Errorf("%d dossiers", len(ds))
			}
			return err
		}},
		{"batch", func(ctx context.Context) error {
			got, err := store.DossiersBatch(ctx, 2025, []string{"2000000011F", "2000000033E"})
			if err == nil && (len(got["2000000011F"]) != 1 || len(got["2000000033E"]) != 1) {
				err = fmt.Errorf("answer %v", got)
			}
			return err
		}},
		{"API client", func(ctx context.Context) error {
			_, err := clients.ByID(ctx, "integrateur1")
			return err
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			deadPool(t, ctx, pool)
			ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			require.NoError(t, c.read(ctx))
			require.NoError(t, c.read(ctx), "and again")
		})
	}
}

// A read whose database cannot be reached fails as Unavailable, within its
// deadline.
func TestReadsOfAnUnreachableDatabaseAreUnavailable(t *testing.T) {
	pool, err := postgres.OpenLazy("postgres://postgres@/aglae?host=/nonexistent-aglae-socket&sslmode=disable")
	require.NoError(t, err)
	defer pool.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	store := postgres.NewStore(pool)
	_, _, err = store.Dossiers(ctx, bourse.Query{Identifiant: "2000000011F", Annee: 2025})
	assert.Equal(t, bourse.KindUnavailable, bourse.KindOf(err), "%v", err)
	_, err = store.DossiersBatch(ctx, 2025, []string{"2000000011F"})
	assert.Equal(t, bourse.KindUnavailable, bourse.KindOf(err), "%v", err)
	_, err = postgres.NewClients(pool).ByID(ctx, "integrateur1")
	assert.Equal(t, bourse.KindUnavailable, bourse.KindOf(err), "%v", err)
}
