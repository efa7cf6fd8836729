package main_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aglae-connector/aglae-connector/internal/auth"
	"github.com/aglae-connector/aglae-connector/internal/pgtest"
	"github.com/aglae-connector/aglae-connector/internal/postgres"
)

// The testdata's students of 2025 at UVSQ (0781944P).
var uvsqStudents = []string{"2000000011F", "2000000022T", "2000000033E", "2000000044S", "2000000055D",
	"2000000066R", "2000000077C"}

// TestInscriptionsSurviveSIGKILL acknowledges 1,000 registration events,
// kills the service with SIGKILL before it processed them (a lock keeps
// the worker waiting), restarts it: every event is processed exactly once,
// none is lost.
func TestInscriptionsSurviveSIGKILL(t *testing.T) {
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
	require.NoError(t, postgres.NewClients(pool).Add(ctx, auth.NewClient{ID: id, Nom: "UVSQ", UAI: "0781944P",
		SecretHash: hash, Rate: 100000, Burst: 100000}))
	defer pool.Close()

	// The worker reads the vœux inside its transaction: while this lock
	// is held, no event can be processed.
	locker, err := pgx.Connect(ctx, dbURL)
	require.NoError(t, err)
	defer locker.Close(ctx)
	lock, err := locker.Begin(ctx)
	require.NoError(t, err)
	_, err = lock.Exec(ctx, `LOCK TABLE aglae.voeu IN ACCESS EXCLUSIVE MODE`)
	require.NoError(t, err)

	// Long enough for the jobs blocked by the lock not to time out during the
	// intake; the jobs the kill interrupts are rescued after it (river's
	// rescuer looks every 30 s).
	env := []string{"INSCRIPTION_RESCUE_AFTER=20s"}
	p := serve(t, bin, dbURL, t.TempDir(), env...)
	const n = 1000
	start := time.Now()
	var wg sync.WaitGroup
	codes := make([]int, n)
	sem := make(chan struct{}, 16)
	c := &http.Client{Timeout: 10 * time.Second}
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			body := fmt.Sprintf(`{"idEvenement":"IA-%04d","type":"INSCRIPTION","identifiant":%q,"anneeUniversitaire":2025,`+
				`"codeEtablissement":"0781944P","formation":{"code":"L1"},"dateInscription":"2025-09-02"}`, i, uvsqStudents[i%len(uvsqStudents)])
			req, _ := http.NewRequest(http.MethodPost, "http://"+p.addr+"/v1/inscriptions", strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+secret)
			req.Header.Set("Content-Type", "application/json")
			res, err := c.Do(req)
			if err != nil {
				return
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			codes[i] = res.StatusCode
		}()
	}
	wg.Wait()
	t.Logf("%d events acknowledged in %s", n, time.Since(start).Round(time.Millisecond))
	for i, code := range codes {
		require.Equal(t, http.StatusCreated, code, "event %d", i)
	}
	count := func(sql string) int {
		var k int
		require.NoError(t, pool.QueryRow(ctx, sql).Scan(&k))
		return k
	}
	require.Equal(t, n, count(`SELECT count(*) FROM connecteur.inscription WHERE etat = 'RECU'`), "acknowledged, none processed yet")

	// SIGKILL: no shutdown, jobs in flight die with their connections.
	require.NoError(t, p.cmd.Process.Kill())
	<-p.done
	require.NoError(t, lock.Rollback(ctx))
	assert.Equal(t, n, count(`SELECT count(*) FROM connecteur.inscription`), "every acknowledged event is stored")

	p = serve(t, bin, dbURL, t.TempDir(), env...)
	restart := time.Now()
	deadline := time.Now().Add(2 * time.Minute) // a safety net: the jobs the kill interrupted are rescued within 50 s
	for count(`SELECT count(*) FROM connecteur.inscription WHERE etat = 'RECU'`) > 0 {
		require.True(t, time.Now().Before(deadline), "events still unprocessed")
		time.Sleep(50 * time.Millisecond) // polling the condition
	}
	t.Logf("all processed %s after the restart", time.Since(restart).Round(time.Millisecond))
	require.NoError(t, p.stop(t))

	assert.Equal(t, n, count(`SELECT count(*) FROM river.river_job WHERE kind = 'inscription' AND state = 'completed'`),
		"one job per event, each completed in the transaction that processed its event")
	assert.Zero(t, count(`SELECT count(*) FROM river.river_job WHERE state <> 'completed'`))
	// Each student: one validation at most, and its events' outcomes are one
	// VALIDEE then repeats (DEJA_VALIDEE), never a second validation.
	assert.Zero(t, count(`SELECT count(*) FROM (SELECT identifiant FROM connecteur.validation GROUP BY identifiant, annee_universitaire HAVING count(*) > 1) x`))
	assert.Equal(t, count(`SELECT count(*) FROM connecteur.validation`), count(`SELECT count(*) FROM connecteur.inscription WHERE etat = 'VALIDEE'`),
		"exactly one event made each validation")
}
