package bourse

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Validation is the connector's definitive attribution of a conditional
// scholarship, made when the student registered at one of the dossier's
// vœux (or when the CROUS settled a marked dossier). The connector hands
// it to Aglaé, which acknowledges it; there is never more than one per
// student and year.
type Validation struct {
	ID            int64
	IdRecu        string // the event that made it
	NumeroDossier string
	Identifiant   string // Aglaé's number of the student
	Annee         int
	UAI           UAI
	Echelon       string
	Bareme        int   // the year of the barème the amount comes from
	MontantAnnuel int64 // in cents
	Mensualites   []Mensualite
	Notification  string // the definitive notification's text
	CreeLe        time.Time
	AcquitteeLe   *time.Time // when Aglaé acknowledged it; nil until then
	AnnuleeLe     *time.Time // when an ANNULATION cancelled it
}

// Mensualite is one monthly instalment of a scholarship.
type Mensualite struct {
	Mois    time.Time // the first day of the month, UTC
	Montant int64     // in cents
}

// Instalments is the number of monthly instalments of a scholarship:
// September to June.
const Instalments = 10

// ComputeValidation makes the validation of dossier x for year annee at
// échelon echelon, montant being the annual amount (cents) of that échelon
// in the year's barème: ten instalments from September of annee to June of
// annee+1 (the cents that do not divide go to the last), and the text of
// the definitive notification, as Aglaé words it.
func ComputeValidation(annee int, echelon string, montant int64) Validation {
	v := Validation{Annee: annee, Echelon: echelon, Bareme: annee, MontantAnnuel: montant}
	each := montant / Instalments
	for i := range Instalments {
		m := each
		if i == Instalments-1 {
			m = montant - each*(Instalments-1)
		}
		v.Mensualites = append(v.Mensualites, Mensualite{
			Mois:    time.Date(annee, time.September+time.Month(i), 1, 0, 0, 0, 0, time.UTC),
			Montant: m,
		})
	}
	v.Notification = fmt.Sprintf("Décision définitive : Attribution à l'échelon %s.\n"+
		"Montant annuel : %s €.\n"+
		"Ce montant est calculé sur la base de %d mensualités correspondant au montant de votre échelon "+
		"versées de septembre %d à juin %d.", echelon, FormatEuros(montant), Instalments, annee, annee+1)
	return v
}

// FormatEuros writes an amount in cents the French way: 1665,00 (no
// thousands separator, as Aglaé's notifications write it).
func FormatEuros(cents int64) string {
	sign := ""
	if cents < 0 {
		sign, cents = "-", -cents
	}
	c := strconv.FormatInt(cents%100, 10)
	if len(c) < 2 {
		c = "0" + c
	}
	return sign + strconv.FormatInt(cents/100, 10) + "," + c
}

// FormatDecimal writes an amount in cents as a JSON number with two
// decimals, as the extract writes montantAnnuel: 1665.00.
func FormatDecimal(cents int64) string {
	return strings.Replace(FormatEuros(cents), ",", ".", 1)
}

// Decision of the CROUS on a dossier marked A_RETRAITER.
type DecisionCrous string

// The CROUS's decisions on a marked dossier.
const (
	DecisionValider DecisionCrous = "VALIDER" // validate it as a matching registration would
	DecisionRefuser DecisionCrous = "REFUSER" // close it: no validation
)

// Reexamen is the CROUS's settlement of a marked event.
type Reexamen struct {
	Decision DecisionCrous
	Motif    string // why, for REFUSER
}

// Validate checks r: a known decision, and a motif with REFUSER. The error
// is of kind Invalid.
func (r Reexamen) Validate() (Reexamen, error) {
	switch r.Decision {
	case DecisionValider:
		if strings.TrimSpace(r.Motif) != "" {
			if _, err := validateText("motif", r.Motif, maxLibelle, false); err != nil {
				return r, err
			}
		}
	case DecisionRefuser:
		m, err := validateText("motif", r.Motif, maxLibelle, true)
		if err != nil {
			return r, err
		}
		r.Motif = m
	case "":
		return r, Invalid("decision", "required: VALIDER or REFUSER")
	default:
		return r, Invalid("decision", "must be VALIDER or REFUSER")
	}
	return r, nil
}

// ValidAcademie checks an académie code: three upper-case letters.
func ValidAcademie(field, s string) (string, error) {
	if len(s) != 3 || strings.IndexFunc(s, func(r rune) bool { return r < 'A' || r > 'Z' }) >= 0 {
		return "", Invalid(field, "must be an académie code of three capital letters, e.g. VER")
	}
	return s, nil
}
