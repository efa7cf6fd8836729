package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aglae-connector/aglae-connector/internal/bourse"
	"github.com/aglae-connector/aglae-connector/internal/pgtest"
	"github.com/aglae-connector/aglae-connector/internal/postgres"
)

// The season's students, all for 2014–2015, all with a vœu at UM1 (0341088Y)
// in académie MON.
const (
	uaiUM1    = "0341088Y"
	uaiUVSQ   = "0781944P"
	uaiParis  = "0751717J"
	ineSeed   = "1111037734L" // conditional, échelon 1: the seed's student
	ineAutre  = "2222000001T" // conditional, échelon 3
	ineAttend = "2222000002U" // not processed yet
	ineRejet  = "2222000003V" // rejected
)

// dossierLine writes one extract line of 2014.
func dossierLine(ine, nom, etat, decision string) string {
	dec := ""
	switch decision {
	case "COND1":
		dec = `,"decision":{"nature":"ATTRIBUTION_CONDITIONNELLE","echelon":"1","montantAnnuel":1653.00,"bareme":2013,"date":"2014-06-12","sousReserveProgression":false,"progressionVerifiee":false,"pointsCharge":3,"pointsDistance":1}`
	case "COND3":
		dec = `,"decision":{"nature":"ATTRIBUTION_CONDITIONNELLE","echelon":"3","montantAnnuel":3190.00,"bareme":2013,"date":"2014-06-12","sousReserveProgression":false,"progressionVerifiee":false,"pointsCharge":5,"pointsDistance":1}`
	case "REJET":
		dec = `,"decision":{"nature":"REJET","date":"2014-06-12","sousReserveProgression":false,"progressionVerifiee":false,"bareme":2013,"pointsCharge":0,"pointsDistance":0}`
	}
	return fmt.Sprintf(`{"numeroDossier":"2014MON%s","anneeUniversitaire":2014,"academie":"MON","identifiant":"%s","nom":"%s","prenom":"Amandine","dateNaissance":"1996-11-28","etat":"%s","piecesManquantes":[]%s,"voeux":[{"rang":1,"academie":"MON","uai":"0341088Y","etablissement":"UM1 UFR Médecine","formation":"Diplômes de santé, 1re année"}]}`,
		ine, ine, nom, etat, dec) + "\n"
}

type season struct {
	t    *testing.T
	ctx  context.Context
	pool *pgxpool.Pool
	ins  *postgres.Inscriptions
	svc  *bourse.Service
	done chan bourse.EtatInscription
}

func newSeason(t *testing.T) *season {
	ctx := context.Background()
	pool := pgtest.New(t)
	_, faults := importString(t, pool, dossierLine(ineSeed, "BOULET", "VALIDE", "COND1")+
		dossierLine(ineAutre, "MARTIN", "VALIDE", "COND3")+
		dossierLine(ineAttend, "DURAND", "NON_TRAITE", "")+
		dossierLine(ineRejet, "PETIT", "VALIDE", "REJET"))
	require.Empty(t, faults)
	ins, err := postgres.NewInscriptions(pool)
	require.NoError(t, err)
	s := &season{t: t, ctx: ctx, pool: pool, ins: ins, done: make(chan bourse.EtatInscription, 100),
		svc: &bourse.Service{Store: postgres.NewStore(pool)}}
	q, err := postgres.StartQueue(ctx, pool.Config().ConnString(), postgres.QueueOptions{Workers: 2,
		OnProcessed: func(e bourse.EtatInscription) { s.done <- e }})
	require.NoError(t, err)
	t.Cleanup(func() { _ = q.Stop(context.Background()) })
	return s
}

// send receives an event of client c and waits until the worker processed
// it; it returns the receipt as GET /v1/inscriptions/{idRecu} would.
func (s *season) send(c string, e bourse.Evenement) bourse.Recu {
	s.t.Helper()
	in, err := e.Validate(bourse.Appelant{})
	require.NoError(s.t, err)
	r, created, err := s.ins.Receive(s.ctx, c, in)
	require.NoError(s.t, err)
	require.True(s.t, created)
	require.Equal(s.t, bourse.EtatRecu, r.Etat, "the receipt of a new event")
	select {
	case <-s.done:
	case <-time.After(10 * time.Second): // a safety net, not a measure: the worker is notified at once
		s.t.Fatal("the event was not processed")
	}
	got, err := s.ins.Recu(s.ctx, c, r.IdRecu)
	require.NoError(s.t, err)
	return got
}

func (s *season) lookup(ine string) bourse.Reponse {
	s.t.Helper()
	r, err := s.svc.Consult(s.ctx, bourse.Saisie{Identifiant: ine, Annee: 2014})
	require.NoError(s.t, err)
	return r
}

func (s *season) validations() int {
	var n int
	require.NoError(s.t, s.pool.QueryRow(s.ctx, `SELECT count(*) FROM connecteur.validation WHERE annulee_le IS NULL`).Scan(&n))
	return n
}

func event(id, typ, ine, uai string) bourse.Evenement {
	return bourse.Evenement{IdEvenement: id, Type: typ, Identifiant: ine, Annee: 2014, CodeEtablissement: uai,
		Formation: bourse.Formation{Code: "PACES", Libelle: "Diplômes de santé, 1re année"}, DateInscription: "2014-09-02"}
}

func TestInscriptionSeason(t *testing.T) {
	s := newSeason(t)
	ctx := s.ctx

	// Conditional → registration at a vœu → DEFINITIVE, with the barème's amount.
	assert.Equal(t, bourse.TypeConditionnelle, s.lookup(ineSeed).TypeDecision)
	r := s.send("um1", event("ev-1", "INSCRIPTION", ineSeed, uaiUM1))
	require.Equal(t, bourse.EtatValidee, r.Etat)
	rep := s.lookup(ineSeed)
	assert.Equal(t, bourse.StatutBoursier, rep.Statut)
	assert.Equal(t, bourse.TypeDefinitive, rep.TypeDecision)
	assert.Equal(t, bourse.RaisonValidationInscription, rep.Raison)
	require.NotNil(t, r.Validation)
	v := r.Validation
	assert.Equal(t, int64(166500), v.MontantAnnuel, "échelon 1 in 2014–2015: 1665 €")
	assert.Equal(t, "1", v.Echelon)
	require.Len(t, v.Mensualites, 10)
	for _, m := range v.Mensualites {
		assert.Equal(t, int64(16650), m.Montant)
	}
	assert.Equal(t, time.Date(2014, 9, 1, 0, 0, 0, 0, time.UTC), v.Mensualites[0].Mois)
	assert.Equal(t, time.Date(2015, 6, 1, 0, 0, 0, 0, time.UTC), v.Mensualites[9].Mois)
	assert.Contains(t, v.Notification, "Attribution à l'échelon 1.\nMontant annuel : 1665,00 €.")
	assert.Contains(t, v.Notification, "versées de septembre 2014 à juin 2015")

	// The same event twice: the first receipt, nothing done twice.
	in, err := event("ev-1", "INSCRIPTION", ineSeed, uaiUM1).Validate(bourse.Appelant{})
	require.NoError(t, err)
	again, created, err := s.ins.Receive(ctx, "um1", in)
	require.NoError(t, err)
	assert.False(t, created)
	assert.Equal(t, r.IdRecu, again.IdRecu)
	// The same id with other content: a conflict.
	other := event("ev-1", "INSCRIPTION", ineSeed, uaiUM1)
	other.Formation.Code = "L1DROIT"
	in, err = other.Validate(bourse.Appelant{})
	require.NoError(t, err)
	_, _, err = s.ins.Receive(ctx, "um1", in)
	assert.Equal(t, bourse.KindConflict, bourse.KindOf(err), "%v", err)
	// The same registration under another id (Apogée sent it again): still one validation.
	r2 := s.send("um1", event("ev-1-bis", "INSCRIPTION", ineSeed, uaiUM1))
	assert.Equal(t, bourse.EtatDejaValidee, r2.Etat)
	assert.Equal(t, 1, s.validations())

	// A second establishment: DOUBLE_INSCRIPTION.
	r3 := s.send("uvsq", event("uvsq-1", "INSCRIPTION", ineSeed, uaiUVSQ))
	assert.Equal(t, bourse.EtatARetraiter, r3.Etat)
	assert.Equal(t, bourse.MotifDoubleInscription, r3.Motif)
	assert.Equal(t, 1, s.validations())

	// An establishment without a vœu: marked; the CROUS validates it → DEFINITIVE.
	r4 := s.send("uvsq", event("uvsq-2", "INSCRIPTION", ineAutre, uaiUVSQ))
	assert.Equal(t, bourse.EtatARetraiter, r4.Etat)
	assert.Equal(t, bourse.MotifVoeuNonCorrespondant, r4.Motif)
	marked, err := s.ins.Waiting(ctx, bourse.EtatARetraiter, "MON", "", 100)
	require.NoError(t, err)
	assert.Len(t, marked, 2)
	none, err := s.ins.Waiting(ctx, bourse.EtatARetraiter, "VER", "", 100)
	require.NoError(t, err)
	assert.Empty(t, none)
	_, err = s.ins.Settle(ctx, "VER", r4.IdRecu, bourse.Reexamen{Decision: bourse.DecisionValider})
	assert.Equal(t, bourse.KindNotFound, bourse.KindOf(err), "another académie's CROUS cannot settle it")
	settled, err := s.ins.Settle(ctx, "MON", r4.IdRecu, bourse.Reexamen{Decision: bourse.DecisionValider})
	require.NoError(t, err)
	assert.Equal(t, bourse.EtatValidee, settled.Etat)
	require.NotNil(t, settled.Validation)
	assert.Equal(t, int64(321200), settled.Validation.MontantAnnuel, "échelon 3 in 2014–2015: 3212 €")
	assert.Equal(t, bourse.TypeDefinitive, s.lookup(ineAutre).TypeDecision)
	// The CROUS refuses the double registration: closed, nothing moves.
	refused, err := s.ins.Settle(ctx, "MON", r3.IdRecu, bourse.Reexamen{Decision: bourse.DecisionRefuser, Motif: "inscription secondaire"})
	require.NoError(t, err)
	assert.Equal(t, bourse.EtatRefusee, refused.Etat)
	assert.Equal(t, 2, s.validations())

	// An event before the decision: validated by the import that brings it.
	r5 := s.send("um1", event("ev-2", "INSCRIPTION", ineAttend, uaiUM1))
	assert.Equal(t, bourse.EtatEnAttenteDecision, r5.Etat)
	n, err := s.ins.Reapply(ctx)
	require.NoError(t, err)
	assert.Zero(t, n, "no decision yet: still waiting")
	_, faults := importString(t, s.pool, dossierLine(ineAttend, "DURAND", "VALIDE", "COND1"))
	require.Empty(t, faults)
	n, err = s.ins.Reapply(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	got, err := s.ins.Recu(ctx, "um1", r5.IdRecu)
	require.NoError(t, err)
	assert.Equal(t, bourse.EtatValidee, got.Etat)
	assert.Equal(t, bourse.TypeDefinitive, s.lookup(ineAttend).TypeDecision)

	// Rejected and unknown students: recorded, nothing paid.
	assert.Equal(t, bourse.EtatRejet, s.send("um1", event("ev-3", "INSCRIPTION", ineRejet, uaiUM1)).Etat)
	assert.Equal(t, bourse.EtatInconnu, s.send("um1", event("ev-4", "INSCRIPTION", "2222000004W", uaiUM1)).Etat)
	assert.Equal(t, 3, s.validations())

	// An annulation before Aglaé's acknowledgment cancels the validation.
	r6 := s.send("um1", event("ev-5", "ANNULATION", ineAttend, uaiUM1))
	assert.Equal(t, bourse.EtatAnnulee, r6.Etat)
	assert.Equal(t, bourse.TypeConditionnelle, s.lookup(ineAttend).TypeDecision)
	assert.Equal(t, 2, s.validations())

	// Handed to Aglaé, acknowledged; an annulation after it marks the dossier.
	vs, _, err := s.ins.Validations(ctx, time.Time{}, 100)
	require.NoError(t, err)
	require.Len(t, vs, 3, "two live, one cancelled")
	var ids []int64
	for _, v := range vs {
		ids = append(ids, v.ID)
	}
	acked, err := s.ins.Ack(ctx, ids)
	require.NoError(t, err)
	assert.Equal(t, int64(3), acked)
	r7 := s.send("um1", event("ev-6", "ANNULATION", ineSeed, uaiUM1))
	assert.Equal(t, bourse.EtatARetraiter, r7.Etat)
	assert.Equal(t, bourse.MotifAnnulationApresPaiement, r7.Motif)
	assert.Equal(t, bourse.TypeDefinitive, s.lookup(ineSeed).TypeDecision, "paid: only the CROUS may undo it")

	// Never two validations for one student and year, whatever happened.
	var doubles int
	require.NoError(t, s.pool.QueryRow(ctx, `SELECT count(*) FROM (SELECT identifiant, annee_universitaire FROM connecteur.validation
		GROUP BY 1, 2 HAVING count(*) > 1) x`).Scan(&doubles))
	assert.Zero(t, doubles)
}

// An import whose extract carries Aglaé's own definitive decision settles
// the connector's validation: acknowledged, the lookup still DEFINITIVE,
// never doubled.
func TestInscriptionImportSettlesValidation(t *testing.T) {
	s := newSeason(t)
	require.Equal(t, bourse.EtatValidee, s.send("um1", event("ev-1", "INSCRIPTION", ineSeed, uaiUM1)).Etat)
	line := strings.Replace(dossierLine(ineSeed, "BOULET", "VALIDE", "COND1"), "ATTRIBUTION_CONDITIONNELLE", "ATTRIBUTION_DEFINITIVE", 1)
	line = strings.Replace(line, "1653.00", "1665.00", 1)
	_, faults := importString(t, s.pool, line)
	require.Empty(t, faults)
	_, err := s.ins.Reapply(s.ctx)
	require.NoError(t, err)
	vs, _, err := s.ins.Validations(s.ctx, time.Time{}, 10)
	require.NoError(t, err)
	require.Len(t, vs, 1)
	assert.NotNil(t, vs[0].AcquitteeLe)
	rep := s.lookup(ineSeed)
	assert.Equal(t, bourse.TypeDefinitive, rep.TypeDecision)
	assert.Equal(t, bourse.RaisonDefinitive, rep.Raison)
}

func TestInscriptionReceiptUnknown(t *testing.T) {
	s := newSeason(t)
	_, err := s.ins.Recu(s.ctx, "um1", "not-a-uuid")
	assert.Equal(t, bourse.KindNotFound, bourse.KindOf(err))
	r := s.send("um1", event("ev-1", "INSCRIPTION", ineSeed, uaiUM1))
	_, err = s.ins.Recu(s.ctx, "someone-else", r.IdRecu)
	var be *bourse.Error
	require.True(t, errors.As(err, &be))
	assert.Equal(t, bourse.KindNotFound, be.Kind, "another client's receipt is not shown")
}

// Events sent at once share transactions; each is answered once
// committed, the same id twice (even in one transaction) is created once.
func TestInscriptionReceiveTogether(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.New(t)
	ins, err := postgres.NewInscriptions(pool)
	require.NoError(t, err)
	const n = 200
	type got struct {
		r       bourse.Recu
		created bool
		err     error
	}
	res := make([]got, 2*n)
	var wg sync.WaitGroup
	for i := range 2 * n {
		wg.Go(func() {
			in, err := event(fmt.Sprintf("ev-%d", i%n), "INSCRIPTION", ineSeed, uaiUM1).Validate(bourse.Appelant{})
			require.NoError(t, err)
			r, created, err := ins.Receive(ctx, "um1", in)
			res[i] = got{r, created, err}
		})
	}
	wg.Wait()
	created := 0
	for i := range n {
		a, b := res[i], res[i+n]
		require.NoError(t, a.err)
		require.NoError(t, b.err)
		assert.Equal(t, a.r.IdRecu, b.r.IdRecu, "one receipt per event id")
		assert.True(t, a.created != b.created, "created once")
		if a.created || b.created {
			created++
		}
	}
	assert.Equal(t, n, created)
	var rows, jobs int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM connecteur.inscription`).Scan(&rows))
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM river.river_job`).Scan(&jobs))
	assert.Equal(t, n, rows)
	assert.Equal(t, n, jobs, "one job per event")
}
