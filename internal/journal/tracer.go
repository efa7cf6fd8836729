package journal

import (
	"context"
	"strings"
	"time"

	"github.com/go-chi/chi/v5/middleware"

	"github.com/aglae-connector/aglae-connector/internal/bourse"
	"github.com/aglae-connector/aglae-connector/internal/ident"
)

// Tracer wraps next so that every answered lookup is recorded in j. It
// times each Consulter and, when it returns no error, records a
// Consultation: the caller from the bourse.Appelant ctx carries (client
// id, canal; establishment: the saisie's CodeEtablissement when given,
// else the client's), the request id chi's middleware.GetReqID finds in
// ctx, and the whole Reponse, internal Raison included. The identifier
// recorded is the normalised one of the Reponse (none for a lookup by
// identity only). A lookup that fails (invalid input, database down) was
// not answered and is not recorded.
//
// The caller should carry an Appelant: without one the record has no
// client and no canal, which the database refuses; it is then set aside
// (Stats.Rejected), not lost.
func Tracer(next bourse.Consultant, j *Journal) bourse.Consultant {
	return &tracer{next: next, j: j}
}

type tracer struct {
	next bourse.Consultant
	j    *Journal
}

func (t *tracer) Consulter(ctx context.Context, in bourse.Saisie) (bourse.Reponse, error) {
	start := time.Now()
	r, err := t.next.Consulter(ctx, in)
	if err != nil {
		return r, err
	}
	latence := time.Since(start)
	a, _ := bourse.AppelantDe(ctx)
	uai := a.UAI
	if strings.TrimSpace(in.CodeEtablissement) != "" {
		// Valider accepted it, so it parses; its normalised form is kept.
		if u, err := ident.ParseUAI(in.CodeEtablissement); err == nil {
			uai = u
		}
	}
	t.j.Record(Consultation{
		Horodatage:       start,
		ClientID:         a.ClientID,
		UAI:              uai,
		Canal:            a.Canal,
		Identifiant:      r.Identifiant,
		Annee:            r.AnneeUniversitaire,
		Statut:           string(r.Statut),
		TypeDecision:     string(r.TypeDecision),
		Echelon:          r.Echelon,
		Raison:           string(r.Raison),
		Correspondance:   string(r.Correspondance),
		IdentifiantAglae: r.IdentifiantAglae,
		NumeroDossier:    r.NumeroDossier,
		Anomalie:         string(r.Anomalie),
		RequestID:        middleware.GetReqID(ctx),
		Latence:          latence,
	})
	return r, nil
}
