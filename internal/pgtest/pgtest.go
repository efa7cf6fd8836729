// Package pgtest gives tests a real PostgreSQL database, migrated with the
// very migrations the service applies, and dropped when the test ends.
//
// It reads AGLAE_TEST_DATABASE_URL, which `make test` sets to a throwaway
// cluster; a test that needs the database fails without it.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/aglae-connector/aglae-connector/internal/postgres"
)

var (
	once     sync.Once
	template string
	onceErr  error
)

// URL creates a new migrated database and returns its connection string;
// the database is dropped at the end of the test.
func URL(t testing.TB) string {
	t.Helper()
	base := os.Getenv("AGLAE_TEST_DATABASE_URL")
	if base == "" {
		t.Fatal("AGLAE_TEST_DATABASE_URL is not set: run the tests with `make test`, which starts a throwaway PostgreSQL")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	once.Do(func() { template, onceErr = makeTemplate(ctx, base) })
	if onceErr != nil {
		t.Fatalf("pgtest: template database: %v", onceErr)
	}
	name := "test_" + randomHex()
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name+" TEMPLATE "+template); err != nil {
		t.Fatalf("pgtest: create database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if c, err := pgx.Connect(ctx, base); err == nil {
			_, _ = c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
			_ = c.Close(ctx)
		}
	})
	return withDatabase(t, base, name)
}

// New creates a new migrated database and returns a pool on it, closed at
// the end of the test.
func New(t testing.TB) *pgxpool.Pool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pool, err := postgres.Open(ctx, URL(t))
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// makeTemplate creates and migrates the database every test database of
// this process is copied from.
func makeTemplate(ctx context.Context, base string) (string, error) {
	name := "template_" + randomHex()
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		return "", err
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return "", err
	}
	u, err := dbURL(base, name)
	if err != nil {
		return "", err
	}
	pool, err := postgres.Open(ctx, u)
	if err != nil {
		return "", err
	}
	_, err = postgres.Migrate(ctx, pool, false)
	pool.Close()
	return name, err
}

func withDatabase(t testing.TB, base, name string) string {
	u, err := dbURL(base, name)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	return u
}

func dbURL(base, name string) (string, error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", err
	}
	u.Path = "/" + name
	return u.String(), nil
}

func randomHex() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
