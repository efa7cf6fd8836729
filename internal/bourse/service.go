package bourse

import (
	"context"
	"fmt"
	"strings"
	"time"
	_ "time/tzdata" // Europe/Paris in a static binary on a minimal image
	"unicode"
	"unicode/utf8"

	"github.com/aglae-connector/aglae-connector/internal/ident"
)

// Saisie is a lookup as a caller typed it, before validation.
type Saisie struct {
	Identifiant       string
	CodeEtablissement string // UAI of the establishment that asks, optional
	Annee             int    // 0: the current academic year
	Nom               string
	Prenom            string
	DateNaissance     string // YYYY-MM-DD
}

// maxNom bounds the length of a nom or prénom.
const maxNom = 100

// SwitchDate is the day the current academic year switches to the next one.
type SwitchDate struct {
	Month time.Month
	Day   int
}

// DefaultSwitchDate is 1 July.
var DefaultSwitchDate = SwitchDate{Month: time.July, Day: 1}

// ParseSwitchDate reads a switch day written MM-DD.
func ParseSwitchDate(s string) (SwitchDate, error) {
	t, err := time.Parse("01-02", s)
	if err != nil {
		return SwitchDate{}, fmt.Errorf("academic year switch %q: want MM-DD, e.g. 07-01", s)
	}
	return SwitchDate{Month: t.Month(), Day: t.Day()}, nil
}

// Paris is the time zone of academic years, and of the dates the
// connector reads and writes for people (exports, reports).
var Paris = mustLoad("Europe/Paris")

func mustLoad(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// CurrentAnnee is the academic year in progress at now, Paris time: the
// calendar year from the switch day on, the year before until then.
func (b SwitchDate) CurrentAnnee(now time.Time) int {
	if b.Month == 0 {
		b = DefaultSwitchDate
	}
	now = now.In(Paris)
	y := now.Year()
	if now.Before(time.Date(y, b.Month, b.Day, 0, 0, 0, 0, Paris)) {
		return y - 1
	}
	return y
}

// Valider turns what a caller typed into a Query, or returns a KindInvalid
// error that says which field is wrong and why. It never looks at the
// database. annee is the default academic year.
func (s Saisie) Validate(annee int) (Query, error) {
	var d Query
	if s.Annee != 0 {
		if err := ValidateAnnee("anneeUniversitaire", s.Annee); err != nil {
			return d, err
		}
		annee = s.Annee
	}
	d.Annee = annee

	uai, err := ParseOptionalUAI("codeEtablissement", s.CodeEtablissement)
	if err != nil {
		return d, err
	}
	d.CodeEtablissement = string(uai)

	if strings.TrimSpace(s.Identifiant) != "" {
		id, err := ident.ParseIdentifiant(s.Identifiant)
		if err != nil {
			return d, identError("identifiant", err)
		}
		d.Identifiant = id.INE.Value
		if id.Dossier != nil {
			if s.Annee != 0 && s.Annee != id.Dossier.Annee {
				return d, Invalid("anneeUniversitaire", "%d contradicts the year %d of the dossier number", s.Annee, id.Dossier.Annee)
			}
			d.Annee = id.Dossier.Annee
		}
	}

	given := 0
	for _, f := range []string{s.Nom, s.Prenom, s.DateNaissance} {
		if strings.TrimSpace(f) != "" {
			given++
		}
	}
	switch {
	case given == 0 && d.Identifiant == "":
		return d, Invalid("identifiant", "required, unless the identity (nom, prenom, dateNaissance) is given")
	case given == 0:
		return d, nil
	case given < 3:
		var missing []string
		for _, f := range []struct{ name, v string }{{"nom", s.Nom}, {"prenom", s.Prenom}, {"dateNaissance", s.DateNaissance}} {
			if strings.TrimSpace(f.v) == "" {
				missing = append(missing, f.name)
			}
		}
		return d, Invalid(missing[0], "the identity needs nom, prenom and dateNaissance together: %s missing", strings.Join(missing, " and "))
	}
	id := Identity{}
	if id.Nom, err = validateNom("nom", s.Nom); err != nil {
		return d, err
	}
	if id.Prenom, err = validateNom("prenom", s.Prenom); err != nil {
		return d, err
	}
	t, perr := time.Parse(time.DateOnly, strings.TrimSpace(s.DateNaissance))
	if perr != nil {
		return d, Invalid("dateNaissance", "must be a date YYYY-MM-DD")
	}
	if t.Year() < 1900 || t.Year() > AnneeMax {
		return d, Invalid("dateNaissance", "year out of range")
	}
	id.DateNaissance = t
	d.Identity = &id
	return d, nil
}

// identError turns an ident error into an Invalid error of field, saying
// which rule failed.
func identError(field string, err error) *Error {
	e := &Error{Kind: KindInvalid, Field: field, Message: err.Error()}
	if ie, ok := err.(*ident.Error); ok {
		e.Message = string(ie.Rule) + ": " + ie.Message
	}
	return e
}

func validateNom(field, s string) (string, error) {
	s = strings.TrimSpace(s)
	switch {
	case !utf8.ValidString(s):
		return "", Invalid(field, "must be valid UTF-8")
	case len(s) > maxNom:
		return "", Invalid(field, "longer than %d bytes", maxNom)
	case strings.IndexFunc(s, unicode.IsControl) >= 0:
		return "", Invalid(field, "contains a control character")
	case NormalizeNom(s) == "":
		return "", Invalid(field, "must contain a letter")
	}
	return s, nil
}

var _ Consultant = (*Service)(nil)

// Service answers lookups: it validates them, reads the dossiers and lets
// the engine decide.
type Service struct {
	Store      Store
	SwitchDate SwitchDate
	Now        func() time.Time // time.Now when nil
	// Timeout bounds each lookup's wait on the database; past it the lookup
	// fails as Unavailable. Zero: only the caller's context bounds it.
	Timeout time.Duration
}

// CurrentAnnee is the default academic year of a lookup made now.
func (s *Service) CurrentAnnee() int {
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	return s.SwitchDate.CurrentAnnee(now())
}

// Consult answers one lookup. Errors are of kind Invalid (the saisie is
// wrong: nothing was read), Unavailable or Internal.
func (s *Service) Consult(ctx context.Context, in Saisie) (Reponse, error) {
	d, err := in.Validate(s.CurrentAnnee())
	if err != nil {
		return Reponse{}, err
	}
	return s.Decide(ctx, d)
}

// Decider answers a demande already validated.
func (s *Service) Decide(ctx context.Context, d Query) (Reponse, error) {
	if s.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.Timeout)
		defer cancel()
	}
	byIdentifiant, byIdentity, err := s.Store.Dossiers(ctx, d)
	if err != nil {
		return Reponse{}, err
	}
	return Decide(d, byIdentifiant, byIdentity), nil
}
