package suivi

import (
	"context"

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
