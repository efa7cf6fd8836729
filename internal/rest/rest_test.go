package rest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/aglae-connector/aglae-connector/api"
	"github.com/aglae-connector/aglae-connector/internal/bourse"
	"github.com/aglae-connector/aglae-connector/internal/pgtest"
	"github.com/aglae-connector/aglae-connector/internal/postgres"
	"github.com/aglae-connector/aglae-connector/internal/rest"
	"github.com/aglae-connector/aglae-connector/internal/testutil"
	"github.com/aglae-connector/aglae-connector/internal/web"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata/rest")

// harness is the REST face on a real, migrated PostgreSQL holding
// testdata/extract.jsonl, served by an httptest.Server as the server
// mounts it: request ids, a body limit, the problem handlers for 404 and
// 405.
type harness struct {
	srv     *httptest.Server
	handler http.Handler
	pool    *pgxpool.Pool
	logs    *observer.ObservedLogs

	mu          sync.Mutex
	annotations map[string]*web.Annotations // by request id
}

func newHarness(t testing.TB) *harness {
	t.Helper()
	pool := pgtest.New(t)
	pgtest.ImportFile(t, pool, testutil.Testdata("extract.jsonl"))
	return newHarnessOn(t, pool, &bourse.Service{Store: postgres.NewStore(pool)})
}

func newHarnessOn(t testing.TB, pool *pgxpool.Pool, svc bourse.Consultant) *harness {
	core, logs := observer.New(zapcore.InfoLevel)
	h := &harness{pool: pool, logs: logs, annotations: map[string]*web.Annotations{}}
	r := chi.NewRouter()
	r.Use(middleware.RequestID, h.annotate, web.LimitBody(web.DefaultMaxBody))
	r.NotFound(rest.NotFoundHandler())
	r.MethodNotAllowed(rest.MethodNotAllowedHandler())
	rest.New(svc, rest.Options{Logger: zap.New(core)}).Mount(r)
	h.handler = r
	h.srv = httptest.NewServer(r)
	t.Cleanup(h.srv.Close)
	return h
}

// annotate gives each request the access log's annotations and keeps them
// for the test to read.
func (h *harness) annotate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, a := web.WithAnnotations(r.Context())
		h.mu.Lock()
		h.annotations[middleware.GetReqID(ctx)] = a
		h.mu.Unlock()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

func (h *harness) annotationsOf(resp response) web.Annotations {
	h.mu.Lock()
	defer h.mu.Unlock()
	if a := h.annotations[resp.Request.Header.Get("X-Request-Id")]; a != nil {
		return *a
	}
	return web.Annotations{}
}

// request is one HTTP request of a test.
type request struct {
	method, path string
	ct           string // Content-Type; "" = application/json for a POST, "-" = none
	body         string
	header       map[string]string
}

// response is what came back.
type response struct {
	*http.Response
	body []byte
}

// do sends rq with a request id derived from the test's name.
func (h *harness) do(t testing.TB, rq request) response {
	t.Helper()
	var body io.Reader
	if rq.body != "" || rq.method == http.MethodPost {
		body = strings.NewReader(rq.body)
	}
	req, err := http.NewRequest(rq.method, h.srv.URL+rq.path, body)
	require.NoError(t, err)
	switch {
	case rq.ct == "-":
	case rq.ct != "":
		req.Header.Set("Content-Type", rq.ct)
	case rq.method == http.MethodPost:
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("X-Request-Id", requestID(t.Name()))
	for k, v := range rq.header {
		req.Header.Set(k, v)
	}
	resp, err := h.srv.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return response{resp, b}
}

// requestID turns a test name into a plain request id.
func requestID(name string) string {
	var b strings.Builder
	for _, c := range name {
		if c < 0x80 && (c == '-' || c == '_' || ('0' <= c && c <= '9') || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z')) {
			b.WriteRune(c)
		} else {
			b.WriteByte('_')
		}
	}
	s := b.String()
	if len(s) > 60 {
		s = s[len(s)-60:]
	}
	return s
}

func getPath(id string, annee int) string {
	p := "/v1/boursiers/" + url.PathEscape(id)
	if annee != 0 {
		p += "?annee=" + strconv.Itoa(annee)
	}
	return p
}

func bodyOf(t testing.TB, s testutil.Saisie) string {
	b, err := json.Marshal(s)
	require.NoError(t, err)
	return string(b)
}

// The OpenAPI document, loaded and validated once.
var (
	specOnce   sync.Once
	spec       *openapi3.T
	specRouter routers.Router
	specErr    error
)

func openAPI(t testing.TB) (*openapi3.T, routers.Router) {
	t.Helper()
	specOnce.Do(func() {
		loader := openapi3.NewLoader()
		spec, specErr = loader.LoadFromData(api.OpenAPI)
		if specErr != nil {
			return
		}
		if specErr = spec.Validate(loader.Context); specErr != nil {
			return
		}
		specRouter, specErr = gorillamux.NewRouter(spec)
	})
	require.NoError(t, specErr)
	return spec, specRouter
}

// conform checks that resp, the answer to rq, is what api/openapi.yaml
// says; and, when validRequest, that rq is a request it describes. A
// response to a method or a path the document does not have must be a
// Problem.
func conform(t testing.TB, h *harness, rq request, resp response, validRequest bool) {
	t.Helper()
	doc, router := openAPI(t)
	var body io.Reader
	if rq.body != "" {
		body = strings.NewReader(rq.body)
	}
	req, err := http.NewRequest(rq.method, h.srv.URL+rq.path, body)
	require.NoError(t, err)
	req.Header = resp.Request.Header.Clone()
	ctx := context.Background()
	route, params, err := router.FindRoute(req)
	if err != nil {
		require.False(t, validRequest, "no route in the OpenAPI document: %v", err)
		assert.Equal(t, "application/problem+json", resp.Header.Get("Content-Type"))
		var v any
		require.NoError(t, json.Unmarshal(resp.body, &v))
		assert.NoError(t, doc.Components.Schemas["Problem"].Value.VisitJSON(v), "problem of %s %s", rq.method, rq.path)
		return
	}
	opts := &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true, AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: opts}
	if validRequest {
		assert.NoError(t, openapi3filter.ValidateRequest(ctx, in), "request %s %s", rq.method, rq.path)
	}
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 resp.StatusCode,
		Header:                 resp.Header,
		Body:                   io.NopCloser(bytes.NewReader(resp.body)),
		Options:                opts,
	}
	assert.NoError(t, openapi3filter.ValidateResponse(ctx, out), "response %d to %s %s: %s", resp.StatusCode, rq.method, rq.path, resp.body)
}

// problemOf decodes a problem answer and checks its envelope.
func problemOf(t testing.TB, resp response) map[string]any {
	t.Helper()
	assert.Equal(t, "application/problem+json", resp.Header.Get("Content-Type"))
	var p map[string]any
	require.NoError(t, json.Unmarshal(resp.body, &p), "%s", resp.body)
	assert.EqualValues(t, resp.StatusCode, p["status"])
	assert.Equal(t, resp.Request.Header.Get("X-Request-Id"), p["instance"])
	return p
}

func TestEveryCaseThroughGet(t *testing.T) {
	h := newHarness(t)
	n := 0
	for _, c := range testutil.LoadCases(t) {
		if c.Saisie.Identifiant == "" || c.Saisie.Nom != "" || c.Saisie.Prenom != "" || c.Saisie.DateNaissance != "" {
			continue
		}
		n++
		t.Run(c.Name, func(t *testing.T) {
			rq := request{method: http.MethodGet, path: getPath(c.Saisie.Identifiant, c.Saisie.Annee)}
			resp := h.do(t, rq)
			require.Equal(t, http.StatusOK, resp.StatusCode, "%s", resp.body)
			assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
			assert.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
			want, err := json.Marshal(c.Want)
			require.NoError(t, err)
			assert.JSONEq(t, string(want), string(resp.body))
			conform(t, h, rq, resp, true)
		})
	}
	assert.Greater(t, n, 15)
}

func TestEveryCaseThroughPost(t *testing.T) {
	h := newHarness(t)
	for _, c := range testutil.LoadCases(t) {
		t.Run(c.Name, func(t *testing.T) {
			rq := request{method: http.MethodPost, path: "/v1/consultations", body: bodyOf(t, c.Saisie)}
			resp := h.do(t, rq)
			require.Equal(t, http.StatusOK, resp.StatusCode, "%s", resp.body)
			assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
			want, err := json.Marshal(c.Want)
			require.NoError(t, err)
			assert.JSONEq(t, string(want), string(resp.body))
			conform(t, h, rq, resp, true)
		})
	}
}

// golden compares got with testdata/rest/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := testutil.Testdata(filepath.Join("rest", name))
	if *update {
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, got, 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test -update to create it")
	assert.Equal(t, string(want), string(got))
}

// indent pretty-prints a JSON answer for a golden file, keeping its field
// order.
func indent(t *testing.T, b []byte) []byte {
	var out bytes.Buffer
	require.NoError(t, json.Indent(&out, b, "", "  "))
	out.WriteByte('\n')
	return out.Bytes()
}

func TestGoldenAnswers(t *testing.T) {
	h := newHarness(t)
	t.Run("boursier", func(t *testing.T) {
		rq := request{method: http.MethodGet, path: "/v1/boursiers/1111037734L?annee=2014"}
		resp := h.do(t, rq)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		golden(t, "boursier.golden.json", indent(t, resp.body))
		conform(t, h, rq, resp, true)
	})
	t.Run("problem", func(t *testing.T) {
		rq := request{method: http.MethodGet, path: "/v1/boursiers/1111037734A?annee=2014"}
		resp := h.do(t, rq)
		require.Equal(t, http.StatusBadRequest, resp.StatusCode)
		golden(t, "problem-invalid-identifiant.golden.json", indent(t, resp.body))
		conform(t, h, rq, resp, true)
	})
}

func TestOpenAPIDocument(t *testing.T) {
	doc, _ := openAPI(t)
	assert.Equal(t, "3.0.3", doc.OpenAPI)
	for _, p := range []string{"/v1/boursiers/{identifiant}", "/v1/consultations", "/openapi.yaml"} {
		assert.NotNil(t, doc.Paths.Value(p), p)
	}
	post := doc.Paths.Value("/v1/consultations").Post
	for _, s := range []string{"200", "400", "405", "413", "415", "500", "503"} {
		assert.NotNil(t, post.Responses.Value(s), "POST %s", s)
	}
	get := doc.Paths.Value("/v1/boursiers/{identifiant}").Get
	for _, s := range []string{"200", "400", "404", "405", "500", "503"} {
		assert.NotNil(t, get.Responses.Value(s), "GET %s", s)
	}
	req := doc.Components.Schemas["Consultation"].Value
	require.NotNil(t, req.AdditionalProperties.Has)
	assert.False(t, *req.AdditionalProperties.Has)
	// The answer's enums are the domain's words.
	rep := doc.Components.Schemas["Reponse"].Value
	enum := func(name string) []any { return rep.Properties[name].Value.Enum }
	assert.ElementsMatch(t, []any{"BOURSIER", "EN_ATTENTE", "NON_BOURSIER", "INCONNU"}, enum("statut"))
	var echelons []any
	for _, e := range bourse.Echelons {
		echelons = append(echelons, e)
	}
	assert.ElementsMatch(t, echelons, enum("echelon"))
	assert.ElementsMatch(t, []any{"CONDITIONNELLE", "DEFINITIVE"}, enum("typeDecision"))
	assert.ElementsMatch(t, []any{"IDENTIFIANT", "IDENTITE"}, enum("correspondance"))
	assert.ElementsMatch(t, []any{"IDENTITE_DIFFERENTE"}, enum("anomalie"))
	assert.ElementsMatch(t, []string{"anneeUniversitaire", "statut"}, rep.Required)
	// Every example of every response validates against its schema.
	for name, r := range doc.Components.Responses {
		for ct, mt := range r.Value.Content {
			vals := []any{}
			if mt.Example != nil {
				vals = append(vals, mt.Example)
			}
			for _, ex := range mt.Examples {
				vals = append(vals, ex.Value.Value)
			}
			assert.NotEmpty(t, vals, "%s %s has no example", name, ct)
			for _, v := range vals {
				assert.NoError(t, mt.Schema.Value.VisitJSON(v), "%s %s example", name, ct)
			}
		}
	}
}

func TestServesOpenAPI(t *testing.T) {
	h := newHarness(t)
	rq := request{method: http.MethodGet, path: "/openapi.yaml"}
	resp := h.do(t, rq)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "application/yaml", resp.Header.Get("Content-Type"))
	assert.Equal(t, api.OpenAPI, resp.body)
	conform(t, h, rq, resp, true)
}

func TestAnnotations(t *testing.T) {
	h := newHarness(t)
	t.Run("answer", func(t *testing.T) {
		resp := h.do(t, request{method: http.MethodGet, path: "/v1/boursiers/2000000044S?annee=2025"})
		require.Equal(t, http.StatusOK, resp.StatusCode)
		a := h.annotationsOf(resp)
		assert.Equal(t, "GET boursier", a.Operation)
		assert.Equal(t, "2000****44S", a.Identifiant)
		assert.Equal(t, "EN_ATTENTE", a.Statut)
		assert.Equal(t, "PIECES_MANQUANTES", a.Raison)
		assert.Empty(t, a.Erreur)
		assert.NotContains(t, string(resp.body), "PIECES_MANQUANTES", "the reason is never sent")
	})
	t.Run("consultation", func(t *testing.T) {
		resp := h.do(t, request{method: http.MethodPost, path: "/v1/consultations",
			body: `{"identifiant":"2014mon1111037734l","nom":"Boulet","prenom":"Amandine","dateNaissance":"1996-11-28"}`})
		require.Equal(t, http.StatusOK, resp.StatusCode)
		a := h.annotationsOf(resp)
		assert.Equal(t, "POST consultation", a.Operation)
		assert.Equal(t, "1111****34L", a.Identifiant)
		assert.Equal(t, "BOURSIER", a.Statut)
		assert.Equal(t, "ATTRIBUTION_CONDITIONNELLE", a.Raison)
	})
	t.Run("problem", func(t *testing.T) {
		resp := h.do(t, request{method: http.MethodGet, path: "/v1/boursiers/1111037734A"})
		require.Equal(t, http.StatusBadRequest, resp.StatusCode)
		a := h.annotationsOf(resp)
		assert.Equal(t, "GET boursier", a.Operation)
		assert.Equal(t, "1111****34A", a.Identifiant)
		assert.Equal(t, "invalid-input", a.Erreur)
		assert.Nil(t, a.Cause)
	})
}

// TestBodyLeniencies covers what the strict decoder still accepts.
func TestBodyLeniencies(t *testing.T) {
	h := newHarness(t)
	want := `{"identifiant":"1111037734L","anneeUniversitaire":2014,"statut":"BOURSIER","typeDecision":"CONDITIONNELLE",
		"echelon":"1","numeroDossier":"2014MON1111037734L","correspondance":"IDENTIFIANT"}`
	for _, c := range []struct {
		name, ct, body string
	}{
		{"byte order mark", "", "\xef\xbb\xbf" + `{"identifiant":"1111037734L","anneeUniversitaire":2014}`},
		{"null is absent", "", `{"identifiant":"1111037734L","anneeUniversitaire":2014,"nom":null,"prenom":null,"dateNaissance":null,"codeEtablissement":null}`},
		{"escapes", "", `{"identifiant":"\u0031111037734\u004c","anneeUniversitaire":2014}`},
		{"whitespace", "", " \r\n\t{ \"identifiant\" : \"1111037734L\" ,\n \"anneeUniversitaire\" : 2014 }\n"},
		{"charset utf-8", "application/json; charset=UTF-8", `{"identifiant":"1111037734L","anneeUniversitaire":2014}`},
		{"quoted charset", `Application/JSON;charset="utf-8"`, `{"identifiant":"1111037734L","anneeUniversitaire":2014}`},
		{"establishment", "", `{"identifiant":"1111037734L","anneeUniversitaire":2014,"codeEtablissement":"0781944p"}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			rq := request{method: http.MethodPost, path: "/v1/consultations", ct: c.ct, body: c.body}
			resp := h.do(t, rq)
			require.Equal(t, http.StatusOK, resp.StatusCode, "%s", resp.body)
			assert.JSONEq(t, want, string(resp.body))
			conform(t, h, rq, resp, false)
		})
	}
}

// TestServerFailures: a 5xx says nothing of its cause, which goes to the
// log with the request id.
func TestServerFailures(t *testing.T) {
	t.Run("internal", func(t *testing.T) {
		pool := pgtest.New(t)
		pool.Close() // every query now fails
		h := newHarnessOn(t, pool, &bourse.Service{Store: postgres.NewStore(pool)})
		rq := request{method: http.MethodGet, path: "/v1/boursiers/1111037734L?annee=2014"}
		resp := h.do(t, rq)
		require.Equal(t, http.StatusInternalServerError, resp.StatusCode, "%s", resp.body)
		p := problemOf(t, resp)
		assert.Equal(t, web.ProblemBase+"internal", p["type"])
		assert.Equal(t, "internal error; the request id identifies it in the service's log", p["detail"])
		assert.NotContains(t, string(resp.body), "closed")
		conform(t, h, rq, resp, true)
		logs := h.logs.FilterLevelExact(zapcore.ErrorLevel).All()
		require.Len(t, logs, 1)
		fields := logs[0].ContextMap()
		assert.Equal(t, resp.Request.Header.Get("X-Request-Id"), fields["request_id"])
		assert.Contains(t, fields["error"], "closed")
		assert.NotNil(t, h.annotationsOf(resp).Cause)
	})
	t.Run("unavailable", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		pool, err := pgxpool.New(ctx, "postgres://postgres@/aglae?host=/nonexistent-aglae-socket&sslmode=disable&connect_timeout=1")
		require.NoError(t, err)
		defer pool.Close()
		h := newHarnessOn(t, pool, &bourse.Service{Store: postgres.NewStore(pool)})
		rq := request{method: http.MethodPost, path: "/v1/consultations", body: `{"identifiant":"1111037734L"}`}
		resp := h.do(t, rq)
		require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode, "%s", resp.body)
		assert.Equal(t, "1", resp.Header.Get("Retry-After"))
		p := problemOf(t, resp)
		assert.Equal(t, web.ProblemBase+"unavailable", p["type"])
		assert.NotContains(t, string(resp.body), "nonexistent")
		conform(t, h, rq, resp, true)
		logs := h.logs.FilterLevelExact(zapcore.ErrorLevel).All()
		require.Len(t, logs, 1)
		assert.Contains(t, logs[0].ContextMap()["error"], "nonexistent")
	})
}
