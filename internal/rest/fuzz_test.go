package rest_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aglae-connector/aglae-connector/internal/testutil"
	"github.com/stretchr/testify/require"
)

// FuzzConsultationBody sends arbitrary bodies to POST /v1/consultations on
// a real database: the answer is a 200 or a 4xx problem, never a 5xx,
// never a panic.
func FuzzConsultationBody(f *testing.F) {
	for _, c := range testutil.LoadCases(f) {
		f.Add(bodyOf(f, c.Saisie))
	}
	for _, c := range catalogue {
		if c.rq.method == post && c.rq.ct == "" && len(c.rq.body) < 4096 {
			f.Add(c.rq.body)
		}
	}
	f.Add("\xef\xbb\xbf{\"identifiant\":\"1111037734L\",\"anneeUniversitaire\":2014}")
	f.Add(`{"identifiant":"\u0031111037734\u004c","codeEtablissement":"0781944P","anneeUniversitaire":2014}`)
	h := newHarness(f)
	f.Fuzz(func(t *testing.T, body string) {
		req := httptest.NewRequest(http.MethodPost, "/v1/consultations", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.handler.ServeHTTP(rec, req)
		code := rec.Code
		require.True(t, code == http.StatusOK || (code >= 400 && code < 500), "status %d for %q: %s", code, body, rec.Body)
		if code != http.StatusOK {
			require.Equal(t, "application/problem+json", rec.Header().Get("Content-Type"))
		}
	})
}
