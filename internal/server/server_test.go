package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/aglae-connector/aglae-connector/internal/auth"
	"github.com/aglae-connector/aglae-connector/internal/pgtest"
	"github.com/aglae-connector/aglae-connector/internal/postgres"
	"github.com/aglae-connector/aglae-connector/internal/server"
	"github.com/aglae-connector/aglae-connector/internal/servertest"
	"github.com/aglae-connector/aglae-connector/internal/testutil"
)

// logBuffer collects the service's log lines; safe for concurrent use.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// service is a running service over a fresh database loaded with
// testdata/extract.jsonl, with one API client.
type service struct {
	base     string
	dbURL    string
	main     *server.Main
	clientID string
	secret   string
}

// addClient creates an API client and returns its id and secret.
func addClient(t *testing.T, dbURL string, c auth.NewClient) (string, string) {
	t.Helper()
	ctx := context.Background()
	pool, err := postgres.Open(ctx, dbURL)
	require.NoError(t, err)
	defer pool.Close()
	id, secret := auth.NewCredentials()
	hash, err := auth.HashSecret(secret)
	require.NoError(t, err)
	c.ID, c.SecretHash = id, hash
	if c.Nom == "" {
		c.Nom = "test client"
	}
	require.NoError(t, postgres.NewClients(pool).Add(ctx, c))
	return id, secret
}

// start runs the whole service on a free port, logging into logs.
func start(t *testing.T, logs *logBuffer, mutate ...func(*server.Config)) *service {
	t.Helper()
	ctx := context.Background()
	url := pgtest.URL(t)
	pool, err := postgres.Open(ctx, url)
	require.NoError(t, err)
	pgtest.ImportFile(t, pool, testutil.Testdata("extract.jsonl"))
	pool.Close()
	id, secret := addClient(t, url, auth.NewClient{Nom: "UVSQ Apogée", UAI: "0781944P"})

	cfg := server.Defaults()
	cfg.Listen = "127.0.0.1:0"
	cfg.MetricsListen = "127.0.0.1:0"
	cfg.DatabaseURL = url
	cfg.SpoolDir = t.TempDir()
	for _, m := range mutate {
		m(&cfg)
	}
	log := zap.NewNop()
	if logs != nil {
		enc := zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig())
		log = zap.New(zapcore.NewCore(enc, zapcore.AddSync(logs), zapcore.DebugLevel))
	}
	svc := servertest.Start(t, cfg, log)
	return &service{base: svc.URL(), dbURL: url, main: svc.Main, clientID: id, secret: secret}
}

// bearer is the header pair of the service's client.
func (s *service) bearer() []string { return []string{"Authorization", "Bearer " + s.secret} }

func get(t *testing.T, url string, header ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	require.NoError(t, err)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return do(t, req)
}

func do(t *testing.T, req *http.Request) (*http.Response, string) {
	t.Helper()
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return res, string(b)
}

func TestHealthAndReadiness(t *testing.T) {
	base := start(t, nil).base
	res, body := get(t, base+"/healthz")
	assert.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, "ok\n", body)
	res, body = get(t, base+"/readyz")
	assert.Equal(t, http.StatusOK, res.StatusCode, body)
}

func TestRequestIDIsEchoedOrMade(t *testing.T) {
	base := start(t, nil).base
	res, _ := get(t, base+"/healthz", "X-Request-Id", "apogee-42")
	assert.Equal(t, "apogee-42", res.Header.Get("X-Request-Id"))
	res, _ = get(t, base+"/healthz", "X-Request-Id", "bad id\twith spaces")
	id := res.Header.Get("X-Request-Id")
	assert.NotEmpty(t, id)
	assert.NotContains(t, id, " ")
}

func TestUnknownRouteIsAProblem(t *testing.T) {
	base := start(t, nil).base
	res, body := get(t, base+"/v2/nothing")
	assert.Equal(t, http.StatusNotFound, res.StatusCode)
	assert.Equal(t, "application/problem+json", res.Header.Get("Content-Type"))
	var p map[string]any
	require.NoError(t, json.Unmarshal([]byte(body), &p))
	assert.Equal(t, float64(404), p["status"])
}

func TestBodyLimitIsEnforcedByTheServer(t *testing.T) {
	svc := start(t, nil, func(c *server.Config) { c.MaxBody = 1024 })
	base := svc.base
	big := `{"identifiant":"1111037734L","nom":"` + strings.Repeat("A", 4096) + `"}`
	req, err := http.NewRequest(http.MethodPost, base+"/v1/consultations", strings.NewReader(big))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+svc.secret)
	res, _ := do(t, req)
	assert.Equal(t, http.StatusRequestEntityTooLarge, res.StatusCode)
}

func TestAccessLogMasksIdentifiersAndNames(t *testing.T) {
	var logs logBuffer
	svc := start(t, &logs)
	base := svc.base
	res, _ := get(t, base+"/v1/boursiers/1111037734L?annee=2014", svc.bearer()...)
	require.Equal(t, http.StatusOK, res.StatusCode)
	req, err := http.NewRequest(http.MethodPost, base+"/v1/consultations", strings.NewReader(
		`{"identifiant":"2025D12345K","anneeUniversitaire":2025,"nom":"Okonkwo","prenom":"Chiamaka","dateNaissance":"2006-06-06"}`))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+svc.secret)
	res, _ = do(t, req)
	require.Equal(t, http.StatusOK, res.StatusCode)
	soapBody, err := os.ReadFile(testutil.Testdata("soap/consulterBoursier.xml"))
	require.NoError(t, err)
	req, err = http.NewRequest(http.MethodPost, base+"/ws/connecteur", bytes.NewReader(soapBody))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "text/xml; charset=utf-8")
	req.SetBasicAuth(svc.clientID, svc.secret)
	res, _ = do(t, req)
	require.Equal(t, http.StatusOK, res.StatusCode)

	require.Eventually(t, func() bool { return strings.Count(logs.String(), `"route"`) >= 3 }, 2*time.Second, 10*time.Millisecond)
	out := logs.String()
	for _, secret := range []string{"1111037734L", "2025D12345K", "2000000111P", "Okonkwo", "OKONKWO", "Chiamaka", "2006-06-06"} {
		assert.NotContains(t, out, secret)
	}
	assert.Contains(t, out, "1111****34L")
	assert.Contains(t, out, `"route":"/v1/boursiers/{identifiant}"`)
	assert.Contains(t, out, `"route":"/ws/connecteur"`)
}
