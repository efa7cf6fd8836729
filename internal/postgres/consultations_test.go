package postgres_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"strings"
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
)

// TestConsultationsExportAndPurge: the export selects by establishment and
// period, orders by time, keeps NULLs; month partitions take the rows of
// the default one; the purge drops whole months before the cutoff's.
func TestConsultationsExportAndPurge(t *testing.T) {
	pool := pgtest.New(t)
	store := postgres.NewConsultations(pool)
	ctx := context.Background()
	day := func(d int, h int) time.Time { return time.Date(2025, 9, d, h, 0, 0, 0, time.UTC) }
	recs := []journal.Consultation{
		{Horodatage: day(3, 9), ClientID: `integ, "X"`, UAI: "0781944P", Canal: bourse.CanalREST, Identifiant: "1234567890A",
			Annee: 2025, Statut: "BOURSIER", TypeDecision: "DEFINITIVE", Echelon: "0bis", Raison: "ATTRIBUTION_DEFINITIVE",
			Correspondance: "IDENTIFIANT", RequestID: "r2", Latency: 1500 * time.Microsecond},
		{Horodatage: day(1, 9), ClientID: "uvsq", UAI: "0781944P", Canal: bourse.CanalSOAP, Annee: 2025,
			Statut: "EN_ATTENTE", Raison: "IDENTITE_AMBIGUE", RequestID: "r1", Latency: 42 * time.Microsecond},
		{Horodatage: day(2, 9), ClientID: "other", UAI: "0751234A", Canal: bourse.CanalREST, Annee: 2025,
			Statut: "INCONNU", Raison: "AUCUN_DOSSIER", RequestID: "r-other"},
		{Horodatage: day(5, 9), ClientID: "uvsq", UAI: "0781944P", Canal: bourse.CanalBatch, Identifiant: "1234567890A",
			Annee: 2025, Statut: "NON_BOURSIER", Raison: "line\nbreak", RequestID: "r3"},
		{Horodatage: day(1, 7), ClientID: "integ", Canal: bourse.CanalREST, Annee: 2025, // no UAI: NULL
			Statut: "INCONNU", Raison: "AUCUN_DOSSIER", RequestID: "r0"},
	}
	n, err := store.Write(ctx, recs)
	require.NoError(t, err)
	require.Equal(t, len(recs), n)

	t.Run("csv", func(t *testing.T) {
		var buf bytes.Buffer
		n, err := journal.Export(ctx, store, journal.Filter{UAI: "0781944P", Since: day(1, 0), Until: day(4, 0)}, &buf, "csv")
		require.NoError(t, err)
		assert.Equal(t, 2, n)
		out := buf.String()
		assert.Contains(t, out, `"integ, ""X"""`, "RFC 4180 quoting")
		recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
		require.NoError(t, err)
		require.Len(t, recs, 3)
		assert.Equal(t, []string{"horodatage", "client_id", "uai", "canal", "identifiant", "annee_universitaire",
			"statut", "type_decision", "echelon", "raison", "correspondance", "identifiant_aglae", "numero_dossier",
			"anomalie", "request_id", "latence_us"}, recs[0])
		// Ordered by horodatage, in Paris time.
		assert.Equal(t, []string{"2025-09-01T11:00:00.000000+02:00", "uvsq", "0781944P", "SOAP", "", "2025",
			"EN_ATTENTE", "", "", "IDENTITE_AMBIGUE", "", "", "", "", "r1", "42"}, recs[1])
		assert.Equal(t, []string{"2025-09-03T11:00:00.000000+02:00", `integ, "X"`, "0781944P", "REST", "1234567890A", "2025",
			"BOURSIER", "DEFINITIVE", "0bis", "ATTRIBUTION_DEFINITIVE", "IDENTIFIANT", "", "", "", "r2", "1500"}, recs[2])
	})

	t.Run("csv with a line break", func(t *testing.T) {
		var buf bytes.Buffer
		n, err := journal.Export(ctx, store, journal.Filter{UAI: "0781944P", Since: day(5, 0)}, &buf, "csv")
		require.NoError(t, err)
		assert.Equal(t, 1, n)
		recs, err := csv.NewReader(&buf).ReadAll()
		require.NoError(t, err)
		require.Len(t, recs, 2)
		assert.Equal(t, "line\nbreak", recs[1][9])
	})

	t.Run("json", func(t *testing.T) {
		var buf bytes.Buffer
		n, err := journal.Export(ctx, store, journal.Filter{Since: day(1, 0), Until: day(3, 0)}, &buf, "json")
		require.NoError(t, err)
		assert.Equal(t, 3, n)
		lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
		require.Len(t, lines, 3)
		var ids []string
		for _, l := range lines {
			var m map[string]any
			require.NoError(t, json.Unmarshal([]byte(l), &m))
			ids = append(ids, m["request_id"].(string))
		}
		assert.Equal(t, []string{"r0", "r1", "r-other"}, ids, "all establishments, ordered by horodatage")
		var first map[string]any
		require.NoError(t, json.Unmarshal([]byte(lines[0]), &first))
		assert.Nil(t, first["uai"], "NULL is null")
		assert.Nil(t, first["identifiant"])
		assert.Equal(t, "2025-09-01T09:00:00+02:00", first["horodatage"])
		assert.Equal(t, float64(2025), first["annee_universitaire"])
		assert.Equal(t, "AUCUN_DOSSIER", first["raison"])
	})

	t.Run("bad format", func(t *testing.T) {
		_, err := journal.Export(ctx, store, journal.Filter{}, &bytes.Buffer{}, "xml")
		assert.Equal(t, bourse.KindInvalid, bourse.KindOf(err))
	})

	// perDay is what the console's chart reads (migration 00008), against
	// the log it must always equal.
	perDay := func(t *testing.T) (kept, log string) {
		t.Helper()
		q := func(sql string) string {
			var out string
			require.NoError(t, pool.QueryRow(ctx, sql).Scan(&out))
			return out
		}
		return q(`SELECT coalesce(string_agg(format('%s %s %s %s', uai, jour, statut, n), ', ' ORDER BY uai, jour, statut), '')
				FROM connecteur.reponses_par_jour`),
			q(`SELECT coalesce(string_agg(format('%s %s %s %s', uai, jour, statut, n), ', ' ORDER BY uai, jour, statut), '')
				FROM (SELECT uai, (horodatage AT TIME ZONE 'Europe/Paris')::date AS jour, statut, count(*) AS n
					FROM connecteur.consultation WHERE uai IS NOT NULL AND canal <> 'RECHECK' GROUP BY 1, 2, 3) c`)
	}
	kept, log := perDay(t)
	assert.Equal(t, "0751234A 2025-09-02 INCONNU 1, 0781944P 2025-09-01 EN_ATTENTE 1, 0781944P 2025-09-03 BOURSIER 1, 0781944P 2025-09-05 NON_BOURSIER 1", kept)
	assert.Equal(t, log, kept)

	t.Run("partitions and purge", func(t *testing.T) {
		defer func() {
			kept, log := perDay(t)
			assert.Equal(t, log, kept, "the per-day counts follow the purge")
		}()
		count := func(table string) (n int) {
			require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM `+table).Scan(&n))
			return n
		}
		// September 2025 has no partition yet (the template database has the
		// months of the day it was made): its rows are in the default one.
		assert.Equal(t, len(recs), count("connecteur.consultation_defaut"))
		n, err := store.MakePartitionsBetween(ctx, day(1, 0).AddDate(0, -1, 0), day(1, 0))
		require.NoError(t, err)
		assert.Equal(t, 2, n, "August and September")
		assert.Zero(t, count("connecteur.consultation_defaut"), "moved to their month")
		assert.Equal(t, len(recs), count("connecteur.consultation_2025_09"))
		n, err = store.MakePartitionsBetween(ctx, day(1, 0), day(1, 0))
		require.NoError(t, err)
		assert.Zero(t, n, "idempotent")
		// 31 August 23:30 UTC is 1 September in Paris: September's.
		late := recs[0]
		late.Horodatage, late.RequestID = time.Date(2025, 8, 31, 23, 30, 0, 0, time.UTC), "r-paris"
		old := recs[0]
		old.Horodatage, old.RequestID = time.Date(2025, 6, 15, 9, 0, 0, 0, time.UTC), "r-june" // no month: the default partition
		_, err = store.Write(ctx, []journal.Consultation{late, old})
		require.NoError(t, err)
		assert.Equal(t, 1, count("connecteur.consultation_defaut"))
		assert.Equal(t, len(recs)+1, count("connecteur.consultation_2025_09"))

		// Rounded down to 1 September 00:00 Paris: August (empty) and June's
		// row go; September stays whole.
		res, err := journal.Purge(ctx, store, day(3, 0))
		require.NoError(t, err)
		assert.Equal(t, time.Date(2025, 9, 1, 0, 0, 0, 0, bourse.Paris), res.Limit)
		assert.Equal(t, []string{"2025-08"}, res.Months)
		assert.Equal(t, int64(1), res.DefaultRows)
		assert.ElementsMatch(t, []string{"r0", "r1", "r2", "r3", "r-other", "r-paris"}, requestIDs(t, pool))

		res, err = journal.Purge(ctx, store, time.Date(2025, 10, 2, 0, 0, 0, 0, time.UTC))
		require.NoError(t, err)
		assert.Equal(t, []string{"2025-09"}, res.Months)
		assert.Empty(t, requestIDs(t, pool))
		kept, _ := perDay(t)
		assert.Empty(t, kept)
		assert.Zero(t, count("connecteur.etudiant_suivi"), "no row left, no student left")

		// A month dropped is written again through the default partition.
		_, err = store.Write(ctx, recs[:1])
		require.NoError(t, err)
		assert.Equal(t, 1, count("connecteur.consultation_defaut"))
	})
}

// TestConsultationsWriteRefused: a record the database refuses fails the
// whole COPY with an error of kind Invalid whose text names the SQLSTATE,
// constraint or column, never the value; nothing is written.
func TestConsultationsWriteRefused(t *testing.T) {
	pool := pgtest.New(t)
	store := postgres.NewConsultations(pool)
	ctx := context.Background()
	ok := journal.Consultation{Horodatage: time.Date(2025, 9, 1, 9, 0, 0, 0, time.UTC), ClientID: "uvsq",
		Canal: bourse.CanalREST, Annee: 2025, Statut: "INCONNU", Raison: "AUCUN_DOSSIER", RequestID: "r-ok"}
	for _, tc := range []struct {
		name   string
		change func(c *journal.Consultation)
		text   string
	}{
		{"check constraint", func(c *journal.Consultation) { c.Canal = "SECRET-CANAL" }, "SQLSTATE 23514 constraint consultation_canal_check"},
		{"not null", func(c *journal.Consultation) { c.Canal = "" }, "SQLSTATE 23"},
		{"too long", func(c *journal.Consultation) { c.UAI = "SECRET-UAI" }, "SQLSTATE 22001"},
		{"not UTF-8", func(c *journal.Consultation) { c.Raison = "SECRET\x00" }, "SQLSTATE 22"},
		{"year out of range", func(c *journal.Consultation) { c.Annee = 40_000 }, "annee_universitaire out of range"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad := ok
			bad.RequestID = "r-bad"
			tc.change(&bad)
			_, err := store.Write(ctx, []journal.Consultation{ok, bad})
			require.Error(t, err)
			assert.Equal(t, bourse.KindInvalid, bourse.KindOf(err), "%v", err)
			assert.Contains(t, err.Error(), tc.text)
			assert.NotContains(t, err.Error(), "SECRET", "no value in the text")
			assert.Empty(t, requestIDs(t, pool), "all or nothing")
		})
	}
}

// TestConsultationsWriteUnavailable: a database that cannot take records
// now is no invalid record.
func TestConsultationsWriteUnavailable(t *testing.T) {
	pool := pgtest.New(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := postgres.NewConsultations(pool).Write(ctx, []journal.Consultation{{Canal: bourse.CanalREST}})
	require.Error(t, err)
	assert.Equal(t, bourse.KindUnavailable, bourse.KindOf(err), "%v", err)
}

func requestIDs(t *testing.T, pool *pgxpool.Pool) []string {
	t.Helper()
	rows, err := pool.Query(context.Background(), "SELECT request_id FROM connecteur.consultation")
	require.NoError(t, err)
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	return ids
}

// BenchmarkWrite writes 100,000 consultations through the store, in
// batches of journal.DefaultBatchMax as the journal does, for 20,000
// students of one establishment whose answer moves now and then: the log's
// batch write, with everything a batch maintains.
func BenchmarkWrite(b *testing.B) {
	pool := pgtest.New(b)
	store := postgres.NewConsultations(pool)
	ctx := context.Background()
	statuts := []struct{ s, td string }{{"BOURSIER", "DEFINITIVE"}, {"BOURSIER", "CONDITIONNELLE"}, {"EN_ATTENTE", ""}, {"NON_BOURSIER", ""}, {"INCONNU", ""}}
	start := time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC)
	const total = 100_000
	recs := make([]journal.Consultation, journal.DefaultBatchMax)
	b.ResetTimer()
	for round := range b.N {
		for done := 0; done < total; done += len(recs) {
			for k := range recs {
				i := round*total + done + k
				student := i % 20_000
				st := statuts[(student+i/20_000/7)%len(statuts)]
				recs[k] = journal.Consultation{Horodatage: start.Add(time.Duration(i) * time.Second), ClientID: "uvsq",
					UAI: "0781944P", Canal: bourse.CanalREST, Identifiant: fmt.Sprintf("12345%06d", student), Annee: 2025,
					Statut: st.s, TypeDecision: st.td, Raison: "R", Correspondance: "IDENTIFIANT", RequestID: "req"}
			}
			if _, err := store.Write(ctx, recs); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.N*total)/b.Elapsed().Seconds(), "records/s")
}
