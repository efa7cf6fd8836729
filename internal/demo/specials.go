package demo

import (
	"github.com/aglae-connector/aglae-connector/internal/extract"
	"github.com/aglae-connector/aglae-connector/internal/ident"
)

// The special cases open every extract, at fixed line numbers, so that tests
// and demonstrations can name them. Y is the most recent year of
// Options.Annees; all of them are dossiers of year Y except ARNAUD Julie's
// earlier ones. Their identifiers, names and decisions do not depend on
// Options.Seed, and no ordinary student shares their identifiers or their
// exact identities. An extract shorter than the block holds its first lines.
//
//	line   identifiant  student                        dossier (académie, état, decision)            expected answer for year Y (SPEC §3)
//	 1     1111037734L  BOULET Amandine, 1996-11-28    MON VALIDE conditionnelle éch. 1, 1653 €      BOURSIER CONDITIONNELLE 1 (the seed)
//	 2     0912345870U  N'DIAYE Élodie                 CRE VALIDE définitive éch. 4                  BOURSIER DEFINITIVE 4
//	 3     0298765431J  LE GOFF Jean-Pierre            REN VALIDE REJET                              NON_BOURSIER
//	 4     1802456719L  DIALLO Aminata (foreign)       VER VALIDE conditionnelle éch. 5              see below
//	 5     1802456720M  WANG Lei (foreign)             PAR VALIDE définitive éch. 2                  see below
//	 6     1802456721N  KOUASSI Ange-Marie (foreign)   LYO PIECES_MANQUANTES                         see below
//	 7     0594407316J  FONTAINE Pauline (homonym)     LIL VALIDE définitive éch. 3                  BOURSIER DEFINITIVE 3; by identity alone: INCONNU
//	 8     0335172098Y  FONTAINE Pauline (homonym)     BOR VALIDE REJET                              NON_BOURSIER; by identity alone: INCONNU
//	 9     0134589027W  BRUNET Hélène                  AIX VALIDE REJET                              } BOURSIER CONDITIONNELLE 2,
//	10     0134589027W  BRUNET Hélène                  NCE VALIDE conditionnelle éch. 2              } dossier Y NCE 0134589027W
//	11     0387410265P  COLIN Bastien                  GRE VALIDE conditionnelle éch. 3, Y-05-20     } BOURSIER CONDITIONNELLE 3, dossier
//	12     0387410265P  COLIN Bastien                  LYO VALIDE conditionnelle éch. 3, Y-07-02     } Y LYO 0387410265P (latest decision)
//	13     0756302184S  MEUNIER Sophie                 PAR ANNULE, with a définitive éch. 4          } EN_ATTENTE (PIECES_MANQUANTES):
//	14     0756302184S  MEUNIER Sophie                 VER PIECES_MANQUANTES                         } the cancelled dossier is ignored
//	15     072345618AK  BARBIER Romain (INE-RNIE)      TOU VALIDE cond. 0bis, sous réserve, not verified  EN_ATTENTE (PROGRESSION_A_VERIFIER)
//	16     3312A04578N  RENAUD Clara (INE-SIFA)        BOR VALIDE cond. éch. 6, sous réserve, verified    BOURSIER CONDITIONNELLE 6
//	17     0679013352S  LEMAIRE Victor                 STR NON_TRAITE                                EN_ATTENTE (NON_TRAITE)
//	18     0DDG5R00015  GILLES Margaux (INE-Base 36)   VER VALIDE, no decision                       EN_ATTENTE (NON_TRAITE)
//	19     0448123907D  PERROT Damien                  NAN ANNULE, with a conditionnelle éch. 1      INCONNU
//	20…    0381204569T  ARNAUD Julie, GRE VALIDE, one dossier per year over the last (up to) 5 years of Annees, in
//	                    ascending order: définitive éch. 2 in the earlier years (BOURSIER DEFINITIVE 2 for those years),
//	                    conditionnelle éch. 3 in Y (BOURSIER CONDITIONNELLE 3). With Annees 2023–2025: lines 20–22.
//
// Lines 4–6 are the foreign first-year students of the pilot report: the
// CROUS gave each an INE-BEA as scholarship number, while Apogée registered
// them under a provisional INE (4 digits + D + 5 digits + a letter) that
// appears nowhere in the extract: Y + "D00417T" for DIALLO Aminata, Y +
// "D00418U" for WANG Lei, Y + "D00419V" for KOUASSI Ange-Marie (2025D00417T…
// when Y is 2025; see provisional). Looked up by that provisional INE with
// their identity, they are found by identity alone (correspondance IDENTITE,
// identifiantAglae the INE-BEA): BOURSIER CONDITIONNELLE 5, BOURSIER
// DEFINITIVE 2, EN_ATTENTE. Their identities, like those of every special
// student, are unique in the extract; FONTAINE Pauline, born on 14 May of Y-19, is
// shared by exactly the two identifiers of lines 7 and 8.
//
// Dates of birth are relative to Y, so that ages stay plausible: with
// Y = 2025, N'DIAYE 2005-04-03, LE GOFF 2003-12-30, DIALLO 2006-01-21, WANG
// 2004-08-09, KOUASSI 2007-03-11, FONTAINE 2006-05-14, BRUNET 2005-06-06,
// COLIN 2007-10-01, MEUNIER 2002-02-14, BARBIER 2004-07-19, RENAUD
// 2005-11-02, LEMAIRE 2007-03-30, GILLES 2006-09-12, PERROT 2001-01-05 (one
// year later each when Y is one year later). BOULET Amandine keeps the
// seed's 1996-11-28; ARNAUD Julie is born on 23 August of
// max(her first year - 18, Y - 30): 2005 with Annees 2023–2025.

// bea returns the INE-BEA made of digits10 and its key.
func bea(digits10 string) string { return digits10 + string(ident.BEAKey(digits10)) }

// Identifiers of the special students.
var (
	idBoulet  = "1111037734L"
	idNDiaye  = bea("0912345870")
	idLeGoff  = bea("0298765431")
	idDiallo  = bea("1802456719")
	idWang    = bea("1802456720")
	idKouassi = bea("1802456721")
	idFontA   = bea("0594407316")
	idFontB   = bea("0335172098")
	idBrunet  = bea("0134589027")
	idColin   = bea("0387410265")
	idMeunier = bea("0756302184")
	idBarbier = "072345618AK" // INE-RNIE
	idRenaud  = "3312A04578N" // INE-SIFA
	idLemaire = bea("0679013352")
	idGilles  = "0DDG5R00015" // INE-Base 36, the SPEC's example
	idPerrot  = bea("0448123907")
	idArnaud  = bea("0381204569")
)

// nSpecial is the number of special lines before ARNAUD Julie's.
const nSpecial = 19

// specialIdentifiants are never handed out to ordinary students.
var specialIdentifiants = []string{
	idBoulet, idNDiaye, idLeGoff, idDiallo, idWang, idKouassi, idFontA, idFontB,
	idBrunet, idColin, idMeunier, idBarbier, idRenaud, idLemaire, idGilles,
	idPerrot, idArnaud,
}

// provisional returns the provisional INEs Apogée gives the foreign students
// of lines 4, 5 and 6 for year y. They are not in the extract.
func provisional(y int) [3]string {
	return [3]string{itoa4(y) + "D00417T", itoa4(y) + "D00418U", itoa4(y) + "D00419V"}
}

// voeu builds a vœu of rank rang at the establishment whose UAI starts with
// uai7.
func voeu(rang int, uai7, formation string) extract.Voeu {
	for _, a := range academies {
		for _, e := range a.etabs {
			if e.uai7 == uai7 {
				return extract.Voeu{Rang: rang, Academie: a.code, UAI: e.uai, Etablissement: e.nom, Formation: formation}
			}
		}
	}
	panic("demo: unknown UAI " + uai7)
}

// special builds a special line of year annee.
func special(annee int, acad, id string, nom, prenom, naissance, etat string, d *extract.Decision, pieces []string, voeux ...extract.Voeu) extract.Line {
	if pieces == nil {
		pieces = []string{}
	}
	return extract.Line{
		NumeroDossier:      itoa4(annee) + acad + id,
		AnneeUniversitaire: annee,
		Academie:           acad,
		Identifiant:        id,
		Nom:                nom,
		Prenom:             prenom,
		DateNaissance:      naissance,
		Etat:               etat,
		PiecesManquantes:   pieces,
		Decision:           d,
		Voeux:              voeux,
	}
}

// Indexes in echelons.
const (
	ech0bis = iota
	ech1
	ech2
	ech3
	ech4
	ech5
	ech6
)

// specials returns the special lines for the years annees (sorted, not
// empty). Its size depends only on len(annees): at most 24 lines.
func specials(annees []int) []extract.Line {
	y := annees[len(annees)-1]
	const (
		def  = "ATTRIBUTION_DEFINITIVE"
		cond = "ATTRIBUTION_CONDITIONNELLE"
	)
	rejet := func(m, j int) *extract.Decision {
		return &extract.Decision{Nature: "REJET", Date: date(y, m, j)}
	}
	attr := func(nature string, ech, m, j, charge, dist int) *extract.Decision {
		return newAttribution(nature, y, ech, date(y, m, j), charge, dist)
	}
	ne := func(age, m, j int) string { return date(y-age, m, j) }

	// The seed: BOULET Amandine, as in the SPEC §6 example, moved to year Y.
	// Her amount is the seed's 1653 € whatever the barème.
	boulet := attr(cond, ech1, 6, 12, 3, 1)
	*boulet.MontantAnnuel = 1653.00

	// Sous réserve de progression.
	barbier := attr(cond, ech0bis, 6, 3, 0, 0)
	barbier.SousReserveProgression = true
	renaud := attr(cond, ech6, 5, 27, 6, 2)
	renaud.SousReserveProgression = true
	renaud.ProgressionVerified = true

	fontaine := ne(19, 5, 14)
	l := []extract.Line{
		special(y, "MON", idBoulet, "BOULET", "Amandine", "1996-11-28", "VALIDE", boulet, nil,
			voeu(1, "0341088", "Diplômes de santé, 1re année")),
		special(y, "CRE", idNDiaye, "N'DIAYE", "Élodie", ne(20, 4, 3), "VALIDE",
			attr(def, ech4, 9, 18, 5, 1), nil,
			voeu(1, "0941111", "Licence 2 Droit"), voeu(2, "0932075", "Licence 2 Sciences de l'éducation")),
		special(y, "REN", idLeGoff, "LE GOFF", "Jean-Pierre", ne(22, 12, 30), "VALIDE",
			rejet(7, 8), nil,
			voeu(1, "0290346", "Licence 3 Géographie et aménagement")),
		special(y, "VER", idDiallo, "DIALLO", "Aminata", ne(19, 1, 21), "VALIDE",
			attr(cond, ech5, 7, 24, 2, 2), nil,
			voeu(1, "0781944", "Licence 1 Droit"), voeu(2, "0912408", "Licence 1 Mathématiques")),
		special(y, "PAR", idWang, "WANG", "Lei", ne(21, 8, 9), "VALIDE",
			attr(def, ech2, 10, 2, 2, 2), nil,
			voeu(1, "0755890", "Licence 1 Langues étrangères appliquées anglais-espagnol")),
		special(y, "LYO", idKouassi, "KOUASSI", "Ange-Marie", ne(18, 3, 11), "PIECES_MANQUANTES",
			nil, []string{piece(10, y), "RIB"},
			voeu(1, "0691774", "Licence 1 Informatique"), voeu(2, "0692566", "BUT Informatique, 1re année"),
			voeu(3, "0134009", "Licence 1 Informatique")),
		special(y, "LIL", idFontA, "FONTAINE", "Pauline", fontaine, "VALIDE",
			attr(def, ech3, 9, 4, 4, 0), nil,
			voeu(1, "0597065", "Licence 1 Droit")),
		special(y, "BOR", idFontB, "FONTAINE", "Pauline", fontaine, "VALIDE",
			rejet(6, 17), nil,
			voeu(1, "0331766", "Licence 2 Histoire")),
		special(y, "AIX", idBrunet, "BRUNET", "Hélène", ne(20, 6, 6), "VALIDE",
			rejet(4, 22), nil,
			voeu(1, "0132364", "Licence 2 Droit")),
		special(y, "NCE", idBrunet, "BRUNET", "Hélène", ne(20, 6, 6), "VALIDE",
			attr(cond, ech2, 6, 30, 3, 1), nil,
			voeu(1, "0062206", "Licence 2 Droit")),
		special(y, "GRE", idColin, "COLIN", "Bastien", ne(18, 10, 1), "VALIDE",
			attr(cond, ech3, 5, 20, 2, 0), nil,
			voeu(1, "0381912", "BUT Génie électrique et informatique industrielle, 1re année")),
		special(y, "LYO", idColin, "COLIN", "Bastien", ne(18, 10, 1), "VALIDE",
			attr(cond, ech3, 7, 2, 3, 1), nil,
			voeu(1, "0692566", "BUT Génie électrique et informatique industrielle, 1re année")),
		special(y, "PAR", idMeunier, "MEUNIER", "Sophie", ne(23, 2, 14), "ANNULE",
			attr(def, ech4, 9, 9, 4, 1), nil,
			voeu(1, "0751717", "Licence 3 Géographie et aménagement")),
		special(y, "VER", idMeunier, "MEUNIER", "Sophie", ne(23, 2, 14), "PIECES_MANQUANTES",
			nil, []string{piece(0, y), "Certificat de scolarité"},
			voeu(1, "0781944", "Master 1 Chimie")),
		special(y, "TOU", idBarbier, "BARBIER", "Romain", ne(21, 7, 19), "VALIDE",
			barbier, nil,
			voeu(1, "0311384", "Licence 3 Sciences de la vie")),
		special(y, "BOR", idRenaud, "RENAUD", "Clara", ne(20, 11, 2), "VALIDE",
			renaud, nil,
			voeu(1, "0333298", "Licence 2 Physique-Chimie"), voeu(2, "0640251", "Licence 2 Économie-Gestion")),
		special(y, "STR", idLemaire, "LEMAIRE", "Victor", ne(18, 3, 30), "NON_TRAITE",
			nil, nil,
			voeu(1, "0670082", "CPGE MPSI, 1re année"), voeu(2, "0673022", "Licence 1 Mathématiques")),
		special(y, "VER", idGilles, "GILLES", "Margaux", ne(19, 9, 12), "VALIDE",
			nil, nil,
			voeu(1, "0781973", "BUT Techniques de commercialisation, 2e année")),
		special(y, "NAN", idPerrot, "PERROT", "Damien", ne(24, 1, 5), "ANNULE",
			attr(cond, ech1, 3, 16, 2, 1), nil,
			voeu(1, "0440984", "Master 1 Informatique")),
	}

	// ARNAUD Julie: one dossier in each of the last (up to) 5 years, at
	// most 13 years apart so that she stays 17 to 30.
	suite := annees[max(0, len(annees)-5):]
	for suite[len(suite)-1]-suite[0] > 13 {
		suite = suite[1:]
	}
	first, last := suite[0], suite[len(suite)-1]
	naissance := date(max(first-18, last-30), 8, 23)
	for i, a := range suite {
		var d *extract.Decision
		if i < len(suite)-1 {
			d = newAttribution(def, a, ech2, date(a, 9, 15), 3, 1)
		} else {
			d = newAttribution(cond, a, ech3, date(a, 5, 15), 5, 1)
		}
		formation := "Licence " + string(byte('1'+min(i, 2))) + " Informatique"
		if i > 2 {
			formation = "Master " + string(byte('1'+min(i-3, 1))) + " Informatique"
		}
		l = append(l, special(a, "GRE", idArnaud, "ARNAUD", "Julie", naissance, "VALIDE", d, nil,
			voeu(1, "0383546", formation)))
	}
	return l
}
