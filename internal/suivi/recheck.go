package suivi

import (
	"context"
	"slices"
	"time"

	"github.com/aglae-connector/aglae-connector/internal/bourse"
)

// Result counts what a re-check did.
type Result struct {
	// Candidates: students whose last answer was not final (EN_ATTENTE,
	// BOURSIER CONDITIONNELLE, INCONNU).
	Candidates int `json:"candidats"`
	// Reasked: candidates re-asked through the batch path and answered.
	Reasked int `json:"redemandes"`
	// Changes: re-asked students whose new answer differs from their last
	// one; the follow-up shows them from now on.
	Changes int `json:"changes"`
	// NotReasked: candidates whose last answer was decided by their
	// identity (correspondance IDENTITE, anomaly IDENTITE_DIFFERENTE). A
	// batch carries no identity, and the log keeps none, so they are not
	// re-asked: by the identifier alone the first would come back INCONNU
	// and the second would get the answer of the person the number belongs
	// to. Their change shows when Apogée asks again with the identity; the
	// control lists name them meanwhile.
	NotReasked int `json:"nonRedemandes"`
	// Refused: identifiers the batch refused (kind Invalid); none is
	// expected, the log holds only identifiers that were valid.
	Refused int `json:"refuses"`
	// Batches: batch lookups made, of at most bourse.MaxBatch identifiers each.
	Batches int `json:"lots"`
}

// Appelant is who the re-check's lookups are recorded as, for the
// establishment uai.
func Appelant(uai bourse.UAI) bourse.Appelant {
	return bourse.Appelant{ClientID: "recheck", Nom: "recheck", UAI: uai, Canal: bourse.CanalRecheck}
}

// Recheck re-asks the engine about every student of the establishment uai
// whose last answer for the academic year annee was not final, through
// the batch path of svc (one lookup per bourse.MaxBatch identifiers), as
// [Appelant](uai): when svc is the traced consultant (journal.Tracer) the
// new answers are recorded with canal RECHECK, and the follow-up shows the
// changes once they are written. Students whose answer was decided by
// their identity are counted, not re-asked (see Result.NotReasked).
//
// Recheck is safe to run again: a student whose answer did not change
// gets one more identical row, which is no change. Errors are of kind
// Invalid (uai, annee), Unavailable or Internal; the Result then counts
// what was done before.
func Recheck(ctx context.Context, store Store, svc bourse.Consultant, uai string, annee int) (Result, error) {
	var res Result
	code, err := bourse.ParseUAI("uai", uai)
	if err != nil {
		return res, err
	}
	u := string(code)
	if err := bourse.ValidateAnnee("annee", annee); err != nil {
		return res, err
	}
	es, err := etudiants(ctx, store, u, annee)
	if err != nil {
		return res, err
	}
	cands := reaskable(es, &res)

	ctx = bourse.WithAppelant(ctx, Appelant(bourse.UAI(u)))
	ids := make([]string, 0, min(len(cands), bourse.MaxBatch))
	for start := 0; start < len(cands); start += bourse.MaxBatch {
		batch := cands[start:min(start+bourse.MaxBatch, len(cands))]
		ids = ids[:0]
		for _, c := range batch {
			ids = append(ids, c.Identifiant)
		}
		rs, err := svc.ConsultBatch(ctx, bourse.Batch{Annee: annee, CodeEtablissement: u, Identifiants: ids})
		res.Batches++
		if err != nil {
			return res, err
		}
		if len(rs) != len(batch) {
			return res, bourse.Internal("re-check", errBatchLength)
		}
		for i, x := range rs {
			if x.Err != nil {
				res.Refused++
				continue
			}
			res.Reasked++
			if publicReponse(x.Reponse).Differs(batch[i].Reponse) {
				res.Changes++
			}
		}
	}
	return res, nil
}

type recheckError string

func (e recheckError) Error() string { return string(e) }

const errBatchLength = recheckError("the batch lookup answered a different number of identifiers than asked")

// RecheckStore is what the nightly re-check reads and marks
// (postgres.Suivi).
type RecheckStore interface {
	// RecheckCandidates returns the students of the establishment uai for
	// the academic year annee whose last answer is not final and whose
	// dossier (by their identifier and the year) was imported or changed by
	// an import after both their last answer and their last re-check, as
	// [Store.Etudiants] returns them.
	RecheckCandidates(ctx context.Context, uai string, annee int) ([]Etudiant, error)
	// MarkRechecked records that the students ids of uai and annee were
	// re-checked at asOf, whatever their answer.
	MarkRechecked(ctx context.Context, uai string, annee int, ids []string, asOf time.Time) error
	// RecheckCandidatesByUAI is RecheckCandidates for every
	// establishment at once, by UAI (one pass over the year's dossiers
	// instead of one probe per student of each establishment).
	RecheckCandidatesByUAI(ctx context.Context, annee int) (map[string][]Etudiant, error)
}

// Recorder records answers in the consultation log (journal.Journal):
// RecordAnswers as journal.Tracer records an answered batch of the
// establishment codeEtablissement, for the caller ctx carries; Now is the
// log's clock.
type Recorder interface {
	Now() time.Time
	RecordAnswers(ctx context.Context, codeEtablissement string, start time.Time, latency time.Duration, rs []bourse.Reponse)
}

// Nightly is the nightly re-check of the establishment uai for the year
// annee: it re-asks the engine (svc, not traced) only about the students
// whose last answer is not final and whose dossier was imported or changed
// since their last answer and their last re-check
// ([RecheckStore.RecheckCandidates]), through the batch path, as
// [Appelant](uai); it records in the log (rec) only the answers that
// differ from the student's last one, so the follow-up shows them, and
// marks every student re-asked as re-checked. A night with no new extract
// re-asks nobody and writes nothing. Students whose answer was
// decided by their identity are counted, not re-asked (see
// Result.NotReasked).
//
// [Recheck] is the full re-check: every student not final, every answer
// recorded.
func Nightly(ctx context.Context, store RecheckStore, svc bourse.Consultant, rec Recorder, uai string, annee int) (Result, error) {
	var res Result
	code, err := bourse.ParseUAI("uai", uai)
	if err != nil {
		return res, err
	}
	u := string(code)
	if err := bourse.ValidateAnnee("annee", annee); err != nil {
		return res, err
	}
	// The re-check's time, on the log's clock: the students re-asked are
	// marked re-checked at it, and their changed answers are recorded
	// from it on.
	asOf := rec.Now()
	es, err := store.RecheckCandidates(ctx, u, annee)
	if err != nil {
		return res, err
	}
	return nightly(ctx, store, svc, rec, u, annee, es, asOf)
}

// nightly re-asks the students es of uai, selected at asOf.
func nightly(ctx context.Context, store RecheckStore, svc bourse.Consultant, rec Recorder, u string, annee int, es []Etudiant, asOf time.Time) (Result, error) {
	var res Result
	cands := reaskable(es, &res)

	ctx = bourse.WithAppelant(ctx, Appelant(bourse.UAI(u)))
	ids := make([]string, 0, min(len(cands), bourse.MaxBatch))
	var changed []bourse.Reponse
	for start := 0; start < len(cands); start += bourse.MaxBatch {
		batch := cands[start:min(start+bourse.MaxBatch, len(cands))]
		ids = ids[:0]
		for _, c := range batch {
			ids = append(ids, c.Identifiant)
		}
		t0 := rec.Now()
		rs, err := svc.ConsultBatch(ctx, bourse.Batch{Annee: annee, CodeEtablissement: u, Identifiants: ids})
		latency := rec.Now().Sub(t0)
		res.Batches++
		if err != nil {
			return res, err
		}
		if len(rs) != len(batch) {
			return res, bourse.Internal("re-check", errBatchLength)
		}
		changed = changed[:0]
		asked := ids[:0]
		for i, x := range rs {
			if x.Err != nil {
				res.Refused++
				continue
			}
			res.Reasked++
			asked = append(asked, batch[i].Identifiant)
			if publicReponse(x.Reponse).Differs(batch[i].Reponse) {
				res.Changes++
				changed = append(changed, x.Reponse)
			}
		}
		if len(changed) > 0 {
			rec.RecordAnswers(ctx, u, t0, latency, changed)
		}
		if err := store.MarkRechecked(ctx, u, annee, asked, asOf); err != nil {
			return res, err
		}
	}
	return res, nil
}

// NightlyAll is [Nightly] for every establishment of the year annee: the
// students of all of them are selected at once
// ([RecheckStore.RecheckCandidatesByUAI]), then each establishment's are
// re-asked, one establishment after the other, in UAI order. It returns
// the sum of their results and how many establishments had students to
// re-check; it stops at the first error.
func NightlyAll(ctx context.Context, store RecheckStore, svc bourse.Consultant, rec Recorder, annee int) (Result, int, error) {
	var total Result
	if err := bourse.ValidateAnnee("annee", annee); err != nil {
		return total, 0, err
	}
	asOf := rec.Now()
	byUAI, err := store.RecheckCandidatesByUAI(ctx, annee)
	if err != nil {
		return total, 0, err
	}
	uais := make([]string, 0, len(byUAI))
	for u := range byUAI {
		uais = append(uais, u)
	}
	slices.Sort(uais)
	for i, u := range uais {
		res, err := nightly(ctx, store, svc, rec, u, annee, byUAI[u], asOf)
		total.add(res)
		if err != nil {
			return total, i, err
		}
	}
	return total, len(uais), nil
}

func (r *Result) add(o Result) {
	r.Candidates += o.Candidates
	r.Reasked += o.Reasked
	r.Changes += o.Changes
	r.NotReasked += o.NotReasked
	r.Refused += o.Refused
	r.Batches += o.Batches
}

// reaskable returns the students of es a re-check asks again: not final,
// found by their own identifier, without anomaly. It counts in res the
// candidates, and those it does not re-ask (found by identity or with an
// anomaly: a human looks at them).
func reaskable(es []Etudiant, res *Result) []Etudiant {
	var cands []Etudiant
	for _, e := range es {
		switch {
		case e.Final():
		case e.Correspondance == bourse.ByIdentity || e.Anomalie != "":
			res.Candidates++
			res.NotReasked++
		default:
			res.Candidates++
			cands = append(cands, e)
		}
	}
	return cands
}
