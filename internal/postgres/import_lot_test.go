package postgres_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aglae-connector/aglae-connector/internal/bourse"
	"github.com/aglae-connector/aglae-connector/internal/extract"
	"github.com/aglae-connector/aglae-connector/internal/pgtest"
	"github.com/aglae-connector/aglae-connector/internal/postgres"
	"github.com/aglae-connector/aglae-connector/internal/testutil"
)

// The import merges an extract lot by lot, in one transaction: these tests
// use lots of a few dossiers, so that a fault or a failure happens after
// earlier lots were merged.

func extractLines(t *testing.T, name string) []string {
	t.Helper()
	b, err := os.ReadFile(testutil.Testdata(name))
	require.NoError(t, err)
	return strings.Split(strings.TrimSpace(string(b)), "\n")
}

// contents is what the aglae tables hold, but for when dossiers were
// imported.
func contents(t *testing.T, pool *pgxpool.Pool) []string {
	t.Helper()
	rows, err := pool.Query(context.Background(), `SELECT x::text FROM aglae.etudiant x
		UNION ALL SELECT (SELECT x FROM (SELECT d.*) x)::text FROM (SELECT `+strings.Join(postgres.DossierTableColumns, ", ")+` FROM aglae.dossier) d
		UNION ALL SELECT x::text FROM aglae.voeu x UNION ALL SELECT x::text FROM aglae.piece_manquante x ORDER BY 1`)
	require.NoError(t, err)
	s, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	require.NotEmpty(t, s)
	return s
}

func importLots(t *testing.T, pool *pgxpool.Pool, lines []string, n int, afterLot func(int)) (postgres.ImportResult, []extract.Fault, error) {
	t.Helper()
	var faults []extract.Fault
	opts := postgres.WithLots(postgres.ImportOptions{OnFault: func(f extract.Fault) { faults = append(faults, f) }}, n, afterLot)
	res, err := postgres.Import(context.Background(), pool, strings.NewReader(strings.Join(lines, "\n")+"\n"), opts)
	return res, faults, err
}

func TestImportInLotsEqualsImportAtOnce(t *testing.T) {
	whole := pgtest.New(t)
	pgtest.ImportFile(t, whole, testutil.Testdata("extract.jsonl"))
	pgtest.ImportFile(t, whole, testutil.Testdata("extract-suite.jsonl"))

	pool := pgtest.New(t)
	lots := 0
	res, faults, err := importLots(t, pool, extractLines(t, "extract.jsonl"), 3, func(n int) { lots = n })
	require.NoError(t, err)
	require.Empty(t, faults)
	assert.Equal(t, 7, lots, "20 dossiers in lots of 3")
	assert.Equal(t, postgres.ImportResult{Lines: 20, Dossiers: 20, Created: 20, Etudiants: res.Etudiants}, res)
	res, faults, err = importLots(t, pool, extractLines(t, "extract-suite.jsonl"), 1, nil)
	require.NoError(t, err)
	require.Empty(t, faults)
	assert.Equal(t, 2, res.Changed, "%+v", res)
	assert.Equal(t, 1, res.Created, "%+v", res)
	assert.Equal(t, contents(t, whole), contents(t, pool))
	assertNoOrphans(t, pool)
}

// A student on several lines keeps the identity of the last one, whatever
// lots the lines fall in.
func TestImportLastLineWinsAcrossLots(t *testing.T) {
	pool := pgtest.New(t)
	lines := extractLines(t, "extract.jsonl")
	// Line 2's student gets a second dossier, of another year, at the end.
	other := strings.Replace(lines[1], "2025VER2000000011F", "2024VER2000000011F", 1)
	other = strings.Replace(other, `"anneeUniversitaire":2025`, `"anneeUniversitaire":2024`, 1)
	require.NotEqual(t, lines[1], other)
	_, faults, err := importLots(t, pool, append(lines, other), 2, nil)
	require.NoError(t, err)
	require.Empty(t, faults)
	var n int
	require.NoError(t, pool.QueryRow(context.Background(),
		`SELECT count(*) FROM aglae.dossier WHERE identifiant = '2000000011F'`).Scan(&n))
	assert.Equal(t, 2, n)
	assertNoOrphans(t, pool)
}

// A faulty line after lots were merged: nothing of the import stays.
func TestImportFaultInALaterLotImportsNothing(t *testing.T) {
	pool := pgtest.New(t)
	pgtest.ImportFile(t, pool, testutil.Testdata("extract.jsonl"))
	before := pgtest.Snapshot(t, pool)

	lines := extractLines(t, "extract-suite.jsonl")
	lines = append(lines, strings.Replace(lines[0], `"etat":"VALIDE"`, `"etat":"NON_TRAITE"`, 1))
	merged := 0
	res, faults, err := importLots(t, pool, lines, 1, func(n int) { merged = n })
	require.NoError(t, err)
	assert.Equal(t, 3, merged, "the lots before the fault were merged")
	require.Len(t, faults, 1, "%v", faults)
	assert.Equal(t, extract.Fault{Line: 4, Field: "decision", Raison: faults[0].Raison}, faults[0])
	assert.Equal(t, 1, res.Faults)
	assert.Zero(t, res.Created+res.Changed+res.Etudiants, "%+v", res)
	assert.Equal(t, before, pgtest.Snapshot(t, pool), "nothing may be imported")
}

// A dossier twice, in one lot or in two: a fault, nothing imported.
func TestImportSameDossierTwiceInLots(t *testing.T) {
	for _, lot := range []int{2, 30} {
		pool := pgtest.New(t)
		lines := extractLines(t, "extract.jsonl")
		res, faults, err := importLots(t, pool, append(lines, lines[0]), lot, nil)
		require.NoError(t, err, "lots of %d", lot)
		require.Len(t, faults, 1, "lots of %d", lot)
		assert.Equal(t, extract.Fault{Line: 1, Field: "numeroDossier", Raison: "the same dossier number is on lines 1, 21"}, faults[0])
		assert.Equal(t, 1, res.Faults)
		assert.Empty(t, pgtest.Snapshot(t, pool), "lots of %d", lot)
	}
}

// PostgreSQL refusing a later lot (here a trigger standing for any
// failure of one part of the merge) rolls back the lots merged before.
func TestImportFailureInALaterLotRollsBackEverything(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.New(t)
	pgtest.ImportFile(t, pool, testutil.Testdata("extract.jsonl"))
	before := pgtest.Snapshot(t, pool)
	_, err := pool.Exec(ctx, `CREATE FUNCTION public.refuse() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN RAISE EXCEPTION 'refused %', NEW.numero_dossier; END $$;
		CREATE TRIGGER refuse BEFORE INSERT ON aglae.voeu FOR EACH ROW
		WHEN (NEW.numero_dossier = '2025VER2000000166Z') EXECUTE FUNCTION public.refuse()`)
	require.NoError(t, err)

	merged := 0
	_, _, err = importLots(t, pool, extractLines(t, "extract-suite.jsonl"), 1, func(n int) { merged = n })
	require.Error(t, err)
	assert.Contains(t, err.Error(), "vœux")
	assert.Equal(t, 2, merged, "the two lots before the failing one were merged")
	assert.Equal(t, before, pgtest.Snapshot(t, pool), "nothing may be imported")
}

// Lookups during an import see the data as it was until the import
// commits; the work that follows an import sees the new data.
func TestLookupsSeeTheOldDataUntilTheSwap(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.New(t)
	pgtest.ImportFile(t, pool, testutil.Testdata("extract.jsonl"))
	store := postgres.NewStore(pool)
	nature := func() string {
		t.Helper()
		ds, _, err := store.Dossiers(ctx, bourse.Query{Identifiant: "1111037734L", Annee: 2014})
		require.NoError(t, err)
		require.Len(t, ds, 1)
		return string(ds[0].Decision.Nature)
	}
	dossiers := func() int {
		var n int
		require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM aglae.dossier`).Scan(&n))
		return n
	}
	require.Equal(t, "ATTRIBUTION_CONDITIONNELLE", nature())

	seen := map[int]string{}
	opts := postgres.WithLots(postgres.ImportOptions{}, 1, func(n int) {
		seen[n] = nature()
		assert.Equal(t, 20, dossiers(), "after lot %d", n)
	})
	var after string
	opts.AfterSwap = func(ctx context.Context, res postgres.ImportResult) error {
		after = nature()
		assert.Equal(t, 21, dossiers())
		assert.Equal(t, 2, res.Changed)
		return nil
	}
	f, err := os.Open(testutil.Testdata("extract-suite.jsonl"))
	require.NoError(t, err)
	defer f.Close()
	_, err = postgres.Import(ctx, pool, f, opts)
	require.NoError(t, err)
	assert.Equal(t, map[int]string{1: "ATTRIBUTION_CONDITIONNELLE", 2: "ATTRIBUTION_CONDITIONNELLE", 3: "ATTRIBUTION_CONDITIONNELLE"}, seen,
		"the first lot changed the dossier, but not for lookups")
	assert.Equal(t, "ATTRIBUTION_DEFINITIVE", after)
	assert.Equal(t, "ATTRIBUTION_DEFINITIVE", nature())
}

func TestImportAfterSwapError(t *testing.T) {
	pool := pgtest.New(t)
	f, err := os.Open(testutil.Testdata("extract.jsonl"))
	require.NoError(t, err)
	defer f.Close()
	boom := errors.New("boom")
	_, err = postgres.Import(context.Background(), pool, f, postgres.ImportOptions{
		AfterSwap: func(context.Context, postgres.ImportResult) error { return boom },
	})
	require.ErrorIs(t, err, boom)
	var n int
	require.NoError(t, pool.QueryRow(context.Background(), `SELECT count(*) FROM aglae.dossier`).Scan(&n))
	assert.Equal(t, 20, n, "the import itself is committed")
}
