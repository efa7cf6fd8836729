-- The console (package console): the people who sign in with a browser, distinct from the API clients,
-- and their server-side sessions; and the channel CONSOLE of a lookup a gestionnaire replays from it.

-- +goose Up
CREATE TABLE connecteur.utilisateur (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email             text NOT NULL UNIQUE CHECK (email = lower(email) AND length(email) <= 254 AND email ~ '^[^@[:space:]]+@[^@[:space:]]+$'),
    uai               char(8) CHECK (uai ~ '^[0-9]{7}[A-Z]$'),
    academie          char(3) CHECK (academie ~ '^[A-Z]{3}$'),
    mot_de_passe_hash text NOT NULL CHECK (starts_with(mot_de_passe_hash, '$argon2id$')),
    cree_le           timestamptz NOT NULL DEFAULT now(),
    desactive_le      timestamptz,
    CONSTRAINT utilisateur_rattachement CHECK ((uai IS NULL) <> (academie IS NULL))
);
COMMENT ON TABLE connecteur.utilisateur IS 'A person who signs in to the console: a gestionnaire of an establishment (uai) or a CROUS user of an académie.';
COMMENT ON COLUMN connecteur.utilisateur.mot_de_passe_hash IS 'The password, hashed with argon2id (PHC string); the password is never stored.';
COMMENT ON COLUMN connecteur.utilisateur.desactive_le IS 'When the account was disabled: it can no longer sign in and its sessions end.';

CREATE TABLE connecteur.session (
    empreinte      bytea PRIMARY KEY CHECK (length(empreinte) = 32),
    utilisateur_id bigint NOT NULL REFERENCES connecteur.utilisateur (id) ON DELETE CASCADE,
    jeton_csrf     text NOT NULL,
    cree_le        timestamptz NOT NULL DEFAULT now(),
    expire_le      timestamptz NOT NULL
);
COMMENT ON TABLE connecteur.session IS 'A console session: the SHA-256 of the token its cookie carries (never the token), until expire_le.';
CREATE INDEX session_expire_le ON connecteur.session (expire_le);
CREATE INDEX session_utilisateur ON connecteur.session (utilisateur_id);

ALTER TABLE connecteur.consultation DROP CONSTRAINT consultation_canal_check;
ALTER TABLE connecteur.consultation ADD CONSTRAINT consultation_canal_check
    CHECK (canal IN ('REST', 'SOAP', 'LOT', 'RECHECK', 'CLI', 'CONSOLE'));

-- +goose Down
DELETE FROM connecteur.consultation WHERE canal = 'CONSOLE';
ALTER TABLE connecteur.consultation DROP CONSTRAINT consultation_canal_check;
ALTER TABLE connecteur.consultation ADD CONSTRAINT consultation_canal_check
    CHECK (canal IN ('REST', 'SOAP', 'LOT', 'RECHECK', 'CLI'));
DROP TABLE connecteur.session;
DROP TABLE connecteur.utilisateur;
