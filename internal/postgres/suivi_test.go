package postgres_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aglae-connector/aglae-connector/internal/bourse"
	"github.com/aglae-connector/aglae-connector/internal/journal"
	"github.com/aglae-connector/aglae-connector/internal/pgtest"
	"github.com/aglae-connector/aglae-connector/internal/postgres"
	"github.com/aglae-connector/aglae-connector/internal/suivi"
)

// The follow-up's reads as they were before the summary (window functions
// over the whole log), the reference the summary must agree with.
const (
	reference    = `statut, type_decision, echelon, correspondance, identifiant_aglae, anomalie`
	refEtudiants = `
WITH historique AS (
	SELECT identifiant, horodatage, canal, ` + reference + `, numero_dossier,
		(` + reference + `) IS DISTINCT FROM (lag(statut) OVER w, lag(type_decision) OVER w,
			lag(echelon) OVER w, lag(correspondance) OVER w, lag(identifiant_aglae) OVER w,
			lag(anomalie) OVER w) AS change
	FROM connecteur.consultation
	WHERE uai = $1 AND annee_universitaire = $2 AND identifiant IS NOT NULL
	WINDOW w AS (PARTITION BY identifiant ORDER BY horodatage)
), cumuls AS (
	SELECT identifiant, ` + reference + `, numero_dossier,
		max(horodatage) FILTER (WHERE change) OVER w AS depuis,
		count(*) FILTER (WHERE canal <> 'RECHECK') OVER w AS consultations,
		min(horodatage) FILTER (WHERE canal <> 'RECHECK') OVER w AS premiere,
		max(horodatage) FILTER (WHERE canal <> 'RECHECK') OVER w AS derniere,
		lead(horodatage) OVER w IS NULL AS derniere_ligne
	FROM historique
	WINDOW w AS (PARTITION BY identifiant ORDER BY horodatage)
)
SELECT format('%s %s %s %s %s %s %s %s %s %s %s %s', identifiant, statut, type_decision, echelon, numero_dossier,
	correspondance, identifiant_aglae, anomalie, to_char(depuis AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'), consultations, to_char(premiere AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'), to_char(derniere AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'))
FROM cumuls WHERE derniere_ligne ORDER BY identifiant`
	refChanges = `
WITH historique AS (
	SELECT *, lag(horodatage) OVER w AS p_horodatage,
		lag(statut) OVER w AS p_statut, lag(type_decision) OVER w AS p_type_decision, lag(echelon) OVER w AS p_echelon,
		lag(correspondance) OVER w AS p_correspondance, lag(identifiant_aglae) OVER w AS p_identifiant_aglae,
		lag(anomalie) OVER w AS p_anomalie, lag(numero_dossier) OVER w AS p_numero_dossier
	FROM connecteur.consultation WHERE uai = $1 AND identifiant IS NOT NULL
	WINDOW w AS (PARTITION BY identifiant, annee_universitaire ORDER BY horodatage)
), changements AS (
	SELECT *, max(horodatage) FILTER (WHERE change) OVER (PARTITION BY identifiant, annee_universitaire) AS dernier
	FROM (SELECT *, (` + reference + `) IS DISTINCT FROM
		(p_statut, p_type_decision, p_echelon, p_correspondance, p_identifiant_aglae, p_anomalie)
		OR p_horodatage IS NULL AS change FROM historique) h
)
SELECT format('%s %s %s %s | %s %s %s %s %s %s %s | %s %s %s %s %s %s %s', identifiant, annee_universitaire, to_char(horodatage AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'), canal,
	p_statut, p_type_decision, p_echelon, p_numero_dossier, p_correspondance, p_identifiant_aglae, p_anomalie,
	statut, type_decision, echelon, numero_dossier, correspondance, identifiant_aglae, anomalie)
FROM changements
WHERE change AND horodatage = dernier AND p_horodatage IS NOT NULL AND horodatage >= $2
ORDER BY horodatage, identifiant, annee_universitaire`
)

// nullable is s as format writes it (NULL as "").
func nullable(s string) string { return s }

func nullableTime(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format(time.DateTime)
}

// TestSummaryAgreesWithTheLog writes random seasons through the store, in
// batches in order and out of order (a spool replayed late), with a batch
// the database refuses, then checks the follow-up and the students read
// from the summary against the window functions over the whole log that
// the follow-up used before it; then the purge.
func TestSummaryAgreesWithTheLog(t *testing.T) {
	pool := pgtest.New(t)
	ctx := context.Background()
	store := postgres.NewConsultations(pool)
	reads := postgres.NewSuivi(pool)
	rng := rand.New(rand.NewPCG(1, 2))
	// Fifty hours across the end of July (Paris time): two month partitions.
	start := time.Date(2025, 7, 30, 12, 0, 0, 0, time.UTC)
	uais := []string{"0781944P", "0751717J"}
	answers := []journal.Consultation{
		{Statut: "EN_ATTENTE", Correspondance: "IDENTIFIANT", NumeroDossier: "D1"},
		{Statut: "EN_ATTENTE", Correspondance: "IDENTIFIANT", NumeroDossier: "D2"}, // a new number: no change
		{Statut: "BOURSIER", TypeDecision: "CONDITIONNELLE", Echelon: "2", Correspondance: "IDENTIFIANT", NumeroDossier: "D1"},
		{Statut: "BOURSIER", TypeDecision: "DEFINITIVE", Echelon: "2", Correspondance: "IDENTITE", IdentifiantAglae: "2023A12345B", NumeroDossier: "D1"},
		{Statut: "INCONNU"},
		{Statut: "EN_ATTENTE", Anomalie: "IDENTITE_DIFFERENTE", Correspondance: "IDENTITE"},
	}
	canaux := []bourse.Canal{bourse.CanalREST, bourse.CanalSOAP, bourse.CanalRecheck}
	var recs []journal.Consultation
	for i := range 3000 {
		a := answers[rng.IntN(len(answers))]
		a.Horodatage = start.Add(time.Duration(i) * time.Minute)
		a.ClientID, a.Raison, a.RequestID = "c", "R", "r"
		a.UAI = uais[rng.IntN(2)]
		a.Canal = canaux[rng.IntN(len(canaux))]
		a.Annee = 2024 + rng.IntN(2)
		if rng.IntN(20) > 0 {
			a.Identifiant = fmt.Sprintf("1234567%04d", rng.IntN(60))
		}
		if rng.IntN(50) == 0 {
			a.UAI = ""
		}
		recs = append(recs, a)
	}
	// Batches of random sizes; one in five is held back and written after
	// the others (out of order).
	var late [][]journal.Consultation
	for len(recs) > 0 {
		n := min(len(recs), 1+rng.IntN(200))
		b := recs[:n]
		recs = recs[n:]
		if rng.IntN(5) == 0 {
			late = append(late, b)
			continue
		}
		_, err := store.Write(ctx, b)
		require.NoError(t, err)
	}
	refused := []journal.Consultation{{Horodatage: start.Add(time.Hour), ClientID: "c", UAI: uais[0], Canal: "REST",
		Identifiant: "12345670001", Annee: 2025, Statut: "BOURSIER", Raison: "R", RequestID: "r"},
		{Horodatage: start.Add(time.Hour), ClientID: "c", UAI: uais[0], Canal: "REST",
			Identifiant: "12345670002", Annee: 2025, Statut: "PEUT_ETRE", Raison: "R", RequestID: "r"}}
	_, err := store.Write(ctx, refused)
	require.Equal(t, bourse.KindInvalid, bourse.KindOf(err), "%v", err)
	for _, b := range late {
		_, err := store.Write(ctx, b)
		require.NoError(t, err)
	}

	compare := func(t *testing.T) {
		for _, uai := range uais {
			for annee := 2024; annee <= 2025; annee++ {
				want := queryStrings(t, pool, refEtudiants, uai, annee)
				es, err := reads.Etudiants(ctx, uai, annee)
				require.NoError(t, err)
				var got []string
				for _, e := range es {
					got = append(got, strings.Join([]string{e.Identifiant, string(e.Statut), nullable(string(e.TypeDecision)),
						nullable(e.Echelon), nullable(e.NumeroDossier), nullable(string(e.Correspondance)), nullable(e.IdentifiantAglae),
						nullable(string(e.Anomalie)), e.Since.UTC().Format(time.DateTime), fmt.Sprint(e.Consultations),
						nullableTime(e.FirstConsultation), nullableTime(e.LastConsultation)}, " "))
				}
				slices.Sort(got)
				assert.Equal(t, want, got, "students of %s %d", uai, annee)
			}
			for _, since := range []time.Time{{}, start.Add(24 * time.Hour), start.Add(40 * time.Hour)} {
				want := queryStrings(t, pool, refChanges, uai, since)
				cs, err := reads.Changes(ctx, uai, since)
				require.NoError(t, err)
				var got []string
				r := func(x suivi.Reponse) string {
					return strings.Join([]string{string(x.Statut), nullable(string(x.TypeDecision)), nullable(x.Echelon), nullable(x.NumeroDossier),
						nullable(string(x.Correspondance)), nullable(x.IdentifiantAglae), nullable(string(x.Anomalie))}, " ")
				}
				for _, c := range cs {
					got = append(got, fmt.Sprintf("%s %d %s %s | %s | %s", c.Identifiant, c.AnneeUniversitaire,
						c.SeenAt.UTC().Format(time.DateTime), c.SeenBy, r(c.Before), r(c.After)))
				}
				assert.Equal(t, want, got, "changes of %s since %s", uai, since)
			}
		}
	}
	t.Run("agrees", compare)

	// The rows went to the default partition (the template database has the
	// months of the day it was made); creating their months moves them.
	n, err := store.MakePartitionsBetween(ctx, start, start.Add(50*time.Hour))
	require.NoError(t, err)
	assert.Equal(t, 2, n, "July and August 2025")
	var inDefault int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM connecteur.consultation_defaut`).Scan(&inDefault))
	assert.Zero(t, inDefault)
	t.Run("agrees once partitioned", compare)

	t.Run("purge", func(t *testing.T) {
		summaries := func(where string) []string {
			return queryStrings(t, pool, `SELECT s::text FROM connecteur.etudiant_suivi s `+where+` ORDER BY uai, annee_universitaire, identifiant`)
		}
		august := time.Date(2025, 8, 1, 0, 0, 0, 0, bourse.Paris)
		kept := summaries(`WHERE derniere_ligne >= '` + august.Format(time.RFC3339) + `'`)
		require.NotEmpty(t, kept)
		gone := len(summaries("")) - len(kept)
		require.Positive(t, gone, "some students have rows in July only")

		res, err := journal.Purge(ctx, store, time.Date(2025, 8, 20, 0, 0, 0, 0, time.UTC))
		require.NoError(t, err)
		assert.True(t, august.Equal(res.Limit), "rounded down to the month: %s", res.Limit)
		assert.Equal(t, []string{"2025-07"}, res.Months)
		var before int
		require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM connecteur.consultation WHERE horodatage < $1`, august).Scan(&before))
		assert.Zero(t, before)
		assert.Equal(t, kept, summaries(""), "the students with rows left keep their summary whole; the others are forgotten")
		var missing int
		require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM connecteur.consultation c WHERE uai IS NOT NULL AND identifiant IS NOT NULL
			AND NOT EXISTS (SELECT FROM connecteur.etudiant_suivi s WHERE (s.uai, s.annee_universitaire, s.identifiant) = (c.uai, c.annee_universitaire, c.identifiant))`).Scan(&missing))
		assert.Zero(t, missing, "the students left in the log keep their summary")
	})
}

func queryStrings(t *testing.T, pool interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
}, q string, args ...any) []string {
	t.Helper()
	rows, err := pool.Query(context.Background(), q, args...)
	require.NoError(t, err)
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	return out
}
