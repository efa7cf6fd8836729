package postgres_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aglae-connector/aglae-connector/internal/bourse"
	"github.com/aglae-connector/aglae-connector/internal/pgtest"
	"github.com/aglae-connector/aglae-connector/internal/postgres"
	"github.com/aglae-connector/aglae-connector/internal/testutil"
)

// TestBatchEstimateIgnoresTheArrays: the batch lookup's plan must not
// depend on its arrays. When it did (unnest of a bare parameter is costed
// from the array's length in a custom plan, at a fixed guess in the generic
// one), the generic plan never looked cheaper on a large table and
// PostgreSQL planned the statement again at every execution, four times
// the cost of executing it.
func TestBatchEstimateIgnoresTheArrays(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.New(t)
	rows := func(n int) float64 {
		ids, annees := make([]string, n), make([]int16, n)
		for i := range ids {
			ids[i], annees[i] = fmt.Sprintf("%010dA", i), 2025
		}
		var plan []struct {
			Plan struct {
				Rows float64 `json:"Plan Rows"`
			} `json:"Plan"`
		}
		var out []byte
		require.NoError(t, pool.QueryRow(ctx, "EXPLAIN (FORMAT JSON) "+postgres.SQLBatch, ids, annees).Scan(&out))
		require.NoError(t, json.Unmarshal(out, &plan))
		require.Len(t, plan, 1)
		return plan[0].Plan.Rows
	}
	assert.Equal(t, rows(1), rows(500))
}

// TestLookupStatementsKeepTheirPlan: the lookups' prepared statements use
// the generic plan after PostgreSQL's five custom plans.
func TestLookupStatementsKeepTheirPlan(t *testing.T) {
	ctx := context.Background()
	shared := pgtest.New(t)
	pgtest.ImportFile(t, shared, testutil.Testdata("extract.jsonl"))
	cfg, err := pgxpool.ParseConfig(shared.Config().ConnString())
	require.NoError(t, err)
	cfg.MaxConns = 1 // one session: its prepared statements are the store's
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	require.NoError(t, err)
	t.Cleanup(pool.Close)

	var ids []string
	for _, c := range testutil.LoadCases(t) {
		if c.Saisie.Nom == "" && c.Saisie.Identifiant != "" && c.Saisie.Annee == 2025 {
			ids = append(ids, c.Saisie.Identifiant)
		}
	}
	require.NotEmpty(t, ids)
	store := postgres.NewStore(pool)
	const runs = 12
	for i := range runs {
		_, err := store.DossiersBatch(ctx, 2025, ids[:1+i%len(ids)])
		require.NoError(t, err)
		_, _, err = store.Dossiers(ctx, bourse.Query{Identifiant: ids[i%len(ids)], Annee: 2025})
		require.NoError(t, err)
	}
	rows, err := pool.Query(ctx, `SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements
		WHERE statement LIKE '%aglae.dossier%' AND statement NOT LIKE '%pg_prepared_statements%'`)
	require.NoError(t, err)
	n := 0
	for rows.Next() {
		var (
			stmt            string
			generic, custom int64
		)
		require.NoError(t, rows.Scan(&stmt, &generic, &custom))
		n++
		assert.LessOrEqual(t, custom, int64(5), stmt)
		assert.Positive(t, generic, stmt)
	}
	require.NoError(t, rows.Err())
	assert.Equal(t, 2, n, "the batch and the single lookup's statements")
}
