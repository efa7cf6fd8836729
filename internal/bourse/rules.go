package bourse

import (
	"strings"

	"github.com/aglae-connector/aglae-connector/internal/ident"
)

// The academic years the connector serves: those a dossier number may
// carry.
const (
	AnneeMin = ident.AnneeMin
	AnneeMax = ident.AnneeMax
)

// ValidateAnnee checks that y is an academic year the connector serves,
// AnneeMin to AnneeMax. The error is of kind Invalid, about field.
func ValidateAnnee(field string, y int) error {
	if y < AnneeMin || y > AnneeMax {
		return Invalid(field, "must be a year between %d and %d", AnneeMin, AnneeMax)
	}
	return nil
}

// UAI is the code of an establishment that ParseUAI accepted, normalised.
type UAI string

// ParseUAI normalises s and checks it is a UAI code (ident.ParseUAI). The
// error is of kind Invalid, about field, and says which rule failed.
func ParseUAI(field, s string) (UAI, error) {
	u, err := ident.ParseUAI(s)
	if err != nil {
		return "", identError(field, err)
	}
	return UAI(u), nil
}

// ParseOptionalUAI is ParseUAI for an optional code: a blank s is no UAI.
func ParseOptionalUAI(field, s string) (UAI, error) {
	if strings.TrimSpace(s) == "" {
		return "", nil
	}
	return ParseUAI(field, s)
}
