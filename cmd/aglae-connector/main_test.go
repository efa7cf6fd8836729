package main_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aglae-connector/aglae-connector/internal/auth"
	"github.com/aglae-connector/aglae-connector/internal/pgtest"
	"github.com/aglae-connector/aglae-connector/internal/postgres"
)

// buildBinary compiles the command once per test binary.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "aglae-connector")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, string(out))
	return bin
}

// process is a running `aglae-connector serve`.
type process struct {
	cmd  *exec.Cmd
	addr string
	done chan error

	mu       sync.Mutex
	problems []string // the service's last warning and error lines, shown when it exits badly
}

// serve starts the binary and waits until it listens.
func serve(t *testing.T, bin, dbURL, spool string, env ...string) *process {
	t.Helper()
	cmd := exec.Command(bin, "serve")
	cmd.Env = append(os.Environ(), "DATABASE_URL="+dbURL, "LISTEN_ADDR=127.0.0.1:0", "METRICS_LISTEN=off",
		"SPOOL_DIR="+spool, "LOOKUP_TIMEOUT=1s", "SHUTDOWN_TIMEOUT=10s")
	// Not less than 10 s: at shutdown, Go's http.Server waits up to 5 s for a
	// connection on which no request has arrived yet (a client's spare
	// connection), and a shorter timeout made the exit status flaky.
	cmd.Env = append(cmd.Env, env...)
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	p := &process{cmd: cmd, done: make(chan error, 1)}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			var l struct{ Level, Logger, Msg, Addr string }
			plain := json.Unmarshal(sc.Bytes(), &l) != nil
			if l.Msg == "listening" {
				addr <- l.Addr
			}
			if plain || l.Logger != "access" && (l.Level == "warn" || l.Level == "error" || l.Level == "fatal") {
				p.mu.Lock()
				p.problems = append(p.problems, sc.Text())
				if len(p.problems) > 20 {
					p.problems = p.problems[1:]
				}
				p.mu.Unlock()
			}
		}
		p.done <- cmd.Wait()
	}()
	select {
	case p.addr = <-addr:
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		t.Fatal("the service did not start listening")
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	return p
}

// stop sends SIGTERM and returns the exit error.
func (p *process) stop(t *testing.T) error {
	t.Helper()
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
	select {
	case err := <-p.done:
		if err != nil {
			p.mu.Lock()
			t.Logf("the service exited with %v; its last warnings and errors:\n%s", err, strings.Join(p.problems, "\n"))
			p.mu.Unlock()
		}
		return err
	case <-time.After(30 * time.Second):
		t.Fatal("the service did not stop within 30 s of SIGTERM")
		return nil
	}
}

func lookup(t *testing.T, addr, secret string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/v1/boursiers/2000000011F?annee=2025", nil)
	req.Header.Set("Authorization", "Bearer "+secret)
	c := &http.Client{Timeout: 5 * time.Second}
	res, err := c.Do(req)
	require.NoError(t, err, "the service must answer, even without its database")
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode
}

func countConsultations(t *testing.T, ctx context.Context, dbURL string) int {
	t.Helper()
	conn, err := pgx.Connect(ctx, dbURL)
	require.NoError(t, err)
	defer conn.Close(ctx)
	var n int
	require.NoError(t, conn.QueryRow(ctx, `SELECT count(*) FROM connecteur.consultation`).Scan(&n))
	return n
}

// TestNoConsultationLostAcrossOutageAndSIGTERM answers lookups while the
// consultation log cannot be written, then takes the database down, then
// stops the service with SIGTERM: every answered lookup must be in the
// log once the database is back and the service has started again.
func TestNoConsultationLostAcrossOutageAndSIGTERM(t *testing.T) {
	ctx := context.Background()
	bin := buildBinary(t)
	dbURL := pgtest.URL(t)
	pool, err := postgres.Open(ctx, dbURL)
	require.NoError(t, err)
	f, err := os.Open("../../testdata/extract.jsonl")
	require.NoError(t, err)
	_, err = postgres.Import(ctx, pool, f, postgres.ImportOptions{})
	f.Close()
	require.NoError(t, err)
	id, secret := auth.NewCredentials()
	hash, err := auth.HashSecret(secret)
	require.NoError(t, err)
	require.NoError(t, postgres.NewClients(pool).Add(ctx, auth.NewClient{ID: id, Nom: "UVSQ", UAI: "0781944P", SecretHash: hash}))
	pool.Close()

	spool := t.TempDir()
	p := serve(t, bin, dbURL, spool)
	const before = 20
	for i := 0; i < before; i++ {
		require.Equal(t, http.StatusOK, lookup(t, p.addr, secret))
	}
	require.Eventually(t, func() bool { return countConsultations(t, ctx, dbURL) == before }, 10*time.Second, 50*time.Millisecond)

	// The log's table is locked: lookups are answered, their records wait.
	locker, err := pgx.Connect(ctx, dbURL)
	require.NoError(t, err)
	tx, err := locker.Begin(ctx)
	require.NoError(t, err)
	_, err = tx.Exec(ctx, `LOCK TABLE connecteur.consultation IN ACCESS EXCLUSIVE MODE`)
	require.NoError(t, err)
	const during = 30
	for i := 0; i < during; i++ {
		require.Equal(t, http.StatusOK, lookup(t, p.addr, secret))
	}

	// Then the database goes away for this service: no connection allowed,
	// the existing ones terminated (the lock's too).
	u, err := url.Parse(dbURL)
	require.NoError(t, err)
	db := strings.TrimPrefix(u.Path, "/")
	admin, err := pgx.Connect(ctx, os.Getenv("AGLAE_TEST_DATABASE_URL"))
	require.NoError(t, err)
	defer admin.Close(ctx)
	_, err = admin.Exec(ctx, `ALTER DATABASE `+pgx.Identifier{db}.Sanitize()+` ALLOW_CONNECTIONS false`)
	require.NoError(t, err)
	t.Cleanup(func() {
		admin.Exec(context.Background(), `ALTER DATABASE `+pgx.Identifier{db}.Sanitize()+` ALLOW_CONNECTIONS true`)
	})
	_, err = admin.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1`, db)
	require.NoError(t, err)
	locker.Close(ctx)

	// Lookups now fail fast, and are not consultations.
	start := time.Now()
	assert.Equal(t, http.StatusServiceUnavailable, lookup(t, p.addr, secret))
	assert.Less(t, time.Since(start), 3*time.Second, "within the lookup deadline")

	require.NoError(t, p.stop(t), "SIGTERM exits 0 even with the database down")
	spooled, err := filepath.Glob(filepath.Join(spool, "*"))
	require.NoError(t, err)
	assert.NotEmpty(t, spooled, "the waiting records are in the spool")

	// The database is back; the service starts again and replays the spool.
	_, err = admin.Exec(ctx, `ALTER DATABASE `+pgx.Identifier{db}.Sanitize()+` ALLOW_CONNECTIONS true`)
	require.NoError(t, err)
	p = serve(t, bin, dbURL, spool)
	require.Eventually(t, func() bool { return countConsultations(t, ctx, dbURL) >= before+during }, 20*time.Second, 100*time.Millisecond)
	assert.Equal(t, before+during, countConsultations(t, ctx, dbURL), "none lost, none twice")
	require.NoError(t, p.stop(t))
}
