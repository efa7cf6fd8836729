package journal_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/aglae-connector/aglae-connector/internal/bourse"
	"github.com/aglae-connector/aglae-connector/internal/journal"
	"github.com/aglae-connector/aglae-connector/internal/pgtest"
	"github.com/aglae-connector/aglae-connector/internal/postgres"
)

// base is a point in time the test records are made around, at a whole
// microsecond as PostgreSQL keeps it.
var base = time.Date(2025, 9, 15, 8, 30, 0, 0, time.UTC)

// sample returns the i-th test record: every field set, some NULL-able
// ones empty, one per request id.
func sample(i int) journal.Consultation {
	c := journal.Consultation{
		Horodatage:  base.Add(time.Duration(i) * time.Millisecond).Add(time.Duration(i%1000) * time.Microsecond),
		ClientID:    fmt.Sprintf("client%02d", i%7),
		UAI:         "0781944P",
		Canal:       []bourse.Canal{bourse.CanalREST, bourse.CanalSOAP, bourse.CanalBatch}[i%3],
		Identifiant: fmt.Sprintf("%010dA", i),
		Annee:       2024 + i%2,
		Statut:      "BOURSIER",
		RequestID:   fmt.Sprintf("req-%06d", i),
		Latency:     time.Duration(100+i) * time.Microsecond,
	}
	switch i % 4 {
	case 0:
		c.TypeDecision, c.Echelon, c.Raison = "DEFINITIVE", "5", "ATTRIBUTION_DEFINITIVE"
		c.Correspondance, c.IdentifiantAglae, c.NumeroDossier = "IDENTIFIANT", c.Identifiant, fmt.Sprintf("2024%014d", i)
	case 1:
		c.Statut, c.Raison = "EN_ATTENTE", "PIECES_MANQUANTES"
		c.Correspondance, c.NumeroDossier = "IDENTIFIANT", fmt.Sprintf("2024%014d", i)
	case 2:
		c.Statut, c.Raison, c.Identifiant, c.UAI = "INCONNU", "AUCUN_DOSSIER", "", ""
	case 3:
		c.Statut, c.Raison, c.Anomalie, c.Correspondance = "NON_BOURSIER", "IDENTITE_DIFFERENTE", "IDENTITE_DIFFERENTE", "IDENTITE"
	}
	return c
}

func jsonLine(c journal.Consultation) ([]byte, error) {
	b, err := json.Marshal(c)
	return append(b, '\n'), err
}

func logger(t testing.TB) *zap.Logger {
	if tt, ok := t.(*testing.T); ok {
		return zaptest.NewLogger(tt, zaptest.Level(zap.WarnLevel))
	}
	return zap.NewNop()
}

func open(t testing.TB, opts journal.Options) *journal.Journal {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = logger(t)
	}
	j, err := journal.Open(context.Background(), opts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = j.Close(context.Background()) })
	return j
}

func closeJournal(t testing.TB, j *journal.Journal, d time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	require.NoError(t, j.Close(ctx))
}

// rows reads the whole table, keyed by request id, failing on a duplicate.
func rows(t testing.TB, pool *pgxpool.Pool) map[string]journal.Consultation {
	t.Helper()
	r, err := pool.Query(context.Background(), `SELECT horodatage, client_id, uai, canal, identifiant,
		annee_universitaire, statut, type_decision, echelon, raison, correspondance, identifiant_aglae,
		numero_dossier, anomalie, request_id, latence_us FROM connecteur.consultation`)
	require.NoError(t, err)
	defer r.Close()
	out := map[string]journal.Consultation{}
	for r.Next() {
		var (
			c                                                 journal.Consultation
			uai, id, td, ech, corr, idA, num, anomalie, canal *string
			annee                                             int16
			us                                                int32
		)
		require.NoError(t, r.Scan(&c.Horodatage, &c.ClientID, &uai, &canal, &id, &annee, &c.Statut, &td, &ech,
			&c.Raison, &corr, &idA, &num, &anomalie, &c.RequestID, &us))
		str := func(p *string) string {
			if p == nil {
				return ""
			}
			return *p
		}
		c.Horodatage = c.Horodatage.UTC()
		c.UAI, c.Canal, c.Identifiant, c.TypeDecision, c.Echelon = str(uai), bourse.Canal(str(canal)), str(id), str(td), str(ech)
		c.Correspondance, c.IdentifiantAglae, c.NumeroDossier, c.Anomalie = str(corr), str(idA), str(num), str(anomalie)
		c.Annee, c.Latency = int(annee), time.Duration(us)*time.Microsecond
		_, dup := out[c.RequestID]
		require.False(t, dup, "request id %s written twice", c.RequestID)
		out[c.RequestID] = c
	}
	require.NoError(t, r.Err())
	return out
}

// waitFor waits until cond holds of j's stats, failing with the last ones.
func waitFor(t testing.TB, j *journal.Journal, d time.Duration, cond func(journal.Stats) bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		st := j.Stats()
		if cond(st) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %s: %+v", d, st)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func count(t testing.TB, pool *pgxpool.Pool) int {
	t.Helper()
	var n int
	require.NoError(t, pool.QueryRow(context.Background(), "SELECT count(*) FROM connecteur.consultation").Scan(&n))
	return n
}

func spoolFiles(t testing.TB, dir, prefix string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, prefix+"*.jsonl"))
	require.NoError(t, err)
	return m
}

// TestManyWriters records N consultations from many goroutines: after
// Close every one is in the table, exactly once and intact, and they went
// in far fewer COPYs than records.
func TestManyWriters(t *testing.T) {
	pool := pgtest.New(t)
	j := open(t, journal.Options{Store: postgres.NewConsultations(pool), SpoolDir: t.TempDir()})

	const N, G = 10_000, 50
	var wg sync.WaitGroup
	for g := range G {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := g; i < N; i += G {
				j.Record(sample(i))
			}
		}()
	}
	wg.Wait()
	closeJournal(t, j, 30*time.Second)

	st := j.Stats()
	assert.Equal(t, uint64(N), st.Written)
	assert.Zero(t, st.Queued)
	assert.Zero(t, st.Spooled)
	assert.Zero(t, st.Rejected)
	assert.Zero(t, st.Lost)
	assert.Zero(t, st.WriteErrors)
	// Group commit: batches form while a COPY runs.
	assert.Less(t, st.Batches, uint64(N/10), "batches")
	t.Logf("%d records in %d COPYs", st.Written, st.Batches)

	got := rows(t, pool)
	require.Len(t, got, N)
	for _, i := range []int{0, 1, 2, 3, 4, 5, 6, 7, 997, 1000, 4999, 5002, 7777, N - 2, N - 1} {
		assert.Equal(t, sample(i), got[fmt.Sprintf("req-%06d", i)], "record %d", i)
	}
}

// TestBatching: a burst recorded at once is written in a few COPYs of at
// most BatchMax records.
func TestBatching(t *testing.T) {
	pool := pgtest.New(t)
	j := open(t, journal.Options{Store: postgres.NewConsultations(pool), SpoolDir: t.TempDir(), BatchMax: 500})
	for i := range 5_000 {
		j.Record(sample(i))
	}
	closeJournal(t, j, 30*time.Second)
	st := j.Stats()
	assert.Equal(t, uint64(5_000), st.Written)
	assert.GreaterOrEqual(t, st.Batches, uint64(10), "at most BatchMax records a COPY")
	assert.Less(t, st.Batches, uint64(100))
	assert.Equal(t, 5_000, count(t, pool))
}

// outage makes the test database refuse connections, for real: it
// forbids new connections and terminates the existing ones. It returns the
// function that lets connections in again.
func outage(t *testing.T, dbURL string) (restore func()) {
	t.Helper()
	u, err := url.Parse(dbURL)
	require.NoError(t, err)
	db := strings.TrimPrefix(u.Path, "/")
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, os.Getenv("AGLAE_TEST_DATABASE_URL"))
	require.NoError(t, err)
	_, err = admin.Exec(ctx, "ALTER DATABASE "+pgx.Identifier{db}.Sanitize()+" ALLOW_CONNECTIONS false")
	require.NoError(t, err)
	_, err = admin.Exec(ctx, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", db)
	require.NoError(t, err)
	var once sync.Once
	restore = func() {
		once.Do(func() {
			_, err := admin.Exec(ctx, "ALTER DATABASE "+pgx.Identifier{db}.Sanitize()+" ALLOW_CONNECTIONS true")
			assert.NoError(t, err)
			_ = admin.Close(ctx)
		})
	}
	t.Cleanup(restore)
	return restore
}

func openPool(t *testing.T, dbURL string) *pgxpool.Pool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pool, err := postgres.Open(ctx, dbURL)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	return pool
}

// TestOutageThenShutdown is the test at the package's level: the
// database goes away, records keep coming (beyond the memory limit, into
// the spool), the service shuts down while the database is still away;
// Close returns nil with everything in the spool. The database comes
// back, the service starts again: the spool is replayed, and the table
// holds every record, once.
func TestOutageThenShutdown(t *testing.T) {
	dbURL := pgtest.URL(t)
	pool := openPool(t, dbURL)
	dir := filepath.Join(t.TempDir(), "spool")
	j := open(t, journal.Options{Store: postgres.NewConsultations(pool), SpoolDir: dir, MemoryLimit: 100, BatchMax: 50})

	const before, during = 30, 1_000
	for i := range before {
		j.Record(sample(i))
	}
	waitFor(t, j, 10*time.Second, func(st journal.Stats) bool { return st.Written == before })

	restore := outage(t, dbURL)
	var wg sync.WaitGroup
	for g := range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := before + g; i < before+during; i += 10 {
				j.Record(sample(i))
			}
		}()
	}
	wg.Wait()
	// Memory holds at most MemoryLimit, the rest is spooled, the writer
	// keeps failing.
	waitFor(t, j, 10*time.Second, func(st journal.Stats) bool {
		return st.Queued <= 100 && st.Queued+st.Spooled == during && st.WriteErrors > 0
	})
	assert.Equal(t, uint64(before), j.Stats().Written)

	fi, err := os.Stat(dir)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o700), fi.Mode().Perm(), "spool directory mode")
	files := spoolFiles(t, dir, "consultations-")
	require.NotEmpty(t, files)
	for _, f := range files {
		fi, err := os.Stat(f)
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), "spool file mode of %s", f)
	}

	// SIGTERM while the database is still down.
	start := time.Now()
	closeJournal(t, j, 5*time.Second)
	t.Logf("Close with the database down took %s", time.Since(start))
	st := j.Stats()
	assert.Zero(t, st.Queued)
	assert.Equal(t, during, st.Spooled)
	assert.Zero(t, st.Lost)
	// A lookup that finishes after Close is spooled at once.
	j.Record(sample(before + during))
	assert.Equal(t, during+1, j.Stats().Spooled)
	assert.Zero(t, j.Stats().Lost)

	// The database comes back; the service starts again.
	restore()
	pool2 := openPool(t, dbURL)
	j2 := open(t, journal.Options{Store: postgres.NewConsultations(pool2), SpoolDir: dir, MemoryLimit: 100, BatchMax: 50})
	waitFor(t, j2, 20*time.Second, func(st journal.Stats) bool { return st.Spooled == 0 && st.Written == during+1 })
	closeJournal(t, j2, 10*time.Second)

	got := rows(t, pool2) // fails on a duplicate
	require.Len(t, got, before+during+1)
	for i := range before + during + 1 {
		c, ok := got[fmt.Sprintf("req-%06d", i)]
		if assert.True(t, ok, "record %d lost", i) {
			assert.Equal(t, sample(i), c)
		}
	}
	assert.Empty(t, spoolFiles(t, dir, "consultations-"), "spool left behind")
	assert.Zero(t, j2.Stats().Rejected)
}

// TestOutageRecovery: the database goes away and comes back while the
// service runs; the writer retries and writes the spool, then memory.
func TestOutageRecovery(t *testing.T) {
	dbURL := pgtest.URL(t)
	pool := openPool(t, dbURL)
	dir := t.TempDir()
	j := open(t, journal.Options{Store: postgres.NewConsultations(pool), SpoolDir: dir, MemoryLimit: 50, BatchMax: 20})

	restore := outage(t, dbURL)
	const N = 500
	for i := range N {
		j.Record(sample(i))
	}
	waitFor(t, j, 10*time.Second, func(st journal.Stats) bool {
		return st.Spooled > 0 && st.Queued <= 50 && st.Queued+st.Spooled == N && st.WriteErrors > 0
	})
	restore()
	waitFor(t, j, 20*time.Second, func(st journal.Stats) bool { return st.Written == N })
	st := j.Stats()
	assert.Zero(t, st.Spooled)
	assert.Zero(t, st.Queued)
	assert.Empty(t, spoolFiles(t, dir, "consultations-"))
	got := rows(t, pool)
	assert.Len(t, got, N)
	closeJournal(t, j, 5*time.Second)
}

// TestInvalidRecordSetAside: a record the database refuses does not block
// the others, and is kept in the rejected file rather than dropped.
func TestInvalidRecordSetAside(t *testing.T) {
	pool := pgtest.New(t)
	dir := t.TempDir()
	j := open(t, journal.Options{Store: postgres.NewConsultations(pool), SpoolDir: dir})
	for i := range 100 {
		c := sample(i)
		if i == 37 {
			c.Canal = "" // violates the canal CHECK
		}
		j.Record(c)
	}
	closeJournal(t, j, 10*time.Second)
	st := j.Stats()
	assert.Equal(t, uint64(99), st.Written)
	assert.Equal(t, uint64(1), st.Rejected)
	assert.Equal(t, 99, count(t, pool))
	files := spoolFiles(t, dir, "rejetees-")
	require.Len(t, files, 1)
	b, err := os.ReadFile(files[0])
	require.NoError(t, err)
	assert.Equal(t, 1, strings.Count(string(b), "\n"))
	assert.Contains(t, string(b), `"request_id":"req-000037"`)
}

// TestReplayLeftover: a spool left by a crash (a torn last line included)
// is replayed at Open; the torn line is set aside, not lost silently.
func TestReplayLeftover(t *testing.T) {
	pool := pgtest.New(t)
	dir := t.TempDir()
	var data []byte
	for i := range 20 {
		b, err := jsonLine(sample(i))
		require.NoError(t, err)
		data = append(data, b...)
	}
	data = append(data, []byte(`{"horodatage":"2025-09-15T08:30:00Z","client_id":"cli`)...)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "consultations-00000000000000000001-0000000001.jsonl"), data, 0o600))

	j := open(t, journal.Options{Store: postgres.NewConsultations(pool), SpoolDir: dir})
	waitFor(t, j, 10*time.Second, func(st journal.Stats) bool { return st.Written == 20 })
	closeJournal(t, j, 5*time.Second)
	assert.Equal(t, uint64(1), j.Stats().Rejected)
	assert.Zero(t, j.Stats().Spooled)
	assert.Len(t, rows(t, pool), 20)
	assert.Empty(t, spoolFiles(t, dir, "consultations-"))
	assert.Len(t, spoolFiles(t, dir, "rejetees-"), 1)
}

// TestSpoolLock: two journals never share a spool directory.
func TestSpoolLock(t *testing.T) {
	pool := pgtest.New(t)
	dir := t.TempDir()
	j := open(t, journal.Options{Store: postgres.NewConsultations(pool), SpoolDir: dir})
	_, err := journal.Open(context.Background(), journal.Options{Store: postgres.NewConsultations(pool), SpoolDir: dir})
	require.Error(t, err)
	closeJournal(t, j, 5*time.Second)
	j2, err := journal.Open(context.Background(), journal.Options{Store: postgres.NewConsultations(pool), SpoolDir: dir})
	require.NoError(t, err)
	require.NoError(t, j2.Close(context.Background()))
}

// TestCloseIdempotent: Close twice, Record after Close, no panic.
func TestCloseIdempotent(t *testing.T) {
	pool := pgtest.New(t)
	j := open(t, journal.Options{Store: postgres.NewConsultations(pool), SpoolDir: t.TempDir()})
	j.Record(sample(1))
	closeJournal(t, j, 5*time.Second)
	closeJournal(t, j, 5*time.Second)
	assert.Equal(t, 1, count(t, pool))
	j.Record(sample(2))
	assert.Equal(t, 1, j.Stats().Spooled)
}

// cheapTable makes writing the table as cheap as it gets (unlogged, no
// index), for the benchmarks of Record: what they measure is the caller's
// cost, the drains between rounds are off the clock but take real time.
func cheapTable(b *testing.B, pool *pgxpool.Pool) {
	_, err := pool.Exec(context.Background(), `ALTER TABLE connecteur.consultation SET UNLOGGED;
		DROP INDEX connecteur.consultation_uai_horodatage, connecteur.consultation_horodatage,
			connecteur.consultation_identifiant`)
	require.NoError(b, err)
}

// BenchmarkRecord measures Record alone, as a request pays it: the writer
// drains the queue between rounds, off the clock.
func BenchmarkRecord(b *testing.B) {
	pool := pgtest.New(b)
	cheapTable(b, pool)
	j := open(b, journal.Options{Store: postgres.NewConsultations(pool), SpoolDir: b.TempDir()})
	c := sample(1)
	const round = 20_000
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		j.Record(c)
		if i%round == round-1 {
			b.StopTimer()
			for j.Stats().Queued > 0 {
				time.Sleep(time.Millisecond)
			}
			b.StartTimer()
		}
	}
	b.StopTimer()
	closeJournal(b, j, time.Minute)
}

// BenchmarkRecordParallel measures Record from GOMAXPROCS goroutines at
// once (contention on the queue), the queue drained off the clock as
// above.
func BenchmarkRecordParallel(b *testing.B) {
	pool := pgtest.New(b)
	cheapTable(b, pool)
	j := open(b, journal.Options{Store: postgres.NewConsultations(pool), SpoolDir: b.TempDir(), MemoryLimit: 1 << 30})
	c := sample(1)
	b.ReportAllocs()
	b.ResetTimer()
	b.StopTimer()
	const round = 50_000
	done := 0
	for done < b.N {
		n := min(round, b.N-done)
		b.StartTimer()
		var wg sync.WaitGroup
		workers := runtime.GOMAXPROCS(0)
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for k := w; k < n; k += workers {
					j.Record(c)
				}
			}()
		}
		wg.Wait()
		b.StopTimer()
		done += n
		for j.Stats().Queued > 0 {
			time.Sleep(time.Millisecond)
		}
	}
	closeJournal(b, j, time.Minute)
}

// BenchmarkThroughput measures how many records a second the writer puts
// into PostgreSQL, end to end.
func BenchmarkThroughput(b *testing.B) {
	pool := pgtest.New(b)
	j := open(b, journal.Options{Store: postgres.NewConsultations(pool), SpoolDir: b.TempDir(), MemoryLimit: 1 << 30})
	c := sample(1)
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		j.Record(c)
	}
	closeJournal(b, j, 5*time.Minute)
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "records/s")
	b.ReportMetric(float64(b.N)/float64(j.Stats().Batches), "records/COPY")
}

// TestHangingDatabase: the database does not fail but hangs (the table is
// locked): memory overflows into the spool meanwhile, and Close does not
// wait beyond its context: the COPY is cancelled and its records spooled.
// Nothing is written twice once the lock is gone.
func TestHangingDatabase(t *testing.T) {
	dbURL := pgtest.URL(t)
	pool := openPool(t, dbURL)
	dir := t.TempDir()
	j := open(t, journal.Options{Store: postgres.NewConsultations(pool), SpoolDir: dir, MemoryLimit: 100, BatchMax: 50})

	ctx := context.Background()
	locker, err := pgx.Connect(ctx, dbURL)
	require.NoError(t, err)
	defer locker.Close(ctx)
	tx, err := locker.Begin(ctx)
	require.NoError(t, err)
	_, err = tx.Exec(ctx, "LOCK TABLE connecteur.consultation IN ACCESS EXCLUSIVE MODE")
	require.NoError(t, err)

	const N = 500
	for i := range N {
		j.Record(sample(i))
	}
	waitFor(t, j, 10*time.Second, func(st journal.Stats) bool { return st.Queued <= 100 && st.Queued+st.Spooled == N })

	start := time.Now()
	closeJournal(t, j, 500*time.Millisecond)
	assert.Less(t, time.Since(start), 3*time.Second, "Close waits no longer than its context")
	assert.Equal(t, N, j.Stats().Spooled)
	require.NoError(t, tx.Rollback(ctx))

	j2 := open(t, journal.Options{Store: postgres.NewConsultations(pool), SpoolDir: dir})
	waitFor(t, j2, 10*time.Second, func(st journal.Stats) bool { return st.Spooled == 0 && st.Written == N })
	closeJournal(t, j2, 5*time.Second)
	assert.Len(t, rows(t, pool), N) // fails on a duplicate
}

// TestSpoolFailureAtClose: when neither the database nor the spool can
// take the records, Close says so, and counts them lost.
func TestSpoolFailureAtClose(t *testing.T) {
	dbURL := pgtest.URL(t)
	pool := openPool(t, dbURL)
	dir := filepath.Join(t.TempDir(), "spool")
	j := open(t, journal.Options{Store: postgres.NewConsultations(pool), SpoolDir: dir})
	outage(t, dbURL)
	for i := range 10 {
		j.Record(sample(i))
	}
	waitFor(t, j, 10*time.Second, func(st journal.Stats) bool { return st.WriteErrors > 0 })
	require.NoError(t, os.RemoveAll(dir))
	require.NoError(t, os.WriteFile(dir, nil, 0o600)) // a file where the directory was

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := j.Close(ctx)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "10 consultation records could not be spooled")
	assert.Equal(t, uint64(10), j.Stats().Lost)
}

// TestSpoolFailureWhileRunning: when the spool cannot be written either,
// records stay in memory beyond the limit rather than being dropped, and
// reach the database when it comes back.
func TestSpoolFailureWhileRunning(t *testing.T) {
	dbURL := pgtest.URL(t)
	pool := openPool(t, dbURL)
	dir := filepath.Join(t.TempDir(), "spool")
	j := open(t, journal.Options{Store: postgres.NewConsultations(pool), SpoolDir: dir, MemoryLimit: 10})
	restore := outage(t, dbURL)
	j.Record(sample(0))
	waitFor(t, j, 10*time.Second, func(st journal.Stats) bool { return st.WriteErrors > 0 })
	require.NoError(t, os.RemoveAll(dir))
	require.NoError(t, os.WriteFile(dir, nil, 0o600)) // a file where the directory was

	const N = 100
	for i := 1; i < N; i++ {
		j.Record(sample(i))
	}
	// The spooler tried to move the records beyond the limit to the spool,
	// failed, and put them back: all kept in memory, beyond the limit.
	waitFor(t, j, 10*time.Second, func(st journal.Stats) bool { return st.SpoolErrors > 0 && st.Queued == N })
	st := j.Stats()
	assert.Zero(t, st.Spooled)
	assert.Zero(t, st.Lost)

	restore()
	waitFor(t, j, 20*time.Second, func(st journal.Stats) bool { return st.Written == N })
	closeJournal(t, j, 5*time.Second)
	assert.Len(t, rows(t, pool), N)
}
