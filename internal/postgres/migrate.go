package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/aglae-connector/aglae-connector/migrations"
)

// Migrate applies every pending migration (or, with down, rolls back the
// last one) and returns the database's schema version afterwards. A session
// advisory lock keeps two instances starting at once from migrating
// together.
func Migrate(ctx context.Context, pool *pgxpool.Pool, down bool) (int64, error) {
	db := stdlib.OpenDBFromPool(pool)
	defer db.Close()
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		return 0, err
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db, migrations.FS, goose.WithSessionLocker(locker))
	if err != nil {
		return 0, fmt.Errorf("migrations: %w", err)
	}
	if down {
		_, err = p.Down(ctx)
		if errors.Is(err, goose.ErrNoNextVersion) {
			err = nil
		}
	} else {
		_, err = p.Up(ctx)
	}
	if err != nil {
		return 0, fmt.Errorf("migrations: %w", err)
	}
	return p.GetDBVersion(ctx)
}
