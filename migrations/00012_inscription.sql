-- Registration events (issue 13, SPEC §9): what Apogée sends after a registration, the validations the
-- connector makes from them and hands to Aglaé, the académie of the CROUS's API clients, and the barème the
-- validations' amounts come from. Aglaé's schema is still never written: all of this is the connector's.

-- +goose Up
CREATE TABLE connecteur.bareme (
    annee_universitaire smallint NOT NULL CHECK (annee_universitaire BETWEEN 2000 AND 2099),
    echelon             text NOT NULL CHECK (echelon IN ('0bis', '1', '2', '3', '4', '5', '6', '7')),
    montant_annuel      numeric(7, 2) NOT NULL CHECK (montant_annuel > 0),
    provisoire          boolean NOT NULL DEFAULT false,
    PRIMARY KEY (annee_universitaire, echelon)
);
COMMENT ON TABLE connecteur.bareme IS 'The annual amount of the bourse sur critères sociaux by échelon, per academic year: a validation''s amount is the one of its year''s barème.';
COMMENT ON COLUMN connecteur.bareme.provisoire IS 'The year''s amounts were not published when this row was written: the previous year''s are carried over until a migration brings the official ones.';
-- Source: the ministry of higher education's yearly texts on the rates of the bourses d'enseignement
-- supérieur sur critères sociaux (Bulletin officiel / Journal officiel), as relayed by the CNOUS and
-- service-public.fr. 2014–2015: échelon 1 is the 1665 € of the CNOUS presentation's definitive notification.
-- 2023–2024: the SPEC's table; 2024–2025 and 2025–2026 kept
-- the 2023–2024 amounts (no revaluation). 2026–2027 is not published yet: carried over, marked provisoire.
INSERT INTO connecteur.bareme (annee_universitaire, echelon, montant_annuel, provisoire)
SELECT a.annee, e.echelon, e.montant, a.provisoire
FROM (VALUES (2023, false), (2024, false), (2025, false), (2026, true)) AS a (annee, provisoire)
CROSS JOIN (VALUES ('0bis', 1454.00), ('1', 2163.00), ('2', 3071.00), ('3', 3828.00),
                   ('4', 4587.00), ('5', 5212.00), ('6', 5506.00), ('7', 6335.00)) AS e (echelon, montant)
UNION ALL
SELECT 2014, e.echelon, e.montant, false
FROM (VALUES ('0bis', 1007.00), ('1', 1665.00), ('2', 2507.00), ('3', 3212.00),
             ('4', 3916.00), ('5', 4496.00), ('6', 4768.00), ('7', 5539.00)) AS e (echelon, montant);

CREATE TABLE connecteur.client_academie (
    client_id text PRIMARY KEY REFERENCES connecteur.client (id) ON DELETE CASCADE,
    academie  char(3) NOT NULL CHECK (academie ~ '^[A-Z]{3}$')
);
COMMENT ON TABLE connecteur.client_academie IS 'An API client of a CROUS: it reads and settles the registrations marked for its académie (`clients add --academie`).';

CREATE TABLE connecteur.inscription (
    id_recu           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    client_id         text NOT NULL,
    id_evenement      text NOT NULL CHECK (id_evenement <> '' AND length(id_evenement) <= 100),
    empreinte         text NOT NULL,
    type              text NOT NULL CHECK (type IN ('INSCRIPTION', 'ANNULATION')),
    identifiant       text,
    nom               text,
    prenom            text,
    date_naissance    date,
    annee_universitaire smallint NOT NULL CHECK (annee_universitaire BETWEEN 2000 AND 2099),
    uai               char(8) NOT NULL CHECK (uai ~ '^[0-9]{7}[A-Z]$'),
    formation_code    text NOT NULL,
    formation_libelle text NOT NULL DEFAULT '',
    date_inscription  date NOT NULL,
    recu_le           timestamptz NOT NULL DEFAULT now(),
    etat              text NOT NULL DEFAULT 'RECU' CHECK (etat IN ('RECU', 'VALIDEE', 'A_RETRAITER',
                          'EN_ATTENTE_DECISION', 'REJET', 'DEJA_DEFINITIVE', 'DEJA_VALIDEE', 'INCONNU', 'REFUSEE',
                          'ANNULEE', 'SANS_OBJET')),
    motif             text CHECK (motif IN ('VOEU_NON_CORRESPONDANT', 'DOUBLE_INSCRIPTION', 'ANNULATION_APRES_PAIEMENT')),
    numero_dossier    text,
    academie          char(3),
    traite_le         timestamptz,
    motif_crous       text,
    CONSTRAINT inscription_client_evenement UNIQUE (client_id, id_evenement),
    CONSTRAINT inscription_etudiant CHECK (identifiant IS NOT NULL OR (nom IS NOT NULL AND prenom IS NOT NULL AND date_naissance IS NOT NULL)),
    CONSTRAINT inscription_motif CHECK ((etat = 'A_RETRAITER') = (motif IS NOT NULL) OR etat IN ('VALIDEE', 'REFUSEE'))
);
COMMENT ON TABLE connecteur.inscription IS 'A registration event, stored before it is acknowledged, then processed by the job queue (schema river).';
COMMENT ON COLUMN connecteur.inscription.id_evenement IS 'The caller''s own id of the event: the same id again is a replay (the first receipt is answered), with other content a conflict.';
COMMENT ON COLUMN connecteur.inscription.empreinte IS 'SHA-256 of the validated content (bourse.Inscription.Empreinte): tells a replay from a conflict.';
COMMENT ON COLUMN connecteur.inscription.etat IS 'RECU until processed; then the outcome of SPEC §9. A_RETRAITER and EN_ATTENTE_DECISION wait for the CROUS or for an import.';
COMMENT ON COLUMN connecteur.inscription.motif IS 'Why the event is A_RETRAITER; kept when the CROUS settles it.';
COMMENT ON COLUMN connecteur.inscription.academie IS 'The académie of the dossier the event was matched with: the CROUS that re-examines it.';
-- The CROUS's list and the import's re-application read only the events that wait.
CREATE INDEX inscription_attente ON connecteur.inscription (etat, academie, recu_le) WHERE etat IN ('A_RETRAITER', 'EN_ATTENTE_DECISION');

CREATE TABLE connecteur.validation (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id_recu             uuid NOT NULL REFERENCES connecteur.inscription (id_recu),
    numero_dossier      text NOT NULL,
    identifiant         text NOT NULL,
    annee_universitaire smallint NOT NULL,
    uai                 char(8) NOT NULL,
    echelon             text NOT NULL,
    bareme              smallint NOT NULL,
    montant_annuel      numeric(7, 2) NOT NULL,
    notification        text NOT NULL,
    cree_le             timestamptz NOT NULL DEFAULT now(),
    modifie_le          timestamptz NOT NULL DEFAULT now(),
    acquittee_le        timestamptz,
    annulee_le          timestamptz,
    -- Never two validations for one student and year: a cancelled one is revived, not doubled.
    CONSTRAINT validation_etudiant_annee UNIQUE (identifiant, annee_universitaire)
);
COMMENT ON TABLE connecteur.validation IS 'The connector''s definitive attributions, made from registrations, handed to Aglaé (`validations --depuis`) and acknowledged by it (`validations ack`). Lookups answer BOURSIER DEFINITIVE for a dossier with a live one.';
COMMENT ON COLUMN connecteur.validation.identifiant IS 'Aglaé''s number of the student (the dossier''s), whatever the event carried.';
COMMENT ON COLUMN connecteur.validation.modifie_le IS 'Last creation, cancellation or revival: `validations --depuis T` hands over those changed since T.';
COMMENT ON COLUMN connecteur.validation.acquittee_le IS 'When Aglaé acknowledged it (or an import brought Aglaé''s own definitive decision): an ANNULATION after it only marks the dossier.';
-- Lookups probe this index for every dossier they read.
CREATE INDEX validation_dossier ON connecteur.validation (numero_dossier) WHERE annulee_le IS NULL;
CREATE INDEX validation_modifie_le ON connecteur.validation (modifie_le);

-- +goose Down
DROP TABLE connecteur.validation;
DROP TABLE connecteur.inscription;
DROP TABLE connecteur.client_academie;
DROP TABLE connecteur.bareme;
