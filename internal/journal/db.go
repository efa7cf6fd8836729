package journal

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"go.uber.org/zap"
)

var (
	table   = pgx.Identifier{"connecteur", "consultation"}
	columns = []string{
		"horodatage", "client_id", "uai", "canal", "identifiant", "annee_universitaire", "statut",
		"type_decision", "echelon", "raison", "correspondance", "identifiant_aglae", "numero_dossier",
		"anomalie", "request_id", "latence_us",
	}
)

// write writes recs in order, in COPYs of at most batchMax records. It
// returns how many leading records are done (written, or set aside as
// invalid) and, when it stopped before the end, why.
func (j *Journal) write(ctx context.Context, recs []Consultation) (int, error) {
	done := 0
	for done < len(recs) {
		end := min(done+j.batchMax, len(recs))
		n, err := j.copyIsolating(ctx, recs[done:end])
		done += n
		if err != nil {
			return done, err
		}
	}
	return done, nil
}

// copyIsolating COPYs recs. When the database refuses them as invalid it
// bisects them to set aside only the bad ones, so that one bad record
// cannot block the log; it stops at the first failure of another kind.
func (j *Journal) copyIsolating(ctx context.Context, recs []Consultation) (int, error) {
	err := j.copy(ctx, recs)
	if err == nil {
		return len(recs), nil
	}
	if !isDataError(err) {
		return 0, err
	}
	if len(recs) == 1 {
		if rerr := j.spool.rejectRecords(recs); rerr != nil {
			return 0, fmt.Errorf("set aside an invalid record: %w", rerr)
		}
		j.rejected.Add(1)
		j.log.Error("consultation log: the database refused a record as invalid; set aside for an operator",
			safeErr(err), zap.String("rejected_file", j.spool.rejectName()))
		return 1, nil
	}
	m := len(recs) / 2
	n, err := j.copyIsolating(ctx, recs[:m])
	if err != nil {
		return n, err
	}
	k, err := j.copyIsolating(ctx, recs[m:])
	return m + k, err
}

// copy writes recs in one COPY, one transaction.
func (j *Journal) copy(ctx context.Context, recs []Consultation) error {
	ctx, cancel := context.WithTimeout(ctx, copyTimeout)
	defer cancel()
	row := make([]any, len(columns)) // pgx encodes a row before asking the next
	n, err := j.pool.CopyFrom(ctx, table, columns, pgx.CopyFromSlice(len(recs), func(i int) ([]any, error) {
		return fill(row, &recs[i])
	}))
	if err != nil {
		return err
	}
	if int(n) != len(recs) {
		// Cannot happen with COPY; never treat it as a failure to retry,
		// which would write the rows twice.
		j.log.Error("consultation log: COPY reported an unexpected row count",
			zap.Int64("copied", n), zap.Int("sent", len(recs)))
	}
	j.written.Add(uint64(len(recs)))
	j.batches.Add(1)
	return nil
}

// invalidRecord is a record that cannot even be encoded for its column.
type invalidRecord struct{ msg string }

func (e invalidRecord) Error() string { return "invalid consultation record: " + e.msg }

func fill(row []any, c *Consultation) ([]any, error) {
	if c.Annee < math.MinInt16 || c.Annee > math.MaxInt16 {
		return nil, invalidRecord{"annee_universitaire out of range"}
	}
	us := c.Latence.Microseconds()
	us = max(0, min(us, math.MaxInt32))
	row[0] = c.Horodatage
	row[1] = c.ClientID
	row[2] = null(c.UAI)
	row[3] = string(c.Canal)
	row[4] = null(c.Identifiant)
	row[5] = int16(c.Annee)
	row[6] = c.Statut
	row[7] = null(c.TypeDecision)
	row[8] = null(c.Echelon)
	row[9] = c.Raison
	row[10] = null(c.Correspondance)
	row[11] = null(c.IdentifiantAglae)
	row[12] = null(c.NumeroDossier)
	row[13] = null(c.Anomalie)
	row[14] = c.RequestID
	row[15] = int32(us)
	return row, nil
}

// null stores "" as NULL.
func null(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// isDataError tells a record the database refuses (data exception,
// integrity constraint) from a database that cannot take records now.
func isDataError(err error) bool {
	var inv invalidRecord
	if errors.As(err, &inv) {
		return true
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && len(pgErr.Code) >= 2 {
		switch pgErr.Code[:2] {
		case "22", "23":
			return true
		}
	}
	return false
}

// safeErr is err for the log, without what could be a record's content:
// PostgreSQL's messages about invalid data may quote a value, so for those
// only the SQLSTATE, constraint and column are kept.
func safeErr(err error) zap.Field {
	if err == nil {
		return zap.Skip()
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		msg := "SQLSTATE " + pgErr.Code
		if isDataError(pgErr) {
			if pgErr.ConstraintName != "" {
				msg += " constraint " + pgErr.ConstraintName
			}
			if pgErr.ColumnName != "" {
				msg += " column " + pgErr.ColumnName
			}
		} else {
			msg += ": " + pgErr.Message
		}
		return zap.String("error", msg)
	}
	return zap.String("error", err.Error())
}
