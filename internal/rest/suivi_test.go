package rest

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/aglae-connector/aglae-connector/internal/auth"
	"github.com/aglae-connector/aglae-connector/internal/bourse"
	"github.com/aglae-connector/aglae-connector/internal/suivi"
	"github.com/aglae-connector/aglae-connector/internal/web"
)

// TestNegotiate checks the choice of JSON or CSV from the Accept header.
func TestNegotiate(t *testing.T) {
	tests := []struct {
		name   string
		accept []string
		want   string // "" for 406
	}{
		{"no header", nil, suivi.FormatJSON},
		{"json", []string{"application/json"}, suivi.FormatJSON},
		{"csv", []string{"text/csv"}, suivi.FormatCSV},
		{"csv with charset", []string{"text/csv; charset=utf-8"}, suivi.FormatCSV},
		{"anything", []string{"*/*"}, suivi.FormatJSON},
		{"a browser", []string{"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}, suivi.FormatJSON},
		{"csv preferred", []string{"application/json;q=0.5, text/csv"}, suivi.FormatCSV},
		{"json preferred", []string{"text/csv;q=0.4, application/json;q=0.9"}, suivi.FormatJSON},
		{"tie: the type named outright wins over a wildcard", []string{"*/*, text/csv"}, suivi.FormatCSV},
		{"tie between named types: the first", []string{"text/csv, application/json"}, suivi.FormatCSV},
		{"text wildcard", []string{"text/*"}, suivi.FormatCSV},
		{"two headers", []string{"application/xml", "text/csv"}, suivi.FormatCSV},
		{"csv refused", []string{"text/csv;q=0"}, ""},
		{"only xml", []string{"application/xml"}, ""},
		{"problem json only", []string{"application/problem+json"}, ""},
		{"malformed q ignored", []string{"text/csv;q=abc, application/json"}, suivi.FormatJSON},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := negotiate(tc.accept)
			if tc.want == "" {
				k, _ := web.Classify(err)
				if err == nil || k != web.NotAcceptable {
					t.Fatalf("negocier(%q) = %q, %v; want a NotAcceptable error", tc.accept, got, err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("negocier(%q) = %q, %v; want %q", tc.accept, got, err, tc.want)
			}
		})
	}
}

// fakeFollowUp answers the follow-up routes from what it holds and keeps
// what it was asked.
type fakeFollowUp struct {
	changes  []suivi.Change
	err      error
	uai, nom string
	depuis   time.Time
	annee    int
	calls    int
}

func (f *fakeFollowUp) Suivi(ctx context.Context, uai string, depuis time.Time) ([]suivi.Change, error) {
	f.calls++
	f.uai, f.depuis = uai, depuis
	return f.changes, f.err
}

func (f *fakeFollowUp) Liste(ctx context.Context, uai string, annee int, nom string) (suivi.Controle, error) {
	f.calls++
	f.uai, f.annee, f.nom = uai, annee, nom
	return suivi.Controle{Liste: nom, UAI: uai, AnneeUniversitaire: annee}, f.err
}

// getSuivi asks the follow-up routes on src as the client c (none when
// c is nil), in the request's context as the server's authentication
// middleware leaves it, on 20 June 2026 (academic year 2025 with the
// default switch, 2026 with a switch on 1 June).
func getSuivi(t *testing.T, src FollowUp, opts SuiviOptions, c *auth.Client, path, accept string) *httptest.ResponseRecorder {
	t.Helper()
	opts.Now = func() time.Time { return time.Date(2026, 6, 20, 9, 0, 0, 0, time.UTC) }
	r := chi.NewRouter()
	MountSuivi(r, src, opts)
	req := httptest.NewRequest(http.MethodGet, path, nil)
	if c != nil {
		req = req.WithContext(auth.WithClient(req.Context(), *c))
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	res := httptest.NewRecorder()
	r.ServeHTTP(res, req)
	return res
}

// TestSuiviRoutes: what the routes hand the domain and how they answer;
// the season test (package suivi) plays them on a real log.
func TestSuiviRoutes(t *testing.T) {
	clientA := &auth.Client{ID: "uvsqapogee", Nom: "UVSQ Apogée", UAI: "0781944P"}
	problemOf := func(t *testing.T, res *httptest.ResponseRecorder, status int, typ string) string {
		t.Helper()
		require.Equal(t, status, res.Code, res.Body.String())
		assert.Equal(t, "application/problem+json", res.Header().Get("Content-Type"))
		var p struct{ Type, Detail string }
		require.NoError(t, json.Unmarshal(res.Body.Bytes(), &p))
		assert.Equal(t, web.ProblemBase+typ, p.Type)
		return p.Detail
	}

	t.Run("suivi", func(t *testing.T) {
		f := &fakeFollowUp{}
		res := getSuivi(t, f, SuiviOptions{}, clientA, "/v1/etablissements/0781944p/suivi?depuis=2025-11-26T03:00:00+01:00", "")
		require.Equal(t, http.StatusOK, res.Code, res.Body.String())
		assert.Equal(t, "0781944P", f.uai, "the normalised UAI")
		assert.True(t, f.depuis.Equal(time.Date(2025, 11, 26, 2, 0, 0, 0, time.UTC)), "the offset's + typed unescaped: %s", f.depuis)
		assert.Equal(t, "application/json", res.Header().Get("Content-Type"))
		assert.Equal(t, "no-store", res.Header().Get("Cache-Control"))
		assert.Equal(t, "nosniff", res.Header().Get("X-Content-Type-Options"))
		assert.Equal(t, "Accept", res.Header().Get("Vary"))
		assert.Contains(t, res.Body.String(), `"changements":[]`, "an empty follow-up is an empty array")

		res = getSuivi(t, f, SuiviOptions{}, clientA, "/v1/etablissements/0781944P/suivi?depuis=2025-11-26T02:00:00Z", "text/csv")
		require.Equal(t, http.StatusOK, res.Code, res.Body.String())
		assert.Equal(t, `attachment; filename="suivi-0781944P.csv"`, res.Header().Get("Content-Disposition"))
	})

	t.Run("default year", func(t *testing.T) {
		f := &fakeFollowUp{}
		res := getSuivi(t, f, SuiviOptions{}, clientA, "/v1/etablissements/0781944P/controles/inconnus", "")
		require.Equal(t, http.StatusOK, res.Code, res.Body.String())
		assert.Equal(t, 2025, f.annee, "before 1 July: the year that started the September before")
		assert.Equal(t, suivi.ListeInconnus, f.nom)
		res = getSuivi(t, f, SuiviOptions{SwitchDate: bourse.SwitchDate{Month: time.June, Day: 1}}, clientA,
			"/v1/etablissements/0781944P/controles/statuts", "text/csv")
		require.Equal(t, http.StatusOK, res.Code, res.Body.String())
		assert.Equal(t, 2026, f.annee, "the switch day of the options")
		assert.Equal(t, `attachment; filename="statuts-0781944P-2026.csv"`, res.Header().Get("Content-Disposition"))
	})

	t.Run("checked in order, before the domain is asked", func(t *testing.T) {
		f := &fakeFollowUp{}
		for _, tc := range []struct {
			name   string
			client *auth.Client
			path   string
			accept string
			status int
			typ    string
		}{
			{"a bad uai before the client", nil, "/v1/etablissements/0781944X/suivi", "application/xml", 400, "invalid-input"},
			{"no client", nil, "/v1/etablissements/0781944P/suivi", "", 403, "forbidden"},
			{"the client before the Accept header", &auth.Client{ID: "integrateur"}, "/v1/etablissements/0781944P/suivi", "application/xml", 403, "forbidden"},
			{"an unknown list before the Accept header", clientA, "/v1/etablissements/0781944P/controles/boursiers", "application/xml", 400, "invalid-input"},
			{"the Accept header before the query", clientA, "/v1/etablissements/0781944P/suivi?x=1", "application/xml", 406, "not-acceptable"},
			{"depuis twice", clientA, "/v1/etablissements/0781944P/suivi?depuis=2025-11-26T02:00:00Z&depuis=2025-11-26T02:00:00Z", "", 400, "invalid-input"},
			{"a malformed query", clientA, "/v1/etablissements/0781944P/controles/inconnus?annee=%zz", "", 400, "invalid-input"},
			{"a year of two digits", clientA, "/v1/etablissements/0781944P/controles/inconnus?annee=25", "", 400, "invalid-input"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				problemOf(t, getSuivi(t, f, SuiviOptions{}, tc.client, tc.path, tc.accept), tc.status, tc.typ)
			})
		}
		assert.Zero(t, f.calls)
	})

	t.Run("the domain's errors", func(t *testing.T) {
		core, logs := observer.New(zapcore.InfoLevel)
		f := &fakeFollowUp{err: bourse.Unavailable("students of the establishment", errors.New("connection refused"))}
		res := getSuivi(t, f, SuiviOptions{Logger: zap.New(core)}, clientA, "/v1/etablissements/0781944P/controles/en-attente", "")
		detail := problemOf(t, res, http.StatusServiceUnavailable, "unavailable")
		assert.NotContains(t, detail, "connection refused")
		require.Equal(t, 1, logs.Len(), "a 5xx's cause is logged")
		e := logs.All()[0]
		assert.Equal(t, "suivi", e.LoggerName)
		assert.Equal(t, opControle, e.ContextMap()["operation"])
		assert.Contains(t, e.ContextMap()["error"], "connection refused")

		f.err = bourse.Invalid("annee", "must be a year between 2000 and 2099")
		res = getSuivi(t, f, SuiviOptions{Logger: zap.New(core)}, clientA, "/v1/etablissements/0781944P/controles/en-attente?annee=1999", "")
		problemOf(t, res, http.StatusBadRequest, "invalid-input")
		assert.Equal(t, 1, logs.Len(), "a 4xx is not logged")
	})
}
