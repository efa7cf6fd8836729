package bourse

import (
	"strings"
	"time"
)

// Decide is the decision engine of SPEC §3: a pure function from the
// dossiers a Store returned for a demande to the answer.
//
// byIdentifiant are the dossiers of the demande's identifier, byIdentity
// those of the students who share the demande's identity; dossiers of
// another year are ignored, and so are cancelled ones.
func Decide(d Query, byIdentifiant, byIdentity []Dossier) Reponse {
	r := Reponse{Identifiant: d.Identifiant, AnneeUniversitaire: d.Annee}

	var own []Dossier
	if d.Identifiant != "" {
		own = active(byIdentifiant, d.Annee, func(x Dossier) bool { return x.Identifiant == d.Identifiant })
	}
	var who key
	if d.Identity != nil {
		who = d.Identity.key() // normalised once
	}
	if len(own) > 0 {
		if d.Identity != nil {
			own = active(own, d.Annee, func(x Dossier) bool { return x.Identity.key() == who })
			if len(own) == 0 {
				// The number belongs to someone else: say nothing of their dossier.
				r.Statut = StatutEnAttente
				r.Anomalie = AnomalieIdentiteDifferente
				r.Raison = RaisonIdentiteDifferente
				return r
			}
		}
		return answer(r, best(own), ByIdentifiant)
	}

	if d.Identity != nil {
		candidates := active(byIdentity, d.Annee, func(x Dossier) bool {
			return x.Identifiant != d.Identifiant && x.Identity.key() == who
		})
		switch identifiants(candidates) {
		case 0:
		case 1:
			return answer(r, best(candidates), ByIdentity)
		default:
			// Never answer on a homonym.
			r.Statut = StatutInconnu
			r.Raison = RaisonIdentiteAmbigue
			return r
		}
	}
	r.Statut = StatutInconnu
	r.Raison = RaisonAucunDossier
	return r
}

// verdict is what the decision table says of one dossier.
type verdict struct {
	rang   rang
	raison Raison
}

// rang orders the answers a dossier can give: a higher rank wins when a
// student has several dossiers for a year.
type rang int

// The ranks, worst first.
const (
	rangNonBoursier rang = iota + 1
	rangEnAttente
	rangConditionnelle
	rangDefinitive
)

// evaluate applies the decision table of SPEC §3 (first matching row) to one
// dossier that is not cancelled.
func evaluate(x Dossier) verdict {
	dec := x.Decision
	switch {
	case dec != nil && dec.Nature == NatureDefinitive:
		return verdict{rangDefinitive, RaisonDefinitive}
	case dec != nil && dec.Nature == NatureRejet:
		return verdict{rangNonBoursier, RaisonRejet}
	case x.Validee && dec != nil && dec.Nature == NatureConditionnelle:
		// The connector's validation, beside Aglaé's conditional decision.
		return verdict{rangDefinitive, RaisonValidationInscription}
	case x.Etat == EtatNonTraite:
		return verdict{rangEnAttente, RaisonNonTraite}
	case x.Etat == EtatPiecesManquantes:
		return verdict{rangEnAttente, RaisonPiecesManquantes}
	case x.Etat == EtatValide && dec != nil && dec.Nature == NatureConditionnelle &&
		dec.SousReserveProgression && !dec.ProgressionVerified:
		return verdict{rangEnAttente, RaisonProgressionAVerifier}
	case x.Etat == EtatValide && dec != nil && dec.Nature == NatureConditionnelle:
		return verdict{rangConditionnelle, RaisonConditionnelle}
	default: // VALIDE without a decision yet
		return verdict{rangEnAttente, RaisonNonTraite}
	}
}

// best returns the dossier that gives the best answer; on a tie, the one
// with the most recent decision, then the smallest dossier number.
func best(ds []Dossier) Dossier {
	best, bv := ds[0], evaluate(ds[0])
	for _, x := range ds[1:] {
		v := evaluate(x)
		if v.rang > bv.rang || v.rang == bv.rang && before(x, best) {
			best, bv = x, v
		}
	}
	return best
}

// before reports whether a comes before b among dossiers of equal rank.
func before(a, b Dossier) bool {
	da, db := dateDecision(a), dateDecision(b)
	if !da.Equal(db) {
		return da.After(db)
	}
	return strings.Compare(a.NumeroDossier, b.NumeroDossier) < 0
}

// dateDecision is the date of x's decision, the zero time when it has none.
func dateDecision(x Dossier) time.Time {
	if x.Decision == nil {
		return time.Time{}
	}
	return x.Decision.Date
}

func answer(r Reponse, x Dossier, c Correspondance) Reponse {
	v := evaluate(x)
	r.Raison = v.raison
	r.NumeroDossier = x.NumeroDossier
	r.Correspondance = c
	if c == ByIdentity {
		r.IdentifiantAglae = x.Identifiant
	}
	switch v.rang {
	case rangDefinitive, rangConditionnelle:
		r.Statut = StatutBoursier
		r.TypeDecision = TypeDefinitive
		if v.rang == rangConditionnelle {
			r.TypeDecision = TypeConditionnelle
		}
		r.Echelon = x.Decision.Echelon
	case rangEnAttente:
		r.Statut = StatutEnAttente
	case rangNonBoursier:
		r.Statut = StatutNonBoursier
	}
	return r
}

// active returns the dossiers of year annee that are not cancelled and that
// keep accepts.
func active(ds []Dossier, annee int, keep func(Dossier) bool) []Dossier {
	var out []Dossier
	for _, x := range ds {
		if x.Annee == annee && x.Etat != EtatAnnule && keep(x) {
			out = append(out, x)
		}
	}
	return out
}

// identifiants counts the distinct identifiers among ds.
func identifiants(ds []Dossier) int {
	n := 0
	for i, x := range ds {
		seen := false
		for _, y := range ds[:i] {
			if y.Identifiant == x.Identifiant {
				seen = true
				break
			}
		}
		if !seen {
			n++
		}
	}
	return n
}
