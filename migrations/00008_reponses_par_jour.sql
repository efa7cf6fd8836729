-- The console's chart of the answers an establishment was given per day, stacked by statut, grouped the
-- whole log of the establishment's year at every display: 260 ms of the bilan's 340-400 ms at 200,000
-- consultations. These counts are kept instead, per establishment, year, day (Paris time) and statut, by
-- two statement-level triggers on connecteur.consultation: what a statement inserts is added, what the
-- retention purge deletes is taken away, in the same transaction, so the counts are always the log's.
-- The nightly re-check's answers (canal RECHECK) are not counted: the chart shows the answers given to
-- registrations. Rows are upserted in key order so that two writers touching the same days lock them in
-- the same order.

-- +goose Up
CREATE TABLE connecteur.reponses_par_jour (
    uai                 char(8) NOT NULL,
    annee_universitaire smallint NOT NULL,
    jour                date NOT NULL,
    statut              text NOT NULL,
    n                   bigint NOT NULL CHECK (n >= 0),
    PRIMARY KEY (uai, annee_universitaire, jour, statut)
);
COMMENT ON TABLE connecteur.reponses_par_jour IS 'How many answers of each statut an establishment was given each day (Europe/Paris) of a year, re-checks aside; kept by the triggers consultation_reponses_par_jour_*.';

-- +goose StatementBegin
CREATE FUNCTION connecteur.reponses_par_jour_ajout() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
BEGIN
    INSERT INTO connecteur.reponses_par_jour AS r (uai, annee_universitaire, jour, statut, n)
    SELECT uai, annee_universitaire, (horodatage AT TIME ZONE 'Europe/Paris')::date, statut, count(*)
    FROM nouvelles
    WHERE uai IS NOT NULL AND canal <> 'RECHECK'
    GROUP BY 1, 2, 3, 4
    ORDER BY 1, 2, 3, 4
    ON CONFLICT (uai, annee_universitaire, jour, statut) DO UPDATE SET n = r.n + excluded.n;
    RETURN NULL;
END
$fn$;
-- +goose StatementEnd
COMMENT ON FUNCTION connecteur.reponses_par_jour_ajout() IS 'Adds the rows a statement inserts into connecteur.consultation to connecteur.reponses_par_jour.';
REVOKE EXECUTE ON FUNCTION connecteur.reponses_par_jour_ajout() FROM PUBLIC;

-- +goose StatementBegin
CREATE FUNCTION connecteur.reponses_par_jour_retrait() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
BEGIN
    -- Two statements, so that a count a concurrent writer raised meanwhile is taken from as it is now
    -- (the update locks and re-reads each row) and the rows left at zero are then removed.
    UPDATE connecteur.reponses_par_jour r SET n = r.n - retrait.n
    FROM (
        SELECT uai, annee_universitaire, (horodatage AT TIME ZONE 'Europe/Paris')::date AS jour, statut, count(*) AS n
        FROM anciennes
        WHERE uai IS NOT NULL AND canal <> 'RECHECK'
        GROUP BY 1, 2, 3, 4
        ORDER BY 1, 2, 3, 4
    ) retrait
    WHERE r.uai = retrait.uai AND r.annee_universitaire = retrait.annee_universitaire
        AND r.jour = retrait.jour AND r.statut = retrait.statut;
    DELETE FROM connecteur.reponses_par_jour WHERE n = 0;
    RETURN NULL;
END
$fn$;
-- +goose StatementEnd
COMMENT ON FUNCTION connecteur.reponses_par_jour_retrait() IS 'Takes the rows a statement deletes from connecteur.consultation (the retention purge) away from connecteur.reponses_par_jour.';
REVOKE EXECUTE ON FUNCTION connecteur.reponses_par_jour_retrait() FROM PUBLIC;

CREATE TRIGGER consultation_reponses_par_jour_ajout
    AFTER INSERT ON connecteur.consultation
    REFERENCING NEW TABLE AS nouvelles
    FOR EACH STATEMENT EXECUTE FUNCTION connecteur.reponses_par_jour_ajout();
CREATE TRIGGER consultation_reponses_par_jour_retrait
    AFTER DELETE ON connecteur.consultation
    REFERENCING OLD TABLE AS anciennes
    FOR EACH STATEMENT EXECUTE FUNCTION connecteur.reponses_par_jour_retrait();

-- The backfill: the whole log.
INSERT INTO connecteur.reponses_par_jour (uai, annee_universitaire, jour, statut, n)
SELECT uai, annee_universitaire, (horodatage AT TIME ZONE 'Europe/Paris')::date, statut, count(*)
FROM connecteur.consultation
WHERE uai IS NOT NULL AND canal <> 'RECHECK'
GROUP BY 1, 2, 3, 4;

-- +goose Down
DROP TRIGGER consultation_reponses_par_jour_retrait ON connecteur.consultation;
DROP TRIGGER consultation_reponses_par_jour_ajout ON connecteur.consultation;
DROP FUNCTION connecteur.reponses_par_jour_retrait();
DROP FUNCTION connecteur.reponses_par_jour_ajout();
DROP TABLE connecteur.reponses_par_jour;
