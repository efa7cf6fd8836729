package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/aglae-connector/aglae-connector/internal/bourse"
	"github.com/aglae-connector/aglae-connector/internal/suivi"
)

// Suivi reads the follow-up and the control lists ([suivi.Store]) from
// connecteur.etudiant_suivi, the log's summary per establishment, year and
// student (migration 00007): a table the size of the student body, kept in
// step with every batch of the log by a trigger, in the batch's
// transaction.
type Suivi struct {
	pool *pgxpool.Pool
}

// NewSuivi returns the follow-up's reads on pool.
func NewSuivi(pool *pgxpool.Pool) *Suivi { return &Suivi{pool: pool} }

var _ suivi.Store = (*Suivi)(nil)

// sqlSuivi is every student of one establishment ($1) whose last answer
// was first given at or after $2 and is not their first answer (avant_statut
// is set), with the answer given before it (index etudiant_suivi_uai_depuis).
// After is the answer of the change row, its dossier number included.
const sqlSuivi = `
SELECT identifiant, annee_universitaire, depuis, depuis_canal,
	avant_statut, coalesce(avant_type_decision, ''), coalesce(avant_echelon, ''), coalesce(avant_numero_dossier, ''),
	coalesce(avant_correspondance, ''), coalesce(avant_identifiant_aglae, ''), coalesce(avant_anomalie, ''),
	statut, coalesce(type_decision, ''), coalesce(echelon, ''), coalesce(depuis_numero_dossier, ''),
	coalesce(correspondance, ''), coalesce(identifiant_aglae, ''), coalesce(anomalie, '')
FROM connecteur.etudiant_suivi
WHERE uai = $1 AND depuis >= $2 AND avant_statut IS NOT NULL
ORDER BY depuis, identifiant, annee_universitaire`

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
// identifier for a year ($2): their last answer, since when it has been
// given, and the establishment's own consultations (the re-check's rows
// excluded). Every list is a filter of its result, in Go.
const sqlEtudiants = `
SELECT identifiant, statut, coalesce(type_decision, ''), coalesce(echelon, ''),
	coalesce(numero_dossier, ''), coalesce(correspondance, ''), coalesce(identifiant_aglae, ''),
	coalesce(anomalie, ''), depuis, consultations, premiere_consultation, derniere_consultation
FROM connecteur.etudiant_suivi
WHERE uai = $1 AND annee_universitaire = $2`

// Etudiants returns every student the establishment uai asked about by
// identifier for the academic year annee, in no particular order
// ([suivi.Store]).
func (s *Suivi) Etudiants(ctx context.Context, uai string, annee int) ([]suivi.Etudiant, error) {
	return s.etudiants(ctx, "students of the establishment", sqlEtudiants, uai, annee)
}

// etudiants runs query, one of the statements on the summary that select
// its columns as sqlEtudiants does, for uai and annee.
func (s *Suivi) etudiants(ctx context.Context, op, query, uai string, annee int) ([]suivi.Etudiant, error) {
	rows, err := s.pool.Query(ctx, query, uai, annee)
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

var _ suivi.RecheckStore = (*Suivi)(nil)

// sqlRecheckCandidates is sqlEtudiants narrowed to the students whose last
// answer is not final and whose dossier of the year (by their identifier,
// index dossier_identifiant_annee) was created or changed by an import
// after both their last row and their last re-check (migration 00011).
const sqlRecheckCandidates = `
SELECT identifiant, statut, coalesce(type_decision, ''), coalesce(echelon, ''),
	coalesce(numero_dossier, ''), coalesce(correspondance, ''), coalesce(identifiant_aglae, ''),
	coalesce(anomalie, ''), depuis, consultations, premiere_consultation, derniere_consultation
FROM connecteur.etudiant_suivi s
WHERE uai = $1 AND annee_universitaire = $2
	AND statut <> 'NON_BOURSIER' AND (statut, type_decision) IS DISTINCT FROM ('BOURSIER', 'DEFINITIVE')
	AND EXISTS (SELECT FROM aglae.dossier d
		WHERE d.identifiant = s.identifiant AND d.annee_universitaire = s.annee_universitaire
			AND d.importe_le > greatest(s.derniere_ligne, s.reverifie_le))`

// RecheckCandidates returns the students of uai and annee the nightly
// re-check must re-ask ([suivi.RecheckStore]).
func (s *Suivi) RecheckCandidates(ctx context.Context, uai string, annee int) ([]suivi.Etudiant, error) {
	return s.etudiants(ctx, "students to re-check", sqlRecheckCandidates, uai, annee)
}

// MarkRechecked records that ids of uai and annee were re-checked at asOf
// (connecteur.etudiant_suivi.reverifie_le) ([suivi.RecheckStore]).
func (s *Suivi) MarkRechecked(ctx context.Context, uai string, annee int, ids []string, asOf time.Time) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := s.pool.Exec(ctx, `SELECT connecteur.etudiant_suivi_reverifie($1, $2, $3, $4)`, uai, int16(annee), ids, asOf)
	return translate("mark students re-checked", err)
}

// sqlRecheckCandidatesByUAI is sqlRecheckCandidates for every
// establishment of a year ($1): one hash join of the year's non-final
// students with the year's dossiers, not one index probe per student of
// each establishment (80 establishments: 45 s a night on a busy machine,
// against 5 s).
const sqlRecheckCandidatesByUAI = `
SELECT rtrim(uai), identifiant, statut, coalesce(type_decision, ''), coalesce(echelon, ''),
	coalesce(numero_dossier, ''), coalesce(correspondance, ''), coalesce(identifiant_aglae, ''),
	coalesce(anomalie, ''), depuis, consultations, premiere_consultation, derniere_consultation
FROM connecteur.etudiant_suivi s
WHERE annee_universitaire = $1
	AND statut <> 'NON_BOURSIER' AND (statut, type_decision) IS DISTINCT FROM ('BOURSIER', 'DEFINITIVE')
	AND EXISTS (SELECT FROM aglae.dossier d
		WHERE d.identifiant = s.identifiant AND d.annee_universitaire = s.annee_universitaire
			AND d.importe_le > greatest(s.derniere_ligne, s.reverifie_le))`

// RecheckCandidatesByUAI returns, by establishment, the students of annee
// the nightly re-check must re-ask ([suivi.RecheckStore]).
func (s *Suivi) RecheckCandidatesByUAI(ctx context.Context, annee int) (map[string][]suivi.Etudiant, error) {
	const op = "students to re-check"
	rows, err := s.pool.Query(ctx, sqlRecheckCandidatesByUAI, int16(annee))
	if err != nil {
		return nil, translate(op, err)
	}
	var (
		out = map[string][]suivi.Etudiant{}
		e   suivi.Etudiant
		uai string
	)
	r := &e.Reponse
	_, err = pgx.ForEachRow(rows, []any{&uai, &e.Identifiant, &r.Statut, &r.TypeDecision, &r.Echelon, &r.NumeroDossier,
		&r.Correspondance, &r.IdentifiantAglae, &r.Anomalie, &e.Since, &e.Consultations,
		&e.FirstConsultation, &e.LastConsultation,
	}, func() error {
		out[uai] = append(out[uai], e)
		e.FirstConsultation, e.LastConsultation = nil, nil
		return nil
	})
	if err != nil {
		return nil, translate(op, err)
	}
	return out, nil
}
