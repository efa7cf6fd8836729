package bourse

import (
	"strings"
	"time"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// NormalizeNom folds a name for comparison: accents removed, upper case,
// and spaces, hyphens, apostrophes and any other character that is not a
// letter or a digit dropped, so that "Le Boulch", "LE-BOULCH" and "lé
// boulch" all become "LEBOULCH". Ligatures are spelt out (Œ → OE).
func NormalizeNom(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range norm.NFD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r), unicode.Is(unicode.Lm, r):
			// a combining accent, or a modifier letter such as the
			// apostrophe U+02BC: dropped
		case r == 'œ' || r == 'Œ':
			b.WriteString("OE")
		case r == 'æ' || r == 'Æ':
			b.WriteString("AE")
		case r == 'ß':
			b.WriteString("SS")
		case r == 'ø' || r == 'Ø':
			b.WriteByte('O')
		case r == 'ł' || r == 'Ł':
			b.WriteByte('L')
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(unicode.ToUpper(r))
		}
	}
	return b.String()
}

// Correspond reports whether two identities designate the same person:
// names equal once normalised, birth dates equal.
func (i Identity) Correspond(o Identity) bool {
	return i.key() == o.key()
}

// key is an identity in the form it is compared in.
type key struct {
	nom, prenom string
	y           int
	m           time.Month
	d           int
}

func (i Identity) key() key {
	y, m, d := i.DateNaissance.Date()
	return key{NormalizeNom(i.Nom), NormalizeNom(i.Prenom), y, m, d}
}
