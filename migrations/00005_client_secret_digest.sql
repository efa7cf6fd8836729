-- API secrets are long random tokens (160 random bits), not passwords a person chooses: the service now
-- keeps their SHA-256 and compares digests in constant time, in microseconds. argon2id cost tens of
-- milliseconds and 19 MiB per check, and a flood of wrong secrets for a known client id (the id is not
-- secret: it is the Basic user name and the token's prefix) turned that cost against the service.
--
-- The column keeps its name and type; its values become "sha256:" and 64 lower-case hex digits. An
-- argon2id hash stored before this migration cannot be converted (the secret is not kept) and
-- authenticates no one: the service logs, for that client, that it must be re-issued (`clients revoke`
-- then `clients add`). The constraint still admits those hashes so that the migration applies to a
-- database that holds some, and so that such a client can still be revoked.

-- +goose Up
ALTER TABLE connecteur.client ADD CONSTRAINT client_secret_hash_format
    CHECK (secret_hash ~ '^sha256:[0-9a-f]{64}$' OR starts_with(secret_hash, '$argon2id$'));
COMMENT ON CONSTRAINT client_secret_hash_format ON connecteur.client IS
    'A SHA-256 digest of the secret; or an argon2id hash stored before migration 00005, which authenticates no one.';
COMMENT ON COLUMN connecteur.client.secret_hash IS
    'The SHA-256 of the secret, "sha256:" and 64 lower-case hex digits (the secret is a 160-bit random token, shown once at creation and never stored). An argon2id hash (PHC string) left from before migration 00005 authenticates no one: re-issue that client.';

-- +goose Down
ALTER TABLE connecteur.client DROP CONSTRAINT client_secret_hash_format;
COMMENT ON COLUMN connecteur.client.secret_hash IS 'The secret, hashed with argon2id (PHC string format); the secret itself is shown once, at creation, and never stored.';
