-- The connector's own records: its API clients and the consultation log. The service writes here and
-- nowhere else.

-- +goose Up
CREATE SCHEMA connecteur;
COMMENT ON SCHEMA connecteur IS 'The connector''s own data: API clients and the consultation log. The only schema the service writes to.';

CREATE TABLE connecteur.client (
    id                  text PRIMARY KEY CHECK (id ~ '^[a-z0-9]{4,32}$'),
    nom                 text NOT NULL CHECK (nom <> '' AND length(nom) <= 200),
    uai                 char(8) CHECK (uai ~ '^[0-9]{7}[A-Z]$'),
    secret_hash         text NOT NULL,
    certificat_sujet    text UNIQUE,
    debit_par_seconde   real CHECK (debit_par_seconde > 0),
    rafale              integer CHECK (rafale > 0),
    cree_le             timestamptz NOT NULL DEFAULT now(),
    revoque_le          timestamptz
);
COMMENT ON TABLE connecteur.client IS 'A caller of the API: an establishment (with its UAI) or a named integrator (without).';
COMMENT ON COLUMN connecteur.client.secret_hash IS 'The secret, hashed with argon2id (PHC string format); the secret itself is shown once, at creation, and never stored.';
COMMENT ON COLUMN connecteur.client.certificat_sujet IS 'Subject (RFC 2253 string) of the client certificate that authenticates this client over mutual TLS.';
COMMENT ON COLUMN connecteur.client.debit_par_seconde IS 'Sustained lookups per second allowed; NULL: the service''s default.';
COMMENT ON COLUMN connecteur.client.rafale IS 'Burst of lookups allowed above the sustained rate; NULL: the service''s default.';
COMMENT ON COLUMN connecteur.client.revoque_le IS 'When the client was revoked; a revoked client is refused.';

CREATE TABLE connecteur.consultation (
    horodatage        timestamptz NOT NULL,
    client_id         text NOT NULL,
    uai               char(8),
    canal             text NOT NULL CHECK (canal IN ('REST', 'SOAP', 'LOT', 'RECHECK', 'CLI')),
    identifiant       text,
    annee_universitaire smallint NOT NULL,
    statut            text NOT NULL CHECK (statut IN ('BOURSIER', 'EN_ATTENTE', 'NON_BOURSIER', 'INCONNU')),
    type_decision     text CHECK (type_decision IN ('CONDITIONNELLE', 'DEFINITIVE')),
    echelon           text,
    raison            text NOT NULL,
    correspondance    text CHECK (correspondance IN ('IDENTIFIANT', 'IDENTITE')),
    identifiant_aglae text,
    numero_dossier    text,
    anomalie          text,
    request_id        text NOT NULL,
    latence_us        integer NOT NULL CHECK (latence_us >= 0)
);
COMMENT ON TABLE connecteur.consultation IS 'Every answered lookup: who asked, about whom, what was answered and why. Written in batches off the request path; never updated; purged by `consultations purge`.';
COMMENT ON COLUMN connecteur.consultation.uai IS 'The establishment that asked: the UAI the request named (codeEtablissement), else the client''s.';
COMMENT ON COLUMN connecteur.consultation.identifiant IS 'The identifier the caller sent, normalised; NULL for a lookup by identity only.';
COMMENT ON COLUMN connecteur.consultation.raison IS 'The internal reason (NON_TRAITE, PIECES_MANQUANTES, PROGRESSION_A_VERIFIER, IDENTITE_DIFFERENTE, IDENTITE_AMBIGUE, ...), never sent to the caller.';
COMMENT ON COLUMN connecteur.consultation.latence_us IS 'Time the service took to answer, in microseconds.';
-- Exports and the follow-up read one establishment over a period; retention deletes by date.
CREATE INDEX consultation_uai_horodatage ON connecteur.consultation (uai, horodatage);
CREATE INDEX consultation_horodatage ON connecteur.consultation (horodatage);
CREATE INDEX consultation_identifiant ON connecteur.consultation (identifiant, annee_universitaire, horodatage);

-- +goose Down
DROP SCHEMA connecteur CASCADE;
