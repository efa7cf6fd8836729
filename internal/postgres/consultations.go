package postgres

import (
	"context"
	"errors"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/aglae-connector/aglae-connector/internal/bourse"
	"github.com/aglae-connector/aglae-connector/internal/journal"
)

// Consultations is the consultation log's table, connecteur.consultation:
// the batched COPY the journal writes with ([journal.Store]), the export
// ([journal.Source]), the retention's purge ([journal.Purger]) and its
// month partitions ([journal.Partitioner]).
type Consultations struct {
	pool *pgxpool.Pool
}

// NewConsultations returns the consultation log's table on pool.
func NewConsultations(pool *pgxpool.Pool) *Consultations { return &Consultations{pool: pool} }

var consultationTable = pgx.Identifier{"connecteur", "consultation"}

// Write writes recs in one COPY, one transaction, and returns how many rows
// the database says it wrote. A record the database refuses as invalid
// (SQLSTATE classes 22 and 23, or a value that cannot even be encoded for
// its column) fails the whole COPY with an error of kind Invalid; any
// other failure is of kind Unavailable or Internal. The text of every
// error it returns is safe to log: for invalid data it names the SQLSTATE,
// constraint and column, never a value.
func (s *Consultations) Write(ctx context.Context, recs []journal.Consultation) (int, error) {
	// Checked before the COPY: an error of the rows' source reaches the
	// caller as the server's "COPY from stdin failed" (57014), not as
	// itself.
	for i := range recs {
		if recs[i].Annee < math.MinInt16 || recs[i].Annee > math.MaxInt16 {
			return 0, &bourse.Error{Kind: bourse.KindInvalid, Message: opWrite,
				Err: errors.New("invalid consultation record: annee_universitaire out of range")}
		}
	}
	row := make([]any, len(journal.Columns)) // pgx encodes a row before asking the next
	n, err := s.pool.CopyFrom(ctx, consultationTable, journal.Columns, pgx.CopyFromSlice(len(recs), func(i int) ([]any, error) {
		return fillConsultation(row, &recs[i]), nil
	}))
	if err != nil {
		return 0, copyError(err)
	}
	return int(n), nil
}

// fillConsultation fills row with c, whose year fits a smallint.
func fillConsultation(row []any, c *journal.Consultation) []any {
	us := c.Latency.Microseconds()
	us = max(0, min(us, math.MaxInt32))
	row[0] = c.Horodatage
	row[1] = c.ClientID
	row[2] = emptyAsNull(c.UAI)
	row[3] = string(c.Canal)
	row[4] = emptyAsNull(c.Identifiant)
	row[5] = int16(c.Annee)
	row[6] = c.Statut
	row[7] = emptyAsNull(c.TypeDecision)
	row[8] = emptyAsNull(c.Echelon)
	row[9] = c.Raison
	row[10] = emptyAsNull(c.Correspondance)
	row[11] = emptyAsNull(c.IdentifiantAglae)
	row[12] = emptyAsNull(c.NumeroDossier)
	row[13] = emptyAsNull(c.Anomalie)
	row[14] = c.RequestID
	row[15] = int32(us)
	return row
}

// emptyAsNull stores "" as NULL.
func emptyAsNull(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// logSafe is an error whose text was made safe to log; the cause stays
// reachable by errors.As, not in the text.
type logSafe struct {
	msg string
	err error
}

func (e *logSafe) Error() string { return e.msg }
func (e *logSafe) Unwrap() error { return e.err }

const opWrite = "write consultations"

// copyError classifies a failed COPY of consultation records: data the
// database refuses (data exception, integrity constraint) is of kind
// Invalid, a database that cannot take records now Unavailable, the rest
// Internal. PostgreSQL's messages about invalid data may quote a value, so
// for those only the SQLSTATE, constraint and column are kept in the text.
func copyError(err error) error {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return translate(opWrite, err)
	}
	msg := "SQLSTATE " + pgErr.Code
	if len(pgErr.Code) >= 2 && (pgErr.Code[:2] == "22" || pgErr.Code[:2] == "23") {
		if pgErr.ConstraintName != "" {
			msg += " constraint " + pgErr.ConstraintName
		}
		if pgErr.ColumnName != "" {
			msg += " column " + pgErr.ColumnName
		}
		return &bourse.Error{Kind: bourse.KindInvalid, Message: opWrite, Err: &logSafe{msg, err}}
	}
	msg += ": " + pgErr.Message
	k := translate(opWrite, err)
	return &bourse.Error{Kind: bourse.KindOf(k), Message: opWrite, Err: &logSafe{msg, err}}
}

// Consultations calls each for every consultation f selects, ordered by
// horodatage, as the rows stream from the database. An error each returns
// stops the read and is returned as it is; database errors are of kind
// Unavailable or Internal.
func (s *Consultations) Consultations(ctx context.Context, f journal.Filter, each func(*journal.Row) error) error {
	var (
		conds []string
		args  []any
	)
	if f.UAI != "" {
		args = append(args, f.UAI)
		conds = append(conds, "uai = $"+strconv.Itoa(len(args)))
	}
	if !f.Since.IsZero() {
		args = append(args, f.Since)
		conds = append(conds, "horodatage >= $"+strconv.Itoa(len(args)))
	}
	if !f.Until.IsZero() {
		args = append(args, f.Until)
		conds = append(conds, "horodatage < $"+strconv.Itoa(len(args)))
	}
	q := "SELECT " + strings.Join(journal.Columns, ", ") + " FROM connecteur.consultation"
	if len(conds) > 0 {
		q += " WHERE " + strings.Join(conds, " AND ")
	}
	q += " ORDER BY horodatage"

	const op = "export consultations"
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return translate(op, err)
	}
	defer rows.Close()
	var l journal.Row
	for rows.Next() {
		l = journal.Row{}
		if err := rows.Scan(&l.Horodatage, &l.ClientID, &l.UAI, &l.Canal, &l.Identifiant, &l.Annee, &l.Statut,
			&l.TypeDecision, &l.Echelon, &l.Raison, &l.Correspondance, &l.IdentifiantAglae, &l.NumeroDossier,
			&l.Anomalie, &l.RequestID, &l.LatencyUS); err != nil {
			return translate(op, err)
		}
		if err := each(&l); err != nil {
			return err
		}
	}
	return translate(op, rows.Err())
}

// monthsAhead is how many months after the current one MakePartitions
// creates.
const monthsAhead = 2

// MakePartitions creates the log's month partitions (Paris months) that
// are missing from the month of now to monthsAhead months after it, and
// returns how many it created (migration 00010,
// connecteur.consultation_partitions): the journal calls it when it opens
// and once a day ([journal.Partitioner]). A row no partition holds goes to
// the default partition, so a failure here never fails a write. Errors are
// of kind Unavailable or Internal.
func (s *Consultations) MakePartitions(ctx context.Context, now time.Time) (int, error) {
	return s.MakePartitionsBetween(ctx, now, now.AddDate(0, monthsAhead, 0))
}

// MakePartitionsBetween creates the month partitions missing from the
// month of from to the month of to, both included, and returns how many
// it created: for a season loaded in the past (the harness) or planned
// ahead. Errors are of kind Invalid (a period over 10 years), Unavailable
// or Internal.
func (s *Consultations) MakePartitionsBetween(ctx context.Context, from, to time.Time) (int, error) {
	var n int
	err := s.pool.QueryRow(ctx, `SELECT connecteur.consultation_partitions($1, $2)`, from, to).Scan(&n)
	if err != nil {
		return 0, translate("create the consultation log's partitions", err)
	}
	return n, nil
}

// PurgeBefore is the retention ([journal.Purger]): cutoff is rounded down
// to the first day of its month, 00:00 Paris time; every month partition
// before that limit is detached and dropped (milliseconds, whatever the
// number of rows), the rows of the default partition before it deleted,
// the console's per-day counts of those days deleted, and the follow-up's
// summary of every student whose rows were all before it deleted (what the
// log forgets about a student, the follow-up forgets too; a student with
// later rows keeps their summary whole). One transaction: all of it or
// nothing. Errors are of kind Unavailable (a lock not obtained within 10 s,
// a database down) or Internal.
func (s *Consultations) PurgeBefore(ctx context.Context, cutoff time.Time) (journal.PurgeResult, error) {
	var (
		res    journal.PurgeResult
		months []string
	)
	err := s.pool.QueryRow(ctx, `SELECT limite, mois_supprimes, lignes_defaut FROM connecteur.consultation_purge($1)`, cutoff).
		Scan(&res.Limit, &months, &res.DefaultRows)
	if err != nil {
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "55P03" { // lock_not_available: a long reader of the log
			return journal.PurgeResult{}, bourse.Unavailable("purge consultations: the log is busy, try again", err)
		}
		return journal.PurgeResult{}, translate("purge consultations", err)
	}
	res.Limit = res.Limit.In(bourse.Paris)
	for _, m := range months {
		res.Months = append(res.Months, strings.Replace(m, "_", "-", 1))
	}
	return res, nil
}
