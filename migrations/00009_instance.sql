-- The running instances of the service, so that each enforces its share of every client's rate limit:
-- each upserts its row every INSTANCE_HEARTBEAT and counts the rows that beat recently.

-- +goose Up
CREATE TABLE connecteur.instance (
    id        text PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 200),
    heartbeat timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE connecteur.instance IS 'A running instance of the service and its last heartbeat; those that beat within three intervals share each client''s rate limit.';

-- +goose Down
DROP TABLE connecteur.instance;
