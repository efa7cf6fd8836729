package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/aglae-connector/aglae-connector/internal/bourse"
	"github.com/aglae-connector/aglae-connector/internal/suivi"
)

// Suivi reads the consultation log for the follow-up and the control
// lists ([suivi.Store]): window functions over connecteur.consultation.
type Suivi struct {
	pool *pgxpool.Pool
}

// NewSuivi returns the follow-up's reads on pool.
func NewSuivi(pool *pgxpool.Pool) *Suivi { return &Suivi{pool: pool} }

var _ suivi.Store = (*Suivi)(nil)

// The answer's columns a change is made of, in the log. numero_dossier is
// not among them: a student's answer does not change because another of
// their dossiers now gives the same answer.
const reponseColumns = `statut, type_decision, echelon, correspondance, identifiant_aglae, anomalie`

// sqlSuivi finds, for one establishment ($1), every student whose current
// answer was first given at or after $2, with the answer given before it.
//
// A change row is one whose answer is distinct from the previous row's
// (the first row, a change from nothing, is never reported); the last
// change row holds the current answer, since any later row that differed
// would be a later change. A change at or after $2 is found among the rows
// since $2 and the one row just before them: recentes reads the rows since
// $2 (index consultation_uai_horodatage), precedentes fetches, for each
// student among them, their last row before $2 (one probe of the index
// consultation_uai_annee_identifiant each). The history before that is
// never read, however long the nightly re-checks made it.
const sqlSuivi = `
WITH recentes AS (
	SELECT identifiant, annee_universitaire, horodatage, canal, ` + reponseColumns + `, numero_dossier
	FROM connecteur.consultation
	WHERE uai = $1 AND horodatage >= $2 AND identifiant IS NOT NULL
), precedentes AS (
	SELECT p.*
	FROM (SELECT DISTINCT identifiant, annee_universitaire FROM recentes) e
	CROSS JOIN LATERAL (
		SELECT identifiant, annee_universitaire, horodatage, canal, ` + reponseColumns + `, numero_dossier
		FROM connecteur.consultation c
		WHERE c.uai = $1 AND c.annee_universitaire = e.annee_universitaire AND c.identifiant = e.identifiant
		  AND c.horodatage < $2
		ORDER BY c.horodatage DESC
		LIMIT 1) p
), historique AS (
	SELECT *,
		lag(horodatage) OVER w AS p_horodatage,
		lag(statut) OVER w AS p_statut,
		lag(type_decision) OVER w AS p_type_decision,
		lag(echelon) OVER w AS p_echelon,
		lag(correspondance) OVER w AS p_correspondance,
		lag(identifiant_aglae) OVER w AS p_identifiant_aglae,
		lag(anomalie) OVER w AS p_anomalie,
		lag(numero_dossier) OVER w AS p_numero_dossier
	FROM (SELECT * FROM recentes UNION ALL SELECT * FROM precedentes) l
	WINDOW w AS (PARTITION BY identifiant, annee_universitaire ORDER BY horodatage)
), changements AS (
	SELECT *, max(horodatage) FILTER (WHERE change) OVER (PARTITION BY identifiant, annee_universitaire) AS dernier
	FROM (SELECT *, (` + reponseColumns + `) IS DISTINCT FROM
		(p_statut, p_type_decision, p_echelon, p_correspondance, p_identifiant_aglae, p_anomalie)
		OR p_horodatage IS NULL AS change FROM historique) h
)
SELECT identifiant, annee_universitaire, horodatage, canal,
	p_statut, coalesce(p_type_decision, ''), coalesce(p_echelon, ''), coalesce(p_numero_dossier, ''),
	coalesce(p_correspondance, ''), coalesce(p_identifiant_aglae, ''), coalesce(p_anomalie, ''),
	statut, coalesce(type_decision, ''), coalesce(echelon, ''), coalesce(numero_dossier, ''),
	coalesce(correspondance, ''), coalesce(identifiant_aglae, ''), coalesce(anomalie, '')
FROM changements
WHERE change AND horodatage = dernier AND p_horodatage IS NOT NULL
ORDER BY horodatage, identifiant, annee_universitaire`

// Changes returns, for the establishment uai, every student whose
// current answer was first given at or after since, with the answer given
// before it, oldest change first ([suivi.Store]).
func (s *Suivi) Changes(ctx context.Context, uai string, since time.Time) ([]suivi.Change, error) {
	const op = "follow-up"
	rows, err := s.pool.Query(ctx, sqlSuivi, uai, since)
	if err != nil {
		return nil, translate(op, err)
	}
	var (
		out   []suivi.Change
		c     suivi.Change
		annee int16
		canal string
	)
	before, after := &c.Before, &c.After
	_, err = pgx.ForEachRow(rows, []any{&c.Identifiant, &annee, &c.SeenAt, &canal,
		&before.Statut, &before.TypeDecision, &before.Echelon, &before.NumeroDossier, &before.Correspondance, &before.IdentifiantAglae, &before.Anomalie,
		&after.Statut, &after.TypeDecision, &after.Echelon, &after.NumeroDossier, &after.Correspondance, &after.IdentifiantAglae, &after.Anomalie,
	}, func() error {
		c.AnneeUniversitaire = int(annee)
		c.SeenBy = bourse.Canal(canal)
		out = append(out, c)
		return nil
	})
	if err != nil {
		return nil, translate(op, err)
	}
	return out, nil
}

// sqlEtudiants is every student an establishment ($1) asked about by
// identifier for a year ($2), by identifier: their last answer (the latest
// row), when that answer was first given (depuis: the last change row),
// and the establishment's own consultations (the re-check's rows
// excluded).
//
// It reads the establishment's rows of the year once, in the order of the
// index consultation_uai_annee_identifiant (migration 00003), so nothing
// is sorted: historique flags the change rows, cumuls keeps running
// aggregates, which on a student's last row cover all their rows. Every
// list is a filter of its result, in Go.
const sqlEtudiants = `
WITH historique AS (
	SELECT identifiant, horodatage, canal, ` + reponseColumns + `, numero_dossier,
		(` + reponseColumns + `) IS DISTINCT FROM (lag(statut) OVER w, lag(type_decision) OVER w,
			lag(echelon) OVER w, lag(correspondance) OVER w, lag(identifiant_aglae) OVER w,
			lag(anomalie) OVER w) AS change
	FROM connecteur.consultation
	WHERE uai = $1 AND annee_universitaire = $2 AND identifiant IS NOT NULL
	WINDOW w AS (PARTITION BY identifiant ORDER BY horodatage)
), cumuls AS (
	SELECT identifiant, ` + reponseColumns + `, numero_dossier,
		max(horodatage) FILTER (WHERE change) OVER w AS depuis,
		count(*) FILTER (WHERE canal <> 'RECHECK') OVER w AS consultations,
		min(horodatage) FILTER (WHERE canal <> 'RECHECK') OVER w AS premiere,
		max(horodatage) FILTER (WHERE canal <> 'RECHECK') OVER w AS derniere,
		lead(horodatage) OVER w IS NULL AS derniere_ligne
	FROM historique
	WINDOW w AS (PARTITION BY identifiant ORDER BY horodatage)
)
SELECT identifiant, statut, coalesce(type_decision, ''), coalesce(echelon, ''),
	coalesce(numero_dossier, ''), coalesce(correspondance, ''), coalesce(identifiant_aglae, ''),
	coalesce(anomalie, ''), depuis, consultations, premiere, derniere
FROM cumuls
WHERE derniere_ligne`

// Etudiants returns every student the establishment uai asked about by
// identifier for the academic year annee, in no particular order
// ([suivi.Store]).
func (s *Suivi) Etudiants(ctx context.Context, uai string, annee int) ([]suivi.Etudiant, error) {
	const op = "students of the establishment"
	rows, err := s.pool.Query(ctx, sqlEtudiants, uai, annee)
	if err != nil {
		return nil, translate(op, err)
	}
	var (
		out []suivi.Etudiant
		e   suivi.Etudiant
	)
	r := &e.Reponse
	_, err = pgx.ForEachRow(rows, []any{&e.Identifiant, &r.Statut, &r.TypeDecision, &r.Echelon, &r.NumeroDossier,
		&r.Correspondance, &r.IdentifiantAglae, &r.Anomalie, &e.Since, &e.Consultations,
		&e.FirstConsultation, &e.LastConsultation,
	}, func() error {
		out = append(out, e)
		e.FirstConsultation, e.LastConsultation = nil, nil
		return nil
	})
	if err != nil {
		return nil, translate(op, err)
	}
	return out, nil
}
