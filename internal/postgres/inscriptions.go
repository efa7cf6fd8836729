package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/aglae-connector/aglae-connector/internal/bourse"
)

// Inscriptions keeps the registration events, the validations made from
// them and the CROUS's settlements, in schema connecteur, and queues the
// events' processing in river's tables, in the same transactions.
type Inscriptions struct {
	pool  *pgxpool.Pool
	queue *river.Client[pgx.Tx] // insert-only: the worker runs its own client (see Queue)
	group *receiver
}

// NewInscriptions returns the store of pool.
func NewInscriptions(pool *pgxpool.Pool) (*Inscriptions, error) {
	q, err := newRiverClient(pool, nil)
	if err != nil {
		return nil, err
	}
	s := &Inscriptions{pool: pool, queue: q}
	// Two transactions at once leave the pool's other connections to
	// lookups; each commits every event that arrived meanwhile.
	s.group = &receiver{s: s, max: 2}
	return s, nil
}

// traiterArgs is the job of one event: process it.
type traiterArgs struct {
	IdRecu string `json:"idRecu"`
}

// Kind names the job in river's tables.
func (traiterArgs) Kind() string { return "inscription" }

// insertOpts: the event's processing is tried again with river's
// exponential backoff, 10 times, then discarded (the dead letter, listed by
// `aglae-connector inscriptions` and counted by a metric).
var insertOpts = &river.InsertOpts{MaxAttempts: 10}

const recuColumns = `id_recu::text, id_evenement, etat, coalesce(motif, ''), recu_le, traite_le`

func scanRecu(row pgx.Row, r *bourse.Recu) error {
	var motif string
	var traite pgtype.Timestamptz
	if err := row.Scan(&r.IdRecu, &r.IdEvenement, &r.Etat, &motif, &r.RecuLe, &traite); err != nil {
		return err
	}
	r.Motif = bourse.Motif(motif)
	if traite.Valid {
		t := traite.Time
		r.TraiteLe = &t
	}
	return nil
}

// Receive stores in, sent by client clientID, and queues its processing,
// in one transaction committed before it returns. The same event id sent
// again returns the first receipt and created false, nothing done twice;
// with other content it is an error of kind Conflict. Other errors are of
// kind Unavailable or Internal.
func (s *Inscriptions) Receive(ctx context.Context, clientID string, in bourse.Inscription) (r bourse.Recu, created bool, err error) {
	return s.group.receive(ctx, clientID, in)
}

// Received is one event's receipt in a batch, or its own error.
type Received struct {
	bourse.Recu
	err error
}

// Err is the event's own error (a Conflict), nil when Recu holds its receipt.
func (r Received) Err() error { return r.err }

const sqlReceive = `INSERT INTO connecteur.inscription (client_id, id_evenement, empreinte, type, identifiant, nom, prenom,
	date_naissance, annee_universitaire, uai, formation_code, formation_libelle, date_inscription)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
	ON CONFLICT (client_id, id_evenement) DO NOTHING
	RETURNING ` + recuColumns

// ReceiveBatch is Receive for many events of one client, in one
// transaction: one commit (one WAL flush) for them all. Each event gets its
// receipt, or its own Conflict error; created tells which were new.
func (s *Inscriptions) ReceiveBatch(ctx context.Context, clientID string, ins []bourse.Inscription) ([]Received, []bool, error) {
	items := make([]receiveItem, len(ins))
	for i, in := range ins {
		items[i] = receiveItem{clientID: clientID, in: in}
	}
	return s.receiveItems(ctx, items)
}

// receiveItem is one event of a client.
type receiveItem struct {
	clientID string
	in       bourse.Inscription
}

func (s *Inscriptions) receiveItems(ctx context.Context, items []receiveItem) ([]Received, []bool, error) {
	out := make([]Received, len(items))
	created := make([]bool, len(items))
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		b := &pgx.Batch{}
		for _, it := range items {
			in := it.in
			var nom, prenom *string
			var naissance pgtype.Date
			if id := in.Query.Identity; id != nil {
				nom, prenom, naissance = &id.Nom, &id.Prenom, dateOnly(id.DateNaissance)
			}
			b.Queue(sqlReceive, it.clientID, in.IdEvenement, in.Empreinte(), string(in.Type), nullString(in.Query.Identifiant),
				nom, prenom, naissance, in.Query.Annee, string(in.UAI), in.Formation.Code, in.Formation.Libelle,
				dateOnly(in.DateInscription))
		}
		br := tx.SendBatch(ctx, b)
		var jobs []river.InsertManyParams
		var replays []int
		for i := range items {
			err := scanRecu(br.QueryRow(), &out[i].Recu)
			switch {
			case errors.Is(err, pgx.ErrNoRows):
				replays = append(replays, i)
			case err != nil:
				br.Close()
				return err
			default:
				created[i] = true
				jobs = append(jobs, river.InsertManyParams{Args: traiterArgs{IdRecu: out[i].IdRecu}, InsertOpts: insertOpts})
			}
		}
		if err := br.Close(); err != nil {
			return err
		}
		for _, i := range replays {
			var empreinte string
			row := tx.QueryRow(ctx, `SELECT `+recuColumns+`, empreinte FROM connecteur.inscription
				WHERE client_id = $1 AND id_evenement = $2`, items[i].clientID, items[i].in.IdEvenement)
			var motif string
			var traite pgtype.Timestamptz
			r := &out[i].Recu
			if err := row.Scan(&r.IdRecu, &r.IdEvenement, &r.Etat, &motif, &r.RecuLe, &traite, &empreinte); err != nil {
				return err
			}
			r.Motif = bourse.Motif(motif)
			if traite.Valid {
				t := traite.Time
				r.TraiteLe = &t
			}
			if empreinte != items[i].in.Empreinte() {
				out[i] = Received{err: &bourse.Error{Kind: bourse.KindConflict, Field: "idEvenement",
					Message: "this event id was already received with other content (receipt " + r.IdRecu + ")"}}
			}
		}
		if len(jobs) > 0 {
			if _, err := s.queue.InsertManyFastTx(ctx, tx, jobs); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, nil, translate("receive registration", err)
	}
	return out, created, nil
}

// Recu returns what became of the event idRecu of client clientID, with
// the validation it made. Errors are of kind NotFound (no such receipt for
// this client), Unavailable or Internal.
func (s *Inscriptions) Recu(ctx context.Context, clientID, idRecu string) (bourse.Recu, error) {
	var r bourse.Recu
	if !validUUID(idRecu) {
		return r, &bourse.Error{Kind: bourse.KindNotFound, Message: "no registration event with this receipt id"}
	}
	err := retryRead(ctx, "registration receipt", func(ctx context.Context) error {
		r = bourse.Recu{}
		if err := scanRecu(s.pool.QueryRow(ctx, `SELECT `+recuColumns+` FROM connecteur.inscription
			WHERE id_recu = $1 AND client_id = $2`, idRecu, clientID), &r); err != nil {
			return err
		}
		v, err := s.validationOf(ctx, s.pool, `id_recu = $1`, idRecu)
		if err != nil {
			return err
		}
		r.Validation = v
		return nil
	})
	if bourse.KindOf(err) == bourse.KindNotFound {
		return r, &bourse.Error{Kind: bourse.KindNotFound, Message: "no registration event with this receipt id", Err: err}
	}
	return r, err
}

// validUUID reports whether s has the shape of a receipt id, so that a
// malformed one is a 404, not a database error.
func validUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, c := range []byte(s) {
		switch {
		case i == 8 || i == 13 || i == 18 || i == 23:
			if c != '-' {
				return false
			}
		case c >= '0' && c <= '9', c >= 'a' && c <= 'f', c >= 'A' && c <= 'F':
		default:
			return false
		}
	}
	return true
}

type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

const validationColumns = `id, id_recu::text, numero_dossier, identifiant, annee_universitaire, uai, echelon, bareme,
	(montant_annuel * 100)::bigint, notification, cree_le, acquittee_le, annulee_le`

func scanValidation(row pgx.Row) (*bourse.Validation, error) {
	var v bourse.Validation
	var annee, bareme int16
	var uai string
	var acq, ann pgtype.Timestamptz
	if err := row.Scan(&v.ID, &v.IdRecu, &v.NumeroDossier, &v.Identifiant, &annee, &uai, &v.Echelon, &bareme,
		&v.MontantAnnuel, &v.Notification, &v.CreeLe, &acq, &ann); err != nil {
		return nil, err
	}
	v.Annee, v.Bareme, v.UAI = int(annee), int(bareme), bourse.UAI(uai)
	v.Mensualites = bourse.ComputeValidation(v.Annee, v.Echelon, v.MontantAnnuel).Mensualites
	if acq.Valid {
		t := acq.Time
		v.AcquitteeLe = &t
	}
	if ann.Valid {
		t := ann.Time
		v.AnnuleeLe = &t
	}
	return &v, nil
}

// validationOf returns the validation where says, nil when there is none.
func (s *Inscriptions) validationOf(ctx context.Context, q querier, where string, args ...any) (*bourse.Validation, error) {
	v, err := scanValidation(q.QueryRow(ctx, `SELECT `+validationColumns+` FROM connecteur.validation WHERE `+where, args...))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	return v, err
}

// inscriptionRow is a stored event, as processing needs it.
type inscriptionRow struct {
	in       bourse.Inscription
	clientID string
	etat     bourse.EtatInscription
	motif    bourse.Motif
	numero   string
}

func (s *Inscriptions) load(ctx context.Context, q querier, idRecu string, lock bool) (inscriptionRow, error) {
	var (
		r                  inscriptionRow
		typ, uai           string
		identifiant        pgtype.Text
		nom, prenom        pgtype.Text
		naissance, dateIns pgtype.Date
		annee              int16
		motif, numero      pgtype.Text
	)
	sql := `SELECT client_id, id_evenement, type, identifiant, nom, prenom, date_naissance, annee_universitaire, uai,
		formation_code, formation_libelle, date_inscription, etat, motif, numero_dossier
		FROM connecteur.inscription WHERE id_recu = $1`
	if lock {
		sql += ` FOR UPDATE`
	}
	err := q.QueryRow(ctx, sql, idRecu).Scan(&r.clientID, &r.in.IdEvenement, &typ, &identifiant, &nom, &prenom, &naissance,
		&annee, &uai, &r.in.Formation.Code, &r.in.Formation.Libelle, &dateIns, &r.etat, &motif, &numero)
	if err != nil {
		return r, err
	}
	r.in.Type = bourse.TypeEvenement(typ)
	r.in.UAI = bourse.UAI(uai)
	r.in.DateInscription = dateIns.Time
	r.in.Query = bourse.Query{Identifiant: identifiant.String, Annee: int(annee), CodeEtablissement: uai}
	if nom.Valid {
		r.in.Query.Identity = &bourse.Identity{Nom: nom.String, Prenom: prenom.String, DateNaissance: naissance.Time}
	}
	r.motif = bourse.Motif(motif.String)
	r.numero = numero.String
	return r, nil
}

// dossiersIn reads the dossiers a lookup for q reads (store.go's query), on
// q's connection or transaction, and lets the engine answer.
func dossiersIn(ctx context.Context, db querier, q bourse.Query) (bourse.Reponse, error) {
	var nom, prenom *string
	var naissance pgtype.Date
	if id := q.Identity; id != nil {
		n, p := bourse.NormalizeNom(id.Nom), bourse.NormalizeNom(id.Prenom)
		nom, prenom, naissance = &n, &p, dateOnly(id.DateNaissance)
	}
	rows, err := db.Query(ctx, sqlBoth, q.Identifiant, q.Annee, nom, prenom, naissance)
	if err != nil {
		return bourse.Reponse{}, err
	}
	own, other, err := scanDossiers(rows)
	if err != nil {
		return bourse.Reponse{}, err
	}
	return bourse.Decide(q, own, other), nil
}

// identifiantOf is the student's number in a dossier number: year (4),
// académie (3), identifier.
func identifiantOf(numero string) string {
	if len(numero) < 8 {
		return ""
	}
	return numero[7:]
}

func academieOf(numero string) string {
	if len(numero) < 7 {
		return ""
	}
	return numero[4:7]
}

// lockEtudiant serialises, until the end of tx, the processing of the
// events of one student and year: never two validations are attempted at
// once (the unique constraint would refuse the second anyway).
func lockEtudiant(ctx context.Context, tx pgx.Tx, identifiant string, annee int) error {
	_, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, 13))`,
		"validation:"+identifiant+":"+strconv.Itoa(annee))
	return err
}

// Process applies the rules of SPEC §9 to the event idRecu if it is in one
// of the states from (RECU for a new event, EN_ATTENTE_DECISION when an
// import brings decisions), in one transaction; complete, when not nil,
// runs in that transaction before the commit (the worker completes its
// river job there, so an event is processed exactly once). It returns the
// event's state afterwards. Errors are of kind Unavailable or Internal.
func (s *Inscriptions) Process(ctx context.Context, idRecu string, from []bourse.EtatInscription, complete func(pgx.Tx) error) (bourse.EtatInscription, error) {
	var etat bourse.EtatInscription
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		row, err := s.load(ctx, tx, idRecu, true)
		if err != nil {
			return err
		}
		etat = row.etat
		pending := false
		for _, f := range from {
			pending = pending || row.etat == f
		}
		if pending {
			// Events that designate the student alike are processed one at
			// a time; two that designate them differently (a number, an
			// identity) may race, and the unique constraint makes the
			// second fail and retry, to find the first's validation.
			if err := lockEtudiant(ctx, tx, studentKey(row.in.Query), row.in.Query.Annee); err != nil {
				return err
			}
			if etat, err = s.apply(ctx, tx, idRecu, row); err != nil {
				return err
			}
		}
		if complete != nil {
			return complete(tx)
		}
		return nil
	})
	return etat, translate("process registration", err)
}

// studentKey is how an event designates its student: the number, else the
// normalised identity.
func studentKey(q bourse.Query) string {
	if q.Identifiant != "" {
		return q.Identifiant
	}
	id := q.Identity
	return bourse.NormalizeNom(id.Nom) + "|" + bourse.NormalizeNom(id.Prenom) + "|" + id.DateNaissance.Format(time.DateOnly)
}

// apply decides the event row (locked in tx) and writes the outcome.
func (s *Inscriptions) apply(ctx context.Context, tx pgx.Tx, idRecu string, row inscriptionRow) (bourse.EtatInscription, error) {
	rep, err := dossiersIn(ctx, tx, row.in.Query)
	if err != nil {
		return "", err
	}
	c := bourse.Contexte{Reponse: rep}
	numero := rep.NumeroDossier
	identifiant := identifiantOf(numero)
	if numero != "" && rep.Anomalie == "" {
		rows, err := tx.Query(ctx, `SELECT uai FROM aglae.voeu WHERE numero_dossier = $1`, numero)
		if err != nil {
			return "", err
		}
		uais, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return "", err
		}
		for _, u := range uais {
			c.Voeux = append(c.Voeux, bourse.UAI(u))
		}
		if c.Validation, err = s.validationOf(ctx, tx, `identifiant = $1 AND annee_universitaire = $2 AND annulee_le IS NULL`,
			identifiant, row.in.Query.Annee); err != nil {
			return "", err
		}
	} else {
		numero = ""
	}
	issue := bourse.DecideInscription(row.in, c)
	if row.etat == bourse.EtatEnAttenteDecision && issue.Etat == bourse.EtatEnAttenteDecision {
		return issue.Etat, nil // still waiting: nothing changes
	}
	switch {
	case issue.Validate:
		if err := s.validate(ctx, tx, idRecu, numero, row.in.Query.Annee, rep.Echelon, row.in.UAI); err != nil {
			return "", err
		}
	case issue.Cancel:
		if _, err := tx.Exec(ctx, `UPDATE connecteur.validation SET annulee_le = now(), modifie_le = now() WHERE id = $1`,
			c.Validation.ID); err != nil {
			return "", err
		}
		if _, err := tx.Exec(ctx, `UPDATE connecteur.inscription SET etat = 'ANNULEE', motif = NULL WHERE id_recu = $1`,
			c.Validation.IdRecu); err != nil {
			return "", err
		}
	case issue.Etat == bourse.EtatSansObjet && numero != "":
		// Nothing validated: the annulation cancels the registrations of
		// this establishment that still wait.
		tag, err := tx.Exec(ctx, `UPDATE connecteur.inscription SET etat = 'ANNULEE', motif = NULL
			WHERE numero_dossier = $1 AND uai = $2 AND type = 'INSCRIPTION'
			  AND etat IN ('EN_ATTENTE_DECISION', 'A_RETRAITER')`, numero, string(row.in.UAI))
		if err != nil {
			return "", err
		}
		if tag.RowsAffected() > 0 {
			issue.Etat = bourse.EtatAnnulee
		}
	}
	_, err = tx.Exec(ctx, `UPDATE connecteur.inscription SET etat = $2, motif = $3, numero_dossier = $4, academie = $5,
		traite_le = now() WHERE id_recu = $1`,
		idRecu, string(issue.Etat), nullString(string(issue.Motif)), nullString(numero), nullString(academieOf(numero)))
	return issue.Etat, err
}

// validate makes the validation of dossier numero for the event idRecu,
// with the amount of the year's barème for echelon. A cancelled validation
// of the student and year is revived rather than doubled.
func (s *Inscriptions) validate(ctx context.Context, tx pgx.Tx, idRecu, numero string, annee int, echelon string, uai bourse.UAI) error {
	var montant int64
	err := tx.QueryRow(ctx, `SELECT (montant_annuel * 100)::bigint FROM connecteur.bareme
		WHERE annee_universitaire = $1 AND echelon = $2`, annee, echelon).Scan(&montant)
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("no barème for %d, échelon %s: a migration must load it", annee, echelon)
	}
	if err != nil {
		return err
	}
	v := bourse.ComputeValidation(annee, echelon, montant)
	tag, err := tx.Exec(ctx, `INSERT INTO connecteur.validation AS v (id_recu, numero_dossier, identifiant, annee_universitaire,
		uai, echelon, bareme, montant_annuel, notification)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8::numeric / 100, $9)
		ON CONFLICT (identifiant, annee_universitaire) DO UPDATE SET id_recu = excluded.id_recu,
			numero_dossier = excluded.numero_dossier, uai = excluded.uai, echelon = excluded.echelon,
			bareme = excluded.bareme, montant_annuel = excluded.montant_annuel, notification = excluded.notification,
			cree_le = now(), modifie_le = now(), acquittee_le = NULL, annulee_le = NULL
		WHERE v.annulee_le IS NOT NULL`,
		idRecu, numero, identifiantOf(numero), annee, string(uai), echelon, v.Bareme, montant, v.Notification)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("validation of %s: the student already has a live validation for %d", idRecu, annee)
	}
	return nil
}

// Reapply processes again the events that waited for a decision, after
// an import: those whose dossier now has one are validated or marked; and
// the validations whose dossier Aglaé now says definitive are settled
// (acknowledged), never doubled. It returns how many events left the
// waiting state. Errors are of kind Unavailable or Internal.
func (s *Inscriptions) Reapply(ctx context.Context) (int, error) {
	if _, err := s.pool.Exec(ctx, `UPDATE connecteur.validation v SET acquittee_le = now(), modifie_le = now()
		FROM aglae.dossier d
		WHERE d.numero_dossier = v.numero_dossier AND d.decision_nature = 'ATTRIBUTION_DEFINITIVE'
		  AND v.acquittee_le IS NULL AND v.annulee_le IS NULL`); err != nil {
		return 0, translate("settle validations", err)
	}
	rows, err := s.pool.Query(ctx, `SELECT id_recu::text FROM connecteur.inscription
		WHERE etat = 'EN_ATTENTE_DECISION' ORDER BY recu_le`)
	if err != nil {
		return 0, translate("reapply registrations", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return 0, translate("reapply registrations", err)
	}
	n := 0
	for _, id := range ids {
		etat, err := s.Process(ctx, id, []bourse.EtatInscription{bourse.EtatEnAttenteDecision}, nil)
		if err != nil {
			return n, err
		}
		if etat != bourse.EtatEnAttenteDecision {
			n++
		}
	}
	return n, nil
}

// Waiting lists the events in state etat (A_RETRAITER or
// EN_ATTENTE_DECISION), of one académie unless academie is "", of one
// establishment unless uai is "", oldest first, at most limit. Errors are of kind Unavailable or Internal.
func (s *Inscriptions) Waiting(ctx context.Context, etat bourse.EtatInscription, academie string, uai bourse.UAI, limit int) ([]bourse.Marquee, error) {
	var out []bourse.Marquee
	err := retryRead(ctx, "waiting registrations", func(ctx context.Context) error {
		out = out[:0]
		rows, err := s.pool.Query(ctx, `SELECT id_recu::text, client_id, etat, coalesce(motif, ''), coalesce(numero_dossier, ''),
			coalesce(academie, ''), coalesce(identifiant, ''), annee_universitaire, uai, formation_code, formation_libelle,
			date_inscription, recu_le
			FROM connecteur.inscription WHERE etat = $1 AND ($2 = '' OR academie = $2) AND ($3 = '' OR uai = $3)
			ORDER BY recu_le, id_recu LIMIT $4`, string(etat), academie, string(uai), limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var m bourse.Marquee
			var annee int16
			var uai string
			var d pgtype.Date
			if err := rows.Scan(&m.IdRecu, &m.ClientID, &m.Etat, &m.Motif, &m.NumeroDossier, &m.Academie, &m.Identifiant,
				&annee, &uai, &m.Formation.Code, &m.Formation.Libelle, &d, &m.RecuLe); err != nil {
				return err
			}
			m.Annee, m.UAI, m.DateInscription = int(annee), bourse.UAI(uai), d.Time
			out = append(out, m)
		}
		return rows.Err()
	})
	return out, err
}

// Settle records the CROUS's decision on the marked event idRecu of
// académie academie: VALIDER validates it as a matching registration would
// (moves the validation to the event's establishment for a
// DOUBLE_INSCRIPTION; cancels it for an ANNULATION_APRES_PAIEMENT), REFUSER
// closes it. Errors are of kind NotFound (no such marked event in this
// académie), Invalid (the dossier is no longer conditional), Unavailable or
// Internal.
func (s *Inscriptions) Settle(ctx context.Context, academie, idRecu string, r bourse.Reexamen) (bourse.Recu, error) {
	notFound := &bourse.Error{Kind: bourse.KindNotFound, Message: "no registration marked for this académie with this receipt id"}
	if !validUUID(idRecu) {
		return bourse.Recu{}, notFound
	}
	var clientID string
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var numero string
		var annee int
		if err := tx.QueryRow(ctx, `SELECT numero_dossier, annee_universitaire FROM connecteur.inscription
			WHERE id_recu = $1 AND academie = $2 AND etat = 'A_RETRAITER'`, idRecu, academie).Scan(&numero, &annee); err != nil {
			if errors.Is(err, pgx.ErrNoRows) {
				return notFound
			}
			return err
		}
		if err := lockEtudiant(ctx, tx, identifiantOf(numero), annee); err != nil {
			return err
		}
		row, err := s.load(ctx, tx, idRecu, true)
		if err != nil {
			return err
		}
		clientID = row.clientID
		if row.etat != bourse.EtatARetraiter {
			return notFound
		}
		etat := bourse.EtatRefusee
		if r.Decision == bourse.DecisionValider {
			etat = bourse.EtatValidee
			live, err := s.validationOf(ctx, tx, `identifiant = $1 AND annee_universitaire = $2 AND annulee_le IS NULL`,
				identifiantOf(numero), annee)
			if err != nil {
				return err
			}
			switch {
			case row.motif == bourse.MotifAnnulationApresPaiement:
				etat = bourse.EtatAnnulee
				if live != nil {
					if _, err := tx.Exec(ctx, `UPDATE connecteur.validation SET annulee_le = now(), modifie_le = now() WHERE id = $1`, live.ID); err != nil {
						return err
					}
				}
			case live != nil:
				if _, err := tx.Exec(ctx, `UPDATE connecteur.validation SET uai = $2, id_recu = $3, modifie_le = now() WHERE id = $1`,
					live.ID, string(row.in.UAI), idRecu); err != nil {
					return err
				}
			default:
				var nature, echelon pgtype.Text
				var etatDossier string
				err := tx.QueryRow(ctx, `SELECT etat, decision_nature, echelon FROM aglae.dossier WHERE numero_dossier = $1`,
					numero).Scan(&etatDossier, &nature, &echelon)
				if err != nil && !errors.Is(err, pgx.ErrNoRows) {
					return err
				}
				if etatDossier != string(bourse.EtatValide) || nature.String != string(bourse.NatureConditionnelle) {
					return bourse.Invalid("decision", "the dossier no longer has a conditional attribution to validate")
				}
				if err := s.validate(ctx, tx, idRecu, numero, annee, echelon.String, row.in.UAI); err != nil {
					return err
				}
			}
		}
		_, err = tx.Exec(ctx, `UPDATE connecteur.inscription SET etat = $2, motif_crous = $3, traite_le = now() WHERE id_recu = $1`,
			idRecu, string(etat), nullString(r.Motif))
		return err
	})
	if err != nil {
		return bourse.Recu{}, translate("settle registration", err)
	}
	return s.Recu(ctx, clientID, idRecu)
}

// Validations returns the validations created, cancelled or acknowledged
// since depuis, oldest change first, at most limit. Errors are of kind
// Unavailable or Internal.
func (s *Inscriptions) Validations(ctx context.Context, depuis time.Time, limit int) ([]bourse.Validation, []time.Time, error) {
	var out []bourse.Validation
	var modifs []time.Time
	err := retryRead(ctx, "validations", func(ctx context.Context) error {
		out, modifs = out[:0], modifs[:0]
		rows, err := s.pool.Query(ctx, `SELECT `+validationColumns+`, modifie_le FROM connecteur.validation
			WHERE modifie_le >= $1 ORDER BY modifie_le, id LIMIT $2`, depuis, limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var m time.Time
			v, err := scanValidation(scanTail{rows, &m})
			if err != nil {
				return err
			}
			out = append(out, *v)
			modifs = append(modifs, m)
		}
		return rows.Err()
	})
	return out, modifs, err
}

// scanTail scans a row whose last column goes to tail.
type scanTail struct {
	rows pgx.Rows
	tail *time.Time
}

func (s scanTail) Scan(dest ...any) error { return s.rows.Scan(append(dest, s.tail)...) }

// Ack records Aglaé's acknowledgment of the validations ids, and returns
// how many were not acknowledged yet. Errors are of kind Unavailable or
// Internal.
func (s *Inscriptions) Ack(ctx context.Context, ids []int64) (int64, error) {
	tag, err := s.pool.Exec(ctx, `UPDATE connecteur.validation SET acquittee_le = now(), modifie_le = now()
		WHERE id = ANY($1) AND acquittee_le IS NULL`, ids)
	if err != nil {
		return 0, translate("acknowledge validations", err)
	}
	return tag.RowsAffected(), nil
}

// BindAcademie makes client clientID a CROUS's client, of académie
// academie. Errors are of kind Invalid (no such client), Unavailable or
// Internal.
func (s *Inscriptions) BindAcademie(ctx context.Context, clientID, academie string) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO connecteur.client_academie (client_id, academie) VALUES ($1, $2)
		ON CONFLICT (client_id) DO UPDATE SET academie = excluded.academie`, clientID, academie)
	return translate("bind client to académie", err)
}

// AcademieOf returns the académie client clientID is bound to, "" for
// none. Errors are of kind Unavailable or Internal.
func (s *Inscriptions) AcademieOf(ctx context.Context, clientID string) (string, error) {
	var a string
	err := retryRead(ctx, "client académie", func(ctx context.Context) error {
		err := s.pool.QueryRow(ctx, `SELECT academie FROM connecteur.client_academie WHERE client_id = $1`, clientID).Scan(&a)
		if errors.Is(err, pgx.ErrNoRows) {
			a = ""
			return nil
		}
		return err
	})
	return a, err
}

// Counts returns how many events are in each state.
func (s *Inscriptions) Counts(ctx context.Context) (map[bourse.EtatInscription]int64, error) {
	out := map[bourse.EtatInscription]int64{}
	err := retryRead(ctx, "registration counts", func(ctx context.Context) error {
		clear(out)
		rows, err := s.pool.Query(ctx, `SELECT etat, count(*) FROM connecteur.inscription GROUP BY etat`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var e string
			var n int64
			if err := rows.Scan(&e, &n); err != nil {
				return err
			}
			out[bourse.EtatInscription(e)] = n
		}
		return rows.Err()
	})
	return out, err
}
