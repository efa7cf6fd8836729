package bourse_test

import (
	"testing"
	"time"

	"github.com/aglae-connector/aglae-connector/internal/bourse"
)

// TestNormalizeNom checks the folding of SPEC §3: case, accents, spaces,
// hyphens and apostrophes folded, ligatures spelt out.
func TestNormalizeNom(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"vide", "", ""},
		{"déjà normalisé", "BOULET", "BOULET"},
		{"minuscules", "boulet", "BOULET"},
		{"casse mêlée", "Amandine", "AMANDINE"},
		{"accent aigu", "Élodie", "ELODIE"},
		{"accent aigu décomposé (NFD)", "E\u0301lodie", "ELODIE"},
		{"accents grave et circonflexe", "Lefèvre-Gâtel", "LEFEVREGATEL"},
		{"tréma", "Noël Anaïs", "NOELANAIS"},
		{"cédille", "François", "FRANCOIS"},
		{"tilde", "Ibáñez", "IBANEZ"},
		{"trait d'union", "Jean-Pierre", "JEANPIERRE"},
		{"espace", "jean pierre", "JEANPIERRE"},
		{"espaces autour et doublés", "  jean   pierre  ", "JEANPIERRE"},
		{"espace insécable", "Jean\u00a0Pierre", "JEANPIERRE"},
		{"tabulation", "Jean\tPierre", "JEANPIERRE"},
		{"trait d'union Unicode", "Jean\u2010Pierre", "JEANPIERRE"},
		{"apostrophe droite", "N'Diaye", "NDIAYE"},
		{"apostrophe typographique", "N’DIAYE", "NDIAYE"},
		{"apostrophe, trait d'union et espace", "D'Artagnan-de Castelmore", "DARTAGNANDECASTELMORE"},
		{"exemple de la doc: Le Boulch", "Le Boulch", "LEBOULCH"},
		{"exemple de la doc: LE-BOULCH", "LE-BOULCH", "LEBOULCH"},
		{"exemple de la doc: lé boulch", "lé boulch", "LEBOULCH"},
		{"ligature œ", "Cœur", "COEUR"},
		{"ligature Œ", "ŒUVRARD", "OEUVRARD"},
		{"ligature æ", "Lætitia", "LAETITIA"},
		{"eszett", "Strauß", "STRAUSS"},
		{"o barré", "Søren Østergaard", "SORENOSTERGAARD"},
		{"l barré", "Łukasz", "LUKASZ"},
		{"chiffres gardés", "Louis 2", "LOUIS2"},
		{"ponctuation seule", "-' ’", ""},
		// U+02BC MODIFIER LETTER APOSTROPHE is an apostrophe (some keyboards
		// and converters type it), but Unicode classes it as a letter (Lm).
		{"apostrophe lettre modificative", "N\u02bcDiaye", "NDIAYE"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := bourse.NormalizeNom(tc.in); got != tc.want {
				t.Errorf("NormalizeNom(%q):\n got %q\nwant %q", tc.in, got, tc.want)
			}
			// Folding twice changes nothing.
			if got, again := bourse.NormalizeNom(tc.in), bourse.NormalizeNom(bourse.NormalizeNom(tc.in)); again != got {
				t.Errorf("NormalizeNom(NormalizeNom(%q)):\n got %q\nwant %q", tc.in, again, got)
			}
		})
	}
}

// TestIdentityCorrespond checks that two identities correspond when their
// names are equal once folded and their birth dates are the same day.
func TestIdentityCorrespond(t *testing.T) {
	ne := day(1996, 11, 28)
	base := bourse.Identity{Nom: "BOULET", Prenom: "Amandine", DateNaissance: ne}
	tests := []struct {
		name string
		a, b bourse.Identity
		want bool
	}{
		{"identiques", base, base, true},
		{"casse", base, bourse.Identity{Nom: "boulet", Prenom: "AMANDINE", DateNaissance: ne}, true},
		{"accents", bourse.Identity{Nom: "MARTIN", Prenom: "ELODIE", DateNaissance: ne},
			bourse.Identity{Nom: "Martin", Prenom: "Élodie", DateNaissance: ne}, true},
		{"tirets et espaces", bourse.Identity{Nom: "LE BOULCH", Prenom: "JEAN-PIERRE", DateNaissance: ne},
			bourse.Identity{Nom: "Le-Boulch", Prenom: "jean pierre", DateNaissance: ne}, true},
		{"apostrophes", bourse.Identity{Nom: "N'Diaye", Prenom: "Awa", DateNaissance: ne},
			bourse.Identity{Nom: "N’DIAYE", Prenom: "AWA", DateNaissance: ne}, true},
		{"ligature", bourse.Identity{Nom: "COEUR", Prenom: "Anaïs", DateNaissance: ne},
			bourse.Identity{Nom: "Cœur", Prenom: "ANAIS", DateNaissance: ne}, true},
		{"même jour, autre fuseau", base,
			bourse.Identity{Nom: "BOULET", Prenom: "Amandine",
				DateNaissance: time.Date(1996, 11, 28, 0, 0, 0, 0, time.FixedZone("Europe/Paris", 3600))}, true},
		{"nom différent", base, bourse.Identity{Nom: "BOULOT", Prenom: "Amandine", DateNaissance: ne}, false},
		{"prénom différent", base, bourse.Identity{Nom: "BOULET", Prenom: "Amandina", DateNaissance: ne}, false},
		{"prénom composé incomplet", base, bourse.Identity{Nom: "BOULET", Prenom: "Amandine Marie", DateNaissance: ne}, false},
		{"nom et prénom inversés", base, bourse.Identity{Nom: "Amandine", Prenom: "BOULET", DateNaissance: ne}, false},
		{"né le lendemain", base, bourse.Identity{Nom: "BOULET", Prenom: "Amandine", DateNaissance: day(1996, 11, 29)}, false},
		{"né un an plus tôt", base, bourse.Identity{Nom: "BOULET", Prenom: "Amandine", DateNaissance: day(1995, 11, 28)}, false},
		{"jour et mois inversés", bourse.Identity{Nom: "BOULET", Prenom: "Amandine", DateNaissance: day(1996, 3, 4)},
			bourse.Identity{Nom: "BOULET", Prenom: "Amandine", DateNaissance: day(1996, 4, 3)}, false},
		{"sans date de naissance", base, bourse.Identity{Nom: "BOULET", Prenom: "Amandine"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.a.Correspond(tc.b); got != tc.want {
				t.Errorf("%+v.Correspond(%+v):\n got %v\nwant %v", tc.a, tc.b, got, tc.want)
			}
			if got := tc.b.Correspond(tc.a); got != tc.want {
				t.Errorf("%+v.Correspond(%+v) (symétrie):\n got %v\nwant %v", tc.b, tc.a, got, tc.want)
			}
		})
	}
}
