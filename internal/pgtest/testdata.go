package pgtest

// What tests do with the test data on a database: import an extract, read
// what the tables hold.

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/aglae-connector/aglae-connector/internal/postgres"
)

// ImportFile imports the extract at path into pool and fails the test on
// an error or a faulty line.
func ImportFile(t testing.TB, pool *pgxpool.Pool, path string) postgres.ImportResult {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	defer f.Close()
	res, err := postgres.Import(context.Background(), pool, f, postgres.ImportOptions{})
	if err != nil {
		t.Fatalf("pgtest: import %s: %v", filepath.Base(path), err)
	}
	if res.Faults != 0 {
		t.Fatalf("pgtest: import %s: %d faulty lines", filepath.Base(path), res.Faults)
	}
	return res
}

// Snapshot is the content of every table of the aglae schema (Aglaé's data
// as the import writes it), in a stable order: each non-empty table's
// name, then its rows. It is "" when the tables are all empty.
func Snapshot(t testing.TB, pool *pgxpool.Pool) string {
	t.Helper()
	ctx := context.Background()
	rows, err := pool.Query(ctx, `SELECT table_name FROM information_schema.tables
		WHERE table_schema = 'aglae' AND table_type = 'BASE TABLE' ORDER BY table_name`)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	var tables []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatalf("pgtest: %v", err)
		}
		tables = append(tables, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	if len(tables) == 0 {
		t.Fatal("pgtest: no table in schema aglae")
	}
	var b strings.Builder
	for _, tab := range tables {
		rows, err := pool.Query(ctx, fmt.Sprintf(`SELECT t::text FROM aglae.%q t ORDER BY 1`, tab))
		if err != nil {
			t.Fatalf("pgtest: %v", err)
		}
		for i := 0; rows.Next(); i++ {
			var s string
			if err := rows.Scan(&s); err != nil {
				t.Fatalf("pgtest: %v", err)
			}
			if i == 0 {
				b.WriteString("-- " + tab + "\n")
			}
			b.WriteString(s + "\n")
		}
		if err := rows.Err(); err != nil {
			t.Fatalf("pgtest: %v", err)
		}
	}
	return b.String()
}
