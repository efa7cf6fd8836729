package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/aglae-connector/aglae-connector/internal/bourse"
	"github.com/aglae-connector/aglae-connector/internal/console"
)

// Console reads what the console shows of the consultation log
// ([console.Journal]).
type Console struct {
	pool *pgxpool.Pool
}

// NewConsole returns the console's reads of the log on pool.
func NewConsole(pool *pgxpool.Pool) *Console { return &Console{pool: pool} }

var _ console.Journal = (*Console)(nil)

// History returns every answer the establishment uai was given about
// identifiant, newest first (index consultation_identifiant).
func (s *Console) History(ctx context.Context, uai, identifiant string) ([]console.Reponse, error) {
	const op = "student's answers"
	rows, err := s.pool.Query(ctx, `SELECT horodatage, canal, annee_universitaire, statut, coalesce(type_decision, ''),
			coalesce(echelon, ''), coalesce(correspondance, ''), coalesce(identifiant_aglae, ''), coalesce(anomalie, '')
		FROM connecteur.consultation
		WHERE identifiant = $2 AND uai = $1
		ORDER BY horodatage DESC
		LIMIT 1000`, uai, identifiant)
	if err != nil {
		return nil, translate(op, err)
	}
	var (
		out   []console.Reponse
		r     console.Reponse
		annee int16
	)
	_, err = pgx.ForEachRow(rows, []any{&r.Horodatage, &r.Canal, &annee, &r.Statut, &r.TypeDecision, &r.Echelon,
		&r.Correspondance, &r.IdentifiantAglae, &r.Anomalie}, func() error {
		r.AnneeUniversitaire = int(annee)
		r.Horodatage = r.Horodatage.In(bourse.Paris)
		out = append(out, r)
		return nil
	})
	return out, translate(op, err)
}

// PerDay counts the answers the establishment uai was given for the year
// annee, per day (Paris time) and statut, the re-check's excluded.
func (s *Console) PerDay(ctx context.Context, uai string, annee int) ([]console.Day, error) {
	const op = "answers per day"
	// The counts the log's triggers keep (migration 00008): grouping the
	// log itself took 260 ms at 200,000 consultations.
	rows, err := s.pool.Query(ctx, `SELECT jour, statut, n
		FROM connecteur.reponses_par_jour
		WHERE uai = $1 AND annee_universitaire = $2
		ORDER BY 1, 2`, uai, annee)
	if err != nil {
		return nil, translate(op, err)
	}
	var (
		out []console.Day
		j   console.Day
		d   time.Time
	)
	_, err = pgx.ForEachRow(rows, []any{&d, &j.Statut, &j.N}, func() error {
		j.Day = time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, bourse.Paris)
		out = append(out, j)
		return nil
	})
	return out, translate(op, err)
}

// Noms returns "NOM Prénom" of each identifier Aglaé knows.
func (s *Console) Noms(ctx context.Context, identifiants []string) (map[string]string, error) {
	const op = "students' names"
	out := make(map[string]string, len(identifiants))
	rows, err := s.pool.Query(ctx, `SELECT identifiant, nom || ' ' || prenom FROM aglae.etudiant WHERE identifiant = ANY($1)`, identifiants)
	if err != nil {
		return nil, translate(op, err)
	}
	var id, nom string
	_, err = pgx.ForEachRow(rows, []any{&id, &nom}, func() error {
		out[id] = nom
		return nil
	})
	return out, translate(op, err)
}
