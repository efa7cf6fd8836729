-- The Aglaé-like data the connector reads: students, their DSE dossiers, the decisions, the missing
-- documents and the vœux. The connector only reads this schema; `aglae-connector import` fills it.
--
-- There are no foreign keys between these tables, on purpose: their only writer is the import, which
-- validates a whole extract and merges it in one transaction (a dossier with its student, its vœux and
-- its missing documents, always together), and the per-row checks of foreign keys cost more than half
-- of the time of a national import (1.7 million vœux: 37 s with the key, 16 s without). A test checks
-- after every import that no row is orphaned.

-- +goose Up
CREATE SCHEMA aglae;
COMMENT ON SCHEMA aglae IS 'Aglaé''s data as the connector sees it: read-only for lookups, written by the import only.';

CREATE TABLE aglae.etudiant (
    identifiant      text PRIMARY KEY CHECK (identifiant ~ '^[0-9A-Z]{11}$'),
    nom              text NOT NULL CHECK (nom <> ''),
    prenom           text NOT NULL CHECK (prenom <> ''),
    date_naissance   date NOT NULL,
    nom_normalise    text NOT NULL,
    prenom_normalise text NOT NULL
);
COMMENT ON TABLE aglae.etudiant IS 'A student as Aglaé knows them: one row per numéro de boursier.';
COMMENT ON COLUMN aglae.etudiant.identifiant IS 'The numéro de boursier: usually the INE typed in the DSE; for a foreign first-year student, a number assigned by the CROUS that differs from the provisional INE Apogée gave them.';
COMMENT ON COLUMN aglae.etudiant.nom_normalise IS 'nom folded by bourse.NormaliserNom (no accents, upper case, no spaces, hyphens or apostrophes): the key of lookups by identity. Computed by the import, in Go, so that lookups and data fold alike.';
COMMENT ON COLUMN aglae.etudiant.prenom_normalise IS 'prenom folded like nom_normalise.';
-- A lookup by identity is an index scan on this index, then on dossier_identifiant_annee.
CREATE INDEX etudiant_identite ON aglae.etudiant (nom_normalise, prenom_normalise, date_naissance);

CREATE TABLE aglae.dossier (
    numero_dossier           text PRIMARY KEY CHECK (numero_dossier ~ '^[0-9]{4}[A-Z]{3}[0-9A-Z]{11}$'),
    identifiant              text NOT NULL,
    annee_universitaire      smallint NOT NULL CHECK (annee_universitaire BETWEEN 2000 AND 2099),
    academie                 char(3) NOT NULL CHECK (academie ~ '^[A-Z]{3}$'),
    etat                     text NOT NULL CHECK (etat IN ('NON_TRAITE', 'PIECES_MANQUANTES', 'VALIDE', 'ANNULE')),
    decision_nature          text CHECK (decision_nature IN ('ATTRIBUTION_CONDITIONNELLE', 'ATTRIBUTION_DEFINITIVE', 'REJET')),
    echelon                  text CHECK (echelon IN ('0bis', '1', '2', '3', '4', '5', '6', '7')),
    montant_annuel           numeric(7, 2) CHECK (montant_annuel >= 0),
    bareme                   smallint CHECK (bareme BETWEEN 2000 AND 2099),
    date_decision            date,
    sous_reserve_progression boolean,
    progression_verifiee     boolean,
    points_charge            smallint CHECK (points_charge >= 0),
    points_distance          smallint CHECK (points_distance BETWEEN 0 AND 2),
    empreinte                text NOT NULL,
    importe_le               timestamptz NOT NULL DEFAULT now(),
    -- The dossier number is the year, the académie and the identifier.
    CONSTRAINT dossier_numero_coherent CHECK (
        numero_dossier = annee_universitaire::text || academie || identifiant),
    -- A decision is whole or absent, and never on a dossier not processed yet.
    CONSTRAINT decision_entiere CHECK (
        (decision_nature IS NULL) = (date_decision IS NULL)
        AND (decision_nature IS NULL) = (sous_reserve_progression IS NULL)
        AND (decision_nature IS NULL) = (progression_verifiee IS NULL)
        AND (decision_nature IS NULL OR etat <> 'NON_TRAITE')),
    -- An attribution has an échelon, an amount and a barème; a rejection has none of them.
    CONSTRAINT decision_echelon CHECK (
        CASE
            WHEN decision_nature IS NULL THEN echelon IS NULL AND montant_annuel IS NULL AND bareme IS NULL
                AND points_charge IS NULL AND points_distance IS NULL
            WHEN decision_nature = 'REJET' THEN echelon IS NULL AND montant_annuel IS NULL AND bareme IS NULL
            ELSE echelon IS NOT NULL AND montant_annuel IS NOT NULL AND bareme IS NOT NULL
        END),
    CONSTRAINT progression_coherente CHECK (NOT progression_verifiee OR sous_reserve_progression),
    CONSTRAINT points_coherents CHECK (points_distance <= points_charge)
);
COMMENT ON TABLE aglae.dossier IS 'A DSE (dossier social étudiant): one yearly application, with its instruction state and its scholarship decision.';
COMMENT ON COLUMN aglae.dossier.annee_universitaire IS 'The academic year, named by its first year: 2014 means 2014–2015.';
COMMENT ON COLUMN aglae.dossier.etat IS 'Instruction state: NON_TRAITE (received), PIECES_MANQUANTES (waiting for documents), VALIDE, ANNULE (ignored by lookups).';
COMMENT ON COLUMN aglae.dossier.decision_nature IS 'NULL while no decision was taken.';
COMMENT ON COLUMN aglae.dossier.bareme IS 'The year of the barème the échelon and amount were computed with.';
COMMENT ON COLUMN aglae.dossier.sous_reserve_progression IS 'A conditional attribution that the university must confirm once it knows the student progressed in their studies.';
COMMENT ON COLUMN aglae.dossier.points_charge IS 'Total points de charge, distance included.';
COMMENT ON COLUMN aglae.dossier.points_distance IS 'The part of points_charge due to distance: 1 for 30–249 km, 2 beyond.';
COMMENT ON COLUMN aglae.dossier.empreinte IS 'Fingerprint (FNV-1a 128, computed by the import) of what is stored of the dossier, vœux and missing documents included: re-importing an unchanged dossier writes nothing.';
COMMENT ON COLUMN aglae.dossier.importe_le IS 'When the import last created or changed this dossier.';
-- A lookup by identifier is an index scan on this index.
CREATE INDEX dossier_identifiant_annee ON aglae.dossier (identifiant, annee_universitaire);

CREATE TABLE aglae.piece_manquante (
    numero_dossier text NOT NULL,
    piece          text NOT NULL CHECK (piece <> ''),
    PRIMARY KEY (numero_dossier, piece)
);
COMMENT ON TABLE aglae.piece_manquante IS 'The documents a dossier waits for (state PIECES_MANQUANTES).';

CREATE TABLE aglae.voeu (
    numero_dossier text NOT NULL,
    rang           smallint NOT NULL CHECK (rang BETWEEN 1 AND 99),
    academie       char(3) NOT NULL CHECK (academie ~ '^[A-Z]{3}$'),
    uai            char(8) NOT NULL CHECK (uai ~ '^[0-9]{7}[A-Z]$'),
    etablissement  text NOT NULL,
    formation      text NOT NULL,
    PRIMARY KEY (numero_dossier, rang)
);
COMMENT ON TABLE aglae.voeu IS 'A vœu of the DSE: the studies the student plans, by rank of preference.';
COMMENT ON COLUMN aglae.voeu.uai IS 'The establishment''s UAI code; its key letter is checked by the import.';

-- +goose Down
DROP SCHEMA aglae CASCADE;
