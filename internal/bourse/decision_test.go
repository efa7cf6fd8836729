package bourse_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aglae-connector/aglae-connector/internal/bourse"
)

// The year of every lookup below, and the identifiers of the students.
const (
	annee = 2014

	ine          = "1111037734L" // Amandine BOULET, as Aglaé knows her
	ineHomonyme  = "123456789AB" // another Amandine BOULET, born the same day
	inePaul      = "0DDG5R00015" // Paul DURAND
	ineApogee    = "2014D00042B" // the provisional INE Apogée gave a foreign student
	ineCrous     = "2014D00917K" // the number the CROUS gave the same student
	aucunDossier = "9876543210Z" // an identifier Aglaé does not know
)

// jour returns the date y-m-d, at midnight UTC.
func jour(y int, m time.Month, d int) time.Time {
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

var (
	amandine = bourse.Identite{Nom: "BOULET", Prenom: "Amandine", DateNaissance: jour(1996, 11, 28)}
	paul     = bourse.Identite{Nom: "DURAND", Prenom: "Paul", DateNaissance: jour(1995, 3, 2)}
	lan      = bourse.Identite{Nom: "NGUYEN", Prenom: "Thi Lan", DateNaissance: jour(1997, 5, 9)}
)

// Decision dates, oldest first.
var (
	juin      = jour(2014, 6, 12)
	juillet   = jour(2014, 7, 3)
	septembre = jour(2014, 9, 20)
)

func definitive(echelon string, date time.Time) *bourse.Decision {
	return &bourse.Decision{Nature: bourse.NatureDefinitive, Echelon: echelon, Date: date}
}

func conditionnelle(echelon string, date time.Time) *bourse.Decision {
	return &bourse.Decision{Nature: bourse.NatureConditionnelle, Echelon: echelon, Date: date}
}

// sousReserve is a conditional decision sous réserve de progression.
func sousReserve(echelon string, date time.Time, verifiee bool) *bourse.Decision {
	return &bourse.Decision{
		Nature: bourse.NatureConditionnelle, Echelon: echelon, Date: date,
		SousReserveProgression: true, ProgressionVerifiee: verifiee,
	}
}

func rejet(date time.Time) *bourse.Decision {
	return &bourse.Decision{Nature: bourse.NatureRejet, Date: date}
}

// dossierDe returns the dossier of year annee filed in académie acad by the
// student known to Aglaé as id, with identity idt.
func dossierDe(id string, idt bourse.Identite, acad string, etat bourse.Etat, dec *bourse.Decision) bourse.Dossier {
	return bourse.Dossier{
		NumeroDossier: fmt.Sprintf("%d%s%s", annee, acad, id),
		Identifiant:   id,
		Annee:         annee,
		Identite:      idt,
		Etat:          etat,
		Decision:      dec,
	}
}

// dossier returns a dossier of Amandine BOULET (ine).
func dossier(acad string, etat bourse.Etat, dec *bourse.Decision) bourse.Dossier {
	return dossierDe(ine, amandine, acad, etat, dec)
}

// enAnnee moves x to academic year a.
func enAnnee(x bourse.Dossier, a int) bourse.Dossier {
	x.Annee = a
	x.NumeroDossier = fmt.Sprintf("%d%s", a, x.NumeroDossier[4:])
	return x
}

// num is the number of the dossier of ine filed in académie acad.
func num(acad string) string { return fmt.Sprintf("%d%s%s", annee, acad, ine) }

// ecarts lists, one per line, the fields of got that differ from want.
func ecarts(got, want bourse.Reponse) string {
	var b strings.Builder
	g, w := reflect.ValueOf(got), reflect.ValueOf(want)
	for i := range g.NumField() {
		if gf, wf := g.Field(i).Interface(), w.Field(i).Interface(); gf != wf {
			fmt.Fprintf(&b, "\n  %s: got %q, want %q", g.Type().Field(i).Name, fmt.Sprint(gf), fmt.Sprint(wf))
		}
	}
	return b.String()
}

// verifier compares got and want field by field, then checks the rules of
// SPEC §3 that hold for every answer.
func verifier(t *testing.T, d bourse.Demande, got, want bourse.Reponse) {
	t.Helper()
	if got != want {
		t.Errorf("Decider:\n got %+v\nwant %+v%s", got, want, ecarts(got, want))
	}
	for _, msg := range incoherences(d, got) {
		t.Errorf("Decider: %s in %+v", msg, got)
	}
}

// incoherences returns the rules of SPEC §3 that r breaks, whatever the
// dossiers: the echo of the demande, which fields go with which statut, and
// that an internal reason is always recorded.
func incoherences(d bourse.Demande, r bourse.Reponse) []string {
	var out []string
	add := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	if r.Identifiant != d.Identifiant || r.AnneeUniversitaire != d.Annee {
		add("answer for (%q, %d), asked (%q, %d)", r.Identifiant, r.AnneeUniversitaire, d.Identifiant, d.Annee)
	}
	switch r.Statut {
	case bourse.StatutBoursier:
		if r.TypeDecision != bourse.TypeDefinitive && r.TypeDecision != bourse.TypeConditionnelle {
			add("BOURSIER with typeDecision %q", r.TypeDecision)
		}
		if r.Echelon == "" {
			add("BOURSIER without échelon")
		}
	case bourse.StatutEnAttente, bourse.StatutNonBoursier, bourse.StatutInconnu:
		if r.TypeDecision != "" || r.Echelon != "" {
			add("%s with typeDecision %q, échelon %q", r.Statut, r.TypeDecision, r.Echelon)
		}
	default:
		add("unknown statut %q", r.Statut)
	}
	if r.Statut == bourse.StatutInconnu && (r.NumeroDossier != "" || r.Correspondance != "" || r.IdentifiantAglae != "") {
		add("INCONNU names a dossier")
	}
	if (r.NumeroDossier != "") != (r.Correspondance != "") {
		add("numeroDossier %q with correspondance %q", r.NumeroDossier, r.Correspondance)
	}
	if (r.Correspondance == bourse.ParIdentite) != (r.IdentifiantAglae != "") {
		add("correspondance %q with identifiantAglae %q", r.Correspondance, r.IdentifiantAglae)
	}
	if r.Anomalie != "" && (r.Statut != bourse.StatutEnAttente || r.NumeroDossier != "") {
		add("anomalie %q on a %s answer naming %q", r.Anomalie, r.Statut, r.NumeroDossier)
	}
	if r.Raison == "" {
		add("no internal reason")
	}
	return out
}

// parIne is the plain lookup of ine, without identity.
var parIne = bourse.Demande{Identifiant: ine, Annee: annee}

// Answers of the lookup parIne, by the row of the decision table that gave them.
func inconnu(raison bourse.Raison) bourse.Reponse {
	return bourse.Reponse{Identifiant: ine, AnneeUniversitaire: annee, Statut: bourse.StatutInconnu, Raison: raison}
}

func boursier(t bourse.TypeDecision, echelon, numero string, raison bourse.Raison) bourse.Reponse {
	return bourse.Reponse{
		Identifiant: ine, AnneeUniversitaire: annee, Statut: bourse.StatutBoursier,
		TypeDecision: t, Echelon: echelon, NumeroDossier: numero, Correspondance: bourse.ParIdentifiant,
		Raison: raison,
	}
}

func enAttente(numero string, raison bourse.Raison) bourse.Reponse {
	return bourse.Reponse{
		Identifiant: ine, AnneeUniversitaire: annee, Statut: bourse.StatutEnAttente,
		NumeroDossier: numero, Correspondance: bourse.ParIdentifiant, Raison: raison,
	}
}

func nonBoursier(numero string) bourse.Reponse {
	return bourse.Reponse{
		Identifiant: ine, AnneeUniversitaire: annee, Statut: bourse.StatutNonBoursier,
		NumeroDossier: numero, Correspondance: bourse.ParIdentifiant, Raison: bourse.RaisonRejet,
	}
}

// TestDeciderTableauDecision has one case per row of the decision table of
// SPEC §3, for a student with one dossier, then the rows' order (first
// matching row) and the year.
func TestDeciderTableauDecision(t *testing.T) {
	mon := num("MON")
	tests := []struct {
		name     string
		dossiers []bourse.Dossier
		want     bourse.Reponse
	}{
		{
			name: "aucun dossier: INCONNU",
			want: inconnu(bourse.RaisonAucunDossier),
		},
		{
			name:     "ANNULE seul, même avec une attribution définitive: ignoré, INCONNU",
			dossiers: []bourse.Dossier{dossier("MON", bourse.EtatAnnule, definitive("5", juillet))},
			want:     inconnu(bourse.RaisonAucunDossier),
		},
		{
			name:     "ANNULE seul sans décision: INCONNU",
			dossiers: []bourse.Dossier{dossier("MON", bourse.EtatAnnule, nil)},
			want:     inconnu(bourse.RaisonAucunDossier),
		},
		{
			name:     "ATTRIBUTION_DEFINITIVE: BOURSIER DEFINITIVE avec l'échelon",
			dossiers: []bourse.Dossier{dossier("MON", bourse.EtatValide, definitive("5", juillet))},
			want:     boursier(bourse.TypeDefinitive, "5", mon, bourse.RaisonDefinitive),
		},
		{
			name:     "ATTRIBUTION_DEFINITIVE échelon 0bis",
			dossiers: []bourse.Dossier{dossier("MON", bourse.EtatValide, definitive("0bis", juillet))},
			want:     boursier(bourse.TypeDefinitive, "0bis", mon, bourse.RaisonDefinitive),
		},
		{
			name:     "REJET: NON_BOURSIER",
			dossiers: []bourse.Dossier{dossier("MON", bourse.EtatValide, rejet(juillet))},
			want:     nonBoursier(mon),
		},
		{
			name:     "NON_TRAITE: EN_ATTENTE",
			dossiers: []bourse.Dossier{dossier("MON", bourse.EtatNonTraite, nil)},
			want:     enAttente(mon, bourse.RaisonNonTraite),
		},
		{
			name:     "PIECES_MANQUANTES: EN_ATTENTE",
			dossiers: []bourse.Dossier{dossier("MON", bourse.EtatPiecesManquantes, nil)},
			want:     enAttente(mon, bourse.RaisonPiecesManquantes),
		},
		{
			name:     "VALIDE, conditionnelle sous réserve de progression non vérifiée: EN_ATTENTE",
			dossiers: []bourse.Dossier{dossier("MON", bourse.EtatValide, sousReserve("3", juin, false))},
			want:     enAttente(mon, bourse.RaisonProgressionAVerifier),
		},
		{
			name:     "VALIDE, conditionnelle sous réserve de progression vérifiée: BOURSIER CONDITIONNELLE",
			dossiers: []bourse.Dossier{dossier("MON", bourse.EtatValide, sousReserve("3", juin, true))},
			want:     boursier(bourse.TypeConditionnelle, "3", mon, bourse.RaisonConditionnelle),
		},
		{
			name:     "VALIDE, conditionnelle: BOURSIER CONDITIONNELLE",
			dossiers: []bourse.Dossier{dossier("MON", bourse.EtatValide, conditionnelle("1", juin))},
			want:     boursier(bourse.TypeConditionnelle, "1", mon, bourse.RaisonConditionnelle),
		},
		{
			name:     "VALIDE, pas encore de décision: EN_ATTENTE",
			dossiers: []bourse.Dossier{dossier("MON", bourse.EtatValide, nil)},
			want:     enAttente(mon, bourse.RaisonNonTraite),
		},

		// First matching row: a decision DEFINITIVE or REJET answers whatever
		// the state; a conditional one only on a VALIDE dossier.
		{
			name:     "première ligne: PIECES_MANQUANTES et ATTRIBUTION_DEFINITIVE: BOURSIER DEFINITIVE",
			dossiers: []bourse.Dossier{dossier("MON", bourse.EtatPiecesManquantes, definitive("2", septembre))},
			want:     boursier(bourse.TypeDefinitive, "2", mon, bourse.RaisonDefinitive),
		},
		{
			name:     "première ligne: PIECES_MANQUANTES et REJET: NON_BOURSIER",
			dossiers: []bourse.Dossier{dossier("MON", bourse.EtatPiecesManquantes, rejet(septembre))},
			want:     nonBoursier(mon),
		},
		{
			name:     "première ligne: PIECES_MANQUANTES et conditionnelle: EN_ATTENTE PIECES_MANQUANTES",
			dossiers: []bourse.Dossier{dossier("MON", bourse.EtatPiecesManquantes, conditionnelle("1", juin))},
			want:     enAttente(mon, bourse.RaisonPiecesManquantes),
		},

		// The year.
		{
			name:     "dossier d'une autre année ignoré: INCONNU",
			dossiers: []bourse.Dossier{enAnnee(dossier("MON", bourse.EtatValide, definitive("5", juillet)), annee-1)},
			want:     inconnu(bourse.RaisonAucunDossier),
		},
		{
			name:     "dossier de l'année suivante ignoré: INCONNU",
			dossiers: []bourse.Dossier{enAnnee(dossier("MON", bourse.EtatValide, definitive("5", juillet)), annee+1)},
			want:     inconnu(bourse.RaisonAucunDossier),
		},
		{
			name: "dossier d'une autre année ignoré, même meilleur que celui de l'année",
			dossiers: []bourse.Dossier{
				enAnnee(dossier("MON", bourse.EtatValide, definitive("5", jour(2013, 9, 1))), annee-1),
				dossier("MON", bourse.EtatNonTraite, nil),
			},
			want: enAttente(mon, bourse.RaisonNonTraite),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := bourse.Decider(parIne, tc.dossiers, nil)
			verifier(t, parIne, got, tc.want)
		})
	}
}

// permutations returns every order of 0 … n-1.
func permutations(n int) [][]int {
	if n == 0 {
		return [][]int{{}}
	}
	var out [][]int
	for _, p := range permutations(n - 1) {
		for i := 0; i <= len(p); i++ {
			q := make([]int, 0, n)
			q = append(q, p[:i]...)
			q = append(q, n-1)
			q = append(q, p[i:]...)
			out = append(out, q)
		}
	}
	return out
}

// copie returns a deep copy of ds, to show Decider leaves its input alone.
func copie(ds []bourse.Dossier) []bourse.Dossier {
	out := make([]bourse.Dossier, len(ds))
	for i, x := range ds {
		if x.Decision != nil {
			dec := *x.Decision
			x.Decision = &dec
		}
		out[i] = x
	}
	return out
}

// TestDeciderPlusieursDossiers checks the rule for a student with several
// dossiers for a year: the best answer wins, DEFINITIVE > CONDITIONNELLE >
// EN_ATTENTE > NON_BOURSIER, and on a tie the most recent decision, then the
// smallest dossier number. Each case runs in every input order. In the rank
// cases the winner has the larger number and the older decision (or none),
// so that only its rank can explain its win.
func TestDeciderPlusieursDossiers(t *testing.T) {
	ami, mon, par := num("AMI"), num("MON"), num("PAR")
	tests := []struct {
		name     string
		dossiers []bourse.Dossier
		want     bourse.Reponse
	}{
		// Each adjacent pair of the order.
		{
			name: "DEFINITIVE > CONDITIONNELLE",
			dossiers: []bourse.Dossier{
				dossier("PAR", bourse.EtatValide, definitive("4", juin)),
				dossier("MON", bourse.EtatValide, conditionnelle("6", septembre)),
			},
			want: boursier(bourse.TypeDefinitive, "4", par, bourse.RaisonDefinitive),
		},
		{
			name: "CONDITIONNELLE > EN_ATTENTE",
			dossiers: []bourse.Dossier{
				dossier("PAR", bourse.EtatValide, conditionnelle("2", juin)),
				dossier("MON", bourse.EtatValide, sousReserve("6", septembre, false)),
			},
			want: boursier(bourse.TypeConditionnelle, "2", par, bourse.RaisonConditionnelle),
		},
		{
			name: "EN_ATTENTE > NON_BOURSIER",
			dossiers: []bourse.Dossier{
				dossier("PAR", bourse.EtatNonTraite, nil),
				dossier("MON", bourse.EtatValide, rejet(septembre)),
			},
			want: enAttente(par, bourse.RaisonNonTraite),
		},
		// And beyond.
		{
			name: "DEFINITIVE > NON_BOURSIER",
			dossiers: []bourse.Dossier{
				dossier("PAR", bourse.EtatValide, definitive("1", juin)),
				dossier("MON", bourse.EtatValide, rejet(septembre)),
			},
			want: boursier(bourse.TypeDefinitive, "1", par, bourse.RaisonDefinitive),
		},
		{
			name: "CONDITIONNELLE > NON_BOURSIER",
			dossiers: []bourse.Dossier{
				dossier("PAR", bourse.EtatValide, conditionnelle("1", juin)),
				dossier("MON", bourse.EtatValide, rejet(septembre)),
			},
			want: boursier(bourse.TypeConditionnelle, "1", par, bourse.RaisonConditionnelle),
		},
		{
			name: "DEFINITIVE > EN_ATTENTE",
			dossiers: []bourse.Dossier{
				dossier("PAR", bourse.EtatValide, definitive("7", juin)),
				dossier("MON", bourse.EtatPiecesManquantes, nil),
			},
			want: boursier(bourse.TypeDefinitive, "7", par, bourse.RaisonDefinitive),
		},
		{
			name: "quatre dossiers, un par rang: DEFINITIVE",
			dossiers: []bourse.Dossier{
				dossier("PAR", bourse.EtatValide, definitive("3", juin)),
				dossier("AMI", bourse.EtatValide, conditionnelle("5", juillet)),
				dossier("MON", bourse.EtatNonTraite, nil),
				dossier("LYO", bourse.EtatValide, rejet(septembre)),
			},
			want: boursier(bourse.TypeDefinitive, "3", par, bourse.RaisonDefinitive),
		},

		// Cancelled dossiers among others.
		{
			name: "ANNULE avec attribution définitive écarté: l'autre dossier répond",
			dossiers: []bourse.Dossier{
				dossier("AMI", bourse.EtatAnnule, definitive("7", septembre)),
				dossier("MON", bourse.EtatNonTraite, nil),
			},
			want: enAttente(mon, bourse.RaisonNonTraite),
		},
		{
			name: "ANNULE écarté devant un REJET: NON_BOURSIER",
			dossiers: []bourse.Dossier{
				dossier("AMI", bourse.EtatAnnule, conditionnelle("2", septembre)),
				dossier("MON", bourse.EtatValide, rejet(juin)),
			},
			want: nonBoursier(mon),
		},
		{
			name: "deux ANNULE: INCONNU",
			dossiers: []bourse.Dossier{
				dossier("AMI", bourse.EtatAnnule, definitive("7", septembre)),
				dossier("MON", bourse.EtatAnnule, nil),
			},
			want: inconnu(bourse.RaisonAucunDossier),
		},
		{
			name: "autre année et ANNULE écartés: le dossier restant répond",
			dossiers: []bourse.Dossier{
				enAnnee(dossier("MON", bourse.EtatValide, definitive("7", jour(2013, 9, 1))), annee-1),
				dossier("AMI", bourse.EtatAnnule, definitive("7", septembre)),
				dossier("PAR", bourse.EtatValide, sousReserve("2", juin, false)),
			},
			want: enAttente(par, bourse.RaisonProgressionAVerifier),
		},

		// Ties.
		{
			name: "égalité DEFINITIVE: la décision la plus récente",
			dossiers: []bourse.Dossier{
				dossier("AMI", bourse.EtatValide, definitive("2", juin)),
				dossier("PAR", bourse.EtatValide, definitive("3", septembre)),
				dossier("MON", bourse.EtatValide, definitive("4", juillet)),
			},
			want: boursier(bourse.TypeDefinitive, "3", par, bourse.RaisonDefinitive),
		},
		{
			name: "égalité DEFINITIVE, même date: le plus petit numéro",
			dossiers: []bourse.Dossier{
				dossier("PAR", bourse.EtatValide, definitive("3", septembre)),
				dossier("AMI", bourse.EtatValide, definitive("2", septembre)),
				dossier("MON", bourse.EtatValide, definitive("4", septembre)),
			},
			want: boursier(bourse.TypeDefinitive, "2", ami, bourse.RaisonDefinitive),
		},
		{
			name: "égalité CONDITIONNELLE: la décision la plus récente",
			dossiers: []bourse.Dossier{
				dossier("AMI", bourse.EtatValide, conditionnelle("1", juin)),
				dossier("PAR", bourse.EtatValide, sousReserve("2", juillet, true)),
			},
			want: boursier(bourse.TypeConditionnelle, "2", par, bourse.RaisonConditionnelle),
		},
		{
			name: "égalité CONDITIONNELLE, même date: le plus petit numéro",
			dossiers: []bourse.Dossier{
				dossier("PAR", bourse.EtatValide, conditionnelle("1", juin)),
				dossier("MON", bourse.EtatValide, sousReserve("2", juin, true)),
			},
			want: boursier(bourse.TypeConditionnelle, "2", mon, bourse.RaisonConditionnelle),
		},
		{
			name: "égalité EN_ATTENTE: un dossier avec décision l'emporte sur un dossier sans décision",
			dossiers: []bourse.Dossier{
				dossier("AMI", bourse.EtatNonTraite, nil),
				dossier("PAR", bourse.EtatValide, sousReserve("2", juin, false)),
			},
			want: enAttente(par, bourse.RaisonProgressionAVerifier),
		},
		{
			name: "égalité EN_ATTENTE, sans décision: le plus petit numéro",
			dossiers: []bourse.Dossier{
				dossier("PAR", bourse.EtatNonTraite, nil),
				dossier("AMI", bourse.EtatPiecesManquantes, nil),
				dossier("MON", bourse.EtatValide, nil),
			},
			want: enAttente(ami, bourse.RaisonPiecesManquantes),
		},
		{
			name: "égalité EN_ATTENTE, deux décisions: la plus récente",
			dossiers: []bourse.Dossier{
				dossier("AMI", bourse.EtatValide, sousReserve("2", juin, false)),
				dossier("MON", bourse.EtatPiecesManquantes, conditionnelle("3", juillet)),
			},
			want: enAttente(mon, bourse.RaisonPiecesManquantes),
		},
		{
			name: "égalité NON_BOURSIER: le rejet le plus récent",
			dossiers: []bourse.Dossier{
				dossier("AMI", bourse.EtatValide, rejet(juin)),
				dossier("PAR", bourse.EtatValide, rejet(septembre)),
			},
			want: nonBoursier(par),
		},
		{
			name: "égalité NON_BOURSIER, même date: le plus petit numéro",
			dossiers: []bourse.Dossier{
				dossier("PAR", bourse.EtatValide, rejet(juin)),
				dossier("MON", bourse.EtatValide, rejet(juin)),
			},
			want: nonBoursier(mon),
		},
	}
	for _, tc := range tests {
		for _, ordre := range permutations(len(tc.dossiers)) {
			in := make([]bourse.Dossier, len(ordre))
			noms := make([]string, len(ordre))
			for i, j := range ordre {
				in[i] = tc.dossiers[j]
				noms[i] = tc.dossiers[j].NumeroDossier[4:7]
			}
			t.Run(tc.name+"/"+strings.Join(noms, ","), func(t *testing.T) {
				avant := copie(in)
				got := bourse.Decider(parIne, in, nil)
				verifier(t, parIne, got, tc.want)
				if !reflect.DeepEqual(in, avant) {
					t.Errorf("Decider changed its input:\n got %+v\nwant %+v", in, avant)
				}
			})
		}
	}
}

// TestDeciderIdentite checks the identity rules of SPEC §3: a mistyped
// number, a number that differs from the one Aglaé knows, homonyms, the
// lookup by identity only, and how names are folded before they compare.
func TestDeciderIdentite(t *testing.T) {
	avec := func(id string, idt bourse.Identite) bourse.Demande {
		return bourse.Demande{Identifiant: id, Annee: annee, Identite: &idt}
	}
	mon := num("MON")
	crousMon := dossierDe(ineCrous, lan, "MON", bourse.EtatValide, conditionnelle("4", juin))

	// parIdentite answers a lookup of ineApogee or of no identifier that the
	// identity found in the dossier numero of identifiantAglae.
	parIdentite := func(d bourse.Demande, st bourse.Statut, t bourse.TypeDecision, echelon, numero, identifiantAglae string, raison bourse.Raison) bourse.Reponse {
		return bourse.Reponse{
			Identifiant: d.Identifiant, AnneeUniversitaire: annee, Statut: st, TypeDecision: t, Echelon: echelon,
			NumeroDossier: numero, Correspondance: bourse.ParIdentite, IdentifiantAglae: identifiantAglae,
			Raison: raison,
		}
	}
	differente := func(d bourse.Demande) bourse.Reponse {
		return bourse.Reponse{
			Identifiant: d.Identifiant, AnneeUniversitaire: annee, Statut: bourse.StatutEnAttente,
			Anomalie: bourse.AnomalieIdentiteDifferente, Raison: bourse.RaisonIdentiteDifferente,
		}
	}
	sansReponse := func(d bourse.Demande, raison bourse.Raison) bourse.Reponse {
		return bourse.Reponse{Identifiant: d.Identifiant, AnneeUniversitaire: annee, Statut: bourse.StatutInconnu, Raison: raison}
	}

	autreNom := amandine
	autreNom.Nom = "BOULOT"
	autrePrenom := amandine
	autrePrenom.Prenom = "Amandina"
	autreDate := amandine
	autreDate.DateNaissance = jour(1996, 11, 29)

	type cas struct {
		name           string
		d              bourse.Demande
		parIdentifiant []bourse.Dossier
		parIdentite    []bourse.Dossier
		want           bourse.Reponse
	}
	tests := []cas{
		{
			name:           "identité concordante: réponse habituelle, IDENTIFIANT",
			d:              avec(ine, amandine),
			parIdentifiant: []bourse.Dossier{dossier("MON", bourse.EtatValide, definitive("5", juillet))},
			parIdentite:    []bourse.Dossier{dossier("MON", bourse.EtatValide, definitive("5", juillet))},
			want:           boursier(bourse.TypeDefinitive, "5", mon, bourse.RaisonDefinitive),
		},
		{
			name:           "identité concordante, EN_ATTENTE sans anomalie",
			d:              avec(ine, amandine),
			parIdentifiant: []bourse.Dossier{dossier("MON", bourse.EtatPiecesManquantes, nil)},
			parIdentite:    []bourse.Dossier{dossier("MON", bourse.EtatPiecesManquantes, nil)},
			want:           enAttente(mon, bourse.RaisonPiecesManquantes),
		},
		{
			name:           "nom différent: EN_ATTENTE IDENTITE_DIFFERENTE, rien du dossier",
			d:              avec(ine, autreNom),
			parIdentifiant: []bourse.Dossier{dossier("MON", bourse.EtatValide, definitive("5", juillet))},
			want:           differente(avec(ine, autreNom)),
		},
		{
			name:           "prénom différent: EN_ATTENTE IDENTITE_DIFFERENTE, rien du dossier",
			d:              avec(ine, autrePrenom),
			parIdentifiant: []bourse.Dossier{dossier("MON", bourse.EtatValide, conditionnelle("2", juin))},
			want:           differente(avec(ine, autrePrenom)),
		},
		{
			name:           "date de naissance différente d'un jour: EN_ATTENTE IDENTITE_DIFFERENTE, rien du dossier",
			d:              avec(ine, autreDate),
			parIdentifiant: []bourse.Dossier{dossier("MON", bourse.EtatValide, rejet(juin))},
			want:           differente(avec(ine, autreDate)),
		},
		{
			name:           "identité différente même si elle trouve un autre identifiant: EN_ATTENTE IDENTITE_DIFFERENTE",
			d:              avec(ine, paul),
			parIdentifiant: []bourse.Dossier{dossier("MON", bourse.EtatValide, definitive("5", juillet))},
			parIdentite:    []bourse.Dossier{dossierDe(inePaul, paul, "PAR", bourse.EtatValide, definitive("6", juin))},
			want:           differente(avec(ine, paul)),
		},
		{
			name: "un des deux dossiers d'une autre identité: l'autre répond, même moins bon",
			d:    avec(ine, amandine),
			parIdentifiant: []bourse.Dossier{
				dossierDe(ine, paul, "AMI", bourse.EtatValide, definitive("7", septembre)),
				dossier("MON", bourse.EtatNonTraite, nil),
			},
			parIdentite: []bourse.Dossier{dossier("MON", bourse.EtatNonTraite, nil)},
			want:        enAttente(mon, bourse.RaisonNonTraite),
		},
		{
			name: "seul dossier concordant annulé: IDENTITE_DIFFERENTE",
			d:    avec(ine, amandine),
			parIdentifiant: []bourse.Dossier{
				dossierDe(ine, paul, "AMI", bourse.EtatValide, definitive("7", septembre)),
				dossier("MON", bourse.EtatAnnule, definitive("1", juin)),
			},
			want: differente(avec(ine, amandine)),
		},
		{
			name:        "identifiant inconnu, un seul autre identifiant de cette identité: sa réponse, IDENTITE",
			d:           avec(ineApogee, lan),
			parIdentite: []bourse.Dossier{crousMon},
			want: parIdentite(avec(ineApogee, lan), bourse.StatutBoursier, bourse.TypeConditionnelle, "4",
				crousMon.NumeroDossier, ineCrous, bourse.RaisonConditionnelle),
		},
		{
			name: "identifiant inconnu, deux dossiers du même autre identifiant: le meilleur",
			d:    avec(ineApogee, lan),
			parIdentite: []bourse.Dossier{
				dossierDe(ineCrous, lan, "AMI", bourse.EtatValide, rejet(septembre)),
				dossierDe(ineCrous, lan, "PAR", bourse.EtatValide, definitive("6", juin)),
			},
			want: parIdentite(avec(ineApogee, lan), bourse.StatutBoursier, bourse.TypeDefinitive, "6",
				"2014PAR"+ineCrous, ineCrous, bourse.RaisonDefinitive),
		},
		{
			name: "identifiant inconnu, deux dossiers EN_ATTENTE du même autre identifiant: le plus petit numéro",
			d:    avec(ineApogee, lan),
			parIdentite: []bourse.Dossier{
				dossierDe(ineCrous, lan, "PAR", bourse.EtatNonTraite, nil),
				dossierDe(ineCrous, lan, "AMI", bourse.EtatPiecesManquantes, nil),
			},
			want: parIdentite(avec(ineApogee, lan), bourse.StatutEnAttente, "", "",
				"2014AMI"+ineCrous, ineCrous, bourse.RaisonPiecesManquantes),
		},
		{
			name: "identifiant inconnu, homonymes sous deux identifiants: INCONNU IDENTITE_AMBIGUE",
			d:    avec(aucunDossier, amandine),
			parIdentite: []bourse.Dossier{
				dossier("MON", bourse.EtatValide, definitive("5", juillet)),
				dossierDe(ineHomonyme, amandine, "LYO", bourse.EtatValide, definitive("5", juillet)),
			},
			want: sansReponse(avec(aucunDossier, amandine), bourse.RaisonIdentiteAmbigue),
		},
		{
			name: "identifiant inconnu, homonyme annulé: un seul identifiant, sa réponse",
			d:    avec(aucunDossier, amandine),
			parIdentite: []bourse.Dossier{
				dossier("MON", bourse.EtatValide, definitive("5", juillet)),
				dossierDe(ineHomonyme, amandine, "LYO", bourse.EtatAnnule, definitive("5", juillet)),
			},
			want: parIdentite(avec(aucunDossier, amandine), bourse.StatutBoursier, bourse.TypeDefinitive, "5",
				mon, ine, bourse.RaisonDefinitive),
		},
		{
			name: "identifiant inconnu, homonyme d'une autre année: un seul identifiant, sa réponse",
			d:    avec(aucunDossier, amandine),
			parIdentite: []bourse.Dossier{
				dossier("MON", bourse.EtatValide, rejet(juillet)),
				enAnnee(dossierDe(ineHomonyme, amandine, "LYO", bourse.EtatValide, definitive("5", juillet)), annee-1),
			},
			want: parIdentite(avec(aucunDossier, amandine), bourse.StatutNonBoursier, "", "",
				mon, ine, bourse.RaisonRejet),
		},
		{
			name:        "identifiant inconnu, l'identité ne trouve rien: INCONNU",
			d:           avec(aucunDossier, amandine),
			parIdentite: nil,
			want:        sansReponse(avec(aucunDossier, amandine), bourse.RaisonAucunDossier),
		},
		{
			name:        "identifiant inconnu, seul dossier de l'identité d'une autre année: INCONNU",
			d:           avec(aucunDossier, amandine),
			parIdentite: []bourse.Dossier{enAnnee(dossier("MON", bourse.EtatValide, definitive("5", juillet)), annee-1)},
			want:        sansReponse(avec(aucunDossier, amandine), bourse.RaisonAucunDossier),
		},
		{
			name:        "identifiant inconnu, dossier d'une autre identité rendu par le magasin: écarté, INCONNU",
			d:           avec(aucunDossier, amandine),
			parIdentite: []bourse.Dossier{dossierDe(inePaul, paul, "PAR", bourse.EtatValide, definitive("6", juin))},
			want:        sansReponse(avec(aucunDossier, amandine), bourse.RaisonAucunDossier),
		},
		{
			name:           "seul dossier de l'identifiant annulé, l'identité trouve un autre identifiant: IDENTITE",
			d:              avec(ineApogee, lan),
			parIdentifiant: []bourse.Dossier{dossierDe(ineApogee, lan, "MON", bourse.EtatAnnule, definitive("1", juin))},
			parIdentite: []bourse.Dossier{
				dossierDe(ineApogee, lan, "MON", bourse.EtatAnnule, definitive("1", juin)),
				crousMon,
			},
			want: parIdentite(avec(ineApogee, lan), bourse.StatutBoursier, bourse.TypeConditionnelle, "4",
				crousMon.NumeroDossier, ineCrous, bourse.RaisonConditionnelle),
		},
		{
			name:           "sans identité, l'identifiant inconnu reste INCONNU",
			d:              bourse.Demande{Identifiant: ineApogee, Annee: annee},
			parIdentifiant: nil,
			parIdentite:    []bourse.Dossier{crousMon},
			want:           sansReponse(bourse.Demande{Identifiant: ineApogee, Annee: annee}, bourse.RaisonAucunDossier),
		},

		// Identity only: a web registration without a number.
		{
			name:        "identité seule, trouvée: IDENTITE avec identifiantAglae",
			d:           avec("", lan),
			parIdentite: []bourse.Dossier{crousMon},
			want: parIdentite(avec("", lan), bourse.StatutBoursier, bourse.TypeConditionnelle, "4",
				crousMon.NumeroDossier, ineCrous, bourse.RaisonConditionnelle),
		},
		{
			name:        "identité seule, trouvée EN_ATTENTE",
			d:           avec("", amandine),
			parIdentite: []bourse.Dossier{dossier("MON", bourse.EtatValide, sousReserve("2", juin, false))},
			want: parIdentite(avec("", amandine), bourse.StatutEnAttente, "", "",
				mon, ine, bourse.RaisonProgressionAVerifier),
		},
		{
			name: "identité seule, introuvable: INCONNU",
			d:    avec("", lan),
			want: sansReponse(avec("", lan), bourse.RaisonAucunDossier),
		},
		{
			name: "identité seule, ambiguë: INCONNU IDENTITE_AMBIGUE",
			d:    avec("", amandine),
			parIdentite: []bourse.Dossier{
				dossier("MON", bourse.EtatValide, conditionnelle("1", juin)),
				dossierDe(ineHomonyme, amandine, "LYO", bourse.EtatNonTraite, nil),
			},
			want: sansReponse(avec("", amandine), bourse.RaisonIdentiteAmbigue),
		},
		{
			name: "identité seule, trois homonymes: INCONNU IDENTITE_AMBIGUE",
			d:    avec("", amandine),
			parIdentite: []bourse.Dossier{
				dossier("MON", bourse.EtatValide, conditionnelle("1", juin)),
				dossier("PAR", bourse.EtatValide, rejet(juin)),
				dossierDe(ineHomonyme, amandine, "LYO", bourse.EtatNonTraite, nil),
				dossierDe("2015D00001A", amandine, "NCY", bourse.EtatValide, definitive("3", juin)),
			},
			want: sansReponse(avec("", amandine), bourse.RaisonIdentiteAmbigue),
		},
	}

	// Folding: the identity typed at registration, against Aglaé's. Each pair
	// is tried on a lookup by identifier (no IDENTITE_DIFFERENTE) and by
	// identity only (found).
	pliages := []struct {
		name         string
		aglae, saisi bourse.Identite
	}{
		{"accents Élodie/ELODIE",
			bourse.Identite{Nom: "MARTIN", Prenom: "ELODIE", DateNaissance: jour(1998, 1, 5)},
			bourse.Identite{Nom: "Martin", Prenom: "Élodie", DateNaissance: jour(1998, 1, 5)}},
		{"accents et casse du nom Hélène/LEFÈVRE",
			bourse.Identite{Nom: "LEFEVRE", Prenom: "HELENE", DateNaissance: jour(1998, 1, 5)},
			bourse.Identite{Nom: "lefèvre", Prenom: "hélène", DateNaissance: jour(1998, 1, 5)}},
		{"casse boulet/amandine",
			amandine,
			bourse.Identite{Nom: "boulet", Prenom: "AMANDINE", DateNaissance: amandine.DateNaissance}},
		{"tirets et espaces Jean-Pierre/jean pierre",
			bourse.Identite{Nom: "LE BOULCH", Prenom: "Jean-Pierre", DateNaissance: jour(1997, 2, 14)},
			bourse.Identite{Nom: "Le-Boulch", Prenom: "jean pierre", DateNaissance: jour(1997, 2, 14)}},
		{"apostrophe N'Diaye/NDIAYE",
			bourse.Identite{Nom: "NDIAYE", Prenom: "Awa", DateNaissance: jour(1999, 8, 30)},
			bourse.Identite{Nom: "N'Diaye", Prenom: "Awa", DateNaissance: jour(1999, 8, 30)}},
		{"apostrophe typographique N’DIAYE/N'Diaye",
			bourse.Identite{Nom: "N'Diaye", Prenom: "Awa", DateNaissance: jour(1999, 8, 30)},
			bourse.Identite{Nom: "N’DIAYE", Prenom: "Awa", DateNaissance: jour(1999, 8, 30)}},
		{"apostrophe typographique N’DIAYE/NDIAYE",
			bourse.Identite{Nom: "NDIAYE", Prenom: "Awa", DateNaissance: jour(1999, 8, 30)},
			bourse.Identite{Nom: "N’DIAYE", Prenom: "Awa", DateNaissance: jour(1999, 8, 30)}},
		{"ligature Cœur/COEUR",
			bourse.Identite{Nom: "COEUR", Prenom: "Anaïs", DateNaissance: jour(1996, 4, 1)},
			bourse.Identite{Nom: "Cœur", Prenom: "ANAIS", DateNaissance: jour(1996, 4, 1)}},
	}
	for _, p := range pliages {
		x := dossierDe(ineCrous, p.aglae, "MON", bourse.EtatValide, definitive("2", juillet))
		d := avec(ineCrous, p.saisi)
		tests = append(tests, cas{
			name:           "pliage, par identifiant: " + p.name,
			d:              d,
			parIdentifiant: []bourse.Dossier{x},
			parIdentite:    []bourse.Dossier{x},
			want: bourse.Reponse{
				Identifiant: ineCrous, AnneeUniversitaire: annee, Statut: bourse.StatutBoursier,
				TypeDecision: bourse.TypeDefinitive, Echelon: "2", NumeroDossier: x.NumeroDossier,
				Correspondance: bourse.ParIdentifiant, Raison: bourse.RaisonDefinitive,
			},
		}, cas{
			name:        "pliage, par identité seule: " + p.name,
			d:           avec("", p.saisi),
			parIdentite: []bourse.Dossier{x},
			want: parIdentite(avec("", p.saisi), bourse.StatutBoursier, bourse.TypeDefinitive, "2",
				x.NumeroDossier, ineCrous, bourse.RaisonDefinitive),
		})
	}

	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := bourse.Decider(tc.d, tc.parIdentifiant, tc.parIdentite)
			verifier(t, tc.d, got, tc.want)
		})
	}
}

// BenchmarkDecider measures the engine on a typical lookup (one dossier, no
// identity) and on a lookup with an identity whose identifier has three
// dossiers. Run with -benchmem to see the allocations.
func BenchmarkDecider(b *testing.B) {
	b.Run("un dossier", func(b *testing.B) {
		ds := []bourse.Dossier{dossier("MON", bourse.EtatValide, conditionnelle("1", juin))}
		b.ReportAllocs()
		for b.Loop() {
			bourse.Decider(parIne, ds, nil)
		}
	})
	b.Run("trois dossiers avec identité", func(b *testing.B) {
		d := bourse.Demande{
			Identifiant: ine, Annee: annee,
			Identite: &bourse.Identite{Nom: "Boulet", Prenom: "Amandine", DateNaissance: amandine.DateNaissance},
		}
		ds := []bourse.Dossier{
			dossier("AMI", bourse.EtatAnnule, nil),
			dossier("MON", bourse.EtatValide, conditionnelle("1", juin)),
			dossier("PAR", bourse.EtatValide, definitive("1", septembre)),
		}
		b.ReportAllocs()
		for b.Loop() {
			bourse.Decider(d, ds, ds)
		}
	})
}
