package extract_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aglae-connector/aglae-connector/internal/bourse"
	"github.com/aglae-connector/aglae-connector/internal/extract"
)

// baseLine is the first line of testdata/extract.jsonl (the SPEC §6
// example): a VALIDE dossier with a conditional decision and one vœu.
const baseLine = `{"numeroDossier":"2014MON1111037734L","anneeUniversitaire":2014,"academie":"MON",` +
	`"identifiant":"1111037734L","nom":"BOULET","prenom":"Amandine","dateNaissance":"1996-11-28",` +
	`"etat":"VALIDE","piecesManquantes":[],"decision":{"nature":"ATTRIBUTION_CONDITIONNELLE",` +
	`"date":"2014-06-12","sousReserveProgression":false,"progressionVerifiee":false,"echelon":"1",` +
	`"montantAnnuel":1653.0,"bareme":2013,"pointsCharge":3,"pointsDistance":1},` +
	`"voeux":[{"rang":1,"academie":"MON","uai":"0341088Y","etablissement":"UM1 UFR Médecine",` +
	`"formation":"Diplômes de santé, 1re année"}]}`

// base returns a fresh copy of baseLine, pointers included.
func base(t testing.TB) extract.Line {
	t.Helper()
	var x extract.Line
	require.NoError(t, json.Unmarshal([]byte(baseLine), &x))
	return x
}

// jsonLine returns x as one JSON line (without its end of line).
func jsonLine(t testing.TB, x extract.Line) string {
	t.Helper()
	b, err := json.Marshal(x)
	require.NoError(t, err)
	return string(b)
}

func ptr[T any](v T) *T { return &v }

// fields returns the fields of fs, sorted.
func fields(fs []extract.Fault) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = f.Field
	}
	slices.Sort(out)
	return out
}

func TestValidateBase(t *testing.T) {
	d, fs := extract.Validate(7, base(t))
	require.Empty(t, fs)
	assert.Equal(t, 7, d.Line)
	assert.Equal(t, "2014MON1111037734L", d.NumeroDossier)
	assert.Equal(t, 2014, d.Annee)
	assert.Equal(t, "MON", d.Academie)
	assert.Equal(t, "1111037734L", d.Identifiant)
	assert.Equal(t, "BOULET", d.Nom)
	assert.Equal(t, "Amandine", d.Prenom)
	assert.Equal(t, "BOULET", d.NormalizedNom)
	assert.Equal(t, "AMANDINE", d.NormalizedPrenom)
	assert.Equal(t, time.Date(1996, 11, 28, 0, 0, 0, 0, time.UTC), d.DateNaissance)
	assert.Equal(t, bourse.EtatValide, d.Etat)
	assert.Empty(t, d.Pieces)
	require.NotNil(t, d.Decision)
	assert.Equal(t, bourse.NatureConditionnelle, d.Decision.Nature)
	assert.Equal(t, ptr("1"), d.Decision.Echelon)
	assert.Equal(t, ptr(1653.0), d.Decision.MontantAnnuel)
	assert.Equal(t, ptr(2013), d.Decision.Bareme)
	assert.Equal(t, time.Date(2014, 6, 12, 0, 0, 0, 0, time.UTC), d.Decision.Date)
	assert.False(t, d.Decision.SousReserveProgression)
	assert.False(t, d.Decision.ProgressionVerified)
	assert.Equal(t, ptr(3), d.Decision.PointsCharge)
	assert.Equal(t, ptr(1), d.Decision.PointsDistance)
	assert.Equal(t, []extract.Voeu{{Rang: 1, Academie: "MON", UAI: "0341088Y",
		Etablissement: "UM1 UFR Médecine", Formation: "Diplômes de santé, 1re année"}}, d.Voeux)
}

// TestValidate checks each rule of SPEC §4 and §6 with one mutation of a
// valid line: the exact set of faulty fields, and a reason that says why.
func TestValidate(t *testing.T) {
	// rejet turns the base decision into a REJET without échelon, amount
	// or barème.
	rejet := func(x *extract.Line) {
		x.Decision.Nature = "REJET"
		x.Decision.Echelon, x.Decision.MontantAnnuel, x.Decision.Bareme = nil, nil, nil
	}
	voeu2 := extract.Voeu{Rang: 2, Academie: "MON", UAI: "0341088Y", Etablissement: "UM2", Formation: "Licence"}

	tests := []struct {
		name   string
		mut    func(*extract.Line)
		faults map[string]string // Champ → substring of Raison
	}{
		// Required fields.
		{"numeroDossier manquant", func(x *extract.Line) { x.NumeroDossier = "" },
			map[string]string{"numeroDossier": "required"}},
		{"anneeUniversitaire manquante", func(x *extract.Line) { x.AnneeUniversitaire = 0 },
			map[string]string{"anneeUniversitaire": "required"}},
		{"academie manquante", func(x *extract.Line) { x.Academie = "" },
			map[string]string{"academie": "required"}},
		{"identifiant manquant", func(x *extract.Line) { x.Identifiant = "" },
			map[string]string{"identifiant": "empty"}},
		{"identifiant blanc", func(x *extract.Line) { x.Identifiant = "   " },
			map[string]string{"identifiant": "empty"}},
		{"nom manquant", func(x *extract.Line) { x.Nom = "" },
			map[string]string{"nom": "required"}},
		{"nom blanc", func(x *extract.Line) { x.Nom = " \t " },
			map[string]string{"nom": "required"}},
		{"prenom manquant", func(x *extract.Line) { x.Prenom = "" },
			map[string]string{"prenom": "required"}},
		{"dateNaissance manquante", func(x *extract.Line) { x.DateNaissance = "" },
			map[string]string{"dateNaissance": "required"}},
		{"etat manquant", func(x *extract.Line) { x.Etat = "" },
			map[string]string{"etat": "required"}},
		{"decision.nature manquante", func(x *extract.Line) { x.Decision.Nature = "" },
			map[string]string{"decision.nature": "required"}},
		{"decision.date manquante", func(x *extract.Line) { x.Decision.Date = "" },
			map[string]string{"decision.date": "required"}},
		{"voeu sans academie", func(x *extract.Line) { x.Voeux[0].Academie = "" },
			map[string]string{"voeux[0].academie": "3 upper-case letters"}},
		{"voeu sans uai", func(x *extract.Line) { x.Voeux[0].UAI = "" },
			map[string]string{"voeux[0].uai": "empty"}},
		{"voeu sans etablissement", func(x *extract.Line) { x.Voeux[0].Etablissement = "" },
			map[string]string{"voeux[0].etablissement": "required"}},
		{"voeu sans formation", func(x *extract.Line) { x.Voeux[0].Formation = " " },
			map[string]string{"voeux[0].formation": "required"}},

		// Year and académie.
		{"anneeUniversitaire trop ancienne", func(x *extract.Line) { x.AnneeUniversitaire = 1999 },
			map[string]string{"anneeUniversitaire": "between 2000 and 2099"}},
		{"anneeUniversitaire trop lointaine", func(x *extract.Line) { x.AnneeUniversitaire = 2100 },
			map[string]string{"anneeUniversitaire": "between 2000 and 2099"}},
		{"academie en minuscules", func(x *extract.Line) { x.Academie = "mon" },
			map[string]string{"academie": "3 upper-case letters"}},
		{"academie de 4 lettres", func(x *extract.Line) { x.Academie = "MONT" },
			map[string]string{"academie": "3 upper-case letters"}},
		{"academie avec un chiffre", func(x *extract.Line) { x.Academie = "M0N" },
			map[string]string{"academie": "3 upper-case letters"}},

		// Identifier.
		{"identifiant clé fausse", func(x *extract.Line) { x.Identifiant = "1111037734M" },
			map[string]string{"identifiant": "key"}},
		{"identifiant trop court", func(x *extract.Line) { x.Identifiant = "111103773" },
			map[string]string{"identifiant": "length"}},
		{"identifiant non ASCII", func(x *extract.Line) { x.Identifiant = "1111037734Ł" },
			map[string]string{"identifiant": "ascii"}},
		{"identifiant dix chiffres identiques", func(x *extract.Line) { x.Identifiant = "1111111111A" },
			map[string]string{"identifiant": "identical-digits"}},

		// Dossier number.
		{"numeroDossier invalide", func(x *extract.Line) { x.NumeroDossier = "2014MON1111037734M" },
			map[string]string{"numeroDossier": "key"}},
		{"numeroDossier contredit l'année", func(x *extract.Line) { x.NumeroDossier = "2015MON1111037734L" },
			map[string]string{"numeroDossier": "year 2015"}},
		{"numeroDossier contredit l'académie", func(x *extract.Line) { x.NumeroDossier = "2014PAR1111037734L" },
			map[string]string{"numeroDossier": "académie PAR"}},
		{"numeroDossier contredit l'identifiant", func(x *extract.Line) { x.NumeroDossier = "2014MON2000000011F" },
			map[string]string{"numeroDossier": "identifier"}},

		// Birth date.
		{"dateNaissance mal formée", func(x *extract.Line) { x.DateNaissance = "28/11/1996" },
			map[string]string{"dateNaissance": "YYYY-MM-DD"}},
		{"dateNaissance sans zéros", func(x *extract.Line) { x.DateNaissance = "1996-1-8" },
			map[string]string{"dateNaissance": "YYYY-MM-DD"}},
		{"dateNaissance impossible", func(x *extract.Line) { x.DateNaissance = "2006-02-30" },
			map[string]string{"dateNaissance": "YYYY-MM-DD"}},
		{"dateNaissance trop récente", func(x *extract.Line) { x.DateNaissance = "2010-01-01" },
			map[string]string{"dateNaissance": "born in 2010"}},
		{"dateNaissance hors siècle", func(x *extract.Line) { x.DateNaissance = "1850-01-01" },
			map[string]string{"dateNaissance": "out of range"}},

		// State and missing documents.
		{"etat inconnu", func(x *extract.Line) { x.Etat = "ACCEPTE" },
			map[string]string{"etat": "must be one of NON_TRAITE, PIECES_MANQUANTES, VALIDE, ANNULE"}},
		{"etat en minuscules", func(x *extract.Line) { x.Etat = "valide" },
			map[string]string{"etat": "must be one of"}},
		{"PIECES_MANQUANTES sans pièces", func(x *extract.Line) { x.Etat = "PIECES_MANQUANTES" },
			map[string]string{"piecesManquantes": "must list the missing documents"}},
		{"pièces sur un dossier VALIDE", func(x *extract.Line) { x.PiecesManquantes = []string{"RIB"} },
			map[string]string{"piecesManquantes": "VALIDE has no missing documents"}},
		{"pièce en double", func(x *extract.Line) {
			x.Etat = "PIECES_MANQUANTES"
			x.PiecesManquantes = []string{"RIB", "Avis fiscal", " RIB "}
		}, map[string]string{"piecesManquantes[2]": "listed twice"}},
		{"pièce blanche", func(x *extract.Line) {
			x.Etat = "PIECES_MANQUANTES"
			x.PiecesManquantes = []string{"RIB", "  "}
		}, map[string]string{"piecesManquantes[1]": "empty"}},

		// Decision.
		{"decision sur NON_TRAITE", func(x *extract.Line) { x.Etat = "NON_TRAITE" },
			map[string]string{"decision": "NON_TRAITE cannot carry a decision"}},
		{"nature inconnue", func(x *extract.Line) { x.Decision.Nature = "ATTRIBUTION" },
			map[string]string{"decision.nature": "must be one of ATTRIBUTION_CONDITIONNELLE, ATTRIBUTION_DEFINITIVE, REJET"}},
		{"REJET avec échelon", func(x *extract.Line) { rejet(x); x.Decision.Echelon = ptr("1") },
			map[string]string{"decision.echelon": "REJET has no échelon"}},
		{"REJET avec montant", func(x *extract.Line) { rejet(x); x.Decision.MontantAnnuel = ptr(1653.0) },
			map[string]string{"decision.montantAnnuel": "REJET has no amount"}},
		{"REJET avec barème futur", func(x *extract.Line) { rejet(x); x.Decision.Bareme = ptr(2015) },
			map[string]string{"decision.bareme": "between"}},
		{"REJET avec échelon et montant", func(x *extract.Line) { x.Decision.Nature = "REJET" },
			map[string]string{"decision.echelon": "REJET", "decision.montantAnnuel": "REJET"}},
		{"attribution sans échelon", func(x *extract.Line) { x.Decision.Echelon = nil },
			map[string]string{"decision.echelon": "required for an attribution"}},
		{"attribution sans montant", func(x *extract.Line) { x.Decision.MontantAnnuel = nil },
			map[string]string{"decision.montantAnnuel": "required for an attribution"}},
		{"attribution sans barème", func(x *extract.Line) { x.Decision.Bareme = nil },
			map[string]string{"decision.bareme": "required for an attribution"}},
		{"définitive sans échelon", func(x *extract.Line) {
			x.Decision.Nature = "ATTRIBUTION_DEFINITIVE"
			x.Decision.Echelon = nil
		}, map[string]string{"decision.echelon": "required for an attribution"}},
		{"échelon 8", func(x *extract.Line) { x.Decision.Echelon = ptr("8") },
			map[string]string{"decision.echelon": "must be one of 0bis, 1, 2, 3, 4, 5, 6, 7"}},
		{"échelon 0BIS", func(x *extract.Line) { x.Decision.Echelon = ptr("0BIS") },
			map[string]string{"decision.echelon": "must be one of"}},
		{"montant négatif", func(x *extract.Line) { x.Decision.MontantAnnuel = ptr(-1.0) },
			map[string]string{"decision.montantAnnuel": "between 0 and"}},
		{"montant trop grand", func(x *extract.Line) { x.Decision.MontantAnnuel = ptr(100000.0) },
			map[string]string{"decision.montantAnnuel": "between 0 and"}},
		{"montant à 3 décimales", func(x *extract.Line) { x.Decision.MontantAnnuel = ptr(1653.005) },
			map[string]string{"decision.montantAnnuel": "more than 2 decimals"}},
		{"barème après l'année", func(x *extract.Line) { x.Decision.Bareme = ptr(2015) },
			map[string]string{"decision.bareme": "dossier's year"}},
		{"barème avant 2000", func(x *extract.Line) { x.Decision.Bareme = ptr(1999) },
			map[string]string{"decision.bareme": "between 2000"}},
		{"date de décision loin de l'année", func(x *extract.Line) { x.Decision.Date = "2017-06-12" },
			map[string]string{"decision.date": "a decision of 2017 for the year 2014"}},
		{"date de décision impossible", func(x *extract.Line) { x.Decision.Date = "2014-13-01" },
			map[string]string{"decision.date": "YYYY-MM-DD"}},
		{"progression vérifiée sans réserve", func(x *extract.Line) { x.Decision.ProgressionVerified = true },
			map[string]string{"decision.progressionVerifiee": "sous réserve de progression"}},
		{"pointsCharge négatifs", func(x *extract.Line) { x.Decision.PointsCharge, x.Decision.PointsDistance = ptr(-1), nil },
			map[string]string{"decision.pointsCharge": "between 0 and"}},
		{"pointsDistance 3", func(x *extract.Line) { x.Decision.PointsDistance = ptr(3) },
			map[string]string{"decision.pointsDistance": "0, 1 or 2"}},
		{"pointsDistance > pointsCharge", func(x *extract.Line) {
			x.Decision.PointsCharge = ptr(0)
			x.Decision.PointsDistance = ptr(1)
		}, map[string]string{"decision.pointsDistance": "greater than pointsCharge"}},
		{"pointsDistance sans pointsCharge", func(x *extract.Line) { x.Decision.PointsCharge = nil },
			map[string]string{"decision.pointsDistance": "without pointsCharge"}},

		// Vœux.
		{"voeu de rang 0", func(x *extract.Line) { x.Voeux[0].Rang = 0 },
			map[string]string{"voeux[0].rang": "between 1 and 99"}},
		{"voeu de rang 100", func(x *extract.Line) { x.Voeux[0].Rang = 100 },
			map[string]string{"voeux[0].rang": "between 1 and 99"}},
		{"voeux de même rang", func(x *extract.Line) {
			v := voeu2
			v.Rang = 1
			x.Voeux = append(x.Voeux, v)
		}, map[string]string{"voeux[1].rang": "rank 1 given twice"}},
		{"voeu UAI clé fausse", func(x *extract.Line) { x.Voeux[0].UAI = "0341088Z" },
			map[string]string{"voeux[0].uai": "key"}},
		{"second voeu UAI mal formé", func(x *extract.Line) {
			v := voeu2
			v.UAI = "A341088Y"
			x.Voeux = append(x.Voeux, v)
		}, map[string]string{"voeux[1].uai": "format"}},
		{"voeu etablissement vide", func(x *extract.Line) { x.Voeux[0].Etablissement = "" },
			map[string]string{"voeux[0].etablissement": "required"}},
		{"voeu academie en minuscules", func(x *extract.Line) { x.Voeux[0].Academie = "mon" },
			map[string]string{"voeux[0].academie": "3 upper-case letters"}},
		{"voeu formation avec caractère de contrôle", func(x *extract.Line) { x.Voeux[0].Formation = "Licence\x00" },
			map[string]string{"voeux[0].formation": "control character"}},
		{"voeu formation trop longue", func(x *extract.Line) { x.Voeux[0].Formation = strings.Repeat("x", 301) },
			map[string]string{"voeux[0].formation": "longer than 300"}},

		// Names.
		{"nom avec caractère de contrôle", func(x *extract.Line) { x.Nom = "BOU\x07LET" },
			map[string]string{"nom": "control character"}},
		{"nom avec tabulation intérieure", func(x *extract.Line) { x.Nom = "BOU\tLET" },
			map[string]string{"nom": "control character"}},
		{"nom de ponctuation seule", func(x *extract.Line) { x.Nom = "-' -" },
			map[string]string{"nom": "must contain a letter"}},
		{"prenom de ponctuation seule", func(x *extract.Line) { x.Prenom = "..." },
			map[string]string{"prenom": "must contain a letter"}},
		{"nom trop long", func(x *extract.Line) { x.Nom = strings.Repeat("A", 101) },
			map[string]string{"nom": "longer than 100"}},

		// Several faults at once are all reported.
		{"plusieurs fautes", func(x *extract.Line) {
			x.Academie = "m"
			x.Etat = "NON_TRAITE"
			x.Decision.Echelon = ptr("9")
			x.Voeux[0].UAI = "0341088Z"
		}, map[string]string{
			"academie":         "3 upper-case letters",
			"decision":         "NON_TRAITE",
			"decision.echelon": "must be one of",
			"voeux[0].uai":     "key",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x := base(t)
			tt.mut(&x)
			_, fs := extract.Validate(42, x)
			want := make([]string, 0, len(tt.faults))
			for c := range tt.faults {
				want = append(want, c)
			}
			slices.Sort(want)
			require.Equal(t, want, fields(fs), "faults: %v", fs)
			for _, f := range fs {
				assert.Equal(t, 42, f.Line, "%v", f)
				assert.Contains(t, f.Raison, tt.faults[f.Field], "%v", f)
			}
		})
	}
}

// TestValidateValid checks lines that look unusual but are valid.
func TestValidateValid(t *testing.T) {
	tests := []struct {
		name  string
		mut   func(*extract.Line)
		check func(*testing.T, extract.Dossier)
	}{
		{"numeroDossier en minuscules avec espaces", func(x *extract.Line) {
			x.NumeroDossier = " 2014 mon 1111037734l "
			x.Identifiant = "11110 37734l"
		}, func(t *testing.T, d extract.Dossier) {
			assert.Equal(t, "2014MON1111037734L", d.NumeroDossier)
			assert.Equal(t, "1111037734L", d.Identifiant)
		}},
		{"échelon 0bis", func(x *extract.Line) {
			x.Decision.Echelon = ptr("0bis")
			x.Decision.MontantAnnuel = ptr(1084.0)
		}, func(t *testing.T, d extract.Dossier) {
			require.NotNil(t, d.Decision)
			assert.Equal(t, ptr("0bis"), d.Decision.Echelon)
		}},
		{"échelon 7", func(x *extract.Line) { x.Decision.Echelon = ptr("7") },
			func(t *testing.T, d extract.Dossier) { assert.Equal(t, ptr("7"), d.Decision.Echelon) }},
		{"montant à 2 décimales", func(x *extract.Line) { x.Decision.MontantAnnuel = ptr(1653.10) },
			func(t *testing.T, d extract.Dossier) { assert.Equal(t, ptr(1653.10), d.Decision.MontantAnnuel) }},
		{"montant nul", func(x *extract.Line) { x.Decision.MontantAnnuel = ptr(0.0) },
			func(t *testing.T, d extract.Dossier) { assert.Equal(t, ptr(0.0), d.Decision.MontantAnnuel) }},
		{"REJET avec points", func(x *extract.Line) {
			x.Decision.Nature = "REJET"
			x.Decision.Echelon, x.Decision.MontantAnnuel, x.Decision.Bareme = nil, nil, nil
		}, func(t *testing.T, d extract.Dossier) {
			require.NotNil(t, d.Decision)
			assert.Equal(t, bourse.NatureRejet, d.Decision.Nature)
			assert.Nil(t, d.Decision.Echelon)
			assert.Nil(t, d.Decision.MontantAnnuel)
			assert.Nil(t, d.Decision.Bareme)
			assert.Equal(t, ptr(3), d.Decision.PointsCharge)
			assert.Equal(t, ptr(1), d.Decision.PointsDistance)
		}},
		// Aglaé's rejections are computed against a barème's resources
		// ceiling and carry it, with the points.
		{"REJET avec barème et points", func(x *extract.Line) {
			x.Decision.Nature = "REJET"
			x.Decision.Echelon, x.Decision.MontantAnnuel = nil, nil
		}, func(t *testing.T, d extract.Dossier) {
			require.NotNil(t, d.Decision)
			assert.Equal(t, bourse.NatureRejet, d.Decision.Nature)
			assert.Nil(t, d.Decision.Echelon)
			assert.Nil(t, d.Decision.MontantAnnuel)
			assert.Equal(t, ptr(2013), d.Decision.Bareme)
			assert.Equal(t, ptr(3), d.Decision.PointsCharge)
		}},
		{"ANNULE avec une décision", func(x *extract.Line) { x.Etat = "ANNULE" },
			func(t *testing.T, d extract.Dossier) {
				assert.Equal(t, bourse.EtatAnnule, d.Etat)
				require.NotNil(t, d.Decision)
			}},
		{"DEFINITIVE sur PIECES_MANQUANTES avec pièces", func(x *extract.Line) {
			x.Etat = "PIECES_MANQUANTES"
			x.PiecesManquantes = []string{" RIB ", "Avis fiscal"}
			x.Decision.Nature = "ATTRIBUTION_DEFINITIVE"
		}, func(t *testing.T, d extract.Dossier) {
			assert.Equal(t, bourse.EtatPiecesManquantes, d.Etat)
			assert.Equal(t, []string{"RIB", "Avis fiscal"}, d.Pieces)
			assert.Equal(t, bourse.NatureDefinitive, d.Decision.Nature)
		}},
		{"VALIDE sans décision ni pièces (null)", func(x *extract.Line) {
			x.Decision = nil
			x.PiecesManquantes = nil
		}, func(t *testing.T, d extract.Dossier) {
			assert.Nil(t, d.Decision)
			assert.Empty(t, d.Pieces)
		}},
		{"sous réserve de progression vérifiée", func(x *extract.Line) {
			x.Decision.SousReserveProgression = true
			x.Decision.ProgressionVerified = true
		}, func(t *testing.T, d extract.Dossier) {
			assert.True(t, d.Decision.SousReserveProgression)
			assert.True(t, d.Decision.ProgressionVerified)
		}},
		{"pointsDistance égal à pointsCharge", func(x *extract.Line) {
			x.Decision.PointsCharge = ptr(2)
			x.Decision.PointsDistance = ptr(2)
		}, func(t *testing.T, d extract.Dossier) { assert.Equal(t, ptr(2), d.Decision.PointsDistance) }},
		{"décision sans points", func(x *extract.Line) {
			x.Decision.PointsCharge, x.Decision.PointsDistance = nil, nil
		}, func(t *testing.T, d extract.Dossier) {
			assert.Nil(t, d.Decision.PointsCharge)
			assert.Nil(t, d.Decision.PointsDistance)
		}},
		{"décision de l'année précédente", func(x *extract.Line) { x.Decision.Date = "2013-12-31" },
			func(t *testing.T, d extract.Dossier) {
				assert.Equal(t, time.Date(2013, 12, 31, 0, 0, 0, 0, time.UTC), d.Decision.Date)
			}},
		{"barème de l'année", func(x *extract.Line) { x.Decision.Bareme = ptr(2014) },
			func(t *testing.T, d extract.Dossier) { assert.Equal(t, ptr(2014), d.Decision.Bareme) }},
		{"nom avec accents, trait d'union et apostrophe", func(x *extract.Line) {
			x.Nom = "  N'Diaye-Lefèvre "
			x.Prenom = "Éloïse Œdipa"
		}, func(t *testing.T, d extract.Dossier) {
			assert.Equal(t, "N'Diaye-Lefèvre", d.Nom)
			assert.Equal(t, "NDIAYELEFEVRE", d.NormalizedNom)
			assert.Equal(t, "Éloïse Œdipa", d.Prenom)
			assert.Equal(t, "ELOISEOEDIPA", d.NormalizedPrenom)
		}},
		{"nom en minuscules avec apostrophe typographique", func(x *extract.Line) { x.Nom = "d’argenson" },
			func(t *testing.T, d extract.Dossier) { assert.Equal(t, "DARGENSON", d.NormalizedNom) }},
		{"plusieurs vœux, UAI en minuscules", func(x *extract.Line) {
			x.Voeux = append(x.Voeux, extract.Voeu{Rang: 2, Academie: "VER", UAI: " 0781944p",
				Etablissement: "UVSQ", Formation: "Licence"})
		}, func(t *testing.T, d extract.Dossier) {
			require.Len(t, d.Voeux, 2)
			assert.Equal(t, "0781944P", d.Voeux[1].UAI)
		}},
		{"identifiant INE-Base 36", func(x *extract.Line) {
			x.Identifiant = "0DDG5R00015"
			x.NumeroDossier = "2014MON0DDG5R00015"
		}, func(t *testing.T, d extract.Dossier) { assert.Equal(t, "0DDG5R00015", d.Identifiant) }},
		{"identifiant provisoire", func(x *extract.Line) {
			x.Identifiant = "2023D12345B"
			x.NumeroDossier = "2014MON2023D12345B"
		}, func(t *testing.T, d extract.Dossier) { assert.Equal(t, "2023D12345B", d.Identifiant) }},
		{"étudiant de 10 ans exactement", func(x *extract.Line) { x.DateNaissance = "2004-12-31" },
			func(t *testing.T, d extract.Dossier) { assert.Equal(t, 2004, d.DateNaissance.Year()) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x := base(t)
			tt.mut(&x)
			d, fs := extract.Validate(3, x)
			require.Empty(t, fs)
			assert.Equal(t, 3, d.Line)
			tt.check(t, d)
		})
	}
}

// TestValidateTestdata checks every line of testdata/extract.jsonl is valid
// on its own.
func TestValidateTestdata(t *testing.T) {
	for i, line := range testdataLines(t) {
		var x extract.Line
		require.NoError(t, json.Unmarshal([]byte(line), &x), "line %d", i+1)
		d, fs := extract.Validate(i+1, x)
		assert.Empty(t, fs, "line %d", i+1)
		assert.Equal(t, x.NumeroDossier, d.NumeroDossier, "line %d", i+1)
	}
}
