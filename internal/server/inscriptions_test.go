package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aglae-connector/aglae-connector/internal/auth"
	"github.com/aglae-connector/aglae-connector/internal/postgres"
)

type recuBody struct {
	IdRecu     string `json:"idRecu"`
	Etat       string `json:"etat"`
	Motif      string `json:"motif"`
	Validation *struct {
		MontantAnnuel json.Number `json:"montantAnnuel"`
		Mensualites   []struct {
			Mois    string      `json:"mois"`
			Montant json.Number `json:"montant"`
		} `json:"mensualites"`
		Notification string `json:"notification"`
	} `json:"validation"`
}

func decodeRecu(t *testing.T, body string) recuBody {
	t.Helper()
	var r recuBody
	require.NoError(t, json.Unmarshal([]byte(body), &r), body)
	return r
}

// processed polls the receipt until the worker processed the event: the
// condition waited on is the receipt's state, each poll a round trip.
func processed(t *testing.T, s *service, idRecu string) recuBody {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second) // a safety net, not a measure
	for {
		resp, body := get(t, s.base+"/v1/inscriptions/"+idRecu, s.bearer()...)
		require.Equal(t, http.StatusOK, resp.StatusCode, body)
		if r := decodeRecu(t, body); r.Etat != "RECU" {
			return r
		}
		require.True(t, time.Now().Before(deadline), "the event was not processed")
		// Wait for the worker: the next poll is another round trip.
		time.Sleep(5 * time.Millisecond)
	}
}

func evenementJSON(id, ine string, annee int, uai string) string {
	b, _ := json.Marshal(map[string]any{"idEvenement": id, "type": "INSCRIPTION", "identifiant": ine,
		"anneeUniversitaire": annee, "codeEtablissement": uai, "formation": map[string]string{"code": "L1", "libelle": "Licence 1"},
		"dateInscription": time.Date(annee, 9, 2, 0, 0, 0, 0, time.UTC).Format(time.DateOnly)})
	return string(b)
}

func TestInscriptionsOverREST(t *testing.T) {
	s := start(t, nil)
	const jsonType = "application/json"

	// A conditional student with a vœu at the client's establishment: validated.
	resp, body := post(t, s.base+"/v1/inscriptions", jsonType, evenementJSON("IA-1", "2000000066R", 2025, "0781944P"), s.bearer()...)
	require.Equal(t, http.StatusCreated, resp.StatusCode, body)
	first := decodeRecu(t, body)
	assert.Equal(t, "RECU", first.Etat)
	assert.Equal(t, "/v1/inscriptions/"+first.IdRecu, resp.Header.Get("Location"))
	r := processed(t, s, first.IdRecu)
	assert.Equal(t, "VALIDEE", r.Etat)
	require.NotNil(t, r.Validation)
	assert.Len(t, r.Validation.Mensualites, 10)
	_, body = get(t, s.base+"/v1/boursiers/2000000066R?annee=2025", s.bearer()...)
	assert.Contains(t, body, `"typeDecision":"DEFINITIVE"`)

	// The same event again: 200 and the first receipt; other content: 409.
	resp, body = post(t, s.base+"/v1/inscriptions", jsonType, evenementJSON("IA-1", "2000000066R", 2025, "0781944P"), s.bearer()...)
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	assert.Equal(t, first.IdRecu, decodeRecu(t, body).IdRecu)
	resp, body = post(t, s.base+"/v1/inscriptions", jsonType, evenementJSON("IA-1", "2000000055D", 2025, "0781944P"), s.bearer()...)
	assert.Equal(t, http.StatusConflict, resp.StatusCode, body)
	// Invalid input: 400, nothing stored.
	for _, bad := range []string{
		`{}`,
		`{"idEvenement":"x"`,
		strings.Replace(evenementJSON("IA-2", "2000000066R", 2025, "0781944P"), `"INSCRIPTION"`, `"DESINSCRIPTION"`, 1),
		evenementJSON("IA-2", "2000000066X", 2025, "0781944P"),
		evenementJSON("IA-2", "2000000066R", 2025, "0341088Y"), // another establishment's event
	} {
		resp, body = post(t, s.base+"/v1/inscriptions", jsonType, bad, s.bearer()...)
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode, bad+" → "+body)
	}
	resp, _ = get(t, s.base+"/v1/inscriptions/00000000-0000-0000-0000-000000000000", s.bearer()...)
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	resp, _ = get(t, s.base+"/v1/inscriptions/x", s.bearer()...)
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)

	// The seed's student has no vœu at UVSQ: marked for the CROUS of Montpellier.
	resp, body = post(t, s.base+"/v1/inscriptions", jsonType, evenementJSON("IA-3", "1111037734L", 2014, "0781944P"), s.bearer()...)
	require.Equal(t, http.StatusCreated, resp.StatusCode, body)
	marked := processed(t, s, decodeRecu(t, body).IdRecu)
	assert.Equal(t, "A_RETRAITER", marked.Etat)
	assert.Equal(t, "VOEU_NON_CORRESPONDANT", marked.Motif)
	_, body = get(t, s.base+"/v1/etablissements/0781944P/controles/a-retraiter", s.bearer()...)
	assert.Contains(t, body, marked.IdRecu)

	crous := addCrous(t, s.dbURL, "MON")
	other := addCrous(t, s.dbURL, "VER")
	resp, body = get(t, s.base+"/v1/academies/MON/a-retraiter", "Authorization", "Bearer "+crous)
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	assert.Contains(t, body, marked.IdRecu)
	resp, body = get(t, s.base+"/v1/academies/MON/a-retraiter", "Authorization", "Bearer "+crous, "Accept", "text/csv")
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	assert.True(t, strings.HasPrefix(body, "idRecu,etat,motif"), body)
	assert.Contains(t, body, marked.IdRecu+",A_RETRAITER,VOEU_NON_CORRESPONDANT,2014MON1111037734L")
	resp, _ = get(t, s.base+"/v1/academies/MON/a-retraiter", "Authorization", "Bearer "+other)
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
	resp, _ = get(t, s.base+"/v1/academies/MON/a-retraiter", s.bearer()...)
	assert.Equal(t, http.StatusForbidden, resp.StatusCode, "an establishment's client is no CROUS")
	resp, _ = post(t, s.base+"/v1/academies/MON/a-retraiter/"+marked.IdRecu, jsonType, `{"decision":"VALIDER"}`, "Authorization", "Bearer "+other)
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
	resp, body = post(t, s.base+"/v1/academies/MON/a-retraiter/"+marked.IdRecu, jsonType, `{"decision":"REFUSER"}`, "Authorization", "Bearer "+crous)
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode, "a refusal needs a motif: "+body)
	resp, body = post(t, s.base+"/v1/academies/MON/a-retraiter/"+marked.IdRecu, jsonType, `{"decision":"VALIDER"}`, "Authorization", "Bearer "+crous)
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	settled := decodeRecu(t, body)
	assert.Equal(t, "VALIDEE", settled.Etat)
	require.NotNil(t, settled.Validation)
	assert.Equal(t, "1665.00", settled.Validation.MontantAnnuel.String())
	assert.Equal(t, "166.50", settled.Validation.Mensualites[0].Montant.String())
	_, body = get(t, s.base+"/v1/boursiers/1111037734L?annee=2014", s.bearer()...)
	assert.Contains(t, body, `"typeDecision":"DEFINITIVE"`)
	resp, _ = post(t, s.base+"/v1/academies/MON/a-retraiter/"+marked.IdRecu, jsonType, `{"decision":"VALIDER"}`, "Authorization", "Bearer "+crous)
	assert.Equal(t, http.StatusNotFound, resp.StatusCode, "settled once")
}

// addCrous adds a CROUS's client of académie aca and returns its secret.
func addCrous(t *testing.T, dbURL, aca string) string {
	t.Helper()
	id, secret := addClient(t, dbURL, auth.NewClient{Nom: "Crous " + aca})
	pool, err := postgres.Open(context.Background(), dbURL)
	require.NoError(t, err)
	defer pool.Close()
	ins, err := postgres.NewInscriptions(pool)
	require.NoError(t, err)
	require.NoError(t, ins.BindAcademie(context.Background(), id, aca))
	return secret
}
