// Package ident validates and normalises the identifiers the connector takes:
// the five INE formats, DSE dossier numbers and UAI codes.
//
// Every parser first refuses any byte that is not ASCII (no Unicode folding),
// then normalises its input with [Normalize] and checks it. A refusal is an
// [*Error] that says which [Rule] failed. Its message never repeats the value,
// which is personal data that may end up in logs: it only gives positions,
// counts and rules. Positions count the characters of the normalised value
// (spaces and tabs removed), starting at 1.
package ident

import (
	"strconv"
	"unicode/utf8"
)

// Format is one of the five INE formats (SPEC §4). The zero value is no
// format.
type Format int

// The academic years a dossier number may carry, and the connector serves
// (bourse.AnneeMin and AnneeMax).
const (
	AnneeMin = 2000
	AnneeMax = 2099
)

// The INE formats. They are disjoint: a valid INE has exactly one.
const (
	FormatBEA         Format = iota + 1 // 10 digits + a key letter (rectorat)
	FormatBase36                        // 10 characters [0-9A-Z] + a key digit (university, Apogée)
	FormatRNIE                          // 9 digits + 2 letters from A–H, J, K
	FormatSIFA                          // 4 digits + A + 5 digits + a letter (apprentices)
	FormatProvisional                   // 4 digits + D + 5 digits + a letter (provisional INE)
)

// String returns the format's name as the SPEC writes it.
func (f Format) String() string {
	switch f {
	case FormatBEA:
		return "INE-BEA"
	case FormatBase36:
		return "INE-Base 36"
	case FormatRNIE:
		return "INE-RNIE"
	case FormatSIFA:
		return "INE-SIFA"
	case FormatProvisional:
		return "provisional INE"
	default:
		return "Format(" + strconv.Itoa(int(f)) + ")"
	}
}

// Rule names the rule an identifier broke. Its value is stable and may be
// shown to callers as a machine-readable code.
type Rule string

// The rules, in the order they are checked.
const (
	RuleASCII           Rule = "ascii"            // a byte is not ASCII
	RuleEmpty           Rule = "empty"            // nothing left after normalisation
	RuleLength          Rule = "length"           // wrong number of characters
	RuleCharacters      Rule = "characters"       // a character is not a digit or an upper-case letter
	RuleYear            Rule = "year"             // a dossier number's year is not 4 digits from 2000 to 2099
	RuleAcademie        Rule = "academie"         // a dossier number's académie is not 3 letters
	RuleFormat          Rule = "format"           // the characters fit no format (or a letter is not allowed where it stands)
	RuleIdenticalDigits Rule = "identical-digits" // an INE-BEA or INE-Base 36 made of ten identical digits
	RuleKey             Rule = "key"              // the key does not match
)

// Error is a refused identifier. What names the input: "identifiant",
// "numeroDossier" or "UAI". Message says what is wrong without repeating
// the value.
type Error struct {
	What    string
	Rule    Rule
	Message string
}

// Error returns "what: rule: message".
func (e *Error) Error() string {
	return e.What + ": " + string(e.Rule) + ": " + e.Message
}

// The names of the inputs, as Error.What.
const (
	whatIdentifiant = "identifiant"
	whatDossier     = "numeroDossier"
	whatUAI         = "UAI"
)

// Lengths of the identifiers.
const (
	lenINE     = 11
	lenDossier = 18
	lenUAI     = 8
)

// keyLetters are the key letters of INE-BEA and UAI codes, indexed by the
// number mod 23 (I, O and Q are left out).
const keyLetters = "ABCDEFGHJKLMNPRSTUVWXYZ"

// Normalize removes ASCII spaces and tabs anywhere in s (leading, inner and
// trailing) and upper-cases ASCII letters. It leaves any other byte as it is.
// It does not allocate when s is already normalised.
func Normalize(s string) string {
	i := 0
	for ; i < len(s); i++ {
		if c := s[i]; c == ' ' || c == '\t' || ('a' <= c && c <= 'z') {
			break
		}
	}
	if i == len(s) {
		return s
	}
	b := make([]byte, i, len(s))
	copy(b, s[:i])
	for ; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t':
		case 'a' <= c && c <= 'z':
			b = append(b, c-('a'-'A'))
		default:
			b = append(b, c)
		}
	}
	return string(b)
}

// INE is a valid INE: Value is normalised (11 characters [0-9A-Z]) and
// Format is its format.
type INE struct {
	Value  string
	Format Format
}

// ParseINE normalises s and checks it is an INE in one of the five formats.
// An error is an *Error with What "identifiant". It does not allocate when s
// is an already-normalised valid INE.
func ParseINE(s string) (INE, error) {
	v, err := prepare(s, whatIdentifiant)
	if err != nil {
		return INE{}, err
	}
	if len(v) != lenINE {
		return INE{}, fail(whatIdentifiant, RuleLength, "must have 11 characters, got "+strconv.Itoa(len(v)))
	}
	if err := characters(v, 0, whatIdentifiant); err != nil {
		return INE{}, err
	}
	f, err := checkINE(v, 0, whatIdentifiant)
	if err != nil {
		return INE{}, err
	}
	return INE{Value: v, Format: f}, nil
}

// NumeroDossier is a valid DSE dossier number, e.g. "2014MON1111037734L":
// a year, a 3-letter académie code and an INE. Value is normalised.
type NumeroDossier struct {
	Value    string
	Annee    int
	Academie string
	INE      INE
}

// ParseNumeroDossier normalises s and checks it is a dossier number: a year
// YYYY from 2000 to 2099, 3 letters A–Z for the académie, then an INE valid
// for [ParseINE]. An error is an *Error with What "numeroDossier".
func ParseNumeroDossier(s string) (NumeroDossier, error) {
	v, err := prepare(s, whatDossier)
	if err != nil {
		return NumeroDossier{}, err
	}
	if len(v) != lenDossier {
		return NumeroDossier{}, fail(whatDossier, RuleLength, "must have 18 characters, got "+strconv.Itoa(len(v)))
	}
	return checkDossier(v, whatDossier)
}

// Identifiant is what a caller typed to designate a student: an INE, or a
// dossier number that designates its INE. Dossier is nil for an INE; for a
// dossier number, INE is Dossier.INE and Dossier.Annee is the year to use
// when the caller gives none.
type Identifiant struct {
	INE     INE
	Dossier *NumeroDossier
}

// ParseIdentifiant normalises s and checks it is an INE (11 characters) or a
// dossier number (18 characters), as [ParseINE] and [ParseNumeroDossier] do.
// An error is an *Error with What "identifiant", the input the caller filled
// in, whichever of the two was meant.
func ParseIdentifiant(s string) (Identifiant, error) {
	v, err := prepare(s, whatIdentifiant)
	if err != nil {
		return Identifiant{}, err
	}
	switch len(v) {
	case lenINE:
		if err := characters(v, 0, whatIdentifiant); err != nil {
			return Identifiant{}, err
		}
		f, err := checkINE(v, 0, whatIdentifiant)
		if err != nil {
			return Identifiant{}, err
		}
		return Identifiant{INE: INE{Value: v, Format: f}}, nil
	case lenDossier:
		d, err := checkDossier(v, whatIdentifiant)
		if err != nil {
			return Identifiant{}, err
		}
		return Identifiant{INE: d.INE, Dossier: &d}, nil
	default:
		return Identifiant{}, fail(whatIdentifiant, RuleLength,
			"must have 11 characters for an INE or 18 for a dossier number, got "+strconv.Itoa(len(v)))
	}
}

// ParseUAI normalises s and checks it is a UAI code: 7 digits and the key
// letter [UAIKey] gives for them, e.g. "0781944P". It returns the normalised
// code. An error is an *Error with What "UAI".
func ParseUAI(s string) (string, error) {
	v, err := prepare(s, whatUAI)
	if err != nil {
		return "", err
	}
	if len(v) != lenUAI {
		return "", fail(whatUAI, RuleLength, "must have 8 characters, got "+strconv.Itoa(len(v)))
	}
	if err := characters(v, 0, whatUAI); err != nil {
		return "", err
	}
	for i := range 7 {
		if !isDigit(v[i]) {
			return "", fail(whatUAI, RuleFormat,
				"character "+strconv.Itoa(i+1)+" is not a digit (a UAI code is 7 digits and a key letter)")
		}
	}
	if !isLetter(v[7]) {
		return "", fail(whatUAI, RuleFormat, "character 8 is not a letter (a UAI code is 7 digits and a key letter)")
	}
	if UAIKey(v[:7]) != v[7] {
		return "", fail(whatUAI, RuleKey, "the key letter does not match the 7 digits")
	}
	return v, nil
}

// BEAKey returns the key letter of an INE-BEA whose first 10 characters are
// digits10: keyLetters[the number mod 23]. It returns 0 if digits10 is not
// 10 digits.
func BEAKey(digits10 string) byte {
	return mod23Key(digits10, 10)
}

// UAIKey returns the key letter of a UAI code whose first 7 characters are
// digits7: keyLetters[the number mod 23]. It returns 0 if digits7 is not 7
// digits.
func UAIKey(digits7 string) byte {
	return mod23Key(digits7, 7)
}

func mod23Key(digits string, n int) byte {
	if len(digits) != n {
		return 0
	}
	var r uint64 // at most 10 digits: no overflow
	for i := range n {
		c := digits[i]
		if !isDigit(c) {
			return 0
		}
		r = r*10 + uint64(c-'0')
	}
	return keyLetters[r%23]
}

// Base36Key returns the key digit of an INE-Base 36 whose first 10
// characters are chars10: '0' + the last decimal digit of (6 × the sum of
// the base-36 values of characters 1–9 + the base-36 value of character
// 10), where 0–9 are worth 0–9 and A–Z 10–35. It returns 0 if chars10 is not
// 10 characters [0-9A-Z].
func Base36Key(chars10 string) byte {
	if len(chars10) != 10 {
		return 0
	}
	sum := 0
	for i := range 10 {
		c := chars10[i]
		var d int
		switch {
		case isDigit(c):
			d = int(c - '0')
		case isLetter(c):
			d = int(c-'A') + 10
		default:
			return 0
		}
		if i < 9 {
			sum += 6 * d
		} else {
			sum += d
		}
	}
	return byte('0' + sum%10)
}

// prepare refuses non-ASCII bytes, normalises s and refuses an empty
// result.
func prepare(s, what string) (string, *Error) {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			// Position in the normalised value, like the other messages.
			pos := utf8.RuneCountInString(Normalize(s[:i])) + 1
			return "", fail(what, RuleASCII, "character "+strconv.Itoa(pos)+
				" is not ASCII (only digits and letters without accents are accepted)")
		}
	}
	v := Normalize(s)
	if v == "" {
		return "", fail(what, RuleEmpty, "must not be empty")
	}
	return v, nil
}

// characters refuses any character of v that is not [0-9A-Z]; off is added
// to the positions in the message.
func characters(v string, off int, what string) *Error {
	for i := 0; i < len(v); i++ {
		if c := v[i]; !isDigit(c) && !isLetter(c) {
			return fail(what, RuleCharacters, "character "+strconv.Itoa(off+i+1)+
				" is not a digit or an upper-case letter")
		}
	}
	return nil
}

// checkINE returns the format of v, 11 characters [0-9A-Z], or the rule it
// breaks. off is the position of v in the whole value (7 in a dossier
// number), added to the positions in messages. The shapes of the five
// formats are disjoint, so the shape tells which format was meant and which
// rule to report.
func checkINE(v string, off int, what string) (Format, *Error) {
	p := func(i int) string { return strconv.Itoa(off + i) } // 1-based position i of the INE
	switch {
	case isDigit(v[10]):
		// INE-Base 36: 10 characters, not all letters, + a key digit.
		letters, same := 0, true
		for i := range 10 {
			if isLetter(v[i]) {
				letters++
			}
			if v[i] != v[0] {
				same = false
			}
		}
		if letters == 10 {
			return 0, fail(what, RuleFormat, "characters "+p(1)+"–"+p(10)+
				" must not all be letters (INE-Base 36)")
		}
		if same { // not all letters, so ten identical digits
			return 0, fail(what, RuleIdenticalDigits, "characters "+p(1)+"–"+p(10)+
				" must not be ten identical digits (INE-Base 36)")
		}
		if Base36Key(v[:10]) != v[10] {
			return 0, fail(what, RuleKey, "the key digit does not match characters "+p(1)+"–"+p(10)+
				" (INE-Base 36)")
		}
		return FormatBase36, nil
	case allDigits(v[:10]):
		// INE-BEA: 10 digits + a key letter.
		if allSame(v[:10]) {
			return 0, fail(what, RuleIdenticalDigits, "characters "+p(1)+"–"+p(10)+
				" must not be ten identical digits (INE-BEA)")
		}
		if BEAKey(v[:10]) != v[10] {
			return 0, fail(what, RuleKey, "the key letter does not match the 10 digits (INE-BEA)")
		}
		return FormatBEA, nil
	case allDigits(v[:9]) && isLetter(v[9]):
		// INE-RNIE: 9 digits + 2 letters from A–H, J, K (v[10] is a letter:
		// it is not a digit and characters are [0-9A-Z]).
		for i := 9; i < 11; i++ {
			if !isRNIELetter(v[i]) {
				return 0, fail(what, RuleFormat, "character "+p(i+1)+
					" must be one of the letters A–H, J, K (INE-RNIE)")
			}
		}
		return FormatRNIE, nil
	case allDigits(v[:4]) && isLetter(v[4]) && allDigits(v[5:10]):
		// INE-SIFA or provisional INE: 4 digits + A or D + 5 digits + a
		// letter other than I, O, Q.
		var f Format
		switch v[4] {
		case 'A':
			f = FormatSIFA
		case 'D':
			f = FormatProvisional
		default:
			return 0, fail(what, RuleFormat, "character "+p(5)+
				" must be A (INE-SIFA) or D (provisional INE)")
		}
		if c := v[10]; c == 'I' || c == 'O' || c == 'Q' {
			return 0, fail(what, RuleFormat, "character "+p(11)+
				" must be a letter other than I, O, Q ("+f.String()+")")
		}
		return f, nil
	default:
		msg := "does not match any INE format"
		if off > 0 {
			msg = "characters " + p(1) + "–" + p(11) + " do not match any INE format"
		}
		return 0, fail(what, RuleFormat, msg+
			" (INE-BEA, INE-Base 36, INE-RNIE, INE-SIFA, provisional INE)")
	}
}

// checkDossier checks v, 18 characters, is a dossier number.
func checkDossier(v, what string) (NumeroDossier, error) {
	if err := characters(v, 0, what); err != nil {
		return NumeroDossier{}, err
	}
	annee := 0
	for i := range 4 {
		if !isDigit(v[i]) {
			return NumeroDossier{}, fail(what, RuleYear, "character "+strconv.Itoa(i+1)+
				" is not a digit (a dossier number starts with a 4-digit year)")
		}
		annee = annee*10 + int(v[i]-'0')
	}
	if annee < AnneeMin || annee > AnneeMax {
		return NumeroDossier{}, fail(what, RuleYear, "the year (characters 1–4 of a dossier number) must be from "+
			strconv.Itoa(AnneeMin)+" to "+strconv.Itoa(AnneeMax))
	}
	for i := 4; i < 7; i++ {
		if !isLetter(v[i]) {
			return NumeroDossier{}, fail(what, RuleAcademie, "character "+strconv.Itoa(i+1)+
				" is not a letter (characters 5–7 of a dossier number are the académie code)")
		}
	}
	f, err := checkINE(v[7:], 7, what)
	if err != nil {
		return NumeroDossier{}, err
	}
	return NumeroDossier{
		Value:    v,
		Annee:    annee,
		Academie: v[4:7],
		INE:      INE{Value: v[7:], Format: f},
	}, nil
}

func fail(what string, rule Rule, msg string) *Error {
	return &Error{What: what, Rule: rule, Message: msg}
}

func isDigit(c byte) bool  { return '0' <= c && c <= '9' }
func isLetter(c byte) bool { return 'A' <= c && c <= 'Z' }

func isRNIELetter(c byte) bool { return ('A' <= c && c <= 'H') || c == 'J' || c == 'K' }

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

func allSame(s string) bool {
	for i := 1; i < len(s); i++ {
		if s[i] != s[0] {
			return false
		}
	}
	return true
}
