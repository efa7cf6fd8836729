package ident_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/aglae-connector/aglae-connector/internal/ident"
)

// ruleOf returns the Rule of err, "" for nil, and "not an *ident.Error" for
// any other error.
func ruleOf(err error) ident.Rule {
	if err == nil {
		return ""
	}
	var e *ident.Error
	if !errors.As(err, &e) {
		return "not an *ident.Error"
	}
	return e.Rule
}

func TestFormatString(t *testing.T) {
	tests := []struct {
		f    ident.Format
		want string
	}{
		{ident.FormatBEA, "INE-BEA"},
		{ident.FormatBase36, "INE-Base 36"},
		{ident.FormatRNIE, "INE-RNIE"},
		{ident.FormatSIFA, "INE-SIFA"},
		{ident.FormatProvisional, "provisional INE"},
		{ident.Format(0), "Format(0)"},
	}
	for _, tt := range tests {
		if got := tt.f.String(); got != tt.want {
			t.Errorf("Format(%d).String(): got %q, want %q", int(tt.f), got, tt.want)
		}
	}
}

func TestNormalize(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", ""},
		{"already normalised", "1111037734L", "1111037734L"},
		{"lower case", "1111037734l", "1111037734L"},
		{"leading and trailing spaces", "  1111037734L ", "1111037734L"},
		{"inner spaces", "1111 037 734 L", "1111037734L"},
		{"tabs", "\t1111\t037734L\t", "1111037734L"},
		{"mixed case letters", "0ddG5r00015", "0DDG5R00015"},
		{"only blanks", " \t  ", ""},
		{"other ASCII kept", "a-b.c\n", "A-B.C\n"},
		{"non-ASCII bytes kept", "é\u00a0ł", "é\u00a0ł"},
		{"non-ASCII among spaces", " é ", "é"},
	}
	for _, tt := range tests {
		if got := ident.Normalize(tt.in); got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestKeys(t *testing.T) {
	tests := []struct {
		name string
		fn   func(string) byte
		in   string
		want byte
	}{
		{"BEA SPEC example", ident.BEAKey, "1111037734", 'L'},
		{"BEA 0 mod 23", ident.BEAKey, "0000000023", 'A'},
		{"BEA 22 mod 23", ident.BEAKey, "0000000022", 'Z'},
		{"BEA leading zero", ident.BEAKey, "0123456789", 'M'},
		{"BEA too short", ident.BEAKey, "111103773", 0},
		{"BEA not digits", ident.BEAKey, "111103773A", 0},
		{"Base 36 SPEC example", ident.Base36Key, "0DDG5R0001", '5'},
		{"Base 36 digits only", ident.Base36Key, "1234567890", '0'},
		{"Base 36 letters", ident.Base36Key, "ABCDEFGHI1", '7'},
		{"Base 36 lower case refused", ident.Base36Key, "0ddg5r0001", 0},
		{"Base 36 too long", ident.Base36Key, "0DDG5R00015", 0},
		{"UAI glossary example", ident.UAIKey, "0781944", 'P'},
		{"UAI extract example", ident.UAIKey, "0341088", 'Y'},
		{"UAI 0 mod 23", ident.UAIKey, "0000000", 'A'},
		{"UAI too short", ident.UAIKey, "078194", 0},
		{"UAI not digits", ident.UAIKey, "078194A", 0},
	}
	for _, tt := range tests {
		if got := tt.fn(tt.in); got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestParseINE(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		want   string // normalised value when valid
		format ident.Format
		rule   ident.Rule // "" when valid
	}{
		// INE-BEA
		{name: "BEA SPEC example", in: "1111037734L", want: "1111037734L", format: ident.FormatBEA},
		{name: "BEA leading zero", in: "0123456789M", want: "0123456789M", format: ident.FormatBEA},
		{name: "BEA key Z", in: "0000000022Z", want: "0000000022Z", format: ident.FormatBEA},
		{name: "BEA wrong key", in: "1111037734M", rule: ident.RuleKey},
		{name: "BEA key I never used", in: "1111037734I", rule: ident.RuleKey},
		{name: "BEA ten identical digits", in: "1111111111Z", rule: ident.RuleIdenticalDigits},
		{name: "BEA ten zeros with matching key", in: "0000000000A", rule: ident.RuleIdenticalDigits},

		// INE-Base 36
		{name: "Base 36 SPEC example", in: "0DDG5R00015", want: "0DDG5R00015", format: ident.FormatBase36},
		{name: "Base 36 digits only", in: "12345678900", want: "12345678900", format: ident.FormatBase36},
		{name: "Base 36 one digit", in: "ABCDEFGHI17", want: "ABCDEFGHI17", format: ident.FormatBase36},
		{name: "Base 36 wrong key", in: "0DDG5R00016", rule: ident.RuleKey},
		{name: "Base 36 all letters", in: "ABCDEFGHIJ5", rule: ident.RuleFormat},
		{name: "Base 36 ten identical digits", in: "00000000000", rule: ident.RuleIdenticalDigits},
		{name: "Base 36 ten nines", in: "99999999994", rule: ident.RuleIdenticalDigits},

		// INE-RNIE
		{name: "RNIE", in: "123456789AB", want: "123456789AB", format: ident.FormatRNIE},
		{name: "RNIE J K", in: "000000001JK", want: "000000001JK", format: ident.FormatRNIE},
		{name: "RNIE H A", in: "987654321HA", want: "987654321HA", format: ident.FormatRNIE},
		{name: "RNIE first letter I", in: "123456789IA", rule: ident.RuleFormat},
		{name: "RNIE second letter L", in: "123456789AL", rule: ident.RuleFormat},
		{name: "RNIE second letter Z", in: "123456789KZ", rule: ident.RuleFormat},

		// INE-SIFA
		{name: "SIFA", in: "1234A12345B", want: "1234A12345B", format: ident.FormatSIFA},
		{name: "SIFA key Z", in: "0000A00000Z", want: "0000A00000Z", format: ident.FormatSIFA},
		{name: "SIFA last letter I", in: "1234A12345I", rule: ident.RuleFormat},
		{name: "SIFA last letter O", in: "1234A12345O", rule: ident.RuleFormat},
		{name: "SIFA last letter Q", in: "1234A12345Q", rule: ident.RuleFormat},

		// provisional INE
		{name: "provisional", in: "1234D12345B", want: "1234D12345B", format: ident.FormatProvisional},
		{name: "provisional lower case", in: "1234d12345x", want: "1234D12345X", format: ident.FormatProvisional},
		{name: "provisional last letter O", in: "1234D12345O", rule: ident.RuleFormat},
		{name: "5th letter neither A nor D", in: "1234B12345B", rule: ident.RuleFormat},

		// shapes of no format
		{name: "letter among digits", in: "12A4567890B", rule: ident.RuleFormat},
		{name: "all letters", in: "ABCDEFGHIJK", rule: ident.RuleFormat},
		{name: "8 digits and 3 letters", in: "12345678ABC", rule: ident.RuleFormat},

		// normalisation
		{name: "spaces", in: " 1111 0377 34L ", want: "1111037734L", format: ident.FormatBEA},
		{name: "tabs", in: "\t1111037734\tL\t", want: "1111037734L", format: ident.FormatBEA},
		{name: "lower case", in: "0ddg5r00015", want: "0DDG5R00015", format: ident.FormatBase36},
		{name: "lower case BEA key", in: "1111037734l", want: "1111037734L", format: ident.FormatBEA},

		// general rules
		{name: "empty", in: "", rule: ident.RuleEmpty},
		{name: "blanks only", in: " \t ", rule: ident.RuleEmpty},
		{name: "too short", in: "1111037734", rule: ident.RuleLength},
		{name: "too long", in: "1111037734LL", rule: ident.RuleLength},
		{name: "dossier number is not an INE", in: "2014MON1111037734L", rule: ident.RuleLength},
		{name: "hyphen", in: "1111-37734L", rule: ident.RuleCharacters},
		{name: "newline", in: "1111037734L\n", rule: ident.RuleLength},
		{name: "inner newline", in: "111103773\nL", rule: ident.RuleCharacters},
		{name: "non-ASCII letter", in: "1111037734Ł", rule: ident.RuleASCII},
		{name: "accented letter", in: "1111037734é", rule: ident.RuleASCII},
		{name: "no-break space", in: "1111037734\u00a0L", rule: ident.RuleASCII},
		{name: "fullwidth digit", in: "１111037734L", rule: ident.RuleASCII},
		{name: "invalid UTF-8", in: "1111037734\xff", rule: ident.RuleASCII},
		{name: "non-ASCII before length", in: "é", rule: ident.RuleASCII},
	}
	for _, tt := range tests {
		got, err := ident.ParseINE(tt.in)
		if rule := ruleOf(err); rule != tt.rule {
			t.Errorf("%s: got rule %q (%v), want %q", tt.name, rule, err, tt.rule)
			continue
		}
		if tt.rule != "" {
			if got != (ident.INE{}) {
				t.Errorf("%s: got %+v with an error, want the zero INE", tt.name, got)
			}
			checkMessage(t, tt.name, "identifiant", tt.in, err)
			continue
		}
		if want := (ident.INE{Value: tt.want, Format: tt.format}); got != want {
			t.Errorf("%s: got %+v, want %+v", tt.name, got, want)
		}
	}
}

// checkMessage checks err names what and does not repeat the value.
func checkMessage(t *testing.T, name, what, in string, err error) {
	t.Helper()
	var e *ident.Error
	if !errors.As(err, &e) {
		t.Errorf("%s: got %T, want *ident.Error", name, err)
		return
	}
	if e.What != what {
		t.Errorf("%s: got What %q, want %q", name, e.What, what)
	}
	if e.Message == "" {
		t.Errorf("%s: got an empty message, want one", name)
	}
	if want := what + ": " + string(e.Rule) + ": " + e.Message; err.Error() != want {
		t.Errorf("%s: got Error() %q, want %q", name, err.Error(), want)
	}
	if v := ident.Normalize(in); len(v) > 3 && strings.Contains(err.Error(), v) {
		t.Errorf("%s: got message %q, want one that does not contain the value", name, err.Error())
	}
}

func TestErrorMessages(t *testing.T) {
	tests := []struct {
		name string
		err  func() error
		want string
	}{
		{"INE length", func() error { _, err := ident.ParseINE("1111037734"); return err },
			"identifiant: length: must have 11 characters, got 10"},
		{"INE characters", func() error { _, err := ident.ParseINE("111.037734L"); return err },
			"identifiant: characters: character 4 is not a digit or an upper-case letter"},
		{"INE position after normalisation", func() error { _, err := ident.ParseINE(" 1 11.037734L"); return err },
			"identifiant: characters: character 4 is not a digit or an upper-case letter"},
		{"BEA key", func() error { _, err := ident.ParseINE("1111037734M"); return err },
			"identifiant: key: the key letter does not match the 10 digits (INE-BEA)"},
		{"Base 36 key", func() error { _, err := ident.ParseINE("0DDG5R00016"); return err },
			"identifiant: key: the key digit does not match characters 1–10 (INE-Base 36)"},
		{"Base 36 identical digits", func() error { _, err := ident.ParseINE("00000000000"); return err },
			"identifiant: identical-digits: characters 1–10 must not be ten identical digits (INE-Base 36)"},
		{"RNIE letter", func() error { _, err := ident.ParseINE("123456789AL"); return err },
			"identifiant: format: character 11 must be one of the letters A–H, J, K (INE-RNIE)"},
		{"5th letter", func() error { _, err := ident.ParseINE("1234B12345B"); return err },
			"identifiant: format: character 5 must be A (INE-SIFA) or D (provisional INE)"},
		{"SIFA last letter", func() error { _, err := ident.ParseINE("1234A12345O"); return err },
			"identifiant: format: character 11 must be a letter other than I, O, Q (INE-SIFA)"},
		{"no format", func() error { _, err := ident.ParseINE("12A4567890B"); return err },
			"identifiant: format: does not match any INE format (INE-BEA, INE-Base 36, INE-RNIE, INE-SIFA, provisional INE)"},
		{"ASCII", func() error { _, err := ident.ParseINE("1111037734Ł"); return err },
			"identifiant: ascii: character 11 is not ASCII (only digits and letters without accents are accepted)"},
		{"ASCII position after normalisation", func() error { _, err := ident.ParseINE(" 11 é"); return err },
			"identifiant: ascii: character 3 is not ASCII (only digits and letters without accents are accepted)"},
		{"empty", func() error { _, err := ident.ParseINE("  "); return err },
			"identifiant: empty: must not be empty"},
		{"identifiant length", func() error { _, err := ident.ParseIdentifiant("12345"); return err },
			"identifiant: length: must have 11 characters for an INE or 18 for a dossier number, got 5"},
		{"dossier length", func() error { _, err := ident.ParseNumeroDossier("2014MON1111037734"); return err },
			"numeroDossier: length: must have 18 characters, got 17"},
		{"dossier year digit", func() error { _, err := ident.ParseNumeroDossier("20A4MON1111037734L"); return err },
			"numeroDossier: year: character 3 is not a digit (a dossier number starts with a 4-digit year)"},
		{"dossier year range", func() error { _, err := ident.ParseNumeroDossier("1999MON1111037734L"); return err },
			"numeroDossier: year: the year (characters 1–4 of a dossier number) must be from 2000 to 2099"},
		{"dossier académie", func() error { _, err := ident.ParseNumeroDossier("2014M0N1111037734L"); return err },
			"numeroDossier: academie: character 6 is not a letter (characters 5–7 of a dossier number are the académie code)"},
		{"dossier INE positions", func() error { _, err := ident.ParseNumeroDossier("2014MON0DDG5R00016"); return err },
			"numeroDossier: key: the key digit does not match characters 8–17 (INE-Base 36)"},
		{"dossier INE format", func() error { _, err := ident.ParseNumeroDossier("2014MON12A4567890B"); return err },
			"numeroDossier: format: characters 8–18 do not match any INE format (INE-BEA, INE-Base 36, INE-RNIE, INE-SIFA, provisional INE)"},
		{"dossier in identifiant", func() error { _, err := ident.ParseIdentifiant("2014MON1234B12345B"); return err },
			"identifiant: format: character 12 must be A (INE-SIFA) or D (provisional INE)"},
		{"UAI key", func() error { _, err := ident.ParseUAI("0781944Q"); return err },
			"UAI: key: the key letter does not match the 7 digits"},
	}
	for _, tt := range tests {
		err := tt.err()
		if err == nil {
			t.Errorf("%s: got no error, want %q", tt.name, tt.want)
			continue
		}
		if got := err.Error(); got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestParseNumeroDossier(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want ident.NumeroDossier // when valid
		rule ident.Rule          // "" when valid
	}{
		{name: "SPEC example", in: "2014MON1111037734L", want: ident.NumeroDossier{
			Value: "2014MON1111037734L", Annee: 2014, Academie: "MON",
			INE: ident.INE{Value: "1111037734L", Format: ident.FormatBEA}}},
		{name: "Base 36, normalised", in: " 2023 ver 0ddg5r00015 ", want: ident.NumeroDossier{
			Value: "2023VER0DDG5R00015", Annee: 2023, Academie: "VER",
			INE: ident.INE{Value: "0DDG5R00015", Format: ident.FormatBase36}}},
		{name: "RNIE", in: "2000AMI123456789AB", want: ident.NumeroDossier{
			Value: "2000AMI123456789AB", Annee: 2000, Academie: "AMI",
			INE: ident.INE{Value: "123456789AB", Format: ident.FormatRNIE}}},
		{name: "SIFA", in: "2099LYO1234A12345B", want: ident.NumeroDossier{
			Value: "2099LYO1234A12345B", Annee: 2099, Academie: "LYO",
			INE: ident.INE{Value: "1234A12345B", Format: ident.FormatSIFA}}},
		{name: "provisional", in: "2024\tCRE\t1234D12345B", want: ident.NumeroDossier{
			Value: "2024CRE1234D12345B", Annee: 2024, Academie: "CRE",
			INE: ident.INE{Value: "1234D12345B", Format: ident.FormatProvisional}}},

		{name: "empty", in: "", rule: ident.RuleEmpty},
		{name: "non-ASCII", in: "2014MON1111037734Ł", rule: ident.RuleASCII},
		{name: "no-break space", in: "2014\u00a0MON1111037734L", rule: ident.RuleASCII},
		{name: "INE alone", in: "1111037734L", rule: ident.RuleLength},
		{name: "too long", in: "2014MON1111037734LX", rule: ident.RuleLength},
		{name: "hyphen", in: "2014-MO1111037734L", rule: ident.RuleCharacters},
		{name: "year with a letter", in: "2O14MON1111037734L", rule: ident.RuleYear},
		{name: "year 1999", in: "1999MON1111037734L", rule: ident.RuleYear},
		{name: "year 2100", in: "2100MON1111037734L", rule: ident.RuleYear},
		{name: "académie with a digit", in: "2014MO11111037734L", rule: ident.RuleAcademie},
		{name: "INE key", in: "2014MON1111037734M", rule: ident.RuleKey},
		{name: "INE identical digits", in: "2014MON0000000000A", rule: ident.RuleIdenticalDigits},
		{name: "INE format", in: "2014MON12A4567890B", rule: ident.RuleFormat},
	}
	for _, tt := range tests {
		got, err := ident.ParseNumeroDossier(tt.in)
		if rule := ruleOf(err); rule != tt.rule {
			t.Errorf("%s: got rule %q (%v), want %q", tt.name, rule, err, tt.rule)
			continue
		}
		if tt.rule != "" {
			checkMessage(t, tt.name, "numeroDossier", tt.in, err)
			continue
		}
		if got != tt.want {
			t.Errorf("%s: got %+v, want %+v", tt.name, got, tt.want)
		}
	}
}

func TestParseIdentifiant(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		ine     ident.INE
		dossier string     // the dossier number's Value, "" for an INE
		annee   int        // the dossier number's year
		rule    ident.Rule // "" when valid
	}{
		{name: "INE-BEA", in: "1111037734L", ine: ident.INE{Value: "1111037734L", Format: ident.FormatBEA}},
		{name: "INE-Base 36", in: "0ddg5r00015", ine: ident.INE{Value: "0DDG5R00015", Format: ident.FormatBase36}},
		{name: "INE-RNIE", in: "123456789AB", ine: ident.INE{Value: "123456789AB", Format: ident.FormatRNIE}},
		{name: "INE-SIFA", in: "1234A12345B", ine: ident.INE{Value: "1234A12345B", Format: ident.FormatSIFA}},
		{name: "provisional INE", in: "1234D12345B", ine: ident.INE{Value: "1234D12345B", Format: ident.FormatProvisional}},
		{name: "dossier number", in: "2014MON1111037734L", ine: ident.INE{Value: "1111037734L", Format: ident.FormatBEA},
			dossier: "2014MON1111037734L", annee: 2014},
		{name: "dossier number with spaces", in: "2014 mon 1111037734 l", ine: ident.INE{Value: "1111037734L", Format: ident.FormatBEA},
			dossier: "2014MON1111037734L", annee: 2014},

		{name: "empty", in: "", rule: ident.RuleEmpty},
		{name: "spaces only", in: "   ", rule: ident.RuleEmpty},
		{name: "non-ASCII", in: "1111037734Ł", rule: ident.RuleASCII},
		{name: "10 characters", in: "1111037734", rule: ident.RuleLength},
		{name: "12 characters", in: "1111037734LL", rule: ident.RuleLength},
		{name: "17 characters", in: "2014MON1111037734", rule: ident.RuleLength},
		{name: "19 characters", in: "2014MON1111037734LL", rule: ident.RuleLength},
		{name: "INE characters", in: "1111_37734L", rule: ident.RuleCharacters},
		{name: "INE key", in: "1111037734M", rule: ident.RuleKey},
		{name: "INE identical digits", in: "2222222222A", rule: ident.RuleIdenticalDigits},
		{name: "INE format", in: "ABCDEFGHIJK", rule: ident.RuleFormat},
		{name: "dossier characters", in: "2014MON1111037734.", rule: ident.RuleCharacters},
		{name: "dossier year", in: "1914MON1111037734L", rule: ident.RuleYear},
		{name: "dossier académie", in: "2014M-N1111037734L", rule: ident.RuleCharacters},
		{name: "dossier académie digit", in: "2014M0N1111037734L", rule: ident.RuleAcademie},
		{name: "dossier INE key", in: "2014MON1111037734A", rule: ident.RuleKey},
	}
	for _, tt := range tests {
		got, err := ident.ParseIdentifiant(tt.in)
		if rule := ruleOf(err); rule != tt.rule {
			t.Errorf("%s: got rule %q (%v), want %q", tt.name, rule, err, tt.rule)
			continue
		}
		if tt.rule != "" {
			checkMessage(t, tt.name, "identifiant", tt.in, err)
			continue
		}
		if got.INE != tt.ine {
			t.Errorf("%s: got INE %+v, want %+v", tt.name, got.INE, tt.ine)
		}
		switch {
		case tt.dossier == "" && got.Dossier != nil:
			t.Errorf("%s: got dossier %+v, want none", tt.name, *got.Dossier)
		case tt.dossier != "" && got.Dossier == nil:
			t.Errorf("%s: got no dossier, want %q", tt.name, tt.dossier)
		case tt.dossier != "":
			if got.Dossier.Value != tt.dossier || got.Dossier.Annee != tt.annee || got.Dossier.INE != tt.ine {
				t.Errorf("%s: got dossier %+v, want Valeur %q, Annee %d, INE %+v",
					tt.name, *got.Dossier, tt.dossier, tt.annee, tt.ine)
			}
		}
	}
}

func TestParseUAI(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string     // when valid
		rule ident.Rule // "" when valid
	}{
		{name: "glossary example", in: "0781944P", want: "0781944P"},
		{name: "extract example", in: "0341088Y", want: "0341088Y"},
		{name: "normalised", in: " 0781944p\t", want: "0781944P"},
		{name: "inner space", in: "0341 088 Y", want: "0341088Y"},

		{name: "empty", in: "", rule: ident.RuleEmpty},
		{name: "non-ASCII", in: "0781944\u00a0P", rule: ident.RuleASCII},
		{name: "too short", in: "781944P", rule: ident.RuleLength},
		{name: "too long", in: "00781944P", rule: ident.RuleLength},
		{name: "hyphen", in: "078-944P", rule: ident.RuleCharacters},
		{name: "letter among digits", in: "07819A4P", rule: ident.RuleFormat},
		{name: "no key letter", in: "07819441", rule: ident.RuleFormat},
		{name: "wrong key", in: "0781944Q", rule: ident.RuleKey},
		{name: "key I never used", in: "0781944I", rule: ident.RuleKey},
	}
	for _, tt := range tests {
		got, err := ident.ParseUAI(tt.in)
		if rule := ruleOf(err); rule != tt.rule {
			t.Errorf("%s: got rule %q (%v), want %q", tt.name, rule, err, tt.rule)
			continue
		}
		if tt.rule != "" {
			checkMessage(t, tt.name, "UAI", tt.in, err)
			continue
		}
		if got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestParseINEDoesNotAllocate(t *testing.T) {
	for _, in := range []string{"1111037734L", "0DDG5R00015", "123456789AB", "1234A12345B", "1234D12345B"} {
		allocs := testing.AllocsPerRun(100, func() {
			if _, err := ident.ParseINE(in); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("ParseINE(%s): got %v allocations, want 0", in, allocs)
		}
	}
}

func FuzzParseIdentifiant(f *testing.F) {
	for _, s := range []string{
		"1111037734L", "0DDG5R00015", "123456789AB", "1234A12345B", "1234D12345B",
		"2014MON1111037734L", " 2014 mon 0ddg5r00015 ",
		"", " ", "1111037734", "1111037734M", "1111111111Z", "00000000000", "ABCDEFGHIJ5",
		"123456789IA", "1234B12345B", "1234A12345O", "1111037734Ł", "1111037734\u00a0L",
		"1999MON1111037734L", "2014M0N1111037734L", "2014MON12A4567890B", "\xff\xfe",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got, err := ident.ParseIdentifiant(in)
		if err != nil {
			var e *ident.Error
			if !errors.As(err, &e) {
				t.Fatalf("ParseIdentifiant(%q): got error %T, want *ident.Error", in, err)
			}
			if e.Rule == "" || e.Message == "" || e.What != "identifiant" {
				t.Fatalf("ParseIdentifiant(%q): got %#v, want a Rule, a Message and What \"identifiant\"", in, e)
			}
			// The normalised value is what a message could repeat. (The raw
			// input itself is not checked: a lower-case input such as
			// "must" is a word of the messages.)
			if v := ident.Normalize(in); len(v) > 3 && strings.Contains(e.Message, v) {
				t.Fatalf("ParseIdentifiant(%q): message %q contains the value", in, e.Message)
			}
			return
		}
		v := got.INE.Value
		if got.Dossier != nil {
			v = got.Dossier.Value
			if got.Dossier.INE != got.INE {
				t.Fatalf("ParseIdentifiant(%q): got INE %+v, want the dossier's %+v", in, got.INE, got.Dossier.INE)
			}
		}
		if v != ident.Normalize(in) {
			t.Fatalf("ParseIdentifiant(%q): got %q, want %q", in, v, ident.Normalize(in))
		}
		if len(v) != 11 && len(v) != 18 {
			t.Fatalf("ParseIdentifiant(%q): got %d characters, want 11 or 18", in, len(v))
		}
		for i := 0; i < len(v); i++ {
			if c := v[i]; (c < '0' || c > '9') && (c < 'A' || c > 'Z') {
				t.Fatalf("ParseIdentifiant(%q): got character %d %q, want [0-9A-Z]", in, i+1, c)
			}
		}
		again, err := ident.ParseIdentifiant(v)
		if err != nil {
			t.Fatalf("ParseIdentifiant(%q): re-parsing %q: %v", in, v, err)
		}
		if again.INE != got.INE || (again.Dossier == nil) != (got.Dossier == nil) ||
			(got.Dossier != nil && *again.Dossier != *got.Dossier) {
			t.Fatalf("ParseIdentifiant(%q): re-parsing gives %+v, want %+v", in, again, got)
		}
	})
}

func BenchmarkParseIdentifiant(b *testing.B) {
	for _, bb := range []struct{ name, in string }{
		{"valid BEA", "1111037734L"},
		{"valid Base 36", "0DDG5R00015"},
		{"valid dossier", "2014MON1111037734L"},
		{"not normalised", " 1111 037734 l"},
		{"invalid key", "1111037734M"},
		{"invalid length", "1111037734"},
	} {
		b.Run(bb.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_, _ = ident.ParseIdentifiant(bb.in)
			}
		})
	}
}

func BenchmarkParseINE(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_, _ = ident.ParseINE("1111037734L")
	}
}
