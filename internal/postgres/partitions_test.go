package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aglae-connector/aglae-connector/internal/bourse"
	"github.com/aglae-connector/aglae-connector/internal/journal"
	"github.com/aglae-connector/aglae-connector/internal/pgtest"
	"github.com/aglae-connector/aglae-connector/internal/postgres"
)

// TestPartitionMigration: migration 00010 moves the rows of the plain log
// into month partitions, the summaries untouched, the triggers still
// keeping them; its Down brings the plain table back with the rows.
func TestPartitionMigration(t *testing.T) {
	pool := pgtest.New(t)
	ctx := context.Background()
	down := func(to int64) {
		t.Helper()
		for {
			v, err := postgres.Migrate(ctx, pool, true)
			require.NoError(t, err)
			if v <= to {
				return
			}
		}
	}
	down(9)
	store := postgres.NewConsultations(pool)
	rec := func(at time.Time, id, statut string) journal.Consultation {
		return journal.Consultation{Horodatage: at, ClientID: "c", UAI: "0781944P", Canal: bourse.CanalREST, Identifiant: id,
			Annee: 2025, Statut: statut, Raison: "R", Correspondance: "IDENTIFIANT", RequestID: "r"}
	}
	_, err := store.Write(ctx, []journal.Consultation{
		rec(time.Date(2025, 7, 3, 9, 0, 0, 0, time.UTC), "12345670001", "EN_ATTENTE"),
		rec(time.Date(2025, 9, 3, 9, 0, 0, 0, time.UTC), "12345670001", "BOURSIER"),
		rec(time.Date(2025, 9, 4, 9, 0, 0, 0, time.UTC), "12345670002", "INCONNU"),
	})
	require.NoError(t, err)
	snapshot := func() []string {
		return queryStrings(t, pool, `SELECT (uai, annee_universitaire, identifiant, statut, derniere_ligne, depuis, depuis_canal, avant_statut,
			consultations, premiere_consultation, derniere_consultation, premiere_ligne)::text FROM connecteur.etudiant_suivi ORDER BY identifiant`)
	}
	perDay := func() []string {
		return queryStrings(t, pool, `SELECT r::text FROM connecteur.reponses_par_jour r ORDER BY jour, statut`)
	}
	summaries, days := snapshot(), perDay()
	require.Len(t, summaries, 2)

	_, err = postgres.Migrate(ctx, pool, false)
	require.NoError(t, err)
	parts := queryStrings(t, pool, `SELECT c.relname || ' ' || (SELECT count(*) FROM connecteur.consultation x WHERE x.tableoid = c.oid)
		FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
		WHERE i.inhparent = 'connecteur.consultation'::regclass AND c.relname IN ('consultation_2025_07', 'consultation_2025_08', 'consultation_2025_09', 'consultation_defaut')
		ORDER BY 1`)
	assert.Equal(t, []string{"consultation_2025_07 1", "consultation_2025_08 0", "consultation_2025_09 2", "consultation_defaut 0"}, parts)
	var ahead int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM pg_inherits WHERE inhparent = 'connecteur.consultation'::regclass`).Scan(&ahead))
	assert.Greater(t, ahead, 4, "and the months up to two after the current one")
	assert.Equal(t, summaries, snapshot(), "the summaries are untouched")
	assert.Equal(t, days, perDay())

	// The triggers still keep the summary.
	_, err = store.Write(ctx, []journal.Consultation{rec(time.Date(2025, 9, 5, 9, 0, 0, 0, time.UTC), "12345670002", "EN_ATTENTE")})
	require.NoError(t, err)
	var statut string
	require.NoError(t, pool.QueryRow(ctx, `SELECT statut FROM connecteur.etudiant_suivi WHERE identifiant = '12345670002'`).Scan(&statut))
	assert.Equal(t, "EN_ATTENTE", statut)

	down(9)
	var n int
	var kind string
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*), (SELECT relkind::text FROM pg_class WHERE oid = 'connecteur.consultation'::regclass)
		FROM connecteur.consultation`).Scan(&n, &kind))
	assert.Equal(t, 4, n)
	assert.Equal(t, "r", kind, "a plain table again")
	_, err = postgres.Migrate(ctx, pool, false)
	require.NoError(t, err)
}
