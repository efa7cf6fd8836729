package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/aglae-connector/aglae-connector/internal/bourse"
)

// Store reads Aglaé's dossiers for the decision engine. It implements
// bourse.Store.
type Store struct {
	pool  *pgxpool.Pool
	group *coalescer
}

// NewStore returns a store reading from pool. Lookups by identifier alone
// that arrive together share one query per round trip, at most as many at
// once as the pool has connections.
func NewStore(pool *pgxpool.Pool) *Store {
	s := &Store{pool: pool}
	s.group = &coalescer{store: s, max: max(int(pool.Config().MaxConns), 1)}
	return s
}

var _ bourse.Store = (*Store)(nil)

// The columns the engine needs; the first one tells which branch found the
// row (true: by identifier). The last one reads the connector's validations
// beside Aglaé's decision (an index probe on validation_dossier).
const dossierColumns = `d.numero_dossier, d.identifiant, d.annee_universitaire, e.nom, e.prenom, e.date_naissance,
	d.etat, d.decision_nature, d.echelon, d.date_decision, d.sous_reserve_progression, d.progression_verifiee,
	EXISTS (SELECT FROM connecteur.validation v WHERE v.numero_dossier = d.numero_dossier AND v.annulee_le IS NULL)`

const (
	// Both branches are index scans: dossier_identifiant_annee, and
	// etudiant_identite then dossier_identifiant_annee.
	sqlByIdentifiant = `SELECT true, ` + dossierColumns + `
	FROM aglae.dossier d JOIN aglae.etudiant e ON e.identifiant = d.identifiant
	WHERE d.identifiant = $1 AND d.annee_universitaire = $2`
	sqlByIdentity = `SELECT false, ` + dossierColumns + `
	FROM aglae.etudiant e JOIN aglae.dossier d ON d.identifiant = e.identifiant
	WHERE e.nom_normalise = $3 AND e.prenom_normalise = $4 AND e.date_naissance = $5
	  AND d.annee_universitaire = $2 AND e.identifiant <> $1`
	sqlBoth = sqlByIdentifiant + "\nUNION ALL\n" + sqlByIdentity
)

// Dossiers returns the dossiers of d's identifier for d's year and, when d
// carries an identity, those of every student with that identity, in one
// query, run once more if its connection was dead. Errors are of kind
// Unavailable or Internal.
func (s *Store) Dossiers(ctx context.Context, d bourse.Query) (byIdentifiant, byIdentity []bourse.Dossier, err error) {
	if d.Identity == nil {
		byIdentifiant, err = s.group.dossiers(ctx, d.Identifiant, d.Annee)
		return byIdentifiant, nil, err
	}
	id := d.Identity
	nom, prenom, naissance := bourse.NormalizeNom(id.Nom), bourse.NormalizeNom(id.Prenom), dateOnly(id.DateNaissance)
	err = retryRead(ctx, "lookup", func(ctx context.Context) error {
		byIdentifiant, byIdentity = nil, nil
		rows, err := s.pool.Query(ctx, sqlBoth, d.Identifiant, d.Annee, nom, prenom, naissance)
		if err != nil {
			return err
		}
		byIdentifiant, byIdentity, err = scanDossiers(rows)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	return byIdentifiant, byIdentity, nil
}

// one runs sqlByIdentifiant, the lookup of one (identifier, year) pair,
// and hands each row to emit as the pair at position 0, as batch would: a
// statement on scalars costs the backend a third less than sqlBatch on
// arrays of one (45 against 65 µs of CPU, most of either the round trip).
// Its error is the driver's: the callers retry it and translate it.
func (s *Store) one(ctx context.Context, identifiant string, annee int16, emit func(i int, x bourse.Dossier)) error {
	rows, err := s.pool.Query(ctx, sqlByIdentifiant, identifiant, annee)
	if err != nil {
		return err
	}
	defer rows.Close()
	var (
		own bool
		r   dossierRow
	)
	_, err = pgx.ForEachRow(rows, r.targets(&own), func() error {
		d := r.dossier()
		emit(0, d)
		return nil
	})
	return err
}

// scanDossiers reads the rows of sqlBoth and closes them: the dossiers
// found by identifier, and those found by identity.
func scanDossiers(rows pgx.Rows) (byIdentifiant, byIdentity []bourse.Dossier, err error) {
	defer rows.Close()
	var (
		own bool
		r   dossierRow
	)
	scan := r.targets(&own)
	for rows.Next() {
		if err := rows.Scan(scan...); err != nil {
			return nil, nil, err
		}
		if own {
			byIdentifiant = append(byIdentifiant, r.dossier())
		} else {
			byIdentity = append(byIdentity, r.dossier())
		}
	}
	return byIdentifiant, byIdentity, rows.Err()
}

// dossierRow receives one row of dossierColumns; its nullable columns are
// converted by dossier.
type dossierRow struct {
	x                   bourse.Dossier
	date                pgtype.Date
	annee               int16
	etat                string
	nature              pgtype.Text
	echelon             pgtype.Text
	dateDecision        pgtype.Date
	sousReserve         pgtype.Bool
	progressionVerified pgtype.Bool
}

// targets are the scan destinations of a row: first, the column that tells
// which pair or branch found it, then dossierColumns.
func (r *dossierRow) targets(first any) []any {
	return []any{first, &r.x.NumeroDossier, &r.x.Identifiant, &r.annee, &r.x.Identity.Nom, &r.x.Identity.Prenom,
		&r.date, &r.etat, &r.nature, &r.echelon, &r.dateDecision, &r.sousReserve, &r.progressionVerified, &r.x.Validee}
}

// dossier is the row last scanned, as the engine reads it.
func (r *dossierRow) dossier() bourse.Dossier {
	x := r.x
	x.Identity.DateNaissance = r.date.Time
	x.Annee = int(r.annee)
	x.Etat = bourse.Etat(r.etat)
	x.Decision = nil
	if r.nature.Valid {
		x.Decision = &bourse.Decision{
			Nature:                 bourse.Nature(r.nature.String),
			Echelon:                r.echelon.String,
			Date:                   r.dateDecision.Time,
			SousReserveProgression: r.sousReserve.Bool,
			ProgressionVerified:    r.progressionVerified.Bool,
		}
	}
	return x
}

func dateOnly(t time.Time) pgtype.Date {
	y, m, d := t.Date()
	return pgtype.Date{Time: time.Date(y, m, d, 0, 0, 0, 0, time.UTC), Valid: true}
}
