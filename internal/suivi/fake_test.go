package suivi_test

// The follow-up's own logic, on a fake of its store: no database. What the
// log's rows make of the students (the SQL) is tested on a real database
// by the season test.

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aglae-connector/aglae-connector/internal/bourse"
	"github.com/aglae-connector/aglae-connector/internal/suivi"
)

// fakeStore answers with the students and changes it holds, whatever the
// establishment and year, which it keeps.
type fakeStore struct {
	etudiants    []suivi.Etudiant
	changements  []suivi.Change
	err          error
	uai          string
	annee, calls int
}

func (f *fakeStore) Changes(ctx context.Context, uai string, since time.Time) ([]suivi.Change, error) {
	f.uai = uai
	f.calls++
	return append([]suivi.Change(nil), f.changements...), f.err
}

func (f *fakeStore) Etudiants(ctx context.Context, uai string, annee int) ([]suivi.Etudiant, error) {
	f.uai, f.annee = uai, annee
	f.calls++
	return append([]suivi.Etudiant(nil), f.etudiants...), f.err
}

func at(day, hour int) time.Time { return time.Date(2025, 9, day, hour, 0, 0, 0, time.UTC) }

func ptr(t time.Time) *time.Time { return &t }

// etudiant is a student of the establishment, asked about once on day.
func etudiant(id string, r suivi.Reponse, since, day int) suivi.Etudiant {
	return suivi.Etudiant{Identifiant: id, Reponse: r, Since: at(since, 9), Consultations: 1,
		FirstConsultation: ptr(at(day, 9)), LastConsultation: ptr(at(day, 9))}
}

var (
	enAttente     = suivi.Reponse{Statut: bourse.StatutEnAttente, Correspondance: bourse.ByIdentifiant}
	inconnu       = suivi.Reponse{Statut: bourse.StatutInconnu}
	definitive    = suivi.Reponse{Statut: bourse.StatutBoursier, TypeDecision: bourse.TypeDefinitive, Echelon: "3", Correspondance: bourse.ByIdentifiant}
	conditionnel  = suivi.Reponse{Statut: bourse.StatutBoursier, TypeDecision: bourse.TypeConditionnelle, Echelon: "3", Correspondance: bourse.ByIdentifiant}
	nonBoursier   = suivi.Reponse{Statut: bourse.StatutNonBoursier, Correspondance: bourse.ByIdentifiant}
	otherIdentity = suivi.Reponse{Statut: bourse.StatutEnAttente, Anomalie: bourse.AnomalieIdentiteDifferente}
)

func byIdentity(aglae string, r suivi.Reponse) suivi.Reponse {
	r.Correspondance, r.IdentifiantAglae = bourse.ByIdentity, aglae
	return r
}

// TestListeFilters: each list selects and orders the students as its
// documentation says, in Paris time.
func TestListeFilters(t *testing.T) {
	ctx := context.Background()
	store := &fakeStore{etudiants: []suivi.Etudiant{
		etudiant("E3", enAttente, 3, 3),
		etudiant("E1", enAttente, 5, 1),
		etudiant("E2", enAttente, 3, 2),
		etudiant("IDA", otherIdentity, 1, 1),
		etudiant("INC2", inconnu, 2, 2),
		etudiant("INC1", inconnu, 4, 4),
		etudiant("PROV1", byIdentity("AGL1", conditionnel), 1, 1), // corrected: AGL1 asked on day 2
		etudiant("AGL1", conditionnel, 2, 2),
		etudiant("PROV2", byIdentity("AGL2", definitive), 1, 3), // AGL2 asked before, not since
		etudiant("AGL2", definitive, 2, 2),
		etudiant("NB", nonBoursier, 1, 1),
	}}
	// A student only the re-check asked about: no consultation of the
	// establishment.
	inc3 := etudiant("INC3", inconnu, 1, 1)
	inc3.Consultations, inc3.FirstConsultation, inc3.LastConsultation = 0, nil, nil
	store.etudiants = append(store.etudiants, inc3)

	liste := func(nom string) suivi.Controle {
		t.Helper()
		c, err := suivi.Liste(ctx, store, " 0781944p ", 2025, nom)
		require.NoError(t, err)
		assert.Equal(t, "0781944P", store.uai, "the store gets the normalised UAI")
		assert.Equal(t, 2025, store.annee)
		assert.Equal(t, "0781944P", c.UAI)
		return c
	}
	assert.Equal(t, []string{"E2", "E3", "E1"}, etudiants(liste(suivi.ListeEnAttente)), "by depuis, then identifier")
	assert.Equal(t, []string{"IDA"}, etudiants(liste(suivi.ListeIdentitesDifferentes)))
	assert.Equal(t, []string{"INC2", "INC1", "INC3"}, etudiants(liste(suivi.ListeInconnus)), "by first consultation, none last")
	assert.Equal(t, []string{"PROV2"}, etudiants(liste(suivi.ListeNumerosDifferents)))

	st := liste(suivi.ListeStatuts)
	assert.Equal(t, []suivi.StatutCount{
		{Statut: bourse.StatutBoursier, TypeDecision: bourse.TypeDefinitive, Etudiants: 2},
		{Statut: bourse.StatutBoursier, TypeDecision: bourse.TypeConditionnelle, Etudiants: 2},
		{Statut: bourse.StatutEnAttente, Etudiants: 4},
		{Statut: bourse.StatutNonBoursier, Etudiants: 1},
		{Statut: bourse.StatutInconnu, Etudiants: 3},
	}, st.Statuts)
	assert.Equal(t, len(store.etudiants), st.Total())

	ea := liste(suivi.ListeEnAttente)
	assert.Equal(t, bourse.Paris, ea.Etudiants[0].Since.Location(), "in Paris time")
	assert.Equal(t, bourse.Paris, ea.Etudiants[0].FirstConsultation.Location())
	assert.True(t, ea.Etudiants[0].Since.Equal(at(3, 9)))

	// Refused before the store is read.
	store.calls = 0
	for _, tc := range []struct {
		uai   string
		annee int
		nom   string
		field string
	}{
		{"0781944A", 2025, suivi.ListeStatuts, "uai"},
		{"0781944P", 1999, suivi.ListeStatuts, "annee"},
		{"0781944P", 2025, "boursiers", "liste"},
	} {
		_, err := suivi.Liste(ctx, store, tc.uai, tc.annee, tc.nom)
		var be *bourse.Error
		require.ErrorAs(t, err, &be)
		assert.Equal(t, bourse.KindInvalid, be.Kind)
		assert.Equal(t, tc.field, be.Field)
	}
	assert.Zero(t, store.calls)

	// The store's errors pass through.
	store.err = bourse.Unavailable("students of the establishment", fmt.Errorf("down"))
	_, err := suivi.Liste(ctx, store, "0781944P", 2025, suivi.ListeStatuts)
	assert.Equal(t, bourse.KindUnavailable, bourse.KindOf(err))
}

// TestSuiviPassesThrough: the follow-up is the store's, in Paris time,
// never nil.
func TestSuiviPassesThrough(t *testing.T) {
	ctx := context.Background()
	store := &fakeStore{}
	cs, err := suivi.Suivi(ctx, store, "0781944P", at(1, 0))
	require.NoError(t, err)
	assert.NotNil(t, cs, "an empty follow-up is [] in JSON")
	store.changements = []suivi.Change{{Identifiant: "E1", AnneeUniversitaire: 2025, Before: enAttente, After: definitive,
		SeenAt: at(2, 9), SeenBy: bourse.CanalRecheck}}
	cs, err = suivi.Suivi(ctx, store, "0781944p", at(1, 0))
	require.NoError(t, err)
	require.Len(t, cs, 1)
	assert.Equal(t, bourse.Paris, cs[0].SeenAt.Location())
	assert.Equal(t, "0781944P", store.uai)
}

// fakeBatch answers a batch from a table; identifiers it does not know are
// refused as invalid. It keeps the batches and who asked.
type fakeBatch struct {
	answers map[string]bourse.Reponse
	batches []bourse.Batch
	callers []bourse.Appelant
	short   bool // answers one identifier fewer than asked
}

// Consult is not used by the re-check, which asks in batches.
func (f *fakeBatch) Consult(context.Context, bourse.Saisie) (bourse.Reponse, error) {
	return bourse.Reponse{}, bourse.Internal("single lookup", errors.New("fakeLot answers batches only"))
}

func (f *fakeBatch) ConsultBatch(ctx context.Context, l bourse.Batch) ([]bourse.BatchReponse, error) {
	f.batches = append(f.batches, l)
	a, _ := bourse.AppelantFrom(ctx)
	f.callers = append(f.callers, a)
	var out []bourse.BatchReponse
	for _, id := range l.Identifiants {
		r, ok := f.answers[id]
		if !ok {
			out = append(out, bourse.BatchReponse{Err: bourse.Invalid("identifiant", "unknown")})
			continue
		}
		out = append(out, bourse.BatchReponse{Reponse: bourse.Reponse{Identifiant: id, Statut: r.Statut,
			TypeDecision: r.TypeDecision, Echelon: r.Echelon, Correspondance: r.Correspondance}})
	}
	if f.short {
		out = out[:len(out)-1]
	}
	return out, nil
}

// TestRecheckCandidates: only the students whose answer is not final and
// was decided by their identifier are re-asked, in batches of at most
// bourse.MaxBatch, as the re-check of the establishment; changes are
// counted against their last answer.
func TestRecheckCandidates(t *testing.T) {
	ctx := context.Background()
	store := &fakeStore{}
	batch := &fakeBatch{answers: map[string]bourse.Reponse{}}
	const waiting = bourse.MaxBatch + 5
	for i := range waiting {
		id := fmt.Sprintf("W%05d", i)
		store.etudiants = append(store.etudiants, etudiant(id, enAttente, 1, 1))
		switch {
		case i%100 == 0: // decided since
			batch.answers[id] = bourse.Reponse{Statut: bourse.StatutBoursier, TypeDecision: bourse.TypeDefinitive, Echelon: "3", Correspondance: bourse.ByIdentifiant}
		case i == 7: // refused
		default:
			batch.answers[id] = bourse.Reponse{Statut: bourse.StatutEnAttente, Correspondance: bourse.ByIdentifiant}
		}
	}
	store.etudiants = append(store.etudiants,
		etudiant("COND", conditionnel, 1, 1), // not final: re-asked, unchanged
		etudiant("DEF", definitive, 1, 1),    // final
		etudiant("NB", nonBoursier, 1, 1),    // final
		etudiant("PROV", byIdentity("AGL", enAttente), 1, 1),
		etudiant("IDA", otherIdentity, 1, 1),
	)
	batch.answers["COND"] = bourse.Reponse{Statut: bourse.StatutBoursier, TypeDecision: bourse.TypeConditionnelle, Echelon: "3", Correspondance: bourse.ByIdentifiant}

	res, err := suivi.Recheck(ctx, store, batch, "0781944p", 2025)
	require.NoError(t, err)
	assert.Equal(t, suivi.Result{
		Candidates: waiting + 1 + 2,
		Reasked:    waiting + 1 - 1,
		Changes:    (waiting + 99) / 100,
		NotReasked: 2,
		Refused:    1,
		Batches:    2,
	}, res)
	require.Len(t, batch.batches, 2)
	assert.Len(t, batch.batches[0].Identifiants, bourse.MaxBatch)
	assert.Len(t, batch.batches[1].Identifiants, waiting+1-bourse.MaxBatch)
	for i, l := range batch.batches {
		assert.Equal(t, 2025, l.Annee)
		assert.Equal(t, "0781944P", l.CodeEtablissement)
		assert.Equal(t, suivi.Appelant("0781944P"), batch.callers[i])
		assert.NotContains(t, l.Identifiants, "DEF")
		assert.NotContains(t, l.Identifiants, "PROV")
		assert.NotContains(t, l.Identifiants, "IDA")
	}
	assert.Equal(t, bourse.CanalRecheck, batch.callers[0].Canal)

	batch.short = true
	_, err = suivi.Recheck(ctx, store, batch, "0781944P", 2025)
	assert.Equal(t, bourse.KindInternal, bourse.KindOf(err), "a batch answered with the wrong length")
}
