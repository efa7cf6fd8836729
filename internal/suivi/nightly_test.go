package suivi_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aglae-connector/aglae-connector/internal/bourse"
	"github.com/aglae-connector/aglae-connector/internal/journal"
	"github.com/aglae-connector/aglae-connector/internal/pgtest"
	"github.com/aglae-connector/aglae-connector/internal/postgres"
	"github.com/aglae-connector/aglae-connector/internal/suivi"
)

// TestNightly: the nightly re-check re-asks only the students not final
// whose dossier an import changed since their last answer, records only
// the answers that differ, marks every student it re-asked, and a night
// with no new extract re-asks nobody.
func TestNightly(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.New(t)
	pgtest.ImportFile(t, pool, "../../testdata/extract.jsonl")
	// The extract was imported yesterday; Apogée asked an hour ago.
	_, err := pool.Exec(ctx, `UPDATE aglae.dossier SET importe_le = importe_le - interval '1 day'`)
	require.NoError(t, err)
	clk := &clock{now: time.Now().Add(-time.Hour)}
	j := openJournal(t, pool, clk)
	svc := journal.Tracer(&bourse.Service{Store: postgres.NewStore(pool)}, j)
	apogeeA := bourse.WithAppelant(ctx, bourse.Appelant{ClientID: "uvsqapogee", UAI: uaiA, Canal: bourse.CanalSOAP})
	apogeeB := bourse.WithAppelant(ctx, bourse.Appelant{ClientID: "sorbonne", UAI: uaiB, Canal: bourse.CanalREST})
	for _, id := range []string{quintard, walczak, yverneau, zambrano, barracand, chauveau, okonkwo, kergoat, mistyped} {
		_, err := svc.Consult(apogeeA, bourse.Saisie{Identifiant: id, Annee: annee})
		require.NoError(t, err)
	}
	_, err = svc.Consult(apogeeB, bourse.Saisie{Identifiant: yverneau, Annee: annee})
	require.NoError(t, err)
	closeJournal(t, j)

	store := postgres.NewSuivi(pool)
	engine := &bourse.Service{Store: postgres.NewStore(pool)}
	night := func(t *testing.T, uai string) suivi.Result {
		t.Helper()
		clk.set(time.Now())
		j := openJournal(t, pool, clk)
		res, err := suivi.Nightly(ctx, store, engine, j, uai, annee)
		require.NoError(t, err)
		closeJournal(t, j)
		return res
	}
	rechecks := func(t *testing.T) []string {
		t.Helper()
		return queryStrings(t, pool, `SELECT identifiant FROM connecteur.consultation WHERE canal = 'RECHECK' ORDER BY identifiant`)
	}
	marked := func(t *testing.T) []string {
		t.Helper()
		return queryStrings(t, pool, `SELECT rtrim(uai) || ' ' || identifiant FROM connecteur.etudiant_suivi
			WHERE reverifie_le IS NOT NULL ORDER BY 1`)
	}

	t.Run("no new extract", func(t *testing.T) {
		assert.Equal(t, suivi.Result{}, night(t, uaiA))
		assert.Empty(t, rechecks(t))
		assert.Empty(t, marked(t))
	})

	// November's extract changes yverneau, zambrano, barracand, chauveau
	// and creates kergoat's dossier; walczak's dossier is touched by an
	// import (its vœux, say) without changing the answer.
	pgtest.ImportFile(t, pool, "testdata/extract-novembre.jsonl")
	_, err = pool.Exec(ctx, `UPDATE aglae.dossier SET importe_le = now() WHERE identifiant = $1`, walczak)
	require.NoError(t, err)

	t.Run("after an extract", func(t *testing.T) {
		res := night(t, uaiA)
		assert.Equal(t, suivi.Result{Candidates: 6, Reasked: 6, Changes: 5, Batches: 1}, res)
		assert.Equal(t, []string{yverneau, zambrano, barracand, chauveau, kergoat}, rechecks(t),
			"only the answers that changed are recorded")
		assert.Equal(t, []string{uaiA + " " + walczak, uaiA + " " + yverneau, uaiA + " " + zambrano, uaiA + " " + barracand,
			uaiA + " " + chauveau, uaiA + " " + kergoat}, marked(t), "every student re-asked is marked")
		cs, err := suivi.Suivi(ctx, store, uaiA, time.Time{})
		require.NoError(t, err)
		assert.Equal(t, []string{yverneau, zambrano, barracand, chauveau, kergoat}, identifiants(cs))
		for _, c := range cs {
			assert.Equal(t, bourse.CanalRecheck, c.SeenBy)
		}
	})

	t.Run("every establishment", func(t *testing.T) {
		clk.set(time.Now())
		j := openJournal(t, pool, clk)
		res, n, err := suivi.NightlyAll(ctx, store, engine, j, annee)
		require.NoError(t, err)
		closeJournal(t, j)
		assert.Equal(t, 1, n, "B only: A has nobody to re-check")
		assert.Equal(t, suivi.Result{Candidates: 1, Reasked: 1, Changes: 1, Batches: 1}, res, "B's student only: A's were re-checked")
		assert.Contains(t, marked(t), uaiB+" "+yverneau)
	})

	t.Run("the next night", func(t *testing.T) {
		before := rechecks(t)
		clk.set(time.Now())
		j := openJournal(t, pool, clk)
		res, _, err := suivi.NightlyAll(ctx, store, engine, j, annee)
		require.NoError(t, err)
		closeJournal(t, j)
		assert.Equal(t, suivi.Result{}, res, "no new extract: nobody re-asked")
		assert.Equal(t, before, rechecks(t))
	})

	t.Run("bad input", func(t *testing.T) {
		_, err := suivi.Nightly(ctx, store, engine, j, "nope", annee)
		assert.Equal(t, bourse.KindInvalid, bourse.KindOf(err))
		_, err = suivi.Nightly(ctx, store, engine, j, uaiA, 1900)
		assert.Equal(t, bourse.KindInvalid, bourse.KindOf(err))
	})
}

func queryStrings(t *testing.T, pool *pgxpool.Pool, q string, args ...any) []string {
	t.Helper()
	rows, err := pool.Query(context.Background(), q, args...)
	require.NoError(t, err)
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	return out
}
