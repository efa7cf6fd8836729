package postgres_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aglae-connector/aglae-connector/internal/bourse"
	"github.com/aglae-connector/aglae-connector/internal/pgtest"
	"github.com/aglae-connector/aglae-connector/internal/postgres"
	"github.com/aglae-connector/aglae-connector/internal/rest"
	"github.com/aglae-connector/aglae-connector/internal/testutil"
)

func TestStoreAnswersEveryTestdataStudent(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.New(t)
	pgtest.ImportFile(t, pool, testutil.Testdata("extract.jsonl"))
	svc := &bourse.Service{Store: postgres.NewStore(pool)}
	for _, c := range testutil.LoadCases(t) {
		t.Run(c.Name, func(t *testing.T) {
			in := bourse.Saisie(c.Saisie)
			got, err := svc.Consult(ctx, in)
			require.NoError(t, err)
			assert.Equal(t, c.Want, rest.ToReponse(got))
		})
	}
}

func TestStoreReasonsAreRecorded(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.New(t)
	pgtest.ImportFile(t, pool, testutil.Testdata("extract.jsonl"))
	svc := &bourse.Service{Store: postgres.NewStore(pool)}
	for _, c := range []struct {
		in   bourse.Saisie
		want bourse.Raison
	}{
		{bourse.Saisie{Identifiant: "2000000033E", Annee: 2025}, bourse.RaisonNonTraite},
		{bourse.Saisie{Identifiant: "2000000044S", Annee: 2025}, bourse.RaisonPiecesManquantes},
		{bourse.Saisie{Identifiant: "2000000055D", Annee: 2025}, bourse.RaisonProgressionAVerifier},
		{bourse.Saisie{Identifiant: "2000000088P", Annee: 2025}, bourse.RaisonNonTraite},
		{bourse.Saisie{Annee: 2025, Nom: "Martineau", Prenom: "Lucas", DateNaissance: "2006-01-01"}, bourse.RaisonIdentiteAmbigue},
		{bourse.Saisie{Identifiant: "2000000011F", Annee: 2025, Nom: "X", Prenom: "Y", DateNaissance: "2000-01-01"}, bourse.RaisonIdentiteDifferente},
		{bourse.Saisie{Identifiant: "2000000099B", Annee: 2025}, bourse.RaisonAucunDossier},
	} {
		got, err := svc.Consult(ctx, c.in)
		require.NoError(t, err)
		assert.Equal(t, c.want, got.Raison, "%+v", c.in)
	}
}

func TestStoreLookupsAreIndexScans(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.New(t)
	pgtest.ImportFile(t, pool, testutil.Testdata("extract.jsonl"))
	// A table this small would be read whole: tell the planner not to.
	conn, err := pool.Acquire(ctx)
	require.NoError(t, err)
	defer conn.Release()
	_, err = conn.Exec(ctx, "SET enable_seqscan = off")
	require.NoError(t, err)
	for name, q := range map[string]string{
		"by identifier": `EXPLAIN SELECT * FROM aglae.dossier WHERE identifiant = '2000000011F' AND annee_universitaire = 2025`,
		"by identity": `EXPLAIN SELECT * FROM aglae.etudiant e JOIN aglae.dossier d USING (identifiant)
			WHERE e.nom_normalise = 'QUINTARD' AND e.prenom_normalise = 'BASILE' AND e.date_naissance = '2006-03-14'
			AND d.annee_universitaire = 2025`,
	} {
		rows, err := conn.Query(ctx, q)
		require.NoError(t, err)
		var plan string
		for rows.Next() {
			var line string
			require.NoError(t, rows.Scan(&line))
			plan += line + "\n"
		}
		require.NoError(t, rows.Err())
		assert.NotContains(t, plan, "Seq Scan", name)
		assert.Contains(t, plan, "Index", name)
	}
}
