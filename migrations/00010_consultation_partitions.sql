-- The consultation log, partitioned by month (issue 12, item 1). A national season writes millions of rows
-- from July to October, and the retention used to DELETE them row by row, through every index, with
-- triggers taking each row away from the per-day counts: minutes of I/O and bloat. Now a month is a
-- partition, and the retention detaches and drops whole months (connecteur.consultation_purge): a
-- catalogue change, in milliseconds, whatever the volume.
--
-- Who creates the partitions: the service, through connecteur.consultation_partitions below, not
-- pg_partman. Debian packages pg_partman (postgresql-NN-partman), but the service must run on a plain
-- PostgreSQL (managed offers, the project's throwaway clusters), pg_partman would need its own schema,
-- extension rights and a scheduler (its background worker or a cron) to create months ahead, and the one
-- thing it would do here, a monthly range partition created ahead, is the 30 lines of the function. The
-- journal calls it when it opens and then once a day (postgres.Consultations.MakePartitions): the month
-- of the day and the next two exist long before a row needs them. The function is SECURITY DEFINER (it
-- runs as the tables' owner) so that the service, which may only INSERT into the log, can call it.
--
-- Months are Paris months: a partition holds [1st 00:00 Europe/Paris, next 1st 00:00 Europe/Paris), the
-- same days the console's per-day counts (connecteur.reponses_par_jour, by Paris date) are made of, so
-- that dropping a month drops exactly whole days of those counts.
--
-- A default partition, connecteur.consultation_defaut, takes any row no month holds (a clock far off, a
-- spool replayed long after, a service that did not run for three months): no write ever fails for a
-- missing partition. When the month is created later, its rows move from the default partition into it
-- (the same transaction, before ATTACH), so the default partition stays empty in a healthy deployment.
--
-- Indexes: the follow-up and the control lists no longer read the log (they read connecteur.etudiant_suivi,
-- migration 00007), so the log keeps two:
--   * consultation_horodatage, BRIN on horodatage: rows arrive in time order, so a block range covers a
--     short span of time; the export by period (`consultations --depuis --jusqua`, with or without --uai)
--     reads only the ranges of its period, after pruning the months outside it. A few pages per month,
--     against a B-tree of the whole column.
--   * consultation_uai_identifiant (uai, identifiant, horodatage): one student's rows of one establishment,
--     for the console's history of a student and for the summary's replay (a batch older than a student's
--     latest row makes the trigger of 00007 recompute that student from the log).
-- Gone: consultation_uai_horodatage, consultation_identifiant and consultation_uai_annee_identifiant
-- (00003), three B-trees each row paid for.
--
-- The summary triggers of 00007 and 00008 are statement triggers with transition tables on the
-- partitioned table: PostgreSQL fires them for the statements that target it (the journal's COPY, an
-- INSERT), with every routed row in the transition table. Dropping a partition fires no trigger: the
-- purge itself takes the dropped days away from connecteur.reponses_par_jour and deletes the summary of
-- the students whose rows were all dropped; a student with newer rows keeps their summary whole (answer,
-- since when, counts), so the follow-up does not forget them nor their history's counts.
--
-- The migration moves the existing rows (one INSERT ... SELECT, before the triggers are attached: the
-- summaries already hold them). On a large log it takes the time of rewriting it; the journal's COPY waits
-- meanwhile (lookups do not: their records queue in memory, then in the spool).

-- +goose Up
DROP TRIGGER consultation_etudiant_suivi ON connecteur.consultation;
DROP TRIGGER consultation_reponses_par_jour_ajout ON connecteur.consultation;
DROP TRIGGER consultation_reponses_par_jour_retrait ON connecteur.consultation;
DROP INDEX connecteur.consultation_uai_horodatage;
DROP INDEX connecteur.consultation_horodatage;
DROP INDEX connecteur.consultation_identifiant;
DROP INDEX connecteur.consultation_uai_annee_identifiant;
ALTER TABLE connecteur.consultation RENAME TO consultation_avant_partitions;
ALTER TABLE connecteur.consultation_avant_partitions RENAME CONSTRAINT consultation_canal_check TO avant_canal_check;
ALTER TABLE connecteur.consultation_avant_partitions RENAME CONSTRAINT consultation_statut_check TO avant_statut_check;
ALTER TABLE connecteur.consultation_avant_partitions RENAME CONSTRAINT consultation_type_decision_check TO avant_type_decision_check;
ALTER TABLE connecteur.consultation_avant_partitions RENAME CONSTRAINT consultation_correspondance_check TO avant_correspondance_check;
ALTER TABLE connecteur.consultation_avant_partitions RENAME CONSTRAINT consultation_latence_us_check TO avant_latence_us_check;

CREATE TABLE connecteur.consultation (
    horodatage        timestamptz NOT NULL,
    client_id         text NOT NULL,
    uai               char(8),
    canal             text NOT NULL CONSTRAINT consultation_canal_check
                      CHECK (canal IN ('REST', 'SOAP', 'LOT', 'RECHECK', 'CLI', 'CONSOLE')),
    identifiant       text,
    annee_universitaire smallint NOT NULL,
    statut            text NOT NULL CONSTRAINT consultation_statut_check
                      CHECK (statut IN ('BOURSIER', 'EN_ATTENTE', 'NON_BOURSIER', 'INCONNU')),
    type_decision     text CONSTRAINT consultation_type_decision_check CHECK (type_decision IN ('CONDITIONNELLE', 'DEFINITIVE')),
    echelon           text,
    raison            text NOT NULL,
    correspondance    text CONSTRAINT consultation_correspondance_check CHECK (correspondance IN ('IDENTIFIANT', 'IDENTITE')),
    identifiant_aglae text,
    numero_dossier    text,
    anomalie          text,
    request_id        text NOT NULL,
    latence_us        integer NOT NULL CONSTRAINT consultation_latence_us_check CHECK (latence_us >= 0)
) PARTITION BY RANGE (horodatage);
COMMENT ON TABLE connecteur.consultation IS 'Every answered lookup: who asked, about whom, what was answered and why. Written in batches off the request path; never updated. Partitioned by Paris month (connecteur.consultation_partitions creates them ahead, connecteur.consultation_defaut takes the rest); purged by dropping whole months (`consultations purge`).';
COMMENT ON COLUMN connecteur.consultation.uai IS 'The establishment that asked: the UAI the request named (codeEtablissement), else the client''s.';
COMMENT ON COLUMN connecteur.consultation.identifiant IS 'The identifier the caller sent, normalised; NULL for a lookup by identity only.';
COMMENT ON COLUMN connecteur.consultation.raison IS 'The internal reason (NON_TRAITE, PIECES_MANQUANTES, PROGRESSION_A_VERIFIER, IDENTITE_DIFFERENTE, IDENTITE_AMBIGUE, ...), never sent to the caller.';
COMMENT ON COLUMN connecteur.consultation.latence_us IS 'Time the service took to answer, in microseconds.';

CREATE TABLE connecteur.consultation_defaut PARTITION OF connecteur.consultation DEFAULT;
COMMENT ON TABLE connecteur.consultation_defaut IS 'The log''s rows no month partition holds; moved into their month when connecteur.consultation_partitions creates it. Empty when the service runs.';

CREATE INDEX consultation_horodatage ON connecteur.consultation USING brin (horodatage);
COMMENT ON INDEX connecteur.consultation_horodatage IS 'The export by period: rows arrive in time order.';
CREATE INDEX consultation_uai_identifiant ON connecteur.consultation (uai, identifiant, horodatage);
COMMENT ON INDEX connecteur.consultation_uai_identifiant IS 'One student''s rows of one establishment: the console''s history, the replay of connecteur.etudiant_suivi.';

-- consultation_partitions creates the month partitions (Paris months) from the month of depuis to the month
-- of jusqua included, those missing, moving each new month's rows out of the default partition, and returns
-- how many it created. Idempotent; concurrent callers are serialised by a transaction advisory lock.
-- +goose StatementBegin
CREATE FUNCTION connecteur.consultation_partitions(depuis timestamptz, jusqua timestamptz) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET "TimeZone" = 'Europe/Paris'
SET lock_timeout = '10s' AS $fn$
DECLARE
    mois timestamptz := date_trunc('month', depuis);
    fin timestamptz;
    nom text;
    crees integer := 0;
BEGIN
    IF depuis IS NULL OR jusqua IS NULL OR jusqua - depuis > interval '10 years' THEN
        RAISE EXCEPTION 'consultation_partitions: want a period of at most 10 years, got % to %', depuis, jusqua
            USING ERRCODE = '22023';
    END IF;
    PERFORM pg_advisory_xact_lock(hashtext('connecteur.consultation_partitions'));
    WHILE mois <= jusqua LOOP
        fin := mois + interval '1 month';
        nom := 'consultation_' || to_char(mois, 'YYYY_MM');
        IF to_regclass(format('connecteur.%I', nom)) IS NULL THEN
            EXECUTE format('CREATE TABLE connecteur.%I (LIKE connecteur.consultation INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', nom);
            EXECUTE format('WITH m AS (DELETE FROM connecteur.consultation_defaut WHERE horodatage >= %L AND horodatage < %L RETURNING *)
                INSERT INTO connecteur.%I SELECT * FROM m', mois, fin, nom);
            -- The bounds as a constraint first: ATTACH then trusts it instead of scanning the table.
            EXECUTE format('ALTER TABLE connecteur.%I ADD CONSTRAINT %I CHECK (horodatage >= %L AND horodatage < %L)',
                nom, nom || '_mois', mois, fin);
            EXECUTE format('ALTER TABLE connecteur.consultation ATTACH PARTITION connecteur.%I FOR VALUES FROM (%L) TO (%L)',
                nom, mois, fin);
            crees := crees + 1;
        END IF;
        mois := fin;
    END LOOP;
    RETURN crees;
END
$fn$;
-- +goose StatementEnd
COMMENT ON FUNCTION connecteur.consultation_partitions(timestamptz, timestamptz) IS 'Creates the month partitions of connecteur.consultation from the month of depuis to the month of jusqua (Paris months); the service calls it when it starts and daily for the current month and the next two.';
REVOKE EXECUTE ON FUNCTION connecteur.consultation_partitions(timestamptz, timestamptz) FROM PUBLIC;

-- consultation_purge is the retention: avant is rounded down to the first day of its month (00:00, Paris
-- time); every month before it is detached and dropped, the default partition's rows before it deleted,
-- the per-day counts of those days deleted, and the summary of every student whose rows were all before
-- it deleted. It returns the limit applied, the months dropped and the rows deleted from the default
-- partition. The rows of the month avant falls in are kept until a later purge takes the whole month.
-- +goose StatementBegin
CREATE FUNCTION connecteur.consultation_purge(avant timestamptz,
    OUT limite timestamptz, OUT mois_supprimes text[], OUT lignes_defaut bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET "TimeZone" = 'Europe/Paris'
SET lock_timeout = '10s' AS $fn$
DECLARE
    p record;
BEGIN
    limite := date_trunc('month', avant);
    mois_supprimes := ARRAY[]::text[];
    PERFORM pg_advisory_xact_lock(hashtext('connecteur.consultation_partitions'));
    FOR p IN
        SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = 'connecteur.consultation'::regclass AND c.relname ~ '^consultation_[0-9]{4}_[0-9]{2}$'
          AND to_timestamp(substr(c.relname, 14), 'YYYY_MM') + interval '1 month' <= limite
        ORDER BY c.relname
    LOOP
        EXECUTE format('ALTER TABLE connecteur.consultation DETACH PARTITION connecteur.%I', p.relname);
        EXECUTE format('DROP TABLE connecteur.%I', p.relname);
        mois_supprimes := mois_supprimes || substr(p.relname, 14);
    END LOOP;
    -- Only the default partition can still hold rows before limite (the months left begin at or after it);
    -- this DELETE fires the per-day counts' trigger like any other.
    DELETE FROM connecteur.consultation WHERE horodatage < limite;
    GET DIAGNOSTICS lignes_defaut = ROW_COUNT;
    DELETE FROM connecteur.reponses_par_jour WHERE jour < (limite AT TIME ZONE 'Europe/Paris')::date;
    DELETE FROM connecteur.etudiant_suivi WHERE derniere_ligne < limite;
END
$fn$;
-- +goose StatementEnd
COMMENT ON FUNCTION connecteur.consultation_purge(timestamptz) IS 'The retention of connecteur.consultation: drops the months before the month of avant (see migration 00010).';
REVOKE EXECUTE ON FUNCTION connecteur.consultation_purge(timestamptz) FROM PUBLIC;

-- The months of the rows there are, and the current one and the next two; then the rows.
-- +goose StatementBegin
DO $months$
BEGIN
    PERFORM connecteur.consultation_partitions(
        coalesce((SELECT min(horodatage) FROM connecteur.consultation_avant_partitions), now()),
        greatest(now(), coalesce((SELECT max(horodatage) FROM connecteur.consultation_avant_partitions), now()))
            + interval '2 months');
END
$months$;
-- +goose StatementEnd
INSERT INTO connecteur.consultation SELECT * FROM connecteur.consultation_avant_partitions;
DROP TABLE connecteur.consultation_avant_partitions;

CREATE TRIGGER consultation_etudiant_suivi
    AFTER INSERT ON connecteur.consultation
    REFERENCING NEW TABLE AS nouvelles
    FOR EACH STATEMENT EXECUTE FUNCTION connecteur.etudiant_suivi_consultations();
CREATE TRIGGER consultation_reponses_par_jour_ajout
    AFTER INSERT ON connecteur.consultation
    REFERENCING NEW TABLE AS nouvelles
    FOR EACH STATEMENT EXECUTE FUNCTION connecteur.reponses_par_jour_ajout();
CREATE TRIGGER consultation_reponses_par_jour_retrait
    AFTER DELETE ON connecteur.consultation
    REFERENCING OLD TABLE AS anciennes
    FOR EACH STATEMENT EXECUTE FUNCTION connecteur.reponses_par_jour_retrait();
ANALYZE connecteur.consultation;

-- +goose Down
DROP TRIGGER consultation_etudiant_suivi ON connecteur.consultation;
DROP TRIGGER consultation_reponses_par_jour_ajout ON connecteur.consultation;
DROP TRIGGER consultation_reponses_par_jour_retrait ON connecteur.consultation;
DROP FUNCTION connecteur.consultation_purge(timestamptz);
DROP FUNCTION connecteur.consultation_partitions(timestamptz, timestamptz);
ALTER TABLE connecteur.consultation RENAME TO consultation_partitionnee;
CREATE TABLE connecteur.consultation (LIKE connecteur.consultation_partitionnee INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
INSERT INTO connecteur.consultation SELECT * FROM connecteur.consultation_partitionnee;
DROP TABLE connecteur.consultation_partitionnee;
COMMENT ON TABLE connecteur.consultation IS 'Every answered lookup: who asked, about whom, what was answered and why. Written in batches off the request path; never updated; purged by `consultations purge`.';
CREATE INDEX consultation_uai_horodatage ON connecteur.consultation (uai, horodatage);
CREATE INDEX consultation_horodatage ON connecteur.consultation (horodatage);
CREATE INDEX consultation_identifiant ON connecteur.consultation (identifiant, annee_universitaire, horodatage);
CREATE INDEX consultation_uai_annee_identifiant
    ON connecteur.consultation (uai, annee_universitaire, identifiant, horodatage);
CREATE TRIGGER consultation_etudiant_suivi
    AFTER INSERT ON connecteur.consultation
    REFERENCING NEW TABLE AS nouvelles
    FOR EACH STATEMENT EXECUTE FUNCTION connecteur.etudiant_suivi_consultations();
CREATE TRIGGER consultation_reponses_par_jour_ajout
    AFTER INSERT ON connecteur.consultation
    REFERENCING NEW TABLE AS nouvelles
    FOR EACH STATEMENT EXECUTE FUNCTION connecteur.reponses_par_jour_ajout();
CREATE TRIGGER consultation_reponses_par_jour_retrait
    AFTER DELETE ON connecteur.consultation
    REFERENCING OLD TABLE AS anciennes
    FOR EACH STATEMENT EXECUTE FUNCTION connecteur.reponses_par_jour_retrait();
