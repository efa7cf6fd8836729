-- The follow-up and the control lists (package suivi) read one establishment's consultations of one
-- academic year, student by student in time order: every list, the report and the nightly re-check
-- start with that scan. Without this index it reads every establishment's rows of every year (through
-- consultation_identifiant, or the whole table) to keep this one's; with it, it reads exactly those
-- rows, already in order, and sorts nothing.
--
-- Measured on a log of 4.5 million rows where the establishment holds a third (776,000 rows of the year:
-- 19,000 students, 90 nightly re-checks of 6,300 of them), on a busy 2-CPU machine: 3.7-4.4 s with this
-- index, 4.8-6.6 s without, and without it the cost grows with the whole national log, with it only
-- with the establishment's year. It costs the log's writes one more B-tree insertion per row (inserting
-- 300,000 rows into a copy of the table took 20-40 % longer with it).
--
-- Not CONCURRENTLY: goose runs each migration in a transaction, and the table is young when this
-- migration ships. While the index builds, the journal's COPY waits (lookups never do: their records
-- queue in memory, then in the spool), and nothing is lost.

-- +goose Up
CREATE INDEX consultation_uai_annee_identifiant
    ON connecteur.consultation (uai, annee_universitaire, identifiant, horodatage);
COMMENT ON INDEX connecteur.consultation_uai_annee_identifiant IS
    'The follow-up and control lists of package suivi: an establishment''s students of a year, each in time order.';

-- +goose Down
DROP INDEX connecteur.consultation_uai_annee_identifiant;
