package journal_test

import (
	"context"
	"testing"
	"time"

	"github.com/go-chi/chi/v5/middleware"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aglae-connector/aglae-connector/internal/bourse"
	"github.com/aglae-connector/aglae-connector/internal/ident"
	"github.com/aglae-connector/aglae-connector/internal/journal"
	"github.com/aglae-connector/aglae-connector/internal/testutil"
)

// fake answers from a table, by identifier ("" is the identity-only
// lookup), taking 2 ms of clk's time.
type fake struct {
	clk     *testutil.Clock
	answers map[string]struct {
		r   bourse.Reponse
		err error
	}
}

func (f fake) Consult(ctx context.Context, in bourse.Saisie) (bourse.Reponse, error) {
	f.clk.Advance(2 * time.Millisecond)
	a := f.answers[in.Identifiant]
	return a.r, a.err
}

// ConsultBatch answers each identifier as Consult would.
func (f fake) ConsultBatch(ctx context.Context, l bourse.Batch) ([]bourse.BatchReponse, error) {
	f.clk.Advance(2 * time.Millisecond)
	out := make([]bourse.BatchReponse, len(l.Identifiants))
	for i, id := range l.Identifiants {
		a := f.answers[id]
		out[i] = bourse.BatchReponse{Reponse: a.r, Err: a.err}
	}
	return out, nil
}

func TestTracer(t *testing.T) {
	store := &fakeStore{}
	clk := testutil.NewClock(base)
	j := open(t, journal.Options{Store: store, SpoolDir: t.TempDir(), Now: clk.Now})
	clientUAI := "0751234" + string(ident.UAIKey("0751234"))

	svc := journal.Tracer(fake{clk, map[string]struct {
		r   bourse.Reponse
		err error
	}{
		"1234567890A": {r: bourse.Reponse{
			Identifiant: "1234567890A", AnneeUniversitaire: 2025, Statut: bourse.StatutBoursier,
			TypeDecision: bourse.TypeDefinitive, Echelon: "4", NumeroDossier: "202500000000000042",
			Correspondance: bourse.ByIdentifiant, IdentifiantAglae: "1234567890A", Raison: bourse.RaisonDefinitive,
		}},
		"": {r: bourse.Reponse{
			AnneeUniversitaire: 2025, Statut: bourse.StatutEnAttente, Raison: bourse.RaisonIdentiteAmbigue,
		}},
		"9999999999Z": {err: bourse.Invalid("identifiant", "bad key")},
		"8888888888Z": {err: bourse.Unavailable("read dossiers", context.DeadlineExceeded)},
	}}, j)

	ctx := bourse.WithAppelant(context.Background(), bourse.Appelant{
		ClientID: "uvsqapogee", Nom: "UVSQ Apogée", UAI: bourse.UAI(clientUAI), Canal: bourse.CanalSOAP,
	})
	ctx1 := context.WithValue(ctx, middleware.RequestIDKey, "req-ident")
	r, err := svc.Consult(ctx1, bourse.Saisie{Identifiant: "1234567890A", CodeEtablissement: " 0781944p "})
	require.NoError(t, err)
	assert.Equal(t, bourse.StatutBoursier, r.Statut, "the answer passes through")

	ctx2 := context.WithValue(ctx, middleware.RequestIDKey, "req-identite")
	_, err = svc.Consult(ctx2, bourse.Saisie{Nom: "Martin", Prenom: "Léa", DateNaissance: "2004-05-06"})
	require.NoError(t, err)

	ctx3 := context.WithValue(ctx, middleware.RequestIDKey, "req-invalid")
	_, err = svc.Consult(ctx3, bourse.Saisie{Identifiant: "9999999999Z"})
	assert.Equal(t, bourse.KindInvalid, bourse.KindOf(err))
	_, err = svc.Consult(ctx3, bourse.Saisie{Identifiant: "8888888888Z"})
	assert.Equal(t, bourse.KindUnavailable, bourse.KindOf(err))

	closeJournal(t, j, 10*time.Second)
	got := map[string]journal.Consultation{}
	for _, c := range store.recs {
		got[c.RequestID] = c
	}
	require.Len(t, store.recs, 2, "one record per answered lookup, none for errors")

	a := got["req-ident"]
	assert.Equal(t, "uvsqapogee", a.ClientID)
	assert.Equal(t, "0781944P", a.UAI, "the saisie's establishment, normalised")
	assert.Equal(t, bourse.CanalSOAP, a.Canal)
	assert.Equal(t, "1234567890A", a.Identifiant)
	assert.Equal(t, 2025, a.Annee)
	assert.Equal(t, "BOURSIER", a.Statut)
	assert.Equal(t, "DEFINITIVE", a.TypeDecision)
	assert.Equal(t, "4", a.Echelon)
	assert.Equal(t, "ATTRIBUTION_DEFINITIVE", a.Raison)
	assert.Equal(t, "IDENTIFIANT", a.Correspondance)
	assert.Equal(t, "1234567890A", a.IdentifiantAglae)
	assert.Equal(t, "202500000000000042", a.NumeroDossier)
	assert.Empty(t, a.Anomalie)
	assert.Equal(t, 2*time.Millisecond, a.Latency, "the lookup's time")
	assert.Equal(t, base, a.Horodatage, "stamped when the lookup started")

	b := got["req-identite"]
	assert.Equal(t, base.Add(2*time.Millisecond), b.Horodatage, "the second lookup started when the first ended")
	assert.Equal(t, clientUAI, b.UAI, "the client's establishment when the saisie names none")
	assert.Empty(t, b.Identifiant, "NULL for a lookup by identity only")
	assert.Equal(t, "EN_ATTENTE", b.Statut)
	assert.Equal(t, "IDENTITE_AMBIGUE", b.Raison)
	assert.Empty(t, b.TypeDecision)
}
