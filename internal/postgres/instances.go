package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Instances keeps the running instances of the service in
// connecteur.instance: each beats (upserts its row) and counts the live
// ones, to enforce its share of every client's rate limit. The database's
// clock dates every heartbeat, so that the hosts' clocks need not agree.
type Instances struct {
	pool *pgxpool.Pool
}

// NewInstances returns the instance registry of pool.
func NewInstances(pool *pgxpool.Pool) *Instances { return &Instances{pool: pool} }

// Beat records that instance id is alive now and returns how many
// instances beat within live, id included, in one round trip. Rows that
// have not beaten for 100 × live (instances that died without
// deregistering) are deleted on the way. Errors are of kind Unavailable
// or Internal.
func (s *Instances) Beat(ctx context.Context, id string, live time.Duration) (int, error) {
	// The statement's snapshot does not see the CTE's upsert: the others
	// are counted, then id.
	var n int
	err := s.pool.QueryRow(ctx, `WITH beat AS (
			INSERT INTO connecteur.instance (id, heartbeat) VALUES ($1, now())
			ON CONFLICT (id) DO UPDATE SET heartbeat = now()
		), dead AS (
			DELETE FROM connecteur.instance WHERE id <> $1 AND heartbeat < now() - 100 * $2::interval
		)
		SELECT 1 + count(*) FROM connecteur.instance WHERE id <> $1 AND heartbeat >= now() - $2::interval`,
		id, live).Scan(&n)
	if err != nil {
		return 0, translate("instance heartbeat", err)
	}
	return n, nil
}

// Leave deletes instance id's row, so that the others count it out at
// their next beat. Errors are of kind Unavailable or Internal.
func (s *Instances) Leave(ctx context.Context, id string) error {
	_, err := s.pool.Exec(ctx, `DELETE FROM connecteur.instance WHERE id = $1`, id)
	return translate("instance leave", err)
}
