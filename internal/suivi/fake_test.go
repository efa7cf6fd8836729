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
	changements  []suivi.Changement
	err          error
	uai          string
	annee, calls int
}

func (f *fakeStore) Changements(ctx context.Context, uai string, depuis time.Time) ([]suivi.Changement, error) {
	f.uai = uai
	f.calls++
	return append([]suivi.Changement(nil), f.changements...), f.err
}

func (f *fakeStore) Etudiants(ctx context.Context, uai string, annee int) ([]suivi.Etudiant, error) {
	f.uai, f.annee = uai, annee
	f.calls++
	return append([]suivi.Etudiant(nil), f.etudiants...), f.err
}

func at(day, hour int) time.Time { return time.Date(2025, 9, day, hour, 0, 0, 0, time.UTC) }

func ptr(t time.Time) *time.Time { return &t }

// etudiant is a student of the establishment, asked about once on day.
func etudiant(id string, r suivi.Reponse, depuis, day int) suivi.Etudiant {
	return suivi.Etudiant{Identifiant: id, Reponse: r, Depuis: at(depuis, 9), Consultations: 1,
		PremiereConsultation: ptr(at(day, 9)), DerniereConsultation: ptr(at(day, 9))}
}

var (
	enAttente     = suivi.Reponse{Statut: bourse.StatutEnAttente, Correspondance: bourse.ByIdentifiant}
	inconnu       = suivi.Reponse{Statut: bourse.StatutInconnu}
	definitive    = suivi.Reponse{Statut: bourse.StatutBoursier, TypeDecision: bourse.TypeDefinitive, Echelon: "3", Correspondance: bourse.ByIdentifiant}
	conditionnel  = suivi.Reponse{Statut: bourse.StatutBoursier, TypeDecision: bourse.TypeConditionnelle, Echelon: "3", Correspondance: bourse.ByIdentifiant}
	nonBoursier   = suivi.Reponse{Statut: bourse.StatutNonBoursier, Correspondance: bourse.ByIdentifiant}
	autreIdentite = suivi.Reponse{Statut: bourse.StatutEnAttente, Anomalie: bourse.AnomalieIdentiteDifferente}
)

func parIdentite(aglae string, r suivi.Reponse) suivi.Reponse {
	r.Correspondance, r.IdentifiantAglae = bourse.ByIdentity, aglae
	return r
}

// TestListesFiltres: each list selects and orders the students as its
// documentation says, in Paris time.
func TestListesFiltres(t *testing.T) {
	ctx := context.Background()
	store := &fakeStore{etudiants: []suivi.Etudiant{
		etudiant("E3", enAttente, 3, 3),
		etudiant("E1", enAttente, 5, 1),
		etudiant("E2", enAttente, 3, 2),
		etudiant("IDA", autreIdentite, 1, 1),
		etudiant("INC2", inconnu, 2, 2),
		etudiant("INC1", inconnu, 4, 4),
		etudiant("PROV1", parIdentite("AGL1", conditionnel), 1, 1), // corrected: AGL1 asked on day 2
		etudiant("AGL1", conditionnel, 2, 2),
		etudiant("PROV2", parIdentite("AGL2", definitive), 1, 3), // AGL2 asked before, not since
		etudiant("AGL2", definitive, 2, 2),
		etudiant("NB", nonBoursier, 1, 1),
	}}
	// A student only the re-check asked about: no consultation of the
	// establishment.
	inc3 := etudiant("INC3", inconnu, 1, 1)
	inc3.Consultations, inc3.PremiereConsultation, inc3.DerniereConsultation = 0, nil, nil
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
	assert.Equal(t, []suivi.Compte{
		{Statut: bourse.StatutBoursier, TypeDecision: bourse.TypeDefinitive, Etudiants: 2},
		{Statut: bourse.StatutBoursier, TypeDecision: bourse.TypeConditionnelle, Etudiants: 2},
		{Statut: bourse.StatutEnAttente, Etudiants: 4},
		{Statut: bourse.StatutNonBoursier, Etudiants: 1},
		{Statut: bourse.StatutInconnu, Etudiants: 3},
	}, st.Statuts)
	assert.Equal(t, len(store.etudiants), st.Total())

	ea := liste(suivi.ListeEnAttente)
	assert.Equal(t, bourse.Paris, ea.Etudiants[0].Depuis.Location(), "in Paris time")
	assert.Equal(t, bourse.Paris, ea.Etudiants[0].PremiereConsultation.Location())
	assert.True(t, ea.Etudiants[0].Depuis.Equal(at(3, 9)))

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
	store.changements = []suivi.Changement{{Identifiant: "E1", AnneeUniversitaire: 2025, Avant: enAttente, Apres: definitive,
		VuLe: at(2, 9), VuPar: bourse.CanalRecheck}}
	cs, err = suivi.Suivi(ctx, store, "0781944p", at(1, 0))
	require.NoError(t, err)
	require.Len(t, cs, 1)
	assert.Equal(t, bourse.Paris, cs[0].VuLe.Location())
	assert.Equal(t, "0781944P", store.uai)
}

// fakeLot answers a batch from a table; identifiers it does not know are
// refused as invalid. It keeps the batches and who asked.
type fakeLot struct {
	answers map[string]bourse.Reponse
	lots    []bourse.Batch
	callers []bourse.Appelant
	short   bool // answers one identifier fewer than asked
}

// Consult is not used by the re-check, which asks in batches.
func (f *fakeLot) Consult(context.Context, bourse.Saisie) (bourse.Reponse, error) {
	return bourse.Reponse{}, bourse.Internal("single lookup", errors.New("fakeLot answers batches only"))
}

func (f *fakeLot) ConsultBatch(ctx context.Context, l bourse.Batch) ([]bourse.BatchReponse, error) {
	f.lots = append(f.lots, l)
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
	lot := &fakeLot{answers: map[string]bourse.Reponse{}}
	const waiting = bourse.MaxBatch + 5
	for i := range waiting {
		id := fmt.Sprintf("W%05d", i)
		store.etudiants = append(store.etudiants, etudiant(id, enAttente, 1, 1))
		switch {
		case i%100 == 0: // decided since
			lot.answers[id] = bourse.Reponse{Statut: bourse.StatutBoursier, TypeDecision: bourse.TypeDefinitive, Echelon: "3", Correspondance: bourse.ByIdentifiant}
		case i == 7: // refused
		default:
			lot.answers[id] = bourse.Reponse{Statut: bourse.StatutEnAttente, Correspondance: bourse.ByIdentifiant}
		}
	}
	store.etudiants = append(store.etudiants,
		etudiant("COND", conditionnel, 1, 1), // not final: re-asked, unchanged
		etudiant("DEF", definitive, 1, 1),    // final
		etudiant("NB", nonBoursier, 1, 1),    // final
		etudiant("PROV", parIdentite("AGL", enAttente), 1, 1),
		etudiant("IDA", autreIdentite, 1, 1),
	)
	lot.answers["COND"] = bourse.Reponse{Statut: bourse.StatutBoursier, TypeDecision: bourse.TypeConditionnelle, Echelon: "3", Correspondance: bourse.ByIdentifiant}

	res, err := suivi.Recheck(ctx, store, lot, "0781944p", 2025)
	require.NoError(t, err)
	assert.Equal(t, suivi.Resultat{
		Candidats:     waiting + 1 + 2,
		Redemandes:    waiting + 1 - 1,
		Changes:       (waiting + 99) / 100,
		NonRedemandes: 2,
		Refuses:       1,
		Lots:          2,
	}, res)
	require.Len(t, lot.lots, 2)
	assert.Len(t, lot.lots[0].Identifiants, bourse.MaxBatch)
	assert.Len(t, lot.lots[1].Identifiants, waiting+1-bourse.MaxBatch)
	for i, l := range lot.lots {
		assert.Equal(t, 2025, l.Annee)
		assert.Equal(t, "0781944P", l.CodeEtablissement)
		assert.Equal(t, suivi.Appelant("0781944P"), lot.callers[i])
		assert.NotContains(t, l.Identifiants, "DEF")
		assert.NotContains(t, l.Identifiants, "PROV")
		assert.NotContains(t, l.Identifiants, "IDA")
	}
	assert.Equal(t, bourse.CanalRecheck, lot.callers[0].Canal)

	lot.short = true
	_, err = suivi.Recheck(ctx, store, lot, "0781944P", 2025)
	assert.Equal(t, bourse.KindInternal, bourse.KindOf(err), "a batch answered with the wrong length")
}
