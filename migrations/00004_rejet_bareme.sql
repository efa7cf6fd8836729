-- A rejection is computed against a barème too: that year's resources ceiling, with the points de
-- charge and de distance. Aglaé's rejections carry their barème, and the first version of
-- decision_echelon refused them, so that one such line stopped a whole nightly import. A rejection still
-- has no échelon and no amount.

-- +goose Up
ALTER TABLE aglae.dossier DROP CONSTRAINT decision_echelon;
ALTER TABLE aglae.dossier ADD CONSTRAINT decision_echelon CHECK (
    CASE
        WHEN decision_nature IS NULL THEN echelon IS NULL AND montant_annuel IS NULL AND bareme IS NULL
            AND points_charge IS NULL AND points_distance IS NULL
        WHEN decision_nature = 'REJET' THEN echelon IS NULL AND montant_annuel IS NULL
        ELSE echelon IS NOT NULL AND montant_annuel IS NOT NULL AND bareme IS NOT NULL
    END);
COMMENT ON CONSTRAINT decision_echelon ON aglae.dossier IS
    'An attribution has an échelon, an amount and a barème; a rejection has no échelon nor amount, and may carry the barème it was computed against.';

-- +goose Down
-- Rejections that carry a barème would break the older rule: they lose it.
UPDATE aglae.dossier SET bareme = NULL WHERE decision_nature = 'REJET' AND bareme IS NOT NULL;
ALTER TABLE aglae.dossier DROP CONSTRAINT decision_echelon;
ALTER TABLE aglae.dossier ADD CONSTRAINT decision_echelon CHECK (
    CASE
        WHEN decision_nature IS NULL THEN echelon IS NULL AND montant_annuel IS NULL AND bareme IS NULL
            AND points_charge IS NULL AND points_distance IS NULL
        WHEN decision_nature = 'REJET' THEN echelon IS NULL AND montant_annuel IS NULL AND bareme IS NULL
        ELSE echelon IS NOT NULL AND montant_annuel IS NOT NULL AND bareme IS NOT NULL
    END);
