-- The job queue of the registration events: github.com/riverqueue/river, in its own schema. Its tables are
-- created and upgraded by river's own migrator (rivermigrate), which `aglae-connector migrate` runs right after
-- goose (postgres.Migrate): river versions its schema itself, and an upgrade of the library brings its
-- migrations with it instead of a copy of its SQL to keep in step by hand. This file only makes the schema.

-- +goose Up
CREATE SCHEMA river;
COMMENT ON SCHEMA river IS 'The job queue (riverqueue/river): one job per registration event to process. Migrated by rivermigrate.';

-- +goose Down
DROP SCHEMA river CASCADE;
