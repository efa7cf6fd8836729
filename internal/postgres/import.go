package postgres

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
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

// ImportOptions tunes an import. Its callbacks are never called at the
// same time, but OnFault and OnProgress are called from the goroutine that
// reads the extract.
type ImportOptions struct {
	// OnFault is called for every fault of the extract.
	OnFault func(extract.Fault)
	// OnProgress is called every ProgressEvery lines read.
	OnProgress    func(lines int)
	ProgressEvery int
	// OnStep is called at the end of each step of the import, with its name.
	OnStep func(nom string)
	// AfterSwap runs once the import is committed (lookups see the new
	// data), in the same run, before the statistics are refreshed: the place
	// for work that must follow an import. Its error is the import's error,
	// though the data stays imported.
	AfterSwap func(ctx context.Context, res ImportResult) error

	lot      int            // dossiers per lot; 0: importLot
	afterLot func(lots int) // called after each lot is merged (tests)
}

// importLot is how many dossiers the import merges at a time. The reader
// validates the next lot while PostgreSQL merges the current one, and at
// most two lots are held in memory besides the one being merged.
const importLot = 10_000

// importLock is the key of the transaction-level advisory lock that makes
// imports run one at a time ("aglae import" in ASCII).
const importLock int64 = 0x61676c61_65696d70

// Import streams the extract r into the database. A goroutine reads and
// validates the extract and hands out lots of valid dossiers, sorted by
// numeroDossier, while PostgreSQL merges the lot before: the keys of its
// lines go to a staging table for the checks that span lines; its new
// students, dossiers, vœux and missing documents are COPYed into their
// tables, the students whose identity changed and the dossiers whose
// fingerprint changed are updated (a changed dossier's vœux and missing
// documents replaced), and an unchanged dossier is not written. The checks
// that span lines run at the end.
//
// It all happens in one transaction on one connection (imports are
// serialized by an advisory lock): lookups see the data as it was until
// the commit, which swaps the whole import in at once; on any fault,
// nothing is imported and the result counts the faults.
func Import(ctx context.Context, pool *pgxpool.Pool, r io.Reader, opts ImportOptions) (ImportResult, error) {
	var res ImportResult
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return res, translate("import", err)
	}
	defer conn.Release()
	// The staging tables stay in memory if they fit; the setting only
	// takes before the session's first temporary table: best effort.
	_, _ = conn.Exec(ctx, `SET temp_buffers = '64MB'`)

	tx, err := conn.Begin(ctx)
	if err != nil {
		return res, translate("import", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.Exec(ctx, sqlImportBegin, importLock); err != nil {
		return res, translate("import: lock", err)
	}
	if _, err := tx.Exec(ctx, sqlStaging); err != nil {
		return res, translate("import: staging", err)
	}
	step := func(nom string) {
		if opts.OnStep != nil {
			opts.OnStep(nom)
		}
	}

	if opts.lot <= 0 {
		opts.lot = importLot
	}
	m := merger{tx: tx, res: &res}
	lr := startLotReader(ctx, r, opts)
	for lot := range lr.lots {
		if err := m.lot(ctx, lot); err != nil {
			lr.stop()
			return res, err
		}
		if m.lots++; opts.afterLot != nil {
			opts.afterLot(m.lots)
		}
	}
	res.Lines, res.Faults = lr.reader.Lines(), lr.reader.Faults()
	if err := lr.reader.Err(); err != nil {
		return res, fmt.Errorf("import: reading the extract: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return res, translate("import", err)
	}
	m.step(step)

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
		res.Dossiers, res.Created, res.Changed, res.Etudiants = 0, 0, 0, 0
		return res, nil
	}
	res.Unchanged = res.Dossiers - res.Created - res.Changed
	if err := tx.Commit(ctx); err != nil {
		return res, translate("import: commit", err)
	}
	step("commit")
	conn.Release() // the pool may hand it to AfterSwap or ANALYZE

	// The data is swapped in: what follows an import goes here.
	if opts.AfterSwap != nil {
		if err := opts.AfterSwap(ctx, res); err != nil {
			return res, fmt.Errorf("import: after the swap: %w", err)
		}
		step("after swap")
	}
	if res.Created+res.Changed > 0 {
		// Fresh statistics keep lookups on their indexes after a large load.
		if _, err := pool.Exec(ctx, `ANALYZE aglae.etudiant, aglae.dossier, aglae.voeu, aglae.piece_manquante`); err != nil {
			return res, translate("import: analyze", err)
		}
		step("analyze")
	}
	return res, nil
}

const sqlImportBegin = `SELECT pg_advisory_xact_lock($1), set_config('work_mem', '64MB', true)`

// lot holds the dossiers of a lot that changed, to update them; cle the
// keys of every line, for the checks that span lines (identite: a hash of
// nom, prenom and dateNaissance).
var sqlStaging = `CREATE TEMP TABLE lot ON COMMIT DROP AS SELECT ` + strings.Join(dossierTableColumns, ", ") + ` FROM aglae.dossier WITH NO DATA;
CREATE TEMP TABLE cle (ligne int NOT NULL, numero_dossier text NOT NULL, identifiant text NOT NULL, identite bigint NOT NULL) ON COMMIT DROP`

var cleColumns = []string{"ligne", "numero_dossier", "identifiant", "identite"}

// merger merges lots of dossiers within the import's transaction, and
// times its statements.
type merger struct {
	tx     pgx.Tx
	res    *ImportResult
	faulty bool // a lot held a dossier twice: nothing more is merged
	lots   int
	spent  [nSteps]time.Duration
}

const (
	stepCopy = iota
	stepStudents
	stepDossiers
	stepVoeux
	nSteps
)

var stepNames = [nSteps]string{"keys", "students", "dossiers", "vœux and documents"}

// step reports the read and merge as one step, with the time each kind of
// statement took, summed over the lots.
func (m *merger) step(step func(string)) {
	s := make([]string, nSteps)
	for i, d := range m.spent {
		s[i] = fmt.Sprintf("%s %s", stepNames[i], d.Round(time.Millisecond))
	}
	step(fmt.Sprintf("read and merge of %d lots (in PostgreSQL: %s)", m.lots, strings.Join(s, ", ")))
}

func (m *merger) timed(s int, start time.Time) { m.spent[s] += time.Since(start) }

// lot keeps the keys of a lot's lines and, unless the extract is known to
// be faulty, merges it: students, dossiers, then the vœux and missing
// documents of the dossiers written. What is new is COPYed into its table
// (multi-row inserts, in key order); what changed is updated. Only the
// import writes these tables, one at a time: what a lot reads of them
// stays true until it writes.
func (m *merger) lot(ctx context.Context, l lot) error {
	start := time.Now()
	i := 0
	if _, err := m.tx.CopyFrom(ctx, pgx.Identifier{"cle"}, cleColumns, pgx.CopyFromFunc(func() ([]any, error) {
		if i == len(l.dossiers) {
			return nil, nil
		}
		d := &l.dossiers[i]
		i++
		return []any{d.Line, d.NumeroDossier, d.Identifiant, identite(d)}, nil
	})); err != nil {
		return translate("import: copy", err)
	}
	m.timed(stepCopy, start)
	m.res.Dossiers += len(l.dossiers)
	m.faulty = m.faulty || l.twice
	if l.faulty || m.faulty {
		return nil // a fault: nothing will be imported, the keys serve the checks
	}

	start = time.Now()
	if err := m.etudiants(ctx, l.dossiers); err != nil {
		return translate("import: students", err)
	}
	m.timed(stepStudents, start)

	start = time.Now()
	written, changed, err := m.dossiers(ctx, l)
	if err != nil {
		return translate("import: dossiers", err)
	}
	m.timed(stepDossiers, start)

	start = time.Now()
	if len(changed) > 0 {
		// A changed dossier loses its vœux and missing documents, then gets those of its new line.
		if _, err := m.tx.Exec(ctx, sqlDeleteVoeuxPieces, changed); err != nil {
			return translate("import: vœux and documents", err)
		}
	}
	if len(written) > 0 {
		if err := m.copyVoeuxPieces(ctx, l.dossiers, written); err != nil {
			return translate("import: vœux and documents", err)
		}
	}
	m.timed(stepVoeux, start)
	return nil
}

// etudiants creates the students of a lot that are new and updates those
// whose identity changed. The last line of a student wins their identity
// (a later lot's line updates what an earlier lot wrote).
func (m *merger) etudiants(ctx context.Context, ds []extract.Dossier) error {
	last := make(map[string]*extract.Dossier, len(ds))
	ids := make([]string, 0, len(ds))
	for i := range ds {
		d := &ds[i]
		if p, ok := last[d.Identifiant]; !ok {
			ids = append(ids, d.Identifiant)
			last[d.Identifiant] = d
		} else if d.Line > p.Line {
			last[d.Identifiant] = d
		}
	}
	slices.Sort(ids)
	rows, err := m.tx.Query(ctx, `SELECT identifiant, nom, prenom, date_naissance FROM aglae.etudiant WHERE identifiant = ANY($1)`, ids)
	if err != nil {
		return err
	}
	var id, nom, prenom string
	var naissance time.Time
	var changed []*extract.Dossier
	if _, err := pgx.ForEachRow(rows, []any{&id, &nom, &prenom, &naissance}, func() error {
		d := last[id]
		if d.Nom != nom || d.Prenom != prenom || !sameDate(d.DateNaissance, naissance) {
			changed = append(changed, d)
		}
		delete(last, id) // what is left is new
		return nil
	}); err != nil {
		return err
	}
	j := 0
	if _, err := m.tx.CopyFrom(ctx, pgx.Identifier{"aglae", "etudiant"}, etudiantColumns, pgx.CopyFromFunc(func() ([]any, error) {
		for ; j < len(ids); j++ {
			if d, ok := last[ids[j]]; ok {
				j++
				return []any{d.Identifiant, d.Nom, d.Prenom, dateOnly(d.DateNaissance), d.NormalizedNom, d.NormalizedPrenom}, nil
			}
		}
		return nil, nil
	})); err != nil {
		return err
	}
	m.res.Etudiants += len(last) + len(changed)
	if len(changed) == 0 {
		return nil
	}
	var u struct {
		ids, noms, prenoms, nomsN, prenomsN []string
		naissances                          []pgtype.Date
	}
	for _, d := range changed {
		u.ids, u.noms, u.prenoms = append(u.ids, d.Identifiant), append(u.noms, d.Nom), append(u.prenoms, d.Prenom)
		u.naissances = append(u.naissances, dateOnly(d.DateNaissance))
		u.nomsN, u.prenomsN = append(u.nomsN, d.NormalizedNom), append(u.prenomsN, d.NormalizedPrenom)
	}
	_, err = m.tx.Exec(ctx, sqlUpdateEtudiants, u.ids, u.noms, u.prenoms, u.naissances, u.nomsN, u.prenomsN)
	return err
}

var etudiantColumns = []string{"identifiant", "nom", "prenom", "date_naissance", "nom_normalise", "prenom_normalise"}

const sqlUpdateEtudiants = `UPDATE aglae.etudiant e SET nom = u.nom, prenom = u.prenom, date_naissance = u.date_naissance,
	nom_normalise = u.nom_normalise, prenom_normalise = u.prenom_normalise
FROM unnest($1::text[], $2::text[], $3::text[], $4::date[], $5::text[], $6::text[])
	AS u(identifiant, nom, prenom, date_naissance, nom_normalise, prenom_normalise)
WHERE e.identifiant = u.identifiant`

func sameDate(a, b time.Time) bool {
	ya, ma, da := a.Date()
	yb, mb, db := b.Date()
	return ya == yb && ma == mb && da == db
}

// dossiers writes the dossiers of a lot whose fingerprint changed: new
// ones by COPY, changed ones by an update from the staging table. It
// returns the dossier numbers written, and those of them that existed.
func (m *merger) dossiers(ctx context.Context, l lot) (written map[string]bool, changed []string, err error) {
	nums := make([]string, len(l.dossiers))
	for i := range l.dossiers {
		nums[i] = l.dossiers[i].NumeroDossier
	}
	rows, err := m.tx.Query(ctx, `SELECT numero_dossier, empreinte FROM aglae.dossier WHERE numero_dossier = ANY($1)`, nums)
	if err != nil {
		return nil, nil, err
	}
	held := make(map[string]string, len(l.dossiers))
	var num, empreinte string
	if _, err := pgx.ForEachRow(rows, []any{&num, &empreinte}, func() error {
		held[num] = empreinte
		return nil
	}); err != nil {
		return nil, nil, err
	}
	written = make(map[string]bool, len(l.dossiers))
	var isNew, isChanged []int
	for i := range l.dossiers {
		d := &l.dossiers[i]
		e, ok := held[d.NumeroDossier]
		switch {
		case !ok:
			isNew = append(isNew, i)
		case e != l.empreintes[i]:
			isChanged = append(isChanged, i)
			changed = append(changed, d.NumeroDossier)
		default:
			continue
		}
		written[d.NumeroDossier] = true
	}
	m.res.Created += len(isNew)
	m.res.Changed += len(isChanged)
	copyRows := func(table pgx.Identifier, idx []int) error {
		k := 0
		_, err := m.tx.CopyFrom(ctx, table, dossierTableColumns, pgx.CopyFromFunc(func() ([]any, error) {
			if k == len(idx) {
				return nil, nil
			}
			k++
			return importRow(&l.dossiers[idx[k-1]], l.empreintes[idx[k-1]]), nil
		}))
		return err
	}
	if len(isNew) > 0 {
		if err := copyRows(pgx.Identifier{"aglae", "dossier"}, isNew); err != nil {
			return nil, nil, err
		}
	}
	if len(isChanged) > 0 {
		if _, err := m.tx.Exec(ctx, `TRUNCATE lot`); err != nil {
			return nil, nil, err
		}
		if err := copyRows(pgx.Identifier{"lot"}, isChanged); err != nil {
			return nil, nil, err
		}
		if _, err := m.tx.Exec(ctx, sqlUpdateDossiers); err != nil {
			return nil, nil, err
		}
	}
	return written, changed, nil
}

var sqlUpdateDossiers = `UPDATE aglae.dossier d SET ` + setFrom(dossierTableColumns[1:], "l") + `, importe_le = now()
FROM lot l WHERE d.numero_dossier = l.numero_dossier`

// copyVoeuxPieces COPYs the vœux and missing documents of the dossiers
// written, in the order of their primary keys (the lot is sorted by
// numeroDossier).
func (m *merger) copyVoeuxPieces(ctx context.Context, ds []extract.Dossier, written map[string]bool) error {
	i, j := 0, 0
	if _, err := m.tx.CopyFrom(ctx, pgx.Identifier{"aglae", "voeu"}, voeuColumns, pgx.CopyFromFunc(func() ([]any, error) {
		for ; i < len(ds); i, j = i+1, 0 {
			d := &ds[i]
			if j < len(d.Voeux) && written[d.NumeroDossier] {
				v := d.Voeux[j]
				j++
				return []any{d.NumeroDossier, int16(v.Rang), v.Academie, v.UAI, v.Etablissement, v.Formation}, nil
			}
		}
		return nil, nil
	})); err != nil {
		return err
	}
	i, j = 0, 0
	_, err := m.tx.CopyFrom(ctx, pgx.Identifier{"aglae", "piece_manquante"}, pieceColumns, pgx.CopyFromFunc(func() ([]any, error) {
		for ; i < len(ds); i, j = i+1, 0 {
			d := &ds[i]
			if j < len(d.Pieces) && written[d.NumeroDossier] {
				j++
				return []any{d.NumeroDossier, d.Pieces[j-1]}, nil
			}
		}
		return nil, nil
	}))
	return err
}

var (
	voeuColumns  = []string{"numero_dossier", "rang", "academie", "uai", "etablissement", "formation"}
	pieceColumns = []string{"numero_dossier", "piece"}
)

// A check that spans lines: its query returns a reason and the line
// numbers at fault, the first one of which the fault is reported on.
type crossCheck struct {
	field string
	sql   string
}

var crossChecks = []crossCheck{
	{"numeroDossier", `SELECT 'the same dossier number is on lines ' || array_to_string(lignes, ', '), lignes[1]
		FROM (SELECT array_agg(ligne ORDER BY ligne) AS lignes FROM cle
		      GROUP BY numero_dossier HAVING count(*) > 1) d ORDER BY 2`},
	{"identifiant", `SELECT 'one identifier with different identities (nom, prenom, dateNaissance) on lines ' || array_to_string(lignes, ', '), lignes[1]
		FROM (SELECT array_agg(ligne ORDER BY ligne) AS lignes FROM cle
		      GROUP BY identifiant HAVING count(DISTINCT identite) > 1) d ORDER BY 2`},
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

var dossierTableColumns = []string{
	"numero_dossier", "identifiant", "annee_universitaire", "academie", "etat",
	"decision_nature", "echelon", "montant_annuel", "bareme", "date_decision",
	"sous_reserve_progression", "progression_verifiee", "points_charge", "points_distance", "empreinte",
}

func setFrom(cols []string, from string) string {
	s := make([]string, len(cols))
	for i, c := range cols {
		s[i] = c + " = " + from + "." + c
	}
	return strings.Join(s, ", ")
}

const sqlDeleteVoeuxPieces = `WITH v AS (DELETE FROM aglae.voeu WHERE numero_dossier = ANY($1))
DELETE FROM aglae.piece_manquante WHERE numero_dossier = ANY($1)`
