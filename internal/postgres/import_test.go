package postgres_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aglae-connector/aglae-connector/internal/extract"
	"github.com/aglae-connector/aglae-connector/internal/pgtest"
	"github.com/aglae-connector/aglae-connector/internal/postgres"
	"github.com/aglae-connector/aglae-connector/internal/testutil"
)

// assertNoOrphans checks what foreign keys would: every dossier has its
// student, every vœu and missing document its dossier.
func assertNoOrphans(t *testing.T, pool *pgxpool.Pool) {
	t.Helper()
	var n int
	require.NoError(t, pool.QueryRow(context.Background(), `SELECT
		(SELECT count(*) FROM aglae.dossier d WHERE NOT EXISTS (SELECT 1 FROM aglae.etudiant e WHERE e.identifiant = d.identifiant))
		+ (SELECT count(*) FROM aglae.voeu v WHERE NOT EXISTS (SELECT 1 FROM aglae.dossier d WHERE d.numero_dossier = v.numero_dossier))
		+ (SELECT count(*) FROM aglae.piece_manquante p WHERE NOT EXISTS (SELECT 1 FROM aglae.dossier d WHERE d.numero_dossier = p.numero_dossier))`).Scan(&n))
	assert.Zero(t, n, "orphaned rows")
}

func importString(t *testing.T, pool *pgxpool.Pool, s string) (postgres.ImportResult, []extract.Fault) {
	t.Helper()
	var faults []extract.Fault
	res, err := postgres.Import(context.Background(), pool, strings.NewReader(s), postgres.ImportOptions{
		OnFault: func(f extract.Fault) { faults = append(faults, f) },
	})
	require.NoError(t, err)
	return res, faults
}

func TestImportTwiceChangesNothing(t *testing.T) {
	pool := pgtest.New(t)
	first := pgtest.ImportFile(t, pool, testutil.Testdata("extract.jsonl"))
	assert.Equal(t, 20, first.Dossiers)
	assert.Equal(t, 20, first.Created)
	before := pgtest.Snapshot(t, pool)

	again := pgtest.ImportFile(t, pool, testutil.Testdata("extract.jsonl"))
	assert.Equal(t, 0, again.Created+again.Changed+again.Etudiants, "%+v", again)
	assert.Equal(t, 20, again.Unchanged)
	assert.Equal(t, before, pgtest.Snapshot(t, pool), "a second import of the same file must write nothing")
	assertNoOrphans(t, pool)
}

func TestImportNewerExtractReplacesDossierWhole(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.New(t)
	pgtest.ImportFile(t, pool, testutil.Testdata("extract.jsonl"))
	res := pgtest.ImportFile(t, pool, testutil.Testdata("extract-suite.jsonl"))
	assert.Equal(t, 2, res.Changed, "%+v", res)
	assert.Equal(t, 1, res.Created, "%+v", res)

	var nature, echelon string
	var montant float64
	require.NoError(t, pool.QueryRow(ctx, `SELECT decision_nature, echelon, montant_annuel FROM aglae.dossier
		WHERE numero_dossier = '2014MON1111037734L'`).Scan(&nature, &echelon, &montant))
	assert.Equal(t, "ATTRIBUTION_DEFINITIVE", nature)
	assert.Equal(t, 1665.0, montant)

	// The dossier that waited for documents is now validated: its missing documents are gone, its vœux replaced.
	var pieces, voeux int
	var uai string
	require.NoError(t, pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM aglae.piece_manquante WHERE numero_dossier = '2025VER2000000044S'),
		(SELECT count(*) FROM aglae.voeu WHERE numero_dossier = '2025VER2000000044S'),
		(SELECT uai FROM aglae.voeu WHERE numero_dossier = '2025VER2000000044S' AND rang = 1)`).Scan(&pieces, &voeux, &uai))
	assert.Equal(t, 0, pieces)
	assert.Equal(t, 2, voeux)
	assert.Equal(t, "0751717J", uai)

	// Dossiers absent from the newer extract stay as they were.
	var n int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM aglae.dossier`).Scan(&n))
	assert.Equal(t, 21, n)
	assertNoOrphans(t, pool)
}

func TestImportContradictoryLineImportsNothing(t *testing.T) {
	pool := pgtest.New(t)
	good, err := os.ReadFile(testutil.Testdata("extract.jsonl"))
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(string(good)), "\n")
	// Line 2: a decision on a dossier not processed yet.
	lines[1] = strings.Replace(lines[1], `"etat":"VALIDE"`, `"etat":"NON_TRAITE"`, 1)
	res, faults := importString(t, pool, strings.Join(lines, "\n")+"\n")
	assert.Equal(t, 1, res.Faults)
	require.Len(t, faults, 1)
	assert.Equal(t, 2, faults[0].Line)
	assert.Equal(t, "decision", faults[0].Field)
	assert.Contains(t, faults[0].Raison, "NON_TRAITE")
	assert.Empty(t, pgtest.Snapshot(t, pool), "nothing may be imported")
}

func TestImportCrossLineChecks(t *testing.T) {
	pool := pgtest.New(t)
	good, err := os.ReadFile(testutil.Testdata("extract.jsonl"))
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(string(good)), "\n")
	withDup := append(append([]string{}, lines...), lines[2])                        // line 21 repeats line 3
	other := strings.Replace(lines[1], `"prenom":"Basile"`, `"prenom":"Bastien"`, 1) // same identifier, other identity
	other = strings.Replace(other, "2025VER2000000011F", "2025CRE2000000011F", 1)    // in another académie
	other = strings.Replace(other, `"academie":"VER","identifiant"`, `"academie":"CRE","identifiant"`, 1)
	withDup = append(withDup, other)
	res, faults := importString(t, pool, strings.Join(withDup, "\n"))
	assert.Equal(t, 2, res.Faults, "%v", faults)
	require.Len(t, faults, 2)
	assert.Equal(t, extract.Fault{Line: 3, Field: "numeroDossier", Raison: "the same dossier number is on lines 3, 21"}, faults[0])
	assert.Equal(t, 2, faults[1].Line)
	assert.Equal(t, "identifiant", faults[1].Field)
	assert.Contains(t, faults[1].Raison, "lines 2, 22")
	assert.Empty(t, pgtest.Snapshot(t, pool))
}

func TestImportReportsEveryBadLine(t *testing.T) {
	pool := pgtest.New(t)
	in := strings.Join([]string{
		`{"numeroDossier":"2025VER2000000011F"`,                              // 1: malformed JSON
		`{"numeroDossier":"2025VER2000000011F","anneeUniversitaire":"2025"}`, // 2: wrong type
		`{"numeroDossier":"2025VER2000000011F","couleur":"bleu"}`,            // 3: unknown field
		``, // 4: blank, skipped
		`{"numeroDossier":"2025VER2000000011G","anneeUniversitaire":2025,"academie":"VER","identifiant":"2000000011G","nom":"A","prenom":"B","dateNaissance":"2006-03-14","etat":"VALIDE","piecesManquantes":[],"voeux":[]}`,                                                                                                                                                                                                                     // 5: bad key
		`{"numeroDossier":"2025VER2000000011F","anneeUniversitaire":2025,"academie":"VER","identifiant":"2000000011F","nom":"A","prenom":"B","dateNaissance":"2006-03-14","etat":"VALIDE","piecesManquantes":[],"decision":{"nature":"REJET","echelon":"2","date":"2025-06-01","sousReserveProgression":false,"progressionVerifiee":false},"voeux":[{"rang":1,"academie":"VER","uai":"0781944Q","etablissement":"UVSQ","formation":"Licence"}]}`, // 6: REJET with an échelon, bad UAI key
	}, "\n")
	res, faults := importString(t, pool, in)
	var got []string
	for _, f := range faults {
		got = append(got, f.String())
	}
	assert.Equal(t, 7, res.Faults, strings.Join(got, "\n"))
	lines := map[int][]string{}
	for _, f := range faults {
		lines[f.Line] = append(lines[f.Line], f.Field)
	}
	assert.Equal(t, map[int][]string{
		1: {""},
		2: {"anneeUniversitaire"},
		3: {"couleur"},
		5: {"identifiant", "numeroDossier"},
		6: {"decision.echelon", "voeux[0].uai"},
	}, lines, strings.Join(got, "\n"))
	assert.Empty(t, pgtest.Snapshot(t, pool))
}

// TestImportKeepsRejectionBareme checks that a REJET carrying the barème it
// was computed against, with its points, imports whole (the check
// constraint of migration 00004 allows it), as Aglaé's rejections do.
func TestImportKeepsRejectionBareme(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.New(t)
	pgtest.ImportFile(t, pool, testutil.Testdata("extract.jsonl"))
	var nature string
	var echelon *string
	var bareme, charge, distance *int
	require.NoError(t, pool.QueryRow(ctx, `SELECT decision_nature, echelon, bareme, points_charge, points_distance
		FROM aglae.dossier WHERE numero_dossier = '2025VER2000000022T'`).Scan(&nature, &echelon, &bareme, &charge, &distance))
	assert.Equal(t, "REJET", nature)
	assert.Nil(t, echelon)
	require.NotNil(t, bareme)
	assert.Equal(t, 2024, *bareme)
	require.NotNil(t, charge)
	require.NotNil(t, distance)
	assert.Equal(t, []int{5, 1}, []int{*charge, *distance})

	// The database refuses what the reader refuses: a REJET with an échelon.
	_, err := pool.Exec(ctx, `UPDATE aglae.dossier SET echelon = '1' WHERE numero_dossier = '2025VER2000000022T'`)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "decision_echelon")
}
