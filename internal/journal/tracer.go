package journal

import (
	"context"
	"time"

	"github.com/go-chi/chi/v5/middleware"

	"github.com/aglae-connector/aglae-connector/internal/bourse"
)

// Tracer wraps next so that every answered lookup is recorded in j. It
// times each Consult on j's clock (Options.Now) and, when it returns no
// error, records a Consultation: the caller from the bourse.Appelant ctx carries (client
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
//
// Every answered identifier of a batch is recorded like a single lookup,
// with the batch's time and latency.
func Tracer(next bourse.Consultant, j *Journal) bourse.Consultant {
	return &tracer{next: next, j: j}
}

type tracer struct {
	next bourse.Consultant
	j    *Journal
}

func (t *tracer) Consult(ctx context.Context, in bourse.Saisie) (bourse.Reponse, error) {
	start := t.j.now()
	r, err := t.next.Consult(ctx, in)
	if err != nil {
		return r, err
	}
	t.record(ctx, start, t.j.now().Sub(start), in.CodeEtablissement, r)
	return r, nil
}

// ConsultBatch answers a batch through next and records every answered
// identifier.
func (t *tracer) ConsultBatch(ctx context.Context, l bourse.Batch) ([]bourse.BatchReponse, error) {
	start := t.j.now()
	rs, err := t.next.ConsultBatch(ctx, l)
	if err != nil {
		return rs, err
	}
	latency := t.j.now().Sub(start)
	for _, r := range rs {
		if r.Err == nil {
			t.record(ctx, start, latency, l.CodeEtablissement, r.Reponse)
		}
	}
	return rs, nil
}

func (t *tracer) record(ctx context.Context, start time.Time, latency time.Duration, codeEtablissement string, r bourse.Reponse) {
	t.j.recordAnswer(ctx, start, latency, codeEtablissement, r)
}

// Now is the journal's clock (Options.Now).
func (j *Journal) Now() time.Time { return j.now() }

// RecordAnswers records rs as [Tracer] records the answers of a batch
// lookup of the establishment codeEtablissement made at start and answered
// in latency, for the caller ctx carries: for a caller that chooses which
// answers to record (the nightly re-check records only those that
// changed).
func (j *Journal) RecordAnswers(ctx context.Context, codeEtablissement string, start time.Time, latency time.Duration, rs []bourse.Reponse) {
	for _, r := range rs {
		j.recordAnswer(ctx, start, latency, codeEtablissement, r)
	}
}

func (j *Journal) recordAnswer(ctx context.Context, start time.Time, latency time.Duration, codeEtablissement string, r bourse.Reponse) {
	a, _ := bourse.AppelantFrom(ctx)
	uai := a.UAI
	// The lookup's own establishment, when given: Valider accepted it, so
	// it parses; its normalised form is kept.
	if u, err := bourse.ParseOptionalUAI("codeEtablissement", codeEtablissement); err == nil && u != "" {
		uai = u
	}
	j.Record(Consultation{
		Horodatage:       start,
		ClientID:         a.ClientID,
		UAI:              string(uai),
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
		Latency:          latency,
	})
}
