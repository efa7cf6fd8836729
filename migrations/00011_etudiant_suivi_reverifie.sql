-- The nightly re-check asks only what may have changed (issue 12, item 3): a student whose last answer is
-- not final is re-asked only when their dossier was imported or changed (aglae.dossier.importe_le: the
-- import sets it when it creates or changes a dossier, a validation included) since their last answer or
-- their last re-check, and an answer is written to the log only when it differs from the last one. So the
-- summary keeps when each student was last re-checked, whatever the answer: a night with no new extract
-- re-asks nobody, and a re-check that finds nothing new writes no log row.

-- +goose Up
ALTER TABLE connecteur.etudiant_suivi ADD COLUMN reverifie_le timestamptz;
COMMENT ON COLUMN connecteur.etudiant_suivi.reverifie_le IS 'When the nightly re-check last re-asked the engine about the student (its answer is in the log only when it differed); NULL: never.';

-- etudiant_suivi_reverifie records that the re-check re-asked the students identifiants of an establishment
-- and year at le (the time it selected them). SECURITY DEFINER: the summary is written only by functions of
-- its owner, and the re-check's role may only call this one.
-- +goose StatementBegin
CREATE FUNCTION connecteur.etudiant_suivi_reverifie(uai char(8), annee smallint, identifiants text[], le timestamptz)
RETURNS integer
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    WITH m AS (
        UPDATE connecteur.etudiant_suivi s SET reverifie_le = greatest(s.reverifie_le, le)
        WHERE s.uai = etudiant_suivi_reverifie.uai AND s.annee_universitaire = annee
          AND s.identifiant = ANY (identifiants)
        RETURNING 1)
    SELECT count(*)::integer FROM m;
END;
-- +goose StatementEnd
COMMENT ON FUNCTION connecteur.etudiant_suivi_reverifie(char, smallint, text[], timestamptz) IS 'Marks students of connecteur.etudiant_suivi as re-checked at a time (see migration 00011).';
REVOKE EXECUTE ON FUNCTION connecteur.etudiant_suivi_reverifie(char, smallint, text[], timestamptz) FROM PUBLIC;

-- +goose Down
DROP FUNCTION connecteur.etudiant_suivi_reverifie(char, smallint, text[], timestamptz);
ALTER TABLE connecteur.etudiant_suivi DROP COLUMN reverifie_le;
