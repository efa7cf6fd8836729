package suivi

import (
	"context"

	"github.com/aglae-connector/aglae-connector/internal/bourse"
)

// Resultat counts what a re-check did.
type Resultat struct {
	// Candidats: students whose last answer was not final (EN_ATTENTE,
	// BOURSIER CONDITIONNELLE, INCONNU).
	Candidats int `json:"candidats"`
	// Redemandes: candidates re-asked through the batch path and answered.
	Redemandes int `json:"redemandes"`
	// Changes: re-asked students whose new answer differs from their last
	// one; the follow-up shows them from now on.
	Changes int `json:"changes"`
	// NonRedemandes: candidates whose last answer was decided by their
	// identity (correspondance IDENTITE, anomaly IDENTITE_DIFFERENTE). A
	// batch carries no identity, and the log keeps none, so they are not
	// re-asked: by the identifier alone the first would come back INCONNU
	// and the second would get the answer of the person the number belongs
	// to. Their change shows when Apogée asks again with the identity; the
	// control lists name them meanwhile.
	NonRedemandes int `json:"nonRedemandes"`
	// Refuses: identifiers the batch refused (kind Invalid); none is
	// expected, the log holds only identifiers that were valid.
	Refuses int `json:"refuses"`
	// Lots: batch lookups made, of at most bourse.MaxBatch identifiers each.
	Lots int `json:"lots"`
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
// their identity are counted, not re-asked (see Resultat.NonRedemandes).
//
// Recheck is safe to run again: a student whose answer did not change
// gets one more identical row, which is no change. Errors are of kind
// Invalid (uai, annee), Unavailable or Internal; the Resultat then counts
// what was done before.
func Recheck(ctx context.Context, store Store, svc bourse.Consultant, uai string, annee int) (Resultat, error) {
	var res Resultat
	u, err := parseUAI(uai)
	if err != nil {
		return res, err
	}
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
		case e.Finale():
		case e.Correspondance == bourse.ByIdentity || e.Anomalie != "":
			res.Candidats++
			res.NonRedemandes++
		default:
			res.Candidats++
			cands = append(cands, e)
		}
	}

	ctx = bourse.WithAppelant(ctx, Appelant(bourse.UAI(u)))
	ids := make([]string, 0, min(len(cands), bourse.MaxBatch))
	for start := 0; start < len(cands); start += bourse.MaxBatch {
		lot := cands[start:min(start+bourse.MaxBatch, len(cands))]
		ids = ids[:0]
		for _, c := range lot {
			ids = append(ids, c.Identifiant)
		}
		rs, err := svc.ConsultBatch(ctx, bourse.Batch{Annee: annee, CodeEtablissement: u, Identifiants: ids})
		res.Lots++
		if err != nil {
			return res, err
		}
		if len(rs) != len(lot) {
			return res, bourse.Internal("re-check", errLongueurLot)
		}
		for i, x := range rs {
			if x.Err != nil {
				res.Refuses++
				continue
			}
			res.Redemandes++
			if deReponse(x.Reponse).Differe(lot[i].Reponse) {
				res.Changes++
			}
		}
	}
	return res, nil
}

type recheckError string

func (e recheckError) Error() string { return string(e) }

const errLongueurLot = recheckError("the batch lookup answered a different number of identifiers than asked")
