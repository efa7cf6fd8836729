package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"

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
	if !down {
		if err := migrateRiver(ctx, pool); err != nil {
			return 0, err
		}
	}
	return p.GetDBVersion(ctx)
}

// RiverSchema is the schema of the job queue's tables.
const RiverSchema = "river"

// migrateRiver brings the job queue's tables in schema river (made by
// migration 00013) up to the version the river library wants: river
// versions its own schema (see migrations/00013_river.sql). Rolling back
// goose's 00013 drops them all.
func migrateRiver(ctx context.Context, pool *pgxpool.Pool) error {
	m, err := rivermigrate.New(riverpgxv5.New(pool), &rivermigrate.Config{Schema: RiverSchema})
	if err != nil {
		return fmt.Errorf("river migrations: %w", err)
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("river migrations: %w", err)
	}
	return nil
}
