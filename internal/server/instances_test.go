package server_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"

	"github.com/aglae-connector/aglae-connector/internal/auth"
	"github.com/aglae-connector/aglae-connector/internal/server"
)

// startOn runs another instance of the service on the database at url.
func startOn(t *testing.T, url string, mutate func(*server.Config)) *server.Main {
	t.Helper()
	cfg := server.Defaults()
	cfg.Listen = "127.0.0.1:0"
	cfg.MetricsListen = ""
	cfg.DatabaseURL = url
	cfg.SpoolDir = t.TempDir()
	mutate(&cfg)
	m := &server.Main{Config: cfg, Logger: zap.NewNop()}
	require.NoError(t, m.Open(context.Background()))
	done := make(chan error, 1)
	go func() { done <- m.Serve() }()
	t.Cleanup(func() {
		require.NoError(t, m.Close())
		require.NoError(t, <-done)
	})
	return m
}

// Two instances on one database, one client sending to both far above its
// rate: together they answer 200 within 10 % of the client's limit, rate ×
// time + burst, where each alone would give it all.
//
// Deterministic enough on a loaded machine: the rate is low (20/s over
// 3 s, burst 10, a limit of 70) against an offered load of 800 requests/s,
// so that each bucket is always drained and a late request costs no
// token; the limit is computed from the time measured, not assumed; and
// the heartbeat (300 ms, live within 900 ms) keeps both counting 2 through
// scheduling delays.
func TestTwoInstancesShareAClientsRateLimit(t *testing.T) {
	const clientRate, clientBurst = 20, 10
	a := start(t, nil, func(c *server.Config) { c.InstanceHeartbeat = 300 * time.Millisecond })
	_, secret := addClient(t, a.dbURL, auth.NewClient{Nom: "CROUS de Versailles", UAI: "0781944P", Rate: clientRate, Burst: clientBurst})
	b := startOn(t, a.dbURL, func(c *server.Config) { c.InstanceHeartbeat = 300 * time.Millisecond })
	require.Eventually(t, func() bool {
		return server.LiveInstances(a.main) == 2 && server.LiveInstances(b) == 2
	}, 10*time.Second, 10*time.Millisecond, "each instance counts the other")

	bases := []string{a.base, "http://" + b.Addr()}
	const span = 3 * time.Second
	var (
		mu     sync.Mutex
		status = map[string]map[int]int{}
		wg     sync.WaitGroup
	)
	start := time.Now()
	deadline := start.Add(span)
	for _, base := range bases {
		status[base] = map[int]int{}
		for range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				tick := time.NewTicker(5 * time.Millisecond) // 200 requests/s per worker
				defer tick.Stop()
				for time.Now().Before(deadline) {
					req, _ := http.NewRequest(http.MethodGet, base+"/v1/boursiers/1111037734L?annee=2014", nil)
					req.Header.Set("Authorization", "Bearer "+secret)
					res, err := http.DefaultClient.Do(req)
					if !assert.NoError(t, err) {
						return
					}
					res.Body.Close()
					mu.Lock()
					status[base][res.StatusCode]++
					mu.Unlock()
					<-tick.C
				}
			}()
		}
	}
	wg.Wait()
	elapsed := time.Since(start)
	limit := clientRate*elapsed.Seconds() + clientBurst
	ok := 0
	for _, base := range bases {
		s := status[base]
		assert.Greater(t, s[http.StatusTooManyRequests], 0, "%s was asked more than its share", base)
		for code := range s {
			assert.Contains(t, []int{http.StatusOK, http.StatusTooManyRequests}, code)
		}
		ok += s[http.StatusOK]
	}
	t.Logf("in %v: %d answered 200 (%d + %d), limit %.1f (%.1f %%); 429: %d + %d", elapsed.Round(time.Millisecond), ok,
		status[bases[0]][200], status[bases[1]][200], limit, 100*float64(ok)/limit,
		status[bases[0]][429], status[bases[1]][429])
	assert.InDelta(t, limit, float64(ok), 0.1*limit, "the two instances together hold the client's limit")
}
