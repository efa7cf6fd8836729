package postgres

import (
	"context"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/aglae-connector/aglae-connector/internal/extract"
)

// ImportResult counts what an import did.
type ImportResult struct {
	Lines     int // lines read, blank ones included
	Dossiers  int // dossiers in the extract
	Created   int // dossiers created
	Changed   int // dossiers replaced by a different version
	Unchanged int // dossiers identical to what the database held
	Etudiants int // students created or whose identity changed
	Faults    int // faults found; when not zero, nothing was imported
}

// ImportOptions tunes an import.
type ImportOptions struct {
	// OnFault is called for every fault of the extract.
	OnFault func(extract.Fault)
	// OnProgress is called every ProgressEvery lines read.
	OnProgress    func(lines int)
	ProgressEvery int
	// OnStep is called at the end of each step of the import, with its name.
	OnStep func(nom string)
}

// Import streams the extract r into the database: every line is validated
// and copied (COPY) into a staging table, the checks that span several
// lines run there, and one set-based merge upserts students and dossiers by
// numeroDossier, replacing each changed dossier whole (vœux and missing
// documents included). It all happens in one transaction: on any fault,
// nothing is imported and the result counts the faults.
func Import(ctx context.Context, pool *pgxpool.Pool, r io.Reader, opts ImportOptions) (ImportResult, error) {
	var res ImportResult
	tx, err := pool.Begin(ctx)
	if err != nil {
		return res, translate("import", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))

	if _, err := tx.Exec(ctx, sqlStaging); err != nil {
		return res, translate("import: staging", err)
	}
	reader := extract.NewReader(r, opts.OnFault)
	src := &copySource{reader: reader, opts: opts}
	n, err := tx.CopyFrom(ctx, pgx.Identifier{"staging"}, stagingColumns, src)
	res.Lines, res.Faults = reader.Lines(), reader.Faults()
	if err != nil {
		return res, translate("import: copy", err)
	}
	if err := reader.Err(); err != nil {
		return res, fmt.Errorf("import: reading the extract: %w", err)
	}
	res.Dossiers = int(n)
	step := func(nom string) {
		if opts.OnStep != nil {
			opts.OnStep(nom)
		}
	}
	step("copy")

	// Checks that span lines, reported like the others.
	for _, c := range crossChecks {
		nf, err := runCrossCheck(ctx, tx, c, opts.OnFault)
		if err != nil {
			return res, translate("import: checks", err)
		}
		res.Faults += nf
	}
	step("checks")
	if res.Faults > 0 {
		res.Dossiers = 0
		return res, nil
	}

	var tag = func(sql string) (int64, error) {
		t, err := tx.Exec(ctx, sql)
		return t.RowsAffected(), err
	}
	if nb, err := tag(sqlMergeEtudiants); err != nil {
		return res, translate("import: students", err)
	} else {
		res.Etudiants = int(nb)
	}
	step("students")
	if _, err := tx.Exec(ctx, sqlMergeDossiers); err != nil {
		return res, translate("import: dossiers", err)
	}
	if err := tx.QueryRow(ctx, `SELECT count(*) FILTER (WHERE cree), count(*) FILTER (WHERE NOT cree) FROM changes`).
		Scan(&res.Created, &res.Changed); err != nil {
		return res, translate("import: dossiers", err)
	}
	res.Unchanged = res.Dossiers - res.Created - res.Changed
	step("dossiers")
	for _, q := range []string{sqlDeleteVoeux, sqlDeletePieces, sqlReplaceVoeux, sqlReplacePieces} {
		if _, err := tx.Exec(ctx, q); err != nil {
			return res, translate("import: vœux and documents", err)
		}
	}
	step("vœux and documents")
	if err := tx.Commit(ctx); err != nil {
		return res, translate("import: commit", err)
	}
	step("commit")
	if res.Created+res.Changed > 0 {
		// Fresh statistics keep lookups on their indexes after a large load.
		if _, err := pool.Exec(ctx, `ANALYZE aglae.etudiant, aglae.dossier, aglae.voeu, aglae.piece_manquante`); err != nil {
			return res, translate("import: analyze", err)
		}
		step("analyze")
	}
	return res, nil
}

var stagingColumns = []string{
	"ligne", "numero_dossier", "identifiant", "annee_universitaire", "academie",
	"nom", "prenom", "date_naissance", "nom_normalise", "prenom_normalise", "etat",
	"decision_nature", "echelon", "montant_annuel", "bareme", "date_decision",
	"sous_reserve_progression", "progression_verifiee", "points_charge", "points_distance",
	"pieces", "voeu_rangs", "voeu_academies", "voeu_uais", "voeu_etablissements", "voeu_formations", "empreinte",
}

const sqlStaging = `CREATE TEMP TABLE staging (
	ligne int NOT NULL, numero_dossier text NOT NULL, identifiant text NOT NULL,
	annee_universitaire smallint NOT NULL, academie text NOT NULL,
	nom text NOT NULL, prenom text NOT NULL, date_naissance date NOT NULL,
	nom_normalise text NOT NULL, prenom_normalise text NOT NULL, etat text NOT NULL,
	decision_nature text, echelon text, montant_annuel numeric(7,2), bareme smallint, date_decision date,
	sous_reserve_progression boolean, progression_verifiee boolean, points_charge smallint, points_distance smallint,
	pieces text[] NOT NULL, voeu_rangs smallint[] NOT NULL, voeu_academies text[] NOT NULL, voeu_uais text[] NOT NULL,
	voeu_etablissements text[] NOT NULL, voeu_formations text[] NOT NULL, empreinte text NOT NULL
) ON COMMIT DROP;
CREATE TEMP TABLE changes (numero_dossier text NOT NULL, cree boolean NOT NULL) ON COMMIT DROP`

// A check that spans lines: its query returns a reason and the line
// numbers at fault, the first one of which the fault is reported on.
type crossCheck struct {
	field string
	sql   string
}

var crossChecks = []crossCheck{
	{"numeroDossier", `SELECT 'the same dossier number is on lines ' || array_to_string(lignes, ', '), lignes[1]
		FROM (SELECT array_agg(ligne ORDER BY ligne) AS lignes FROM staging
		      GROUP BY numero_dossier HAVING count(*) > 1) d ORDER BY 2`},
	{"identifiant", `SELECT 'one identifier with different identities (nom, prenom, dateNaissance) on lines ' || array_to_string(lignes, ', '), lignes[1]
		FROM (SELECT array_agg(ligne ORDER BY ligne) AS lignes FROM staging
		      GROUP BY identifiant HAVING count(DISTINCT (nom, prenom, date_naissance)) > 1) d ORDER BY 2`},
}

func runCrossCheck(ctx context.Context, tx pgx.Tx, c crossCheck, fault func(extract.Fault)) (int, error) {
	rows, err := tx.Query(ctx, c.sql)
	if err != nil {
		return 0, err
	}
	n := 0
	var raison string
	var line int
	_, err = pgx.ForEachRow(rows, []any{&raison, &line}, func() error {
		n++
		if fault != nil {
			fault(extract.Fault{Line: line, Field: c.field, Raison: raison})
		}
		return nil
	})
	return n, err
}

// The last line of a student wins their identity.
const sqlMergeEtudiants = `INSERT INTO aglae.etudiant AS e (identifiant, nom, prenom, date_naissance, nom_normalise, prenom_normalise)
SELECT DISTINCT ON (identifiant) identifiant, nom, prenom, date_naissance, nom_normalise, prenom_normalise
FROM staging ORDER BY identifiant, ligne DESC
ON CONFLICT (identifiant) DO UPDATE SET nom = excluded.nom, prenom = excluded.prenom,
	date_naissance = excluded.date_naissance, nom_normalise = excluded.nom_normalise,
	prenom_normalise = excluded.prenom_normalise
WHERE (e.nom, e.prenom, e.date_naissance) IS DISTINCT FROM (excluded.nom, excluded.prenom, excluded.date_naissance)`

// A dossier is written only when its fingerprint changed; the dossiers
// written are remembered in changes, with whether they are new (xmax = 0
// on a row the INSERT created).
var sqlMergeDossiers = `WITH up AS (
	INSERT INTO aglae.dossier AS d (` + strings.Join(dossierTableColumns, ", ") + `)
	SELECT ` + strings.Join(dossierTableColumns, ", ") + ` FROM staging
	ON CONFLICT (numero_dossier) DO UPDATE SET ` + setExcluded(dossierTableColumns[1:]) + `, importe_le = now()
	WHERE d.empreinte IS DISTINCT FROM excluded.empreinte
	RETURNING d.numero_dossier, (xmax = 0) AS cree
)
INSERT INTO changes SELECT numero_dossier, cree FROM up`

var dossierTableColumns = []string{
	"numero_dossier", "identifiant", "annee_universitaire", "academie", "etat",
	"decision_nature", "echelon", "montant_annuel", "bareme", "date_decision",
	"sous_reserve_progression", "progression_verifiee", "points_charge", "points_distance", "empreinte",
}

func setExcluded(cols []string) string {
	s := make([]string, len(cols))
	for i, c := range cols {
		s[i] = c + " = excluded." + c
	}
	return strings.Join(s, ", ")
}

// A changed dossier loses its vœux and missing documents, then gets those of
// its new line.
const sqlDeleteVoeux = `DELETE FROM aglae.voeu v USING changes c WHERE v.numero_dossier = c.numero_dossier AND NOT c.cree`

const sqlReplaceVoeux = `INSERT INTO aglae.voeu (numero_dossier, rang, academie, uai, etablissement, formation)
SELECT s.numero_dossier, v.rang, v.academie, v.uai, v.etablissement, v.formation
FROM staging s JOIN changes c USING (numero_dossier),
	unnest(s.voeu_rangs, s.voeu_academies, s.voeu_uais, s.voeu_etablissements, s.voeu_formations)
	AS v(rang, academie, uai, etablissement, formation)`

const sqlDeletePieces = `DELETE FROM aglae.piece_manquante p USING changes c WHERE p.numero_dossier = c.numero_dossier AND NOT c.cree`

const sqlReplacePieces = `INSERT INTO aglae.piece_manquante (numero_dossier, piece)
SELECT s.numero_dossier, p.piece
FROM staging s JOIN changes c USING (numero_dossier), unnest(s.pieces) AS p(piece)`

// copySource feeds COPY from the extract reader. Once a fault is found it
// keeps reading, to report every fault, but copies nothing more.
type copySource struct {
	reader       *extract.Reader
	opts         ImportOptions
	row          []any
	nextProgress int
}

func (s *copySource) Next() bool {
	for {
		d, ok := s.reader.Next()
		if s.opts.OnProgress != nil && s.opts.ProgressEvery > 0 && s.reader.Lines() >= s.nextProgress {
			s.opts.OnProgress(s.reader.Lines())
			s.nextProgress = s.reader.Lines() + s.opts.ProgressEvery
		}
		if !ok {
			return false
		}
		if s.reader.Faults() > 0 {
			continue
		}
		s.row = stagingRow(d)
		return true
	}
}

func (s *copySource) Values() ([]any, error) { return s.row, nil }
func (s *copySource) Err() error             { return nil }

func stagingRow(d extract.Dossier) []any {
	row := []any{
		d.Line, d.NumeroDossier, d.Identifiant, int16(d.Annee), d.Academie,
		d.Nom, d.Prenom, dateOnly(d.DateNaissance), d.NormalizedNom, d.NormalizedPrenom, string(d.Etat),
		nil, nil, nil, nil, nil, nil, nil, nil, nil,
		d.Pieces,
	}
	if dec := d.Decision; dec != nil {
		row[11] = string(dec.Nature)
		row[12] = dec.Echelon
		row[13] = dec.MontantAnnuel
		row[14] = dec.Bareme
		row[15] = dateOnly(dec.Date)
		row[16] = dec.SousReserveProgression
		row[17] = dec.ProgressionVerified
		row[18] = dec.PointsCharge
		row[19] = dec.PointsDistance
	}
	n := len(d.Voeux)
	rangs, acas, uais, etabs, forms := make([]int16, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	for i, v := range d.Voeux {
		rangs[i], acas[i], uais[i], etabs[i], forms[i] = int16(v.Rang), v.Academie, v.UAI, v.Etablissement, v.Formation
	}
	return append(row, rangs, acas, uais, etabs, forms, fingerprint(d))
}

// fingerprint is the fingerprint of what the import stores of a dossier
// (vœux and missing documents included, the student's identity aside: it
// lives in aglae.etudiant): equal for equal dossiers, whatever the line's
// layout. Computed here, on the reader's core, rather than by PostgreSQL.
func fingerprint(d extract.Dossier) string {
	h := fnv.New128a()
	var b []byte
	str := func(s string) { b = strconv.AppendQuote(b, s); b = append(b, 0) }
	num := func(n int) { b = strconv.AppendInt(b, int64(n), 10); b = append(b, 0) }
	str(d.Identifiant)
	num(d.Annee)
	str(d.Academie)
	str(string(d.Etat))
	if dec := d.Decision; dec != nil {
		str(string(dec.Nature))
		str(deref(dec.Echelon))
		if dec.MontantAnnuel != nil {
			b = strconv.AppendFloat(b, *dec.MontantAnnuel, 'f', 2, 64)
		}
		b = append(b, 0)
		num(derefInt(dec.Bareme, -1))
		str(dec.Date.Format(time.DateOnly))
		str(strconv.FormatBool(dec.SousReserveProgression))
		str(strconv.FormatBool(dec.ProgressionVerified))
		num(derefInt(dec.PointsCharge, -1))
		num(derefInt(dec.PointsDistance, -1))
	} else {
		str("-")
	}
	num(len(d.Pieces))
	for _, p := range d.Pieces {
		str(p)
	}
	num(len(d.Voeux))
	for _, v := range d.Voeux {
		num(v.Rang)
		str(v.Academie)
		str(v.UAI)
		str(v.Etablissement)
		str(v.Formation)
	}
	h.Write(b)
	return hex.EncodeToString(h.Sum(nil))
}

func deref(p *string) string {
	if p == nil {
		return "-"
	}
	return *p
}

func derefInt(p *int, none int) int {
	if p == nil {
		return none
	}
	return *p
}
