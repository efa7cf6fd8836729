package journal

import (
	"context"
	"fmt"

	"go.uber.org/zap"

	"github.com/aglae-connector/aglae-connector/internal/bourse"
)

// Store is the database the journal writes to (postgres.Consultations).
type Store interface {
	// Write writes recs in one transaction, all of them or none, and
	// returns how many the database says it wrote. An error of kind
	// bourse.KindInvalid means the database refuses a record among them as
	// invalid; any other that it cannot take them now. The text of the
	// errors it returns must be safe to log: no record's content.
	Write(ctx context.Context, recs []Consultation) (int, error)
}

// write writes recs in order, in transactions of at most batchMax records.
// It returns how many leading records are done (written, or set aside as
// invalid) and, when it stopped before the end, why.
func (j *Journal) write(ctx context.Context, recs []Consultation) (int, error) {
	done := 0
	for done < len(recs) {
		end := min(done+j.batchMax, len(recs))
		n, err := j.writeIsolating(ctx, recs[done:end])
		done += n
		if err != nil {
			return done, err
		}
	}
	return done, nil
}

// writeIsolating writes recs. When the database refuses them as invalid it
// bisects them to set aside only the bad ones, so that one bad record
// cannot block the log; it stops at the first failure of another kind.
func (j *Journal) writeIsolating(ctx context.Context, recs []Consultation) (int, error) {
	err := j.writeBatch(ctx, recs)
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
	n, err := j.writeIsolating(ctx, recs[:m])
	if err != nil {
		return n, err
	}
	k, err := j.writeIsolating(ctx, recs[m:])
	return m + k, err
}

// writeBatch writes recs in one transaction.
func (j *Journal) writeBatch(ctx context.Context, recs []Consultation) error {
	ctx, cancel := context.WithTimeout(ctx, copyTimeout)
	defer cancel()
	n, err := j.store.Write(ctx, recs)
	if err != nil {
		return err
	}
	if n != len(recs) {
		// Cannot happen with COPY; never treat it as a failure to retry,
		// which would write the rows twice.
		j.log.Error("consultation log: the database reported an unexpected row count",
			zap.Int("written", n), zap.Int("sent", len(recs)))
	}
	j.written.Add(uint64(len(recs)))
	j.batches.Add(1)
	return nil
}

// isDataError tells a record the database refuses from a database that
// cannot take records now.
func isDataError(err error) bool { return bourse.KindOf(err) == bourse.KindInvalid }

// safeErr is err for the log. The store's errors carry no record's
// content, nor do the spool's.
func safeErr(err error) zap.Field {
	if err == nil {
		return zap.Skip()
	}
	return zap.String("error", err.Error())
}
