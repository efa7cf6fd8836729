// Package suivi is the other direction of the connector: what the
// consultation log tells an establishment about the students it asked
// about. It holds the follow-up (which students' answer changed, and
// when), the control lists the pilot university mailed to its
// gestionnaires (numbers that differ from Aglaé's, students still
// waiting, unknown identifiers, identity conflicts, counts per statut),
// the nightly re-check that re-asks the engine about every student whose
// answer was not final (and was decided by their identifier), and the
// report that sends all of it by e-mail.
//
// # Everything is read from the consultation log
//
// A student, here, is an identifier an establishment asked about for an
// academic year: the rows of connecteur.consultation with that uai,
// identifiant and annee_universitaire, in time order. Their "answer" is
// the public part of a row (statut, typeDecision, echelon, correspondance,
// identifiantAglae, anomalie; numeroDossier rides along but a new dossier
// number alone is no change); the internal reason is never shown, since
// it is not sent to the establishment either. A student's last answer is
// their latest row; a change is a row whose answer differs from the row
// before it.
//
// Nothing here asks the engine while reading: the follow-up and the lists
// are window functions over the log. The re-check ([Recheck]) is the only
// part that asks the engine, through the batch path and the traced
// consultant, so its answers are recorded like any other consultation
// (canal RECHECK) and a change it sees shows in the follow-up from then on.
// This keeps every answer the establishment can read traced, keeps a GET
// from writing to the log or loading the engine, and makes a change seen
// by Apogée itself (a registration replayed with the student's identity)
// show exactly like one seen by the re-check.
//
// Lookups by identity only carry no identifier, and the log keeps no name:
// such rows cannot be told apart by student and are left out of the
// follow-up, the lists and the re-check.
package suivi

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/aglae-connector/aglae-connector/internal/bourse"
	"github.com/aglae-connector/aglae-connector/internal/ident"
	"github.com/aglae-connector/aglae-connector/internal/postgres"
)

// Reponse is what an establishment was answered about a student: the
// public fields of the answer, never the internal reason. Fields that do
// not apply are empty.
type Reponse struct {
	Statut           bourse.Statut         `json:"statut"`
	TypeDecision     bourse.TypeDecision   `json:"typeDecision,omitempty"`
	Echelon          string                `json:"echelon,omitempty"`
	NumeroDossier    string                `json:"numeroDossier,omitempty"`
	Correspondance   bourse.Correspondance `json:"correspondance,omitempty"`
	IdentifiantAglae string                `json:"identifiantAglae,omitempty"`
	Anomalie         bourse.Anomalie       `json:"anomalie,omitempty"`
}

// Differe reports whether r and o are different answers: any public field
// but the dossier number differs.
func (r Reponse) Differe(o Reponse) bool {
	return r.Statut != o.Statut || r.TypeDecision != o.TypeDecision || r.Echelon != o.Echelon ||
		r.Correspondance != o.Correspondance || r.IdentifiantAglae != o.IdentifiantAglae || r.Anomalie != o.Anomalie
}

// Finale reports whether r is a final answer, one the re-check does not
// ask again: BOURSIER DEFINITIVE or NON_BOURSIER. EN_ATTENTE,
// BOURSIER CONDITIONNELLE and INCONNU can still move.
func (r Reponse) Finale() bool {
	return r.Statut == bourse.StatutNonBoursier ||
		r.Statut == bourse.StatutBoursier && r.TypeDecision == bourse.TypeDefinitive
}

// deReponse is the public part of an engine's answer.
func deReponse(r bourse.Reponse) Reponse {
	return Reponse{
		Statut: r.Statut, TypeDecision: r.TypeDecision, Echelon: r.Echelon, NumeroDossier: r.NumeroDossier,
		Correspondance: r.Correspondance, IdentifiantAglae: r.IdentifiantAglae, Anomalie: r.Anomalie,
	}
}

// Changement is a student whose answer changed: the answer given before
// (Avant), the current one (Apres), and when the current one was first
// given (VuLe), by which channel (VuPar: RECHECK when the nightly re-check
// saw it, REST or SOAP when a consultation of the establishment did).
type Changement struct {
	Identifiant        string       `json:"identifiant"`
	AnneeUniversitaire int          `json:"anneeUniversitaire"`
	Avant              Reponse      `json:"avant"`
	Apres              Reponse      `json:"apres"`
	VuLe               time.Time    `json:"vuLe"`
	VuPar              bourse.Canal `json:"vuPar"`
}

// The answer's columns a change is made of, in the log. numero_dossier is
// not among them: a student's answer does not change because another of
// their dossiers now gives the same answer.
const colonnesReponse = `statut, type_decision, echelon, correspondance, identifiant_aglae, anomalie`

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
	SELECT identifiant, annee_universitaire, horodatage, canal, ` + colonnesReponse + `, numero_dossier
	FROM connecteur.consultation
	WHERE uai = $1 AND horodatage >= $2 AND identifiant IS NOT NULL
), precedentes AS (
	SELECT p.*
	FROM (SELECT DISTINCT identifiant, annee_universitaire FROM recentes) e
	CROSS JOIN LATERAL (
		SELECT identifiant, annee_universitaire, horodatage, canal, ` + colonnesReponse + `, numero_dossier
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
	FROM (SELECT *, (` + colonnesReponse + `) IS DISTINCT FROM
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

// Suivi returns the follow-up of the establishment uai: every student it
// asked about (by identifier, any academic year) whose current answer
// differs from the answer given before it and was first given at or after
// depuis, oldest change first. Avant is the answer given just before the
// current one; a student whose answer changed twice since depuis shows
// once, with the answer before the last change.
//
// The current answer is the latest one in the log: run [Recheck] (or let
// Apogée consult again) for the log to know what Aglaé knows now. Errors
// are of kind Invalid (uai), Unavailable or Internal.
func Suivi(ctx context.Context, pool *pgxpool.Pool, uai string, depuis time.Time) ([]Changement, error) {
	u, err := parseUAI(uai)
	if err != nil {
		return nil, err
	}
	rows, err := pool.Query(ctx, sqlSuivi, u, depuis)
	if err != nil {
		return nil, postgres.Translate("follow-up", err)
	}
	out := []Changement{}
	var (
		c     Changement
		annee int16
		canal string
	)
	av, ap := &c.Avant, &c.Apres
	_, err = pgx.ForEachRow(rows, []any{&c.Identifiant, &annee, &c.VuLe, &canal,
		&av.Statut, &av.TypeDecision, &av.Echelon, &av.NumeroDossier, &av.Correspondance, &av.IdentifiantAglae, &av.Anomalie,
		&ap.Statut, &ap.TypeDecision, &ap.Echelon, &ap.NumeroDossier, &ap.Correspondance, &ap.IdentifiantAglae, &ap.Anomalie,
	}, func() error {
		c.AnneeUniversitaire = int(annee)
		c.VuPar = bourse.Canal(canal)
		c.VuLe = c.VuLe.In(bourse.Paris)
		out = append(out, c)
		return nil
	})
	if err != nil {
		return nil, postgres.Translate("follow-up", err)
	}
	return out, nil
}

// parseUAI checks uai, as an Invalid error of field uai.
func parseUAI(uai string) (string, error) {
	u, err := ident.ParseUAI(uai)
	if err != nil {
		var ie *ident.Error
		if errors.As(err, &ie) {
			return "", bourse.Invalid("uai", "%s: %s", ie.Rule, ie.Message)
		}
		return "", bourse.Invalid("uai", "%s", err.Error())
	}
	return u, nil
}

// checkAnnee checks an academic year, as an Invalid error of field annee.
func checkAnnee(annee int) error {
	if annee < bourse.AnneeMin || annee > bourse.AnneeMax {
		return bourse.Invalid("annee", "must be a year between %d and %d, got %d", bourse.AnneeMin, bourse.AnneeMax, annee)
	}
	return nil
}
