package server

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"golang.org/x/time/rate"

	"github.com/aglae-connector/aglae-connector/internal/auth"
	"github.com/aglae-connector/aglae-connector/internal/bourse"
)

// memClients is an auth.Store in memory.
type memClients map[string]auth.Client

func (m memClients) ByID(_ context.Context, id string) (auth.Client, error) {
	if c, ok := m[id]; ok {
		return c, nil
	}
	return auth.Client{}, &bourse.Error{Kind: bourse.KindNotFound, Message: "no client"}
}

func (m memClients) BySubject(context.Context, string) (auth.Client, error) {
	return auth.Client{}, &bourse.Error{Kind: bourse.KindNotFound, Message: "no client"}
}

// gate is a consultant that answers INCONNU; its batches wait for hold to
// be closed when it is set, after saying so on started.
type gate struct {
	hold    chan struct{}
	started chan struct{}
}

func (g *gate) Consult(_ context.Context, in bourse.Saisie) (bourse.Reponse, error) {
	return bourse.Reponse{Identifiant: in.Identifiant, AnneeUniversitaire: 2025, Statut: bourse.StatutInconnu}, nil
}

func (g *gate) ConsultBatch(ctx context.Context, l bourse.Batch) ([]bourse.BatchReponse, error) {
	if g.hold != nil {
		g.started <- struct{}{}
		select {
		case <-g.hold:
		case <-ctx.Done():
			return nil, bourse.Unavailable("batch", ctx.Err())
		}
	}
	rs := make([]bourse.BatchReponse, len(l.Identifiants))
	for i, id := range l.Identifiants {
		rs[i].Reponse = bourse.Reponse{Identifiant: id, AnneeUniversitaire: 2025, Statut: bourse.StatutInconnu}
	}
	return rs, nil
}

// client is an API client of the test service.
type client struct{ id, secret string }

func newClient(t *testing.T, store memClients, c auth.Client) client {
	t.Helper()
	id, secret := auth.NewCredentials()
	h, err := auth.HashSecret(secret)
	require.NoError(t, err)
	c.ID, c.Nom, c.SecretHash = id, "client "+id, h
	store[id] = c
	return client{id, secret}
}

// boundsService serves the routes over g with cfg's bounds and the clients
// of store.
func boundsService(t *testing.T, cfg Config, store memClients, g *gate) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(handler(deps{
		cfg: cfg, log: zap.NewNop(), svc: g, ping: func(context.Context) error { return nil },
		authn:   &auth.Authenticator{Store: store},
		limiter: &auth.Limiter{Default: rate.Limit(cfg.RateLimit), DefaultBurst: cfg.RateBurst},
		batches: newQuota(cfg.MaxBatches, cfg.MaxBatchesPerClient),
	}))
	t.Cleanup(srv.Close)
	return srv
}

func batchBody(n int) string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("%010dA", i)
	}
	b, _ := json.Marshal(map[string]any{"anneeUniversitaire": 2025, "identifiants": ids})
	return string(b)
}

func soapBatchBody(n int) string {
	var b strings.Builder
	b.WriteString(`<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:c="urn:aglae-connector:connecteur:1"><soap:Body><c:consulterBoursiers><c:anneeUniversitaire>2025</c:anneeUniversitaire>`)
	for i := range n {
		fmt.Fprintf(&b, "<c:identifiant>%010dA</c:identifiant>", i)
	}
	b.WriteString(`</c:consulterBoursiers></soap:Body></soap:Envelope>`)
	return b.String()
}

// call sends a request as c (no credentials when c is zero) and returns
// the status, the Retry-After header and the body.
func call(t *testing.T, srv *httptest.Server, c client, method, path string, body io.Reader) (int, string, string) {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, body)
	require.NoError(t, err)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
		if strings.HasPrefix(path, "/ws/") {
			req.Header.Set("Content-Type", "text/xml; charset=utf-8")
		}
	}
	if c.secret != "" {
		req.Header.Set("Authorization", "Bearer "+c.secret)
	}
	res, err := srv.Client().Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return res.StatusCode, res.Header.Get("Retry-After"), string(b)
}

func testConfig() Config {
	cfg := Defaults()
	cfg.RateLimit, cfg.RateBurst = 1000, 1000
	return cfg
}

// Wrong credentials are refused from the headers, before load shedding:
// they never take a place, and a place held by a client does not turn
// them into 503.
func TestFailedAuthenticationIsNotShed(t *testing.T) {
	store := memClients{}
	a := newClient(t, store, auth.Client{})
	g := &gate{hold: make(chan struct{}), started: make(chan struct{}, 1)}
	cfg := testConfig()
	cfg.MaxInFlight = 1
	srv := boundsService(t, cfg, store, g)

	done := make(chan int)
	go func() {
		st, _, _ := call(t, srv, a, http.MethodPost, "/v1/consultations/lot", strings.NewReader(batchBody(3)))
		done <- st
	}()
	<-g.started // a holds the only place

	wrong := client{a.id, "acx_" + a.id + "_" + strings.Repeat("a", 32)}
	for range 50 {
		st, _, _ := call(t, srv, wrong, http.MethodGet, "/v1/boursiers/2000000011F", nil)
		require.Contains(t, []int{http.StatusUnauthorized, http.StatusTooManyRequests}, st, "refused for its credentials, not shed")
	}
	st, ra, _ := call(t, srv, a, http.MethodGet, "/v1/boursiers/2000000011F", nil)
	assert.Equal(t, http.StatusServiceUnavailable, st, "an authenticated request past the limit is shed")
	assert.Equal(t, "1", ra)
	st, _, _ = call(t, srv, client{}, http.MethodGet, "/healthz", nil)
	assert.Equal(t, http.StatusOK, st)

	close(g.hold)
	assert.Equal(t, http.StatusOK, <-done)
	st, _, _ = call(t, srv, a, http.MethodGet, "/v1/boursiers/2000000011F", nil)
	assert.Equal(t, http.StatusOK, st)
}

// One client's slow bodies hold at most its own places: its next request
// answers 429 at once, and another client is served.
func TestPerClientInFlightBoundsSlowBodies(t *testing.T) {
	store := memClients{}
	slow := newClient(t, store, auth.Client{})
	other := newClient(t, store, auth.Client{})
	cfg := testConfig()
	cfg.MaxInFlight, cfg.MaxInFlightPerClient = 10, 3
	srv := boundsService(t, cfg, store, &gate{})

	var pipes []*io.PipeWriter
	var wg sync.WaitGroup
	for range cfg.MaxInFlightPerClient {
		pr, pw := io.Pipe()
		pipes = append(pipes, pw)
		wg.Add(1)
		go func() {
			defer wg.Done()
			st, _, _ := call(t, srv, slow, http.MethodPost, "/v1/consultations", pr)
			assert.Equal(t, http.StatusBadRequest, st, "the body, once sent, is not a lookup")
		}()
		_, err := pw.Write([]byte(`{"identifiant":`))
		require.NoError(t, err)
	}

	// Once the server reads the three bodies, the client's places are full.
	require.Eventually(t, func() bool {
		st, _, _ := call(t, srv, slow, http.MethodGet, "/v1/boursiers/2000000011F", nil)
		return st == http.StatusTooManyRequests
	}, 10*time.Second, 5*time.Millisecond)
	st, ra, body := call(t, srv, slow, http.MethodGet, "/v1/boursiers/2000000011F", nil)
	assert.Equal(t, http.StatusTooManyRequests, st)
	assert.Equal(t, "1", ra)
	assert.Contains(t, body, "this client already has 3 requests in progress")
	for range 20 {
		st, _, _ = call(t, srv, other, http.MethodGet, "/v1/boursiers/2000000011F", nil)
		require.Equal(t, http.StatusOK, st, "another client is served")
	}

	for _, pw := range pipes {
		pw.Write([]byte(`1}`))
		pw.Close()
	}
	wg.Wait()
	st, _, _ = call(t, srv, slow, http.MethodGet, "/v1/boursiers/2000000011F", nil)
	assert.Equal(t, http.StatusOK, st, "its places are back")
}

// A batch costs one token per identifier, over REST and SOAP; a batch
// larger than the client's burst is refused saying so.
func TestBatchCostsOneTokenPerIdentifier(t *testing.T) {
	for _, face := range []struct {
		name, path string
		body       func(int) string
	}{
		{"REST", "/v1/consultations/lot", batchBody},
		{"SOAP", "/ws/connecteur", soapBatchBody},
	} {
		t.Run(face.name, func(t *testing.T) {
			store := memClients{}
			c := newClient(t, store, auth.Client{Rate: 0.001, Burst: 10})
			srv := boundsService(t, testConfig(), store, &gate{})

			st, ra, body := call(t, srv, c, http.MethodPost, face.path, strings.NewReader(face.body(11)))
			assert.Equal(t, http.StatusTooManyRequests, st)
			assert.Empty(t, ra, "waiting does not help")
			assert.Contains(t, body, "a batch of 11 identifiers costs 11 lookups, more than this client's burst of 10")
			if face.name == "SOAP" {
				assert.Contains(t, body, "TOO_MANY_REQUESTS")
			}

			// The refused batch took one token at the door: 9 are left.
			st, _, body = call(t, srv, c, http.MethodPost, face.path, strings.NewReader(face.body(6)))
			require.Equal(t, http.StatusOK, st, body)
			// 3 left: 1 at the door, and 3 more are missing.
			st, ra, body = call(t, srv, c, http.MethodPost, face.path, strings.NewReader(face.body(4)))
			assert.Equal(t, http.StatusTooManyRequests, st)
			assert.NotEmpty(t, ra)
			assert.Contains(t, body, "a batch of 4 identifiers costs 4")
			// The refused batch gave its tokens back but the door's: 2 left.
			st, _, body = call(t, srv, c, http.MethodPost, face.path, strings.NewReader(face.body(2)))
			require.Equal(t, http.StatusOK, st, body)
			st, _, _ = call(t, srv, c, http.MethodGet, "/v1/boursiers/2000000011F", nil)
			assert.Equal(t, http.StatusTooManyRequests, st, "the bucket is empty")
		})
	}
}

// Batches in flight are bounded per client (429) and in all (503), and
// their places come back when they are answered.
func TestBatchesInFlightAreBounded(t *testing.T) {
	store := memClients{}
	a := newClient(t, store, auth.Client{})
	b := newClient(t, store, auth.Client{})
	c := newClient(t, store, auth.Client{})
	g := &gate{hold: make(chan struct{}), started: make(chan struct{}, 2)}
	cfg := testConfig()
	cfg.MaxBatches, cfg.MaxBatchesPerClient = 2, 1
	cfg.LookupTimeout = 50 * time.Millisecond // how long a batch waits for a place
	srv := boundsService(t, cfg, store, g)

	var wg sync.WaitGroup
	for _, cl := range []client{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st, _, _ := call(t, srv, cl, http.MethodPost, "/v1/consultations/lot", strings.NewReader(batchBody(5)))
			assert.Equal(t, http.StatusOK, st)
		}()
		<-g.started
	}
	st, ra, body := call(t, srv, a, http.MethodPost, "/v1/consultations/lot", strings.NewReader(batchBody(5)))
	assert.Equal(t, http.StatusTooManyRequests, st)
	assert.Equal(t, "1", ra)
	assert.Contains(t, body, "this client already has 1 batches in progress")
	st, ra, body = call(t, srv, c, http.MethodPost, "/ws/connecteur", strings.NewReader(soapBatchBody(5)))
	assert.Equal(t, http.StatusInternalServerError, st, "a soap:Server fault")
	assert.Equal(t, "1", ra)
	assert.Contains(t, body, "<code>UNAVAILABLE</code>")
	assert.Contains(t, body, "the service is answering as many batches as it can")
	st, _, _ = call(t, srv, c, http.MethodGet, "/v1/boursiers/2000000011F", nil)
	assert.Equal(t, http.StatusOK, st, "single lookups are not batches")

	close(g.hold)
	wg.Wait()
	g.hold = nil
	st, _, _ = call(t, srv, c, http.MethodPost, "/ws/connecteur", strings.NewReader(soapBatchBody(5)))
	assert.Equal(t, http.StatusOK, st, "the places came back")
}

func TestQuota(t *testing.T) {
	ctx := context.Background()
	q := newQuota(3, 2)
	ok, full := q.take(ctx, "a", 0)
	require.True(t, ok)
	assert.False(t, full, "a place given is not a refusal")
	ok, _ = q.take(ctx, "a", 0)
	require.True(t, ok)
	ok, full = q.take(ctx, "a", time.Hour)
	assert.False(t, ok)
	assert.True(t, full, "a's own bound, at once")
	ok, _ = q.take(ctx, "b", 0)
	require.True(t, ok)
	ok, full = q.take(ctx, "c", time.Millisecond)
	assert.False(t, ok)
	assert.False(t, full, "the global bound, after the wait")
	_, held := q.held("c")
	assert.Zero(t, held, "a refused place is not held")

	// A place given back during the wait is taken.
	got := make(chan bool)
	go func() {
		ok, _ := q.take(ctx, "c", time.Minute)
		got <- ok
	}()
	q.give("a")
	assert.True(t, <-got)
	for _, id := range []string{"a", "b", "c"} {
		q.give(id)
	}
	all, _ := q.held("a")
	assert.Zero(t, all)
	assert.Empty(t, q.byClient, "clients holding nothing are forgotten: memory stays bounded")

	unbounded := newQuota(0, 0)
	for range 1000 {
		ok, _ := unbounded.take(ctx, "a", 0)
		require.True(t, ok)
	}
}
