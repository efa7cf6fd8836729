package postgres

import (
	"context"
	"strconv"
)

// The reads of the load harness (cmd/bench): a sample of the database to
// draw lookups from, and the server's figures for its report.

// Key is one (identifiant, année universitaire) pair of a live dossier.
type Key struct {
	Identifiant string
	Annee       int
}

// SampleKeys returns up to n (identifiant, year) pairs that have a live (not
// cancelled) dossier, in an order that depends only on seed, so that two
// runs with the same seed draw the same lookups.
func SampleKeys(ctx context.Context, pool *Pool, n int, seed uint64) ([]Key, error) {
	rows, err := pool.Query(ctx, `
		SELECT identifiant, annee_universitaire FROM (
			SELECT DISTINCT identifiant, annee_universitaire FROM aglae.dossier WHERE etat <> 'ANNULE') s
		ORDER BY md5($1 || identifiant || annee_universitaire::text)
		LIMIT $2`, strconv.FormatUint(seed, 10), n)
	if err != nil {
		return nil, translate("sample of identifiers", err)
	}
	defer rows.Close()
	var out []Key
	for rows.Next() {
		var c Key
		var annee int16
		if err := rows.Scan(&c.Identifiant, &annee); err != nil {
			return nil, translate("sample of identifiers", err)
		}
		c.Annee = int(annee)
		out = append(out, c)
	}
	return out, translate("sample of identifiers", rows.Err())
}

// KnownIdentifiants returns those of ids that a dossier or a student has.
func KnownIdentifiants(ctx context.Context, pool *Pool, ids []string) (map[string]bool, error) {
	rows, err := pool.Query(ctx, `
		SELECT identifiant FROM aglae.dossier WHERE identifiant = ANY($1)
		UNION SELECT identifiant FROM aglae.etudiant WHERE identifiant = ANY($1)`, ids)
	if err != nil {
		return nil, translate("known identifiers", err)
	}
	defer rows.Close()
	known := map[string]bool{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, translate("known identifiers", err)
		}
		known[id] = true
	}
	return known, translate("known identifiers", rows.Err())
}

// Setting returns a server setting's value, "" when it cannot be read.
func Setting(ctx context.Context, pool *Pool, name string) string {
	var v string
	_ = pool.QueryRow(ctx, "SELECT current_setting($1)", name).Scan(&v)
	return v
}

// DatabaseSize returns the size on disk of the pool's database, in bytes.
func DatabaseSize(ctx context.Context, pool *Pool) (int64, error) {
	var n int64
	err := pool.QueryRow(ctx, "SELECT pg_database_size(current_database())").Scan(&n)
	return n, translate("database size", err)
}
