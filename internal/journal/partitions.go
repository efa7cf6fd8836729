package journal

import (
	"context"
	"time"

	"go.uber.org/zap"

	"github.com/aglae-connector/aglae-connector/internal/bourse"
)

// Partitioner creates the log's month partitions ahead
// (postgres.Consultations): the month of now and the next ones, those
// missing, returning how many it created. A row no partition holds goes to
// the log's default partition, so the journal never waits on it.
type Partitioner interface {
	MakePartitions(ctx context.Context, now time.Time) (int, error)
}

// Partition upkeep: how long one call may take, and how long after a
// failure the writer tries again.
const (
	partitionTimeout = 15 * time.Second
	partitionRetry   = time.Minute
)

// partitions is the writer's upkeep of the log's partitions: once a day
// (Paris time, on the journal's clock), before a batch.
type partitions struct {
	p       Partitioner
	day     string    // the day of the last success
	tried   time.Time // the last failure
	failing bool
}

// maintainPartitions calls the partitioner when it has not succeeded today and did
// not fail within partitionRetry. A failure is logged, never returned: the
// batch is written all the same.
func (j *Journal) maintainPartitions() {
	u := &j.parts
	if u.p == nil {
		return
	}
	now := j.now()
	day := now.In(bourse.Paris).Format(time.DateOnly)
	if day == u.day || (u.failing && now.Sub(u.tried) < partitionRetry) {
		return
	}
	ctx, cancel := context.WithTimeout(j.runCtx, partitionTimeout)
	n, err := u.p.MakePartitions(ctx, now)
	cancel()
	if err != nil {
		if !u.failing {
			j.log.Warn("consultation log: cannot create the month partitions ahead; rows of a month without one go to the default partition",
				safeErr(err))
		}
		u.failing, u.tried = true, now
		return
	}
	if u.failing {
		j.log.Info("consultation log: the month partitions are created again")
	}
	u.failing, u.day = false, day
	if n > 0 {
		j.log.Info("consultation log: month partitions created", zap.Int("partitions", n))
	}
}
