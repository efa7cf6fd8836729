-- The least-privilege PostgreSQL roles of aglae-connector.
--
--   role             what it does                                  what it may do
--   aglae_owner      `aglae-connector migrate`                     owns the schemas aglae and connecteur and their
--                                                                  tables; CREATE on the database (CREATE SCHEMA)
--                                                                  and on schema public (goose's goose_db_version)
--   aglae_import     `aglae-connector import` (nightly)            aglae.*: SELECT, INSERT, UPDATE, DELETE;
--                                                                  TEMPORARY on the database (the staging table);
--                                                                  MAINTAIN on PostgreSQL 17+ (its ANALYZE)
--   aglae_connector  `aglae-connector serve` (and `check`)         aglae.*: SELECT; connecteur.client: SELECT
--                                                                  (secret_hash included: it authenticates the
--                                                                  clients); connecteur.consultation: INSERT only;
--                                                                  the console: connecteur.utilisateur SELECT,
--                                                                  connecteur.session SELECT, INSERT, DELETE
--   aglae_admin      operators: `clients add/list/revoke`,         connecteur.client: SELECT, INSERT,
--                    `utilisateurs add/list/disable`,              UPDATE (revoque_le); connecteur.consultation:
--                    `consultations` (export) and `... purge`,     SELECT, DELETE (and connecteur.etudiant_suivi:
--                                                                  SELECT, DELETE); aglae.*: SELECT;
--                    `check`                                       connecteur.utilisateur: SELECT, INSERT, UPDATE
--                                                                  (desactive_le); connecteur.session: DELETE
--                                                                  (and SELECT of utilisateur_id)
--   aglae_suivi      the follow-up, the control lists, the report  aglae.*: SELECT; connecteur.consultation:
--                    and the nightly re-check (package suivi)      SELECT, INSERT (the re-check's answers are
--                                                                  recorded like any other); connecteur.
--                                                                  etudiant_suivi (the log's summary): SELECT;
--                                                                  no client
--
-- None is superuser, none can create roles or databases, replicate or bypass row security; each has a
-- connection limit per server (edit it below: aglae_connector's must cover the instances, a rolling
-- update's extra ones included, x pool_max_conns of each URL reaching that server). The script sets no
-- password: give each LOGIN role one (ALTER ROLE aglae_connector PASSWORD '...', or \password in psql)
-- or a certificate, and list them in pg_hba.conf.
--
-- Run it as a superuser, connected to the connector's database, in one transaction:
--
--   psql -v ON_ERROR_STOP=1 --single-transaction -d aglae -f deploy/sql/roles.sql
--
-- It is idempotent: run it again at will, and after every `migrate`. Roles are cluster-wide, privileges are
-- per database: run it in each database the connector uses (streaming replicas get both from the
-- primary). On a new database, run it three times round the first migration:
--
--   1. roles.sql                        the roles, and the database privileges aglae_owner needs to migrate
--   2. migrate, as aglae_owner          creates the schemas and tables, owned by aglae_owner
--   3. roles.sql                        the privileges on the schemas and tables, and the default privileges
--
-- From then on, a table a migration creates as aglae_owner in schema aglae gets its privileges by itself
-- (default privileges). A new table in schema connecteur gets none for the service on purpose (only
-- SELECT for aglae_admin): grant what it needs here, in the same change as its migration. On a database
-- migrated earlier by another role (a superuser), this script hands the schemas and their tables over
-- to aglae_owner.
--
-- The import's ANALYZE: on PostgreSQL 15 and 16, ANALYZE needs ownership of the table (or of the
-- database); for another role it is skipped with a WARNING and no error, so the import as aglae_import
-- succeeds but leaves the statistics to autovacuum's auto-analyze (it triggers once more than 50 rows +
-- 10 % of a table changed, within autovacuum_naptime, 1 min by default) or to an `ANALYZE aglae.etudiant,
-- aglae.dossier, aglae.voeu, aglae.piece_manquante` run as aglae_owner after the nightly import. From
-- PostgreSQL 17 on, this script grants aglae_import the MAINTAIN privilege on aglae's tables, and the
-- import's own ANALYZE works. aglae_import is deliberately not a member of aglae_owner, which could drop
-- the tables.
--
-- REVOKE ... FROM PUBLIC: the database's CONNECT and TEMPORARY privileges, and CREATE on schema public,
-- are taken from PUBLIC; grant CONNECT to any other role that must connect (monitoring, say).
-- Plain SQL (no psql meta-command): the tests apply this very file (internal/deploy_test).

-- 1. The roles (cluster-wide). Concurrent runs (two databases set up at once) are tolerated: a role
--    created meanwhile by another session is not an error, and attributes are altered only when they
--    differ, so that the usual run writes nothing to the shared catalogs.
DO $roles$
DECLARE
    r record;
BEGIN
    FOR r IN
        SELECT * FROM (VALUES
            ('aglae_owner', 3, 'aglae-connector: owns the schemas aglae and connecteur; runs the migrations'),
            ('aglae_import', 2, 'aglae-connector: the nightly import of Aglaé extracts (writes schema aglae)'),
            ('aglae_connector', 100, 'aglae-connector: the service (reads aglae and connecteur.client, appends to connecteur.consultation)'),
            ('aglae_admin', 5, 'aglae-connector: operators (API clients, consultation log export and purge)'),
            ('aglae_suivi', 3, 'aglae-connector: follow-up, control lists and nightly re-check (reads the log and aglae, appends to the log)')
        ) AS v (name, connlimit, comment)
    LOOP
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = r.name) THEN
            BEGIN
                EXECUTE format('CREATE ROLE %I LOGIN INHERIT NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS CONNECTION LIMIT %s',
                    r.name, r.connlimit);
                EXECUTE format('COMMENT ON ROLE %I IS %L', r.name, r.comment);
            EXCEPTION WHEN duplicate_object OR unique_violation THEN
                NULL; -- another session created it in the meantime
            END;
        END IF;
        IF EXISTS (SELECT FROM pg_roles WHERE rolname = r.name
                   AND (rolsuper OR rolcreatedb OR rolcreaterole OR rolreplication OR rolbypassrls
                        OR NOT rolcanlogin OR NOT rolinherit OR rolconnlimit <> r.connlimit)) THEN
            EXECUTE format('ALTER ROLE %I LOGIN INHERIT NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS CONNECTION LIMIT %s',
                r.name, r.connlimit);
        END IF;
    END LOOP;
END
$roles$;

-- 2. The database: only these roles connect; only the import creates temporary tables; the owner
--    creates the schemas.
DO $database$
BEGIN
    EXECUTE format('REVOKE ALL ON DATABASE %I FROM PUBLIC, aglae_owner, aglae_import, aglae_connector, aglae_admin, aglae_suivi',
        current_database());
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO aglae_owner, aglae_import, aglae_connector, aglae_admin, aglae_suivi',
        current_database());
    EXECUTE format('GRANT CREATE ON DATABASE %I TO aglae_owner', current_database());
    EXECUTE format('GRANT TEMPORARY ON DATABASE %I TO aglae_import', current_database());
END
$database$;

-- Schema public holds goose's version table, and nothing of the connector's.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE, CREATE ON SCHEMA public TO aglae_owner;
DO $goose$
BEGIN
    IF EXISTS (SELECT FROM pg_class WHERE oid = to_regclass('public.goose_db_version')
               AND pg_get_userbyid(relowner) <> 'aglae_owner') THEN
        ALTER TABLE public.goose_db_version OWNER TO aglae_owner; -- its sequence follows
    END IF;
END
$goose$;

-- 3. The schemas, once they exist: owned by aglae_owner, with every privilege of the other roles
--    revoked and granted again below, so that the privileges are exactly these whatever came before.
DO $schemas$
DECLARE
    s text;
    o record;
BEGIN
    FOREACH s IN ARRAY ARRAY['aglae', 'connecteur', 'river'] LOOP
        CONTINUE WHEN NOT EXISTS (SELECT FROM pg_namespace WHERE nspname = s);
        IF (SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = s) <> 'aglae_owner' THEN
            EXECUTE format('ALTER SCHEMA %I OWNER TO aglae_owner', s);
        END IF;
        -- Tables, views and standalone sequences (a column's sequence follows its table).
        FOR o IN
            SELECT c.relname, c.relkind FROM pg_class c
            WHERE c.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = s)
              AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
              AND pg_get_userbyid(c.relowner) <> 'aglae_owner'
              AND NOT (c.relkind = 'S' AND EXISTS (
                  SELECT FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                    AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')))
        LOOP
            EXECUTE format('ALTER %s %I.%I OWNER TO aglae_owner',
                CASE o.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'f' THEN 'FOREIGN TABLE'
                               WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END,
                s, o.relname);
        END LOOP;
        -- Functions (connecteur.etudiant_suivi_consultations, a SECURITY DEFINER trigger, runs as its owner).
        FOR o IN
            SELECT p.oid::regprocedure::text AS f FROM pg_proc p
            WHERE p.pronamespace = (SELECT oid FROM pg_namespace WHERE nspname = s)
              AND pg_get_userbyid(p.proowner) <> 'aglae_owner'
        LOOP
            EXECUTE format('ALTER FUNCTION %s OWNER TO aglae_owner', o.f);
        END LOOP;
        EXECUTE format('REVOKE ALL ON SCHEMA %I FROM PUBLIC, aglae_import, aglae_connector, aglae_admin, aglae_suivi', s);
        EXECUTE format('REVOKE ALL ON ALL TABLES IN SCHEMA %I FROM PUBLIC, aglae_import, aglae_connector, aglae_admin, aglae_suivi', s);
        EXECUTE format('REVOKE ALL ON ALL SEQUENCES IN SCHEMA %I FROM PUBLIC, aglae_import, aglae_connector, aglae_admin, aglae_suivi', s);
    END LOOP;
END
$schemas$;

-- 4. Aglaé's data: read by the service and the operators, written by the import only.
DO $aglae$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_namespace WHERE nspname = 'aglae') THEN
        RAISE NOTICE 'schema aglae does not exist yet: run migrate as aglae_owner, then this script again';
        RETURN;
    END IF;
    GRANT USAGE ON SCHEMA aglae TO aglae_import, aglae_connector, aglae_admin, aglae_suivi;
    GRANT SELECT ON ALL TABLES IN SCHEMA aglae TO aglae_connector, aglae_admin, aglae_suivi;
    GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA aglae TO aglae_import;
    GRANT USAGE ON ALL SEQUENCES IN SCHEMA aglae TO aglae_import;
    -- Default privileges, exactly these too.
    ALTER DEFAULT PRIVILEGES FOR ROLE aglae_owner IN SCHEMA aglae
        REVOKE ALL ON TABLES FROM PUBLIC, aglae_import, aglae_connector, aglae_admin, aglae_suivi;
    ALTER DEFAULT PRIVILEGES FOR ROLE aglae_owner IN SCHEMA aglae
        REVOKE ALL ON SEQUENCES FROM PUBLIC, aglae_import, aglae_connector, aglae_admin, aglae_suivi;
    ALTER DEFAULT PRIVILEGES FOR ROLE aglae_owner IN SCHEMA aglae
        GRANT SELECT ON TABLES TO aglae_connector, aglae_admin, aglae_suivi;
    ALTER DEFAULT PRIVILEGES FOR ROLE aglae_owner IN SCHEMA aglae
        GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO aglae_import;
    ALTER DEFAULT PRIVILEGES FOR ROLE aglae_owner IN SCHEMA aglae
        GRANT USAGE ON SEQUENCES TO aglae_import;
    IF current_setting('server_version_num')::int >= 170000 THEN
        -- ANALYZE (and VACUUM) without owning the tables; EXECUTE: the privilege is unknown to 15 and 16.
        EXECUTE 'GRANT MAINTAIN ON ALL TABLES IN SCHEMA aglae TO aglae_import';
        EXECUTE 'ALTER DEFAULT PRIVILEGES FOR ROLE aglae_owner IN SCHEMA aglae GRANT MAINTAIN ON TABLES TO aglae_import';
    END IF;
END
$aglae$;

-- 5. The connector's own records. The service reads the API clients (their secret's hash included: it
--    checks the secrets) and appends to the consultation log (COPY needs INSERT only); it never reads,
--    updates nor deletes a consultation. Operators manage the clients, export and purge the log.
DO $connecteur$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_namespace WHERE nspname = 'connecteur') THEN
        RAISE NOTICE 'schema connecteur does not exist yet: run migrate as aglae_owner, then this script again';
        RETURN;
    END IF;
    GRANT USAGE ON SCHEMA connecteur TO aglae_connector, aglae_admin, aglae_suivi;
    IF to_regclass('connecteur.client') IS NOT NULL THEN
        GRANT SELECT ON connecteur.client TO aglae_connector;
        GRANT SELECT, INSERT ON connecteur.client TO aglae_admin;
        GRANT UPDATE (revoque_le) ON connecteur.client TO aglae_admin;  -- clients revoke
    END IF;
    IF to_regclass('connecteur.consultation') IS NOT NULL THEN
        GRANT INSERT ON connecteur.consultation TO aglae_connector;
        GRANT SELECT, DELETE ON connecteur.consultation TO aglae_admin;  -- export; purge (retention)
        GRANT SELECT, INSERT ON connecteur.consultation TO aglae_suivi;  -- follow-up; the re-check's answers
    END IF;
    IF to_regclass('connecteur.etudiant_suivi') IS NOT NULL THEN
        -- The log's summary for the follow-up: written only by the log's trigger (SECURITY DEFINER, as
        -- aglae_owner), so the log's writers need nothing on it; read by the follow-up and the control
        -- lists; purged with the log.
        GRANT SELECT ON connecteur.etudiant_suivi TO aglae_suivi;
        GRANT SELECT, DELETE ON connecteur.etudiant_suivi TO aglae_admin;  -- purge (retention)
    END IF;
    -- The log's months (migration 00010): created ahead by whoever writes the log, dropped by the purge;
    -- both SECURITY DEFINER functions of aglae_owner, the only ones who may change the table's partitions.
    IF to_regprocedure('connecteur.consultation_partitions(timestamptz, timestamptz)') IS NOT NULL THEN
        GRANT EXECUTE ON FUNCTION connecteur.consultation_partitions(timestamptz, timestamptz)
            TO aglae_connector, aglae_suivi, aglae_admin;
        GRANT EXECUTE ON FUNCTION connecteur.consultation_purge(timestamptz) TO aglae_admin;
    END IF;
    -- The nightly re-check marks the students it re-asked (migration 00011).
    IF to_regprocedure('connecteur.etudiant_suivi_reverifie(char, smallint, text[], timestamptz)') IS NOT NULL THEN
        GRANT EXECUTE ON FUNCTION connecteur.etudiant_suivi_reverifie(char, smallint, text[], timestamptz) TO aglae_suivi;
    END IF;
    IF to_regclass('connecteur.reponses_par_jour') IS NOT NULL THEN
        -- The console's chart: counts kept by the log's triggers (SECURITY DEFINER), read with the follow-up.
        GRANT SELECT ON connecteur.reponses_par_jour TO aglae_suivi;
    END IF;
    IF to_regclass('connecteur.utilisateur') IS NOT NULL THEN
        -- The console: the service signs people in and keeps their sessions; operators manage the accounts
        -- (utilisateurs add/list/disable; disabling ends the account's sessions).
        GRANT SELECT ON connecteur.utilisateur TO aglae_connector;
        GRANT SELECT, INSERT, DELETE ON connecteur.session TO aglae_connector;
        GRANT SELECT, INSERT ON connecteur.utilisateur TO aglae_admin;
        GRANT UPDATE (desactive_le) ON connecteur.utilisateur TO aglae_admin;
        GRANT SELECT (utilisateur_id), DELETE ON connecteur.session TO aglae_admin;  -- disable ends them
    END IF;
    ALTER DEFAULT PRIVILEGES FOR ROLE aglae_owner IN SCHEMA connecteur
        REVOKE ALL ON TABLES FROM PUBLIC, aglae_import, aglae_connector, aglae_admin, aglae_suivi;
    ALTER DEFAULT PRIVILEGES FOR ROLE aglae_owner IN SCHEMA connecteur
        REVOKE ALL ON SEQUENCES FROM PUBLIC, aglae_import, aglae_connector, aglae_admin, aglae_suivi;
    ALTER DEFAULT PRIVILEGES FOR ROLE aglae_owner IN SCHEMA connecteur
        GRANT SELECT ON TABLES TO aglae_admin;
END
$connecteur$;

-- 6. The instances of the service: each registers itself, beats and counts the live ones, so that it
--    enforces its share of every client's rate limit; it deletes its row when it stops, and the rows
--    of instances long dead.
DO $instance$
BEGIN
    IF to_regclass('connecteur.instance') IS NOT NULL THEN
        GRANT SELECT, INSERT, UPDATE, DELETE ON connecteur.instance TO aglae_connector;
    END IF;
END
$instance$;

-- 7. Registration events (issue 13). The service stores the events and their jobs (schema river, the job
--    queue, whose tables rivermigrate creates at `migrate`), processes them (reads the barème, writes the
--    validations) and settles the CROUS's marked ones; the import applies the events that waited for a
--    decision (as aglae_import); operators bind CROUS clients to their académie, hand the validations to
--    Aglaé and record its acknowledgment, and read the queue's dead letter.
DO $inscription$
BEGIN
    IF to_regclass('connecteur.inscription') IS NULL THEN
        RETURN;
    END IF;
    GRANT SELECT, INSERT, UPDATE ON connecteur.inscription, connecteur.validation TO aglae_connector, aglae_import;
    GRANT SELECT ON connecteur.bareme, connecteur.client_academie TO aglae_connector, aglae_import;
    GRANT USAGE ON SCHEMA connecteur TO aglae_import;
    GRANT USAGE ON ALL SEQUENCES IN SCHEMA connecteur TO aglae_connector, aglae_import;
    GRANT SELECT, INSERT, UPDATE ON connecteur.client_academie TO aglae_admin;      -- clients add --academie
    GRANT SELECT, UPDATE (acquittee_le, modifie_le) ON connecteur.validation TO aglae_admin;  -- validations ack
    GRANT SELECT ON connecteur.inscription TO aglae_admin;
    IF EXISTS (SELECT FROM pg_namespace WHERE nspname = 'river') THEN
        GRANT USAGE ON SCHEMA river TO aglae_connector, aglae_admin;
        GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA river TO aglae_connector;
        GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA river TO aglae_connector;
        GRANT SELECT ON ALL TABLES IN SCHEMA river TO aglae_admin;                  -- inscriptions (dead letter)
    END IF;
END
$inscription$;
