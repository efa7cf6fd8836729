package postgres

import (
	"context"
	"time"
)

// The season harness's reads and writes (cmd/bench saison): it plays a
// season of months in minutes, so the import times it stamps and the sizes
// it reports come from here.

// StampImported sets the import time of the dossiers numeros (all of them
// when numeros is nil) to at: the harness's nights happen in the season's
// time, not in the database's. Errors are of kind Unavailable or Internal.
func StampImported(ctx context.Context, pool *Pool, numeros []string, at time.Time) (int64, error) {
	const op = "stamp import times"
	var (
		tag interface{ RowsAffected() int64 }
		err error
	)
	if numeros == nil {
		tag, err = pool.Exec(ctx, `UPDATE aglae.dossier SET importe_le = $1`, at)
	} else {
		tag, err = pool.Exec(ctx, `UPDATE aglae.dossier SET importe_le = $1 WHERE numero_dossier = ANY ($2)`, at, numeros)
	}
	if err != nil {
		return 0, translate(op, err)
	}
	return tag.RowsAffected(), nil
}

// LogSize is the size on disk of the consultation log and of what is kept
// beside it.
type LogSize struct {
	Rows       int64 // rows of the log
	Partitions int   // its partitions, the default one included
	LogBytes   int64 // every partition, its indexes and TOAST included
	IndexBytes int64 // the log's indexes alone
	SuiviBytes int64 // connecteur.etudiant_suivi, indexes included
	DayBytes   int64 // connecteur.reponses_par_jour, indexes included
}

// ConsultationLogSize measures the consultation log (an exact count of its
// rows: a scan). Errors are of kind Unavailable or Internal.
func ConsultationLogSize(ctx context.Context, pool *Pool) (LogSize, error) {
	var s LogSize
	err := pool.QueryRow(ctx, `
		SELECT (SELECT count(*) FROM connecteur.consultation), count(*),
			coalesce(sum(pg_total_relation_size(i.inhrelid)), 0)::bigint,
			coalesce(sum(pg_indexes_size(i.inhrelid)), 0)::bigint,
			pg_total_relation_size('connecteur.etudiant_suivi'),
			pg_total_relation_size('connecteur.reponses_par_jour')
		FROM pg_inherits i WHERE i.inhparent = 'connecteur.consultation'::regclass`).
		Scan(&s.Rows, &s.Partitions, &s.LogBytes, &s.IndexBytes, &s.SuiviBytes, &s.DayBytes)
	return s, translate("consultation log size", err)
}
