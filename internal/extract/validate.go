package extract

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/aglae-connector/aglae-connector/internal/bourse"
	"github.com/aglae-connector/aglae-connector/internal/ident"
)

// Dossier is a valid line of the extract, normalised and typed, ready to be
// stored.
type Dossier struct {
	Line             int
	NumeroDossier    string
	Annee            int
	Academie         string
	Identifiant      string
	Nom, Prenom      string
	NormalizedNom    string
	NormalizedPrenom string
	DateNaissance    time.Time
	Etat             bourse.Etat
	Decision         *ValidDecision
	Pieces           []string
	Voeux            []Voeu
}

// ValidDecision is a valid decision. Pointers are nil where the field does
// not apply: a REJET has no échelon nor amount, and its barème (the
// resources ceiling it was computed against) is optional.
type ValidDecision struct {
	Nature                 bourse.Nature
	Echelon                *string
	MontantAnnuel          *float64
	Bareme                 *int
	Date                   time.Time
	SousReserveProgression bool
	ProgressionVerified    bool
	PointsCharge           *int
	PointsDistance         *int
}

// Bounds of plausible values.
const (
	maxNom     = 100
	maxText    = 300
	maxMontant = 99999.99
	maxPoints  = 99
	maxVoeux   = 99
	maxPieces  = 50
)

var reAcademie = regexp.MustCompile(`^[A-Z]{3}$`)

// validator collects the faults of one line.
type validator struct {
	line   int
	faults []Fault
}

func (v *validator) add(field, format string, args ...any) {
	v.faults = append(v.faults, Fault{Line: v.line, Field: field, Raison: fmt.Sprintf(format, args...)})
}

// check adds err, an error of bourse's rules (a *bourse.Error about a
// field), as a fault, and reports whether there was one.
func (v *validator) check(err error) bool {
	if err == nil {
		return false
	}
	var e *bourse.Error
	if errors.As(err, &e) {
		v.add(e.Field, "%s", e.Message)
	} else {
		v.add("", "%s", err.Error())
	}
	return true
}

// Validate validates one decoded line; n is its line number. It returns the
// dossier and the faults found (none when the line is valid).
func Validate(n int, x Line) (Dossier, []Fault) {
	v := validator{line: n}
	d := v.validate(x)
	return d, v.faults
}

// line_ decodes and validates one raw line.
func (v *validator) line_(line []byte) Dossier {
	x, ok := v.decode(line)
	if !ok {
		return Dossier{}
	}
	return v.validate(x)
}

func (v *validator) validate(x Line) Dossier {
	d := Dossier{Line: v.line}

	// Identity of the student.
	if ine, err := ident.ParseINE(x.Identifiant); err != nil {
		v.add("identifiant", "%s", identRaison(err))
	} else {
		d.Identifiant = ine.Value
	}
	d.Nom, d.NormalizedNom = v.nom("nom", x.Nom)
	d.Prenom, d.NormalizedPrenom = v.nom("prenom", x.Prenom)
	d.DateNaissance = v.date("dateNaissance", x.DateNaissance, true)

	// The dossier.
	switch {
	case x.AnneeUniversitaire == 0:
		v.add("anneeUniversitaire", "required")
	case v.check(bourse.ValidateAnnee("anneeUniversitaire", x.AnneeUniversitaire)):
	default:
		d.Annee = x.AnneeUniversitaire
	}
	if x.Academie == "" {
		v.add("academie", "required")
	} else if !reAcademie.MatchString(x.Academie) {
		v.add("academie", "must be 3 upper-case letters")
	} else {
		d.Academie = x.Academie
	}
	if x.NumeroDossier == "" {
		v.add("numeroDossier", "required")
	} else if num, err := ident.ParseNumeroDossier(x.NumeroDossier); err != nil {
		v.add("numeroDossier", "%s", identRaison(err))
	} else {
		d.NumeroDossier = num.Value
		if d.Annee != 0 && num.Annee != d.Annee {
			v.add("numeroDossier", "its year %d contradicts anneeUniversitaire %d", num.Annee, d.Annee)
		}
		if d.Academie != "" && num.Academie != d.Academie {
			v.add("numeroDossier", "its académie %s contradicts academie %s", num.Academie, d.Academie)
		}
		if d.Identifiant != "" && num.INE.Value != d.Identifiant {
			v.add("numeroDossier", "its identifier contradicts identifiant")
		}
	}
	if !d.DateNaissance.IsZero() && d.Annee != 0 && d.DateNaissance.Year() > d.Annee-10 {
		v.add("dateNaissance", "a student born in %d cannot file a dossier for %d", d.DateNaissance.Year(), d.Annee)
	}

	etat := bourse.Etat(x.Etat)
	switch {
	case x.Etat == "":
		v.add("etat", "required")
	case !slices.Contains(bourse.Etats, etat):
		v.add("etat", "must be one of %s", list(bourse.Etats))
	default:
		d.Etat = etat
	}
	d.Pieces = v.pieces(x.PiecesManquantes, etat)
	d.Decision = v.decision(x.Decision, etat, d.Annee)
	d.Voeux = v.voeux(x.Voeux)
	return d
}

// nom returns the trimmed name s and its normalised form, or "" and ""
// when it is not a valid name.
func (v *validator) nom(field, s string) (string, string) {
	s, ok := v.boundedText(field, s, maxNom)
	if !ok {
		return "", ""
	}
	n := bourse.NormalizeNom(s)
	if n == "" {
		v.add(field, "must contain a letter")
	}
	return s, n
}

func (v *validator) date(field, s string, required bool) time.Time {
	if s == "" {
		if required {
			v.add(field, "required")
		}
		return time.Time{}
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		v.add(field, "must be a date YYYY-MM-DD")
		return time.Time{}
	}
	if t.Year() < 1900 || t.Year() > bourse.AnneeMax {
		v.add(field, "year %d is out of range", t.Year())
		return time.Time{}
	}
	return t
}

func (v *validator) pieces(ps []string, etat bourse.Etat) []string {
	if etat == bourse.EtatPiecesManquantes && len(ps) == 0 {
		v.add("piecesManquantes", "a dossier PIECES_MANQUANTES must list the missing documents")
	}
	if len(ps) > 0 && etat != bourse.EtatPiecesManquantes && etat != "" {
		v.add("piecesManquantes", "a dossier %s has no missing documents", etat)
	}
	if len(ps) > maxPieces {
		v.add("piecesManquantes", "more than %d documents", maxPieces)
		return nil
	}
	out := make([]string, 0, len(ps))
	for i, p := range ps {
		field := fmt.Sprintf("piecesManquantes[%d]", i)
		p = strings.TrimSpace(p)
		switch {
		case p == "":
			v.add(field, "empty")
		case len(p) > maxText:
			v.add(field, "longer than %d bytes", maxText)
		case slices.Contains(out, p):
			v.add(field, "listed twice")
		default:
			out = append(out, p)
		}
	}
	return out
}

func (v *validator) decision(x *Decision, etat bourse.Etat, annee int) *ValidDecision {
	if x == nil {
		return nil
	}
	d := &ValidDecision{
		Nature:                 bourse.Nature(x.Nature),
		SousReserveProgression: x.SousReserveProgression,
		ProgressionVerified:    x.ProgressionVerified,
	}
	switch {
	case x.Nature == "":
		v.add("decision.nature", "required")
	case !slices.Contains(bourse.Natures, d.Nature):
		v.add("decision.nature", "must be one of %s", list(bourse.Natures))
	}
	if etat == bourse.EtatNonTraite {
		v.add("decision", "a dossier NON_TRAITE cannot carry a decision")
	}
	d.Date = v.date("decision.date", x.Date, true)
	if !d.Date.IsZero() && annee != 0 && (d.Date.Year() < annee-1 || d.Date.Year() > annee+1) {
		v.add("decision.date", "a decision of %d for the year %d", d.Date.Year(), annee)
	}
	if d.Nature == bourse.NatureRejet {
		if x.Echelon != nil {
			v.add("decision.echelon", "a REJET has no échelon")
		}
		if x.MontantAnnuel != nil {
			v.add("decision.montantAnnuel", "a REJET has no amount")
		}
	} else if d.Nature != "" {
		switch {
		case x.Echelon == nil:
			v.add("decision.echelon", "required for an attribution")
		case !slices.Contains(bourse.Echelons, *x.Echelon):
			v.add("decision.echelon", "must be one of %s", strings.Join(bourse.Echelons, ", "))
		default:
			d.Echelon = x.Echelon
		}
		switch m := x.MontantAnnuel; {
		case m == nil:
			v.add("decision.montantAnnuel", "required for an attribution")
		case *m < 0 || *m > maxMontant:
			v.add("decision.montantAnnuel", "must be between 0 and %.2f", maxMontant)
		case math.Abs(*m*100-math.Round(*m*100)) > 1e-6:
			v.add("decision.montantAnnuel", "has more than 2 decimals")
		default:
			d.MontantAnnuel = m
		}
		if x.Bareme == nil {
			v.add("decision.bareme", "required for an attribution")
		}
	}
	// A rejection is computed against a barème too (that year's resources
	// ceiling, with the points de charge): Aglaé's rejections may carry it.
	if b := x.Bareme; b != nil {
		if *b < bourse.AnneeMin || (annee != 0 && *b > annee) {
			v.add("decision.bareme", "must be a year between %d and the dossier's year", bourse.AnneeMin)
		} else {
			d.Bareme = b
		}
	}
	if x.ProgressionVerified && !x.SousReserveProgression {
		v.add("decision.progressionVerifiee", "a progression can only be verified when the decision is sous réserve de progression")
	}
	if p := x.PointsCharge; p != nil {
		if *p < 0 || *p > maxPoints {
			v.add("decision.pointsCharge", "must be between 0 and %d", maxPoints)
		} else {
			d.PointsCharge = p
		}
	}
	if p := x.PointsDistance; p != nil {
		switch {
		case *p < 0 || *p > 2:
			v.add("decision.pointsDistance", "must be 0, 1 or 2")
		case x.PointsCharge == nil:
			v.add("decision.pointsDistance", "given without pointsCharge, which includes it")
		case *p > *x.PointsCharge:
			v.add("decision.pointsDistance", "greater than pointsCharge, which includes it")
		default:
			d.PointsDistance = p
		}
	}
	return d
}

func (v *validator) voeux(xs []Voeu) []Voeu {
	if len(xs) > maxVoeux {
		v.add("voeux", "more than %d vœux", maxVoeux)
		return nil
	}
	out := make([]Voeu, 0, len(xs))
	rangs := make([]int, 0, len(xs))
	for i, x := range xs {
		field := fmt.Sprintf("voeux[%d]", i)
		switch {
		case x.Rang < 1 || x.Rang > maxVoeux:
			v.add(field+".rang", "must be between 1 and %d", maxVoeux)
		case slices.Contains(rangs, x.Rang):
			v.add(field+".rang", "rank %d given twice", x.Rang)
		}
		rangs = append(rangs, x.Rang)
		if !reAcademie.MatchString(x.Academie) {
			v.add(field+".academie", "must be 3 upper-case letters")
		}
		uai, err := bourse.ParseUAI(field+".uai", x.UAI)
		v.check(err)
		x.UAI = string(uai)
		x.Etablissement = v.text(field+".etablissement", x.Etablissement)
		x.Formation = v.text(field+".formation", x.Formation)
		out = append(out, x)
	}
	return out
}

// text returns s trimmed, checked as boundedText does with maxText.
func (v *validator) text(field, s string) string {
	s, _ = v.boundedText(field, s, maxText)
	return s
}

// boundedText trims s and checks that it is present, at most max bytes
// long and free of control characters; ok says whether it is.
func (v *validator) boundedText(field, s string, max int) (_ string, ok bool) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		v.add(field, "required")
	case len(s) > max:
		v.add(field, "longer than %d bytes", max)
	case strings.IndexFunc(s, unicode.IsControl) >= 0:
		v.add(field, "contains a control character")
	default:
		return s, true
	}
	return s, false
}

// identRaison is the reason of an ident error without its leading field name
// (the fault already names the field).
func identRaison(err error) string {
	if e, ok := err.(*ident.Error); ok {
		return string(e.Rule) + ": " + e.Message
	}
	return err.Error()
}

func list[T ~string](xs []T) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = string(x)
	}
	return strings.Join(s, ", ")
}
