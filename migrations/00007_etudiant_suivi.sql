-- The follow-up's summary of the consultation log (issue 12, item 2): per establishment, academic year and
-- student, the last answer, since when it has been given, the answer before it and the establishment's
-- own consultations. The follow-up (changes since a date) and the control lists of package suivi read
-- this table, the size of the student body, instead of window functions over the whole season's log (0.7-
-- 2.7 s a console page for an establishment with 200,000 consultations of the year).
--
-- It is maintained by a statement trigger on connecteur.consultation, from the rows each statement
-- inserted (a transition table): every writer of the log (the journal's batched COPY, the re-check
-- through it, a test's INSERT) keeps it in step, in the same transaction, so a batch the database refuses
-- leaves it untouched. Rows with no uai or no identifiant (lookups by identity only) are not followed.
--
-- The fold of a batch is one statement whose text etudiant_suivi_integration returns for a source of log
-- rows, so that the trigger (the batch), the rare replay of a student (below) and the backfill run the
-- same SQL. A batch whose rows come after what the summary holds for a student (the usual case) is merged
-- into it; one holding a row older than the student's latest (a spool replayed after newer batches, two
-- writers at once) would change the history's middle: that student's summary is computed again from all
-- their rows in the log.
--
-- The retention's purge deletes the summary of a student once all their rows are gone
-- (postgres.Consultations.DeleteBefore); a student whose older rows only are purged keeps their summary,
-- counts included (the old window functions forgot the purged rows).

-- +goose Up
CREATE TABLE connecteur.etudiant_suivi (
    uai                     char(8) NOT NULL,
    annee_universitaire     smallint NOT NULL,
    identifiant             text NOT NULL,
    statut                  text NOT NULL,
    type_decision           text,
    echelon                 text,
    correspondance          text,
    identifiant_aglae       text,
    anomalie                text,
    numero_dossier          text,
    derniere_ligne          timestamptz NOT NULL,
    depuis                  timestamptz NOT NULL,
    depuis_canal            text NOT NULL,
    depuis_numero_dossier   text,
    avant_statut            text,
    avant_type_decision     text,
    avant_echelon           text,
    avant_correspondance    text,
    avant_identifiant_aglae text,
    avant_anomalie          text,
    avant_numero_dossier    text,
    consultations           integer NOT NULL,
    premiere_consultation   timestamptz,
    derniere_consultation   timestamptz,
    premiere_ligne          timestamptz NOT NULL,
    PRIMARY KEY (uai, annee_universitaire, identifiant)
) WITH (fillfactor = 80); -- room for HOT updates: a consultation rewrites its student's row
COMMENT ON TABLE connecteur.etudiant_suivi IS 'The follow-up''s summary of connecteur.consultation: per establishment, year and student asked about by identifier, the last answer and since when. Maintained by the trigger consultation_etudiant_suivi; read by the follow-up and the control lists (package suivi).';
COMMENT ON COLUMN connecteur.etudiant_suivi.statut IS 'The last answer (statut to anomalie, numero_dossier): the student''s latest row in the log.';
COMMENT ON COLUMN connecteur.etudiant_suivi.derniere_ligne IS 'Time of the student''s latest row, the re-check''s included.';
COMMENT ON COLUMN connecteur.etudiant_suivi.depuis IS 'When the last answer was first given: the last row whose answer (statut, type_decision, echelon, correspondance, identifiant_aglae, anomalie) differs from the row before it, or the first row.';
COMMENT ON COLUMN connecteur.etudiant_suivi.depuis_canal IS 'The channel of that row (RECHECK when the nightly re-check saw the change).';
COMMENT ON COLUMN connecteur.etudiant_suivi.depuis_numero_dossier IS 'The dossier number that row gave (the latest row''s may differ: a new number alone is no change).';
COMMENT ON COLUMN connecteur.etudiant_suivi.avant_statut IS 'The answer of the row before that one (avant_statut to avant_numero_dossier); NULL when the last answer is the first one given.';
COMMENT ON COLUMN connecteur.etudiant_suivi.consultations IS 'The establishment''s own consultations of the student (the re-check''s rows excluded), and the first and last of them (NULL when none).';
COMMENT ON COLUMN connecteur.etudiant_suivi.premiere_ligne IS 'Time of the student''s first row, the re-check''s included.';
-- The follow-up reads one establishment's changes since a date.
CREATE INDEX etudiant_suivi_uai_depuis ON connecteur.etudiant_suivi (uai, depuis);

-- etudiant_suivi_integration returns the statement that folds the log rows of source (a relation or a
-- parenthesised query with the log's columns) into connecteur.etudiant_suivi, one row per student: the
-- latest row, the last change row (the first row counts as one), the running counts. A student already
-- summarised is merged when none of the new rows is older than their latest row; the statement returns
-- the students it left alone for that reason (arrays of uai, annee_universitaire, identifiant).
-- +goose StatementBegin
CREATE FUNCTION connecteur.etudiant_suivi_integration(source text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN format($sql$
WITH historique AS (
    SELECT uai, annee_universitaire, identifiant, horodatage, canal, statut, type_decision, echelon,
        correspondance, identifiant_aglae, anomalie, numero_dossier,
        lag(statut) OVER w AS p_statut, lag(type_decision) OVER w AS p_type_decision,
        lag(echelon) OVER w AS p_echelon, lag(correspondance) OVER w AS p_correspondance,
        lag(identifiant_aglae) OVER w AS p_identifiant_aglae, lag(anomalie) OVER w AS p_anomalie,
        lag(numero_dossier) OVER w AS p_numero_dossier,
        -- A change: an answer distinct from the row before (the first row, distinct from nothing, is one).
        (statut, type_decision, echelon, correspondance, identifiant_aglae, anomalie) IS DISTINCT FROM
            (lag(statut) OVER w, lag(type_decision) OVER w, lag(echelon) OVER w, lag(correspondance) OVER w,
             lag(identifiant_aglae) OVER w, lag(anomalie) OVER w) AS change
    FROM %s AS source
    WHERE uai IS NOT NULL AND identifiant IS NOT NULL
    WINDOW w AS (PARTITION BY uai, annee_universitaire, identifiant ORDER BY horodatage)
), periodes AS (
    -- periode numbers the answers of a student: it grows at each change row.
    SELECT *, count(*) FILTER (WHERE change) OVER w AS periode
    FROM historique
    WINDOW w AS (PARTITION BY uai, annee_universitaire, identifiant ORDER BY horodatage)
), etudiants AS MATERIALIZED (
    -- One row per student, without a join: the latest row, the first row of its periode (the last change
    -- row), the counts over all the rows.
    SELECT * FROM (
        SELECT uai, annee_universitaire, identifiant,
            statut, type_decision, echelon, correspondance, identifiant_aglae, anomalie, numero_dossier,
            horodatage AS derniere_ligne,
            first_value(horodatage) OVER p AS depuis, first_value(canal) OVER p AS depuis_canal,
            first_value(numero_dossier) OVER p AS depuis_numero_dossier,
            first_value(p_statut) OVER p AS avant_statut, first_value(p_type_decision) OVER p AS avant_type_decision,
            first_value(p_echelon) OVER p AS avant_echelon, first_value(p_correspondance) OVER p AS avant_correspondance,
            first_value(p_identifiant_aglae) OVER p AS avant_identifiant_aglae,
            first_value(p_anomalie) OVER p AS avant_anomalie, first_value(p_numero_dossier) OVER p AS avant_numero_dossier,
            count(*) FILTER (WHERE canal <> 'RECHECK') OVER e AS consultations,
            min(horodatage) FILTER (WHERE canal <> 'RECHECK') OVER e AS premiere_consultation,
            max(horodatage) FILTER (WHERE canal <> 'RECHECK') OVER e AS derniere_consultation,
            min(horodatage) OVER e AS premiere_ligne,
            row_number() OVER p = count(*) OVER p AND periode = max(periode) OVER e AS derniere
        FROM periodes
        WINDOW p AS (PARTITION BY uai, annee_universitaire, identifiant, periode ORDER BY horodatage
                     ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING),
               e AS (PARTITION BY uai, annee_universitaire, identifiant)
    ) x
    WHERE derniere
), integres AS (
    INSERT INTO connecteur.etudiant_suivi AS s (uai, annee_universitaire, identifiant,
        statut, type_decision, echelon, correspondance, identifiant_aglae, anomalie, numero_dossier, derniere_ligne,
        depuis, depuis_canal, depuis_numero_dossier,
        avant_statut, avant_type_decision, avant_echelon, avant_correspondance, avant_identifiant_aglae,
        avant_anomalie, avant_numero_dossier,
        consultations, premiere_consultation, derniere_consultation, premiere_ligne)
    SELECT uai, annee_universitaire, identifiant,
        statut, type_decision, echelon, correspondance, identifiant_aglae, anomalie, numero_dossier, derniere_ligne,
        depuis, depuis_canal, depuis_numero_dossier,
        avant_statut, avant_type_decision, avant_echelon, avant_correspondance, avant_identifiant_aglae,
        avant_anomalie, avant_numero_dossier,
        consultations, premiere_consultation, derniere_consultation, premiere_ligne
    FROM etudiants
    ORDER BY uai, annee_universitaire, identifiant -- rows locked in one order by every writer
    ON CONFLICT (uai, annee_universitaire, identifiant) DO UPDATE SET
        -- Either the new rows hold a change (the proposed avant_statut is set: the last change is theirs),
        -- or they all give one answer, a change when it differs from the summary's last (the answer before
        -- is then the summary's last), or else nothing changed.
        depuis = CASE WHEN excluded.avant_statut IS NOT NULL OR (excluded.statut, excluded.type_decision, excluded.echelon, excluded.correspondance,
                excluded.identifiant_aglae, excluded.anomalie) IS DISTINCT FROM
                (s.statut, s.type_decision, s.echelon, s.correspondance, s.identifiant_aglae, s.anomalie)
            THEN excluded.depuis ELSE s.depuis END,
        depuis_canal = CASE WHEN excluded.avant_statut IS NOT NULL OR (excluded.statut, excluded.type_decision, excluded.echelon, excluded.correspondance,
                excluded.identifiant_aglae, excluded.anomalie) IS DISTINCT FROM
                (s.statut, s.type_decision, s.echelon, s.correspondance, s.identifiant_aglae, s.anomalie)
            THEN excluded.depuis_canal ELSE s.depuis_canal END,
        depuis_numero_dossier = CASE WHEN excluded.avant_statut IS NOT NULL OR (excluded.statut, excluded.type_decision, excluded.echelon, excluded.correspondance,
                excluded.identifiant_aglae, excluded.anomalie) IS DISTINCT FROM
                (s.statut, s.type_decision, s.echelon, s.correspondance, s.identifiant_aglae, s.anomalie)
            THEN excluded.depuis_numero_dossier ELSE s.depuis_numero_dossier END,
        avant_statut = CASE WHEN excluded.avant_statut IS NOT NULL THEN excluded.avant_statut
            WHEN (excluded.statut, excluded.type_decision, excluded.echelon, excluded.correspondance,
                excluded.identifiant_aglae, excluded.anomalie) IS DISTINCT FROM
                (s.statut, s.type_decision, s.echelon, s.correspondance, s.identifiant_aglae, s.anomalie) THEN s.statut ELSE s.avant_statut END,
        avant_type_decision = CASE WHEN excluded.avant_statut IS NOT NULL THEN excluded.avant_type_decision
            WHEN (excluded.statut, excluded.type_decision, excluded.echelon, excluded.correspondance,
                excluded.identifiant_aglae, excluded.anomalie) IS DISTINCT FROM
                (s.statut, s.type_decision, s.echelon, s.correspondance, s.identifiant_aglae, s.anomalie) THEN s.type_decision ELSE s.avant_type_decision END,
        avant_echelon = CASE WHEN excluded.avant_statut IS NOT NULL THEN excluded.avant_echelon
            WHEN (excluded.statut, excluded.type_decision, excluded.echelon, excluded.correspondance,
                excluded.identifiant_aglae, excluded.anomalie) IS DISTINCT FROM
                (s.statut, s.type_decision, s.echelon, s.correspondance, s.identifiant_aglae, s.anomalie) THEN s.echelon ELSE s.avant_echelon END,
        avant_correspondance = CASE WHEN excluded.avant_statut IS NOT NULL THEN excluded.avant_correspondance
            WHEN (excluded.statut, excluded.type_decision, excluded.echelon, excluded.correspondance,
                excluded.identifiant_aglae, excluded.anomalie) IS DISTINCT FROM
                (s.statut, s.type_decision, s.echelon, s.correspondance, s.identifiant_aglae, s.anomalie) THEN s.correspondance ELSE s.avant_correspondance END,
        avant_identifiant_aglae = CASE WHEN excluded.avant_statut IS NOT NULL THEN excluded.avant_identifiant_aglae
            WHEN (excluded.statut, excluded.type_decision, excluded.echelon, excluded.correspondance,
                excluded.identifiant_aglae, excluded.anomalie) IS DISTINCT FROM
                (s.statut, s.type_decision, s.echelon, s.correspondance, s.identifiant_aglae, s.anomalie) THEN s.identifiant_aglae ELSE s.avant_identifiant_aglae END,
        avant_anomalie = CASE WHEN excluded.avant_statut IS NOT NULL THEN excluded.avant_anomalie
            WHEN (excluded.statut, excluded.type_decision, excluded.echelon, excluded.correspondance,
                excluded.identifiant_aglae, excluded.anomalie) IS DISTINCT FROM
                (s.statut, s.type_decision, s.echelon, s.correspondance, s.identifiant_aglae, s.anomalie) THEN s.anomalie ELSE s.avant_anomalie END,
        avant_numero_dossier = CASE WHEN excluded.avant_statut IS NOT NULL THEN excluded.avant_numero_dossier
            WHEN (excluded.statut, excluded.type_decision, excluded.echelon, excluded.correspondance,
                excluded.identifiant_aglae, excluded.anomalie) IS DISTINCT FROM
                (s.statut, s.type_decision, s.echelon, s.correspondance, s.identifiant_aglae, s.anomalie) THEN s.numero_dossier ELSE s.avant_numero_dossier END,
        statut = excluded.statut,
        type_decision = excluded.type_decision,
        echelon = excluded.echelon,
        correspondance = excluded.correspondance,
        identifiant_aglae = excluded.identifiant_aglae,
        anomalie = excluded.anomalie,
        numero_dossier = excluded.numero_dossier,
        derniere_ligne = excluded.derniere_ligne,
        consultations = s.consultations + excluded.consultations,
        premiere_consultation = least(s.premiere_consultation, excluded.premiere_consultation),
        derniere_consultation = greatest(s.derniere_consultation, excluded.derniere_consultation)
    WHERE s.derniere_ligne <= excluded.premiere_ligne
    RETURNING s.uai, s.annee_universitaire, s.identifiant
)
SELECT array_agg(d.uai), array_agg(d.annee_universitaire), array_agg(d.identifiant)
FROM etudiants d
WHERE NOT EXISTS (SELECT FROM integres i
    WHERE i.uai = d.uai AND i.annee_universitaire = d.annee_universitaire AND i.identifiant = d.identifiant)
$sql$, source);
-- +goose StatementEnd
COMMENT ON FUNCTION connecteur.etudiant_suivi_integration(text) IS 'The statement folding the log rows of a source into connecteur.etudiant_suivi (see the trigger consultation_etudiant_suivi).';

-- The trigger's function: folds the statement's new rows, then computes again from the log the students
-- a new row older than their latest one left alone (they were locked by the fold: the replay's snapshot
-- sees every writer that touched them before). SECURITY DEFINER: it runs as the tables' owner, so that a
-- writer of the log needs no privilege on the summary (the service appends to the log and reads neither).
-- +goose StatementBegin
CREATE FUNCTION connecteur.etudiant_suivi_consultations() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    uais char(8)[];
    annees smallint[];
    identifiants text[];
BEGIN
    EXECUTE connecteur.etudiant_suivi_integration('nouvelles') INTO uais, annees, identifiants;
    IF uais IS NOT NULL THEN
        DELETE FROM connecteur.etudiant_suivi s
        USING unnest(uais, annees, identifiants) AS k (uai, annee_universitaire, identifiant)
        WHERE s.uai = k.uai AND s.annee_universitaire = k.annee_universitaire AND s.identifiant = k.identifiant;
        EXECUTE connecteur.etudiant_suivi_integration(
            '(SELECT c.* FROM unnest($1, $2, $3) AS k (uai, annee_universitaire, identifiant)
              JOIN connecteur.consultation c ON c.uai = k.uai AND c.annee_universitaire = k.annee_universitaire
                AND c.identifiant = k.identifiant)')
            USING uais, annees, identifiants;
    END IF;
    RETURN NULL;
END
$fn$;
-- +goose StatementEnd
COMMENT ON FUNCTION connecteur.etudiant_suivi_consultations() IS 'Keeps connecteur.etudiant_suivi in step with the rows a statement inserts into connecteur.consultation.';
-- Only its trigger calls it: nobody may attach it to a table of their own (a trigger fires without EXECUTE).
REVOKE EXECUTE ON FUNCTION connecteur.etudiant_suivi_consultations() FROM PUBLIC;

CREATE TRIGGER consultation_etudiant_suivi
    AFTER INSERT ON connecteur.consultation
    REFERENCING NEW TABLE AS nouvelles
    FOR EACH STATEMENT EXECUTE FUNCTION connecteur.etudiant_suivi_consultations();

-- The backfill: the whole log, as one batch into the empty summary.
-- +goose StatementBegin
DO $backfill$
BEGIN
    EXECUTE connecteur.etudiant_suivi_integration('connecteur.consultation');
END
$backfill$;
-- +goose StatementEnd
ANALYZE connecteur.etudiant_suivi;

-- +goose Down
DROP TRIGGER consultation_etudiant_suivi ON connecteur.consultation;
DROP FUNCTION connecteur.etudiant_suivi_consultations();
DROP FUNCTION connecteur.etudiant_suivi_integration(text);
DROP TABLE connecteur.etudiant_suivi;
