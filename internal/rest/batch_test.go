package rest_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/aglae-connector/aglae-connector/internal/pgtest"
	"github.com/aglae-connector/aglae-connector/internal/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBatchAnswersInOrder(t *testing.T) {
	h := newHarness(t)
	var ids []string
	var want []json.RawMessage
	for _, c := range testutil.LoadCases(t) {
		if c.Saisie.Identifiant == "" || c.Saisie.Nom != "" || c.Saisie.Annee != 2025 {
			continue
		}
		ids = append(ids, c.Saisie.Identifiant)
		b, err := json.Marshal(c.Want)
		require.NoError(t, err)
		want = append(want, b)
	}
	ids = append(ids, "1111037734M")
	body, err := json.Marshal(map[string]any{"anneeUniversitaire": 2025, "codeEtablissement": "0781944P", "identifiants": ids})
	require.NoError(t, err)
	rq := request{method: http.MethodPost, path: "/v1/consultations/lot", body: string(body)}
	resp := h.do(t, rq)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", resp.body)
	conform(t, h, rq, resp, true)
	var got struct {
		AnneeUniversitaire int               `json:"anneeUniversitaire"`
		Reponses           []json.RawMessage `json:"reponses"`
	}
	require.NoError(t, json.Unmarshal(resp.body, &got))
	assert.Equal(t, 2025, got.AnneeUniversitaire)
	require.Len(t, got.Reponses, len(ids))
	for i := range want {
		assert.JSONEq(t, string(want[i]), string(got.Reponses[i]), ids[i])
	}
	last := string(got.Reponses[len(ids)-1])
	assert.Contains(t, last, `"identifiant":"1111037734M"`)
	assert.Contains(t, last, "invalid-input")
	assert.Contains(t, last, "key")
}

func TestBatchBadRequests(t *testing.T) {
	h := newHarness(t)
	many := make([]string, 1001)
	for i := range many {
		many[i] = "2000000011F"
	}
	tooMany, _ := json.Marshal(map[string]any{"identifiants": many})
	for _, c := range []struct {
		name, body, typ, detail string
	}{
		{"too many", string(tooMany), "invalid-input", "at most 1000"},
		{"empty", `{"identifiants":[]}`, "invalid-input", "at least one"},
		{"missing", `{"anneeUniversitaire":2025}`, "invalid-input", "identifiants: required"},
		{"unknown field", `{"identifiants":["2000000011F"],"nom":"x"}`, "invalid-input", "unknown field"},
		{"case variant", `{"Identifiants":["2000000011F"]}`, "invalid-input", "unknown field"},
		{"wrong type", `{"identifiants":"2000000011F"}`, "invalid-input", "identifiants: must be an array of strings, not a string"},
		{"bad year", `{"anneeUniversitaire":99999,"identifiants":["2000000011F"]}`, "invalid-input", "anneeUniversitaire"},
		{"bad uai", `{"codeEtablissement":"0781944Q","identifiants":["2000000011F"]}`, "invalid-input", "codeEtablissement"},
		{"malformed", `{"identifiants":[`, "malformed-body", "malformed"},
		{"not an object", `["2000000011F"]`, "malformed-body", "object"},
	} {
		before := pgtest.Snapshot(t, h.pool)
		rq := request{method: http.MethodPost, path: "/v1/consultations/lot", body: c.body}
		resp := h.do(t, rq)
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode, c.name)
		p := problemOf(t, resp)
		assert.True(t, strings.HasSuffix(p["type"].(string), c.typ), "%s: %v", c.name, p["type"])
		assert.Contains(t, p["detail"], c.detail, c.name)
		conform(t, h, rq, resp, false)
		assert.Equal(t, before, pgtest.Snapshot(t, h.pool), c.name)
	}
}

// TestBatchLeniencies: the batch accepts what the single lookup accepts.
func TestBatchLeniencies(t *testing.T) {
	h := newHarness(t)
	for _, c := range []struct{ name, body string }{
		{"byte order mark", "\xef\xbb\xbf" + `{"anneeUniversitaire":2014,"identifiants":["1111037734L"]}`},
		{"null is absent", `{"anneeUniversitaire":2014,"codeEtablissement":null,"identifiants":["1111037734L"]}`},
		{"whitespace", " \r\n\t{ \"anneeUniversitaire\" : 2014 ,\n \"identifiants\" : [ \"1111037734L\" ] }\n"},
	} {
		rq := request{method: http.MethodPost, path: "/v1/consultations/lot", body: c.body}
		resp := h.do(t, rq)
		require.Equal(t, http.StatusOK, resp.StatusCode, "%s: %s", c.name, resp.body)
		assert.Contains(t, string(resp.body), `"numeroDossier":"2014MON1111037734L"`, c.name)
		conform(t, h, rq, resp, false)
	}
}
