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
	homonymINE   = "123456789AB" // another Amandine BOULET, born the same day
	inePaul      = "0DDG5R00015" // Paul DURAND
	ineApogee    = "2014D00042B" // the provisional INE Apogée gave a foreign student
	ineCrous     = "2014D00917K" // the number the CROUS gave the same student
	aucunDossier = "9876543210Z" // an identifier Aglaé does not know
)

// day returns the date y-m-d, at midnight UTC.
func day(y int, m time.Month, d int) time.Time {
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

var (
	amandine = bourse.Identity{Nom: "BOULET", Prenom: "Amandine", DateNaissance: day(1996, 11, 28)}
	paul     = bourse.Identity{Nom: "DURAND", Prenom: "Paul", DateNaissance: day(1995, 3, 2)}
	lan      = bourse.Identity{Nom: "NGUYEN", Prenom: "Thi Lan", DateNaissance: day(1997, 5, 9)}
)

// Decision dates, oldest first.
var (
	june      = day(2014, 6, 12)
	july      = day(2014, 7, 3)
	september = day(2014, 9, 20)
)

func definitive(echelon string, date time.Time) *bourse.Decision {
	return &bourse.Decision{Nature: bourse.NatureDefinitive, Echelon: echelon, Date: date}
}

func conditionnelle(echelon string, date time.Time) *bourse.Decision {
	return &bourse.Decision{Nature: bourse.NatureConditionnelle, Echelon: echelon, Date: date}
}

// sousReserve is a conditional decision sous réserve de progression.
func sousReserve(echelon string, date time.Time, verified bool) *bourse.Decision {
	return &bourse.Decision{
		Nature: bourse.NatureConditionnelle, Echelon: echelon, Date: date,
		SousReserveProgression: true, ProgressionVerified: verified,
	}
}

func rejet(date time.Time) *bourse.Decision {
	return &bourse.Decision{Nature: bourse.NatureRejet, Date: date}
}

// dossierOf returns the dossier of year annee filed in académie acad by the
// student known to Aglaé as id, with identity idt.
func dossierOf(id string, idt bourse.Identity, acad string, etat bourse.Etat, dec *bourse.Decision) bourse.Dossier {
	return bourse.Dossier{
		NumeroDossier: fmt.Sprintf("%d%s%s", annee, acad, id),
		Identifiant:   id,
		Annee:         annee,
		Identity:      idt,
		Etat:          etat,
		Decision:      dec,
	}
}

// dossier returns a dossier of Amandine BOULET (ine).
func dossier(acad string, etat bourse.Etat, dec *bourse.Decision) bourse.Dossier {
	return dossierOf(ine, amandine, acad, etat, dec)
}

// inAnnee moves x to academic year a.
func inAnnee(x bourse.Dossier, a int) bourse.Dossier {
	x.Annee = a
	x.NumeroDossier = fmt.Sprintf("%d%s", a, x.NumeroDossier[4:])
	return x
}

// num is the number of the dossier of ine filed in académie acad.
func num(acad string) string { return fmt.Sprintf("%d%s%s", annee, acad, ine) }

// gaps lists, one per line, the fields of got that differ from want.
func gaps(got, want bourse.Reponse) string {
	var b strings.Builder
	g, w := reflect.ValueOf(got), reflect.ValueOf(want)
	for i := range g.NumField() {
		if gf, wf := g.Field(i).Interface(), w.Field(i).Interface(); gf != wf {
			fmt.Fprintf(&b, "\n  %s: got %q, want %q", g.Type().Field(i).Name, fmt.Sprint(gf), fmt.Sprint(wf))
		}
	}
	return b.String()
}

// verify compares got and want field by field, then checks the rules of
// SPEC §3 that hold for every answer.
func verify(t *testing.T, d bourse.Query, got, want bourse.Reponse) {
	t.Helper()
	if got != want {
		t.Errorf("Decider:\n got %+v\nwant %+v%s", got, want, gaps(got, want))
	}
	for _, msg := range inconsistencies(d, got) {
		t.Errorf("Decider: %s in %+v", msg, got)
	}
}

// inconsistencies returns the rules of SPEC §3 that r breaks, whatever the
// dossiers: the echo of the demande, which fields go with which statut, and
// that an internal reason is always recorded.
func inconsistencies(d bourse.Query, r bourse.Reponse) []string {
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
	if (r.Correspondance == bourse.ByIdentity) != (r.IdentifiantAglae != "") {
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

// byINE is the plain lookup of ine, without identity.
var byINE = bourse.Query{Identifiant: ine, Annee: annee}

// Answers of the lookup byINE, by the row of the decision table that gave them.
func inconnu(raison bourse.Raison) bourse.Reponse {
	return bourse.Reponse{Identifiant: ine, AnneeUniversitaire: annee, Statut: bourse.StatutInconnu, Raison: raison}
}

func boursier(t bourse.TypeDecision, echelon, numero string, raison bourse.Raison) bourse.Reponse {
	return bourse.Reponse{
		Identifiant: ine, AnneeUniversitaire: annee, Statut: bourse.StatutBoursier,
		TypeDecision: t, Echelon: echelon, NumeroDossier: numero, Correspondance: bourse.ByIdentifiant,
		Raison: raison,
	}
}

func enAttente(numero string, raison bourse.Raison) bourse.Reponse {
	return bourse.Reponse{
		Identifiant: ine, AnneeUniversitaire: annee, Statut: bourse.StatutEnAttente,
		NumeroDossier: numero, Correspondance: bourse.ByIdentifiant, Raison: raison,
	}
}

func nonBoursier(numero string) bourse.Reponse {
	return bourse.Reponse{
		Identifiant: ine, AnneeUniversitaire: annee, Statut: bourse.StatutNonBoursier,
		NumeroDossier: numero, Correspondance: bourse.ByIdentifiant, Raison: bourse.RaisonRejet,
	}
}

// TestDecideDecisionTable has one case per row of the decision table of
// SPEC §3, for a student with one dossier, then the rows' order (first
// matching row) and the year.
func TestDecideDecisionTable(t *testing.T) {
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
			dossiers: []bourse.Dossier{dossier("MON", bourse.EtatAnnule, definitive("5", july))},
			want:     inconnu(bourse.RaisonAucunDossier),
		},
		{
			name:     "ANNULE seul sans décision: INCONNU",
			dossiers: []bourse.Dossier{dossier("MON", bourse.EtatAnnule, nil)},
			want:     inconnu(bourse.RaisonAucunDossier),
		},
		{
			name:     "ATTRIBUTION_DEFINITIVE: BOURSIER DEFINITIVE avec l'échelon",
			dossiers: []bourse.Dossier{dossier("MON", bourse.EtatValide, definitive("5", july))},
			want:     boursier(bourse.TypeDefinitive, "5", mon, bourse.RaisonDefinitive),
		},
		{
			name:     "ATTRIBUTION_DEFINITIVE échelon 0bis",
			dossiers: []bourse.Dossier{dossier("MON", bourse.EtatValide, definitive("0bis", july))},
			want:     boursier(bourse.TypeDefinitive, "0bis", mon, bourse.RaisonDefinitive),
		},
		{
			name:     "REJET: NON_BOURSIER",
			dossiers: []bourse.Dossier{dossier("MON", bourse.EtatValide, rejet(july))},
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
			dossiers: []bourse.Dossier{dossier("MON", bourse.EtatValide, sousReserve("3", june, false))},
			want:     enAttente(mon, bourse.RaisonProgressionAVerifier),
		},
		{
			name:     "VALIDE, conditionnelle sous réserve de progression vérifiée: BOURSIER CONDITIONNELLE",
			dossiers: []bourse.Dossier{dossier("MON", bourse.EtatValide, sousReserve("3", june, true))},
			want:     boursier(bourse.TypeConditionnelle, "3", mon, bourse.RaisonConditionnelle),
		},
		{
			name:     "VALIDE, conditionnelle: BOURSIER CONDITIONNELLE",
			dossiers: []bourse.Dossier{dossier("MON", bourse.EtatValide, conditionnelle("1", june))},
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
			dossiers: []bourse.Dossier{dossier("MON", bourse.EtatPiecesManquantes, definitive("2", september))},
			want:     boursier(bourse.TypeDefinitive, "2", mon, bourse.RaisonDefinitive),
		},
		{
			name:     "première ligne: PIECES_MANQUANTES et REJET: NON_BOURSIER",
			dossiers: []bourse.Dossier{dossier("MON", bourse.EtatPiecesManquantes, rejet(september))},
			want:     nonBoursier(mon),
		},
		{
			name:     "première ligne: PIECES_MANQUANTES et conditionnelle: EN_ATTENTE PIECES_MANQUANTES",
			dossiers: []bourse.Dossier{dossier("MON", bourse.EtatPiecesManquantes, conditionnelle("1", june))},
			want:     enAttente(mon, bourse.RaisonPiecesManquantes),
		},

		// The year.
		{
			name:     "dossier d'une autre année ignoré: INCONNU",
			dossiers: []bourse.Dossier{inAnnee(dossier("MON", bourse.EtatValide, definitive("5", july)), annee-1)},
			want:     inconnu(bourse.RaisonAucunDossier),
		},
		{
			name:     "dossier de l'année suivante ignoré: INCONNU",
			dossiers: []bourse.Dossier{inAnnee(dossier("MON", bourse.EtatValide, definitive("5", july)), annee+1)},
			want:     inconnu(bourse.RaisonAucunDossier),
		},
		{
			name: "dossier d'une autre année ignoré, même meilleur que celui de l'année",
			dossiers: []bourse.Dossier{
				inAnnee(dossier("MON", bourse.EtatValide, definitive("5", day(2013, 9, 1))), annee-1),
				dossier("MON", bourse.EtatNonTraite, nil),
			},
			want: enAttente(mon, bourse.RaisonNonTraite),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := bourse.Decide(byINE, tc.dossiers, nil)
			verify(t, byINE, got, tc.want)
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

// dup returns a deep copy of ds, to show Decide leaves its input alone.
func dup(ds []bourse.Dossier) []bourse.Dossier {
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

// TestDecideSeveralDossiers checks the rule for a student with several
// dossiers for a year: the best answer wins, DEFINITIVE > CONDITIONNELLE >
// EN_ATTENTE > NON_BOURSIER, and on a tie the most recent decision, then the
// smallest dossier number. Each case runs in every input order. In the rank
// cases the winner has the larger number and the older decision (or none),
// so that only its rank can explain its win.
func TestDecideSeveralDossiers(t *testing.T) {
	friend, mon, par := num("AMI"), num("MON"), num("PAR")
	tests := []struct {
		name     string
		dossiers []bourse.Dossier
		want     bourse.Reponse
	}{
		// Each adjacent pair of the order.
		{
			name: "DEFINITIVE > CONDITIONNELLE",
			dossiers: []bourse.Dossier{
				dossier("PAR", bourse.EtatValide, definitive("4", june)),
				dossier("MON", bourse.EtatValide, conditionnelle("6", september)),
			},
			want: boursier(bourse.TypeDefinitive, "4", par, bourse.RaisonDefinitive),
		},
		{
			name: "CONDITIONNELLE > EN_ATTENTE",
			dossiers: []bourse.Dossier{
				dossier("PAR", bourse.EtatValide, conditionnelle("2", june)),
				dossier("MON", bourse.EtatValide, sousReserve("6", september, false)),
			},
			want: boursier(bourse.TypeConditionnelle, "2", par, bourse.RaisonConditionnelle),
		},
		{
			name: "EN_ATTENTE > NON_BOURSIER",
			dossiers: []bourse.Dossier{
				dossier("PAR", bourse.EtatNonTraite, nil),
				dossier("MON", bourse.EtatValide, rejet(september)),
			},
			want: enAttente(par, bourse.RaisonNonTraite),
		},
		// And beyond.
		{
			name: "DEFINITIVE > NON_BOURSIER",
			dossiers: []bourse.Dossier{
				dossier("PAR", bourse.EtatValide, definitive("1", june)),
				dossier("MON", bourse.EtatValide, rejet(september)),
			},
			want: boursier(bourse.TypeDefinitive, "1", par, bourse.RaisonDefinitive),
		},
		{
			name: "CONDITIONNELLE > NON_BOURSIER",
			dossiers: []bourse.Dossier{
				dossier("PAR", bourse.EtatValide, conditionnelle("1", june)),
				dossier("MON", bourse.EtatValide, rejet(september)),
			},
			want: boursier(bourse.TypeConditionnelle, "1", par, bourse.RaisonConditionnelle),
		},
		{
			name: "DEFINITIVE > EN_ATTENTE",
			dossiers: []bourse.Dossier{
				dossier("PAR", bourse.EtatValide, definitive("7", june)),
				dossier("MON", bourse.EtatPiecesManquantes, nil),
			},
			want: boursier(bourse.TypeDefinitive, "7", par, bourse.RaisonDefinitive),
		},
		{
			name: "quatre dossiers, un par rang: DEFINITIVE",
			dossiers: []bourse.Dossier{
				dossier("PAR", bourse.EtatValide, definitive("3", june)),
				dossier("AMI", bourse.EtatValide, conditionnelle("5", july)),
				dossier("MON", bourse.EtatNonTraite, nil),
				dossier("LYO", bourse.EtatValide, rejet(september)),
			},
			want: boursier(bourse.TypeDefinitive, "3", par, bourse.RaisonDefinitive),
		},

		// Cancelled dossiers among others.
		{
			name: "ANNULE avec attribution définitive écarté: l'autre dossier répond",
			dossiers: []bourse.Dossier{
				dossier("AMI", bourse.EtatAnnule, definitive("7", september)),
				dossier("MON", bourse.EtatNonTraite, nil),
			},
			want: enAttente(mon, bourse.RaisonNonTraite),
		},
		{
			name: "ANNULE écarté devant un REJET: NON_BOURSIER",
			dossiers: []bourse.Dossier{
				dossier("AMI", bourse.EtatAnnule, conditionnelle("2", september)),
				dossier("MON", bourse.EtatValide, rejet(june)),
			},
			want: nonBoursier(mon),
		},
		{
			name: "deux ANNULE: INCONNU",
			dossiers: []bourse.Dossier{
				dossier("AMI", bourse.EtatAnnule, definitive("7", september)),
				dossier("MON", bourse.EtatAnnule, nil),
			},
			want: inconnu(bourse.RaisonAucunDossier),
		},
		{
			name: "autre année et ANNULE écartés: le dossier restant répond",
			dossiers: []bourse.Dossier{
				inAnnee(dossier("MON", bourse.EtatValide, definitive("7", day(2013, 9, 1))), annee-1),
				dossier("AMI", bourse.EtatAnnule, definitive("7", september)),
				dossier("PAR", bourse.EtatValide, sousReserve("2", june, false)),
			},
			want: enAttente(par, bourse.RaisonProgressionAVerifier),
		},

		// Ties.
		{
			name: "égalité DEFINITIVE: la décision la plus récente",
			dossiers: []bourse.Dossier{
				dossier("AMI", bourse.EtatValide, definitive("2", june)),
				dossier("PAR", bourse.EtatValide, definitive("3", september)),
				dossier("MON", bourse.EtatValide, definitive("4", july)),
			},
			want: boursier(bourse.TypeDefinitive, "3", par, bourse.RaisonDefinitive),
		},
		{
			name: "égalité DEFINITIVE, même date: le plus petit numéro",
			dossiers: []bourse.Dossier{
				dossier("PAR", bourse.EtatValide, definitive("3", september)),
				dossier("AMI", bourse.EtatValide, definitive("2", september)),
				dossier("MON", bourse.EtatValide, definitive("4", september)),
			},
			want: boursier(bourse.TypeDefinitive, "2", friend, bourse.RaisonDefinitive),
		},
		{
			name: "égalité CONDITIONNELLE: la décision la plus récente",
			dossiers: []bourse.Dossier{
				dossier("AMI", bourse.EtatValide, conditionnelle("1", june)),
				dossier("PAR", bourse.EtatValide, sousReserve("2", july, true)),
			},
			want: boursier(bourse.TypeConditionnelle, "2", par, bourse.RaisonConditionnelle),
		},
		{
			name: "égalité CONDITIONNELLE, même date: le plus petit numéro",
			dossiers: []bourse.Dossier{
				dossier("PAR", bourse.EtatValide, conditionnelle("1", june)),
				dossier("MON", bourse.EtatValide, sousReserve("2", june, true)),
			},
			want: boursier(bourse.TypeConditionnelle, "2", mon, bourse.RaisonConditionnelle),
		},
		{
			name: "égalité EN_ATTENTE: un dossier avec décision l'emporte sur un dossier sans décision",
			dossiers: []bourse.Dossier{
				dossier("AMI", bourse.EtatNonTraite, nil),
				dossier("PAR", bourse.EtatValide, sousReserve("2", june, false)),
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
			want: enAttente(friend, bourse.RaisonPiecesManquantes),
		},
		{
			name: "égalité EN_ATTENTE, deux décisions: la plus récente",
			dossiers: []bourse.Dossier{
				dossier("AMI", bourse.EtatValide, sousReserve("2", june, false)),
				dossier("MON", bourse.EtatPiecesManquantes, conditionnelle("3", july)),
			},
			want: enAttente(mon, bourse.RaisonPiecesManquantes),
		},
		{
			name: "égalité NON_BOURSIER: le rejet le plus récent",
			dossiers: []bourse.Dossier{
				dossier("AMI", bourse.EtatValide, rejet(june)),
				dossier("PAR", bourse.EtatValide, rejet(september)),
			},
			want: nonBoursier(par),
		},
		{
			name: "égalité NON_BOURSIER, même date: le plus petit numéro",
			dossiers: []bourse.Dossier{
				dossier("PAR", bourse.EtatValide, rejet(june)),
				dossier("MON", bourse.EtatValide, rejet(june)),
			},
			want: nonBoursier(mon),
		},
	}
	for _, tc := range tests {
		for _, order := range permutations(len(tc.dossiers)) {
			in := make([]bourse.Dossier, len(order))
			noms := make([]string, len(order))
			for i, j := range order {
				in[i] = tc.dossiers[j]
				noms[i] = tc.dossiers[j].NumeroDossier[4:7]
			}
			t.Run(tc.name+"/"+strings.Join(noms, ","), func(t *testing.T) {
				before := dup(in)
				got := bourse.Decide(byINE, in, nil)
				verify(t, byINE, got, tc.want)
				if !reflect.DeepEqual(in, before) {
					t.Errorf("Decider changed its input:\n got %+v\nwant %+v", in, before)
				}
			})
		}
	}
}

// TestDecideIdentity checks the identity rules of SPEC §3: a mistyped
// number, a number that differs from the one Aglaé knows, homonyms, the
// lookup by identity only, and how names are folded before they compare.
func TestDecideIdentity(t *testing.T) {
	with := func(id string, idt bourse.Identity) bourse.Query {
		return bourse.Query{Identifiant: id, Annee: annee, Identity: &idt}
	}
	mon := num("MON")
	crousMon := dossierOf(ineCrous, lan, "MON", bourse.EtatValide, conditionnelle("4", june))

	// byIdentity answers a lookup of ineApogee or of no identifier that the
	// identity found in the dossier numero of identifiantAglae.
	byIdentity := func(d bourse.Query, st bourse.Statut, t bourse.TypeDecision, echelon, numero, identifiantAglae string, raison bourse.Raison) bourse.Reponse {
		return bourse.Reponse{
			Identifiant: d.Identifiant, AnneeUniversitaire: annee, Statut: st, TypeDecision: t, Echelon: echelon,
			NumeroDossier: numero, Correspondance: bourse.ByIdentity, IdentifiantAglae: identifiantAglae,
			Raison: raison,
		}
	}
	different := func(d bourse.Query) bourse.Reponse {
		return bourse.Reponse{
			Identifiant: d.Identifiant, AnneeUniversitaire: annee, Statut: bourse.StatutEnAttente,
			Anomalie: bourse.AnomalieIdentiteDifferente, Raison: bourse.RaisonIdentiteDifferente,
		}
	}
	noReponse := func(d bourse.Query, raison bourse.Raison) bourse.Reponse {
		return bourse.Reponse{Identifiant: d.Identifiant, AnneeUniversitaire: annee, Statut: bourse.StatutInconnu, Raison: raison}
	}

	otherNom := amandine
	otherNom.Nom = "BOULOT"
	otherPrenom := amandine
	otherPrenom.Prenom = "Amandina"
	otherDate := amandine
	otherDate.DateNaissance = day(1996, 11, 29)

	type tcase struct {
		name          string
		d             bourse.Query
		byIdentifiant []bourse.Dossier
		byIdentity    []bourse.Dossier
		want          bourse.Reponse
	}
	tests := []tcase{
		{
			name:          "identité concordante: réponse habituelle, IDENTIFIANT",
			d:             with(ine, amandine),
			byIdentifiant: []bourse.Dossier{dossier("MON", bourse.EtatValide, definitive("5", july))},
			byIdentity:    []bourse.Dossier{dossier("MON", bourse.EtatValide, definitive("5", july))},
			want:          boursier(bourse.TypeDefinitive, "5", mon, bourse.RaisonDefinitive),
		},
		{
			name:          "identité concordante, EN_ATTENTE sans anomalie",
			d:             with(ine, amandine),
			byIdentifiant: []bourse.Dossier{dossier("MON", bourse.EtatPiecesManquantes, nil)},
			byIdentity:    []bourse.Dossier{dossier("MON", bourse.EtatPiecesManquantes, nil)},
			want:          enAttente(mon, bourse.RaisonPiecesManquantes),
		},
		{
			name:          "nom différent: EN_ATTENTE IDENTITE_DIFFERENTE, rien du dossier",
			d:             with(ine, otherNom),
			byIdentifiant: []bourse.Dossier{dossier("MON", bourse.EtatValide, definitive("5", july))},
			want:          different(with(ine, otherNom)),
		},
		{
			name:          "prénom différent: EN_ATTENTE IDENTITE_DIFFERENTE, rien du dossier",
			d:             with(ine, otherPrenom),
			byIdentifiant: []bourse.Dossier{dossier("MON", bourse.EtatValide, conditionnelle("2", june))},
			want:          different(with(ine, otherPrenom)),
		},
		{
			name:          "date de naissance différente d'un jour: EN_ATTENTE IDENTITE_DIFFERENTE, rien du dossier",
			d:             with(ine, otherDate),
			byIdentifiant: []bourse.Dossier{dossier("MON", bourse.EtatValide, rejet(june))},
			want:          different(with(ine, otherDate)),
		},
		{
			name:          "identité différente même si elle trouve un autre identifiant: EN_ATTENTE IDENTITE_DIFFERENTE",
			d:             with(ine, paul),
			byIdentifiant: []bourse.Dossier{dossier("MON", bourse.EtatValide, definitive("5", july))},
			byIdentity:    []bourse.Dossier{dossierOf(inePaul, paul, "PAR", bourse.EtatValide, definitive("6", june))},
			want:          different(with(ine, paul)),
		},
		{
			name: "un des deux dossiers d'une autre identité: l'autre répond, même moins bon",
			d:    with(ine, amandine),
			byIdentifiant: []bourse.Dossier{
				dossierOf(ine, paul, "AMI", bourse.EtatValide, definitive("7", september)),
				dossier("MON", bourse.EtatNonTraite, nil),
			},
			byIdentity: []bourse.Dossier{dossier("MON", bourse.EtatNonTraite, nil)},
			want:       enAttente(mon, bourse.RaisonNonTraite),
		},
		{
			name: "seul dossier concordant annulé: IDENTITE_DIFFERENTE",
			d:    with(ine, amandine),
			byIdentifiant: []bourse.Dossier{
				dossierOf(ine, paul, "AMI", bourse.EtatValide, definitive("7", september)),
				dossier("MON", bourse.EtatAnnule, definitive("1", june)),
			},
			want: different(with(ine, amandine)),
		},
		{
			name:       "identifiant inconnu, un seul autre identifiant de cette identité: sa réponse, IDENTITE",
			d:          with(ineApogee, lan),
			byIdentity: []bourse.Dossier{crousMon},
			want: byIdentity(with(ineApogee, lan), bourse.StatutBoursier, bourse.TypeConditionnelle, "4",
				crousMon.NumeroDossier, ineCrous, bourse.RaisonConditionnelle),
		},
		{
			name: "identifiant inconnu, deux dossiers du même autre identifiant: le meilleur",
			d:    with(ineApogee, lan),
			byIdentity: []bourse.Dossier{
				dossierOf(ineCrous, lan, "AMI", bourse.EtatValide, rejet(september)),
				dossierOf(ineCrous, lan, "PAR", bourse.EtatValide, definitive("6", june)),
			},
			want: byIdentity(with(ineApogee, lan), bourse.StatutBoursier, bourse.TypeDefinitive, "6",
				"2014PAR"+ineCrous, ineCrous, bourse.RaisonDefinitive),
		},
		{
			name: "identifiant inconnu, deux dossiers EN_ATTENTE du même autre identifiant: le plus petit numéro",
			d:    with(ineApogee, lan),
			byIdentity: []bourse.Dossier{
				dossierOf(ineCrous, lan, "PAR", bourse.EtatNonTraite, nil),
				dossierOf(ineCrous, lan, "AMI", bourse.EtatPiecesManquantes, nil),
			},
			want: byIdentity(with(ineApogee, lan), bourse.StatutEnAttente, "", "",
				"2014AMI"+ineCrous, ineCrous, bourse.RaisonPiecesManquantes),
		},
		{
			name: "identifiant inconnu, homonymes sous deux identifiants: INCONNU IDENTITE_AMBIGUE",
			d:    with(aucunDossier, amandine),
			byIdentity: []bourse.Dossier{
				dossier("MON", bourse.EtatValide, definitive("5", july)),
				dossierOf(homonymINE, amandine, "LYO", bourse.EtatValide, definitive("5", july)),
			},
			want: noReponse(with(aucunDossier, amandine), bourse.RaisonIdentiteAmbigue),
		},
		{
			name: "identifiant inconnu, homonyme annulé: un seul identifiant, sa réponse",
			d:    with(aucunDossier, amandine),
			byIdentity: []bourse.Dossier{
				dossier("MON", bourse.EtatValide, definitive("5", july)),
				dossierOf(homonymINE, amandine, "LYO", bourse.EtatAnnule, definitive("5", july)),
			},
			want: byIdentity(with(aucunDossier, amandine), bourse.StatutBoursier, bourse.TypeDefinitive, "5",
				mon, ine, bourse.RaisonDefinitive),
		},
		{
			name: "identifiant inconnu, homonyme d'une autre année: un seul identifiant, sa réponse",
			d:    with(aucunDossier, amandine),
			byIdentity: []bourse.Dossier{
				dossier("MON", bourse.EtatValide, rejet(july)),
				inAnnee(dossierOf(homonymINE, amandine, "LYO", bourse.EtatValide, definitive("5", july)), annee-1),
			},
			want: byIdentity(with(aucunDossier, amandine), bourse.StatutNonBoursier, "", "",
				mon, ine, bourse.RaisonRejet),
		},
		{
			name:       "identifiant inconnu, l'identité ne trouve rien: INCONNU",
			d:          with(aucunDossier, amandine),
			byIdentity: nil,
			want:       noReponse(with(aucunDossier, amandine), bourse.RaisonAucunDossier),
		},
		{
			name:       "identifiant inconnu, seul dossier de l'identité d'une autre année: INCONNU",
			d:          with(aucunDossier, amandine),
			byIdentity: []bourse.Dossier{inAnnee(dossier("MON", bourse.EtatValide, definitive("5", july)), annee-1)},
			want:       noReponse(with(aucunDossier, amandine), bourse.RaisonAucunDossier),
		},
		{
			name:       "identifiant inconnu, dossier d'une autre identité rendu par le magasin: écarté, INCONNU",
			d:          with(aucunDossier, amandine),
			byIdentity: []bourse.Dossier{dossierOf(inePaul, paul, "PAR", bourse.EtatValide, definitive("6", june))},
			want:       noReponse(with(aucunDossier, amandine), bourse.RaisonAucunDossier),
		},
		{
			name:          "seul dossier de l'identifiant annulé, l'identité trouve un autre identifiant: IDENTITE",
			d:             with(ineApogee, lan),
			byIdentifiant: []bourse.Dossier{dossierOf(ineApogee, lan, "MON", bourse.EtatAnnule, definitive("1", june))},
			byIdentity: []bourse.Dossier{
				dossierOf(ineApogee, lan, "MON", bourse.EtatAnnule, definitive("1", june)),
				crousMon,
			},
			want: byIdentity(with(ineApogee, lan), bourse.StatutBoursier, bourse.TypeConditionnelle, "4",
				crousMon.NumeroDossier, ineCrous, bourse.RaisonConditionnelle),
		},
		{
			name:          "sans identité, l'identifiant inconnu reste INCONNU",
			d:             bourse.Query{Identifiant: ineApogee, Annee: annee},
			byIdentifiant: nil,
			byIdentity:    []bourse.Dossier{crousMon},
			want:          noReponse(bourse.Query{Identifiant: ineApogee, Annee: annee}, bourse.RaisonAucunDossier),
		},

		// Identity only: a web registration without a number.
		{
			name:       "identité seule, trouvée: IDENTITE avec identifiantAglae",
			d:          with("", lan),
			byIdentity: []bourse.Dossier{crousMon},
			want: byIdentity(with("", lan), bourse.StatutBoursier, bourse.TypeConditionnelle, "4",
				crousMon.NumeroDossier, ineCrous, bourse.RaisonConditionnelle),
		},
		{
			name:       "identité seule, trouvée EN_ATTENTE",
			d:          with("", amandine),
			byIdentity: []bourse.Dossier{dossier("MON", bourse.EtatValide, sousReserve("2", june, false))},
			want: byIdentity(with("", amandine), bourse.StatutEnAttente, "", "",
				mon, ine, bourse.RaisonProgressionAVerifier),
		},
		{
			name: "identité seule, introuvable: INCONNU",
			d:    with("", lan),
			want: noReponse(with("", lan), bourse.RaisonAucunDossier),
		},
		{
			name: "identité seule, ambiguë: INCONNU IDENTITE_AMBIGUE",
			d:    with("", amandine),
			byIdentity: []bourse.Dossier{
				dossier("MON", bourse.EtatValide, conditionnelle("1", june)),
				dossierOf(homonymINE, amandine, "LYO", bourse.EtatNonTraite, nil),
			},
			want: noReponse(with("", amandine), bourse.RaisonIdentiteAmbigue),
		},
		{
			name: "identité seule, trois homonymes: INCONNU IDENTITE_AMBIGUE",
			d:    with("", amandine),
			byIdentity: []bourse.Dossier{
				dossier("MON", bourse.EtatValide, conditionnelle("1", june)),
				dossier("PAR", bourse.EtatValide, rejet(june)),
				dossierOf(homonymINE, amandine, "LYO", bourse.EtatNonTraite, nil),
				dossierOf("2015D00001A", amandine, "NCY", bourse.EtatValide, definitive("3", june)),
			},
			want: noReponse(with("", amandine), bourse.RaisonIdentiteAmbigue),
		},
	}

	// Folding: the identity typed at registration, against Aglaé's. Each pair
	// is tried on a lookup by identifier (no IDENTITE_DIFFERENTE) and by
	// identity only (found).
	foldings := []struct {
		name         string
		aglae, saisi bourse.Identity
	}{
		{"accents Élodie/ELODIE",
			bourse.Identity{Nom: "MARTIN", Prenom: "ELODIE", DateNaissance: day(1998, 1, 5)},
			bourse.Identity{Nom: "Martin", Prenom: "Élodie", DateNaissance: day(1998, 1, 5)}},
		{"accents et casse du nom Hélène/LEFÈVRE",
			bourse.Identity{Nom: "LEFEVRE", Prenom: "HELENE", DateNaissance: day(1998, 1, 5)},
			bourse.Identity{Nom: "lefèvre", Prenom: "hélène", DateNaissance: day(1998, 1, 5)}},
		{"casse boulet/amandine",
			amandine,
			bourse.Identity{Nom: "boulet", Prenom: "AMANDINE", DateNaissance: amandine.DateNaissance}},
		{"tirets et espaces Jean-Pierre/jean pierre",
			bourse.Identity{Nom: "LE BOULCH", Prenom: "Jean-Pierre", DateNaissance: day(1997, 2, 14)},
			bourse.Identity{Nom: "Le-Boulch", Prenom: "jean pierre", DateNaissance: day(1997, 2, 14)}},
		{"apostrophe N'Diaye/NDIAYE",
			bourse.Identity{Nom: "NDIAYE", Prenom: "Awa", DateNaissance: day(1999, 8, 30)},
			bourse.Identity{Nom: "N'Diaye", Prenom: "Awa", DateNaissance: day(1999, 8, 30)}},
		{"apostrophe typographique N’DIAYE/N'Diaye",
			bourse.Identity{Nom: "N'Diaye", Prenom: "Awa", DateNaissance: day(1999, 8, 30)},
			bourse.Identity{Nom: "N’DIAYE", Prenom: "Awa", DateNaissance: day(1999, 8, 30)}},
		{"apostrophe typographique N’DIAYE/NDIAYE",
			bourse.Identity{Nom: "NDIAYE", Prenom: "Awa", DateNaissance: day(1999, 8, 30)},
			bourse.Identity{Nom: "N’DIAYE", Prenom: "Awa", DateNaissance: day(1999, 8, 30)}},
		{"ligature Cœur/COEUR",
			bourse.Identity{Nom: "COEUR", Prenom: "Anaïs", DateNaissance: day(1996, 4, 1)},
			bourse.Identity{Nom: "Cœur", Prenom: "ANAIS", DateNaissance: day(1996, 4, 1)}},
	}
	for _, p := range foldings {
		x := dossierOf(ineCrous, p.aglae, "MON", bourse.EtatValide, definitive("2", july))
		d := with(ineCrous, p.saisi)
		tests = append(tests, tcase{
			name:          "pliage, par identifiant: " + p.name,
			d:             d,
			byIdentifiant: []bourse.Dossier{x},
			byIdentity:    []bourse.Dossier{x},
			want: bourse.Reponse{
				Identifiant: ineCrous, AnneeUniversitaire: annee, Statut: bourse.StatutBoursier,
				TypeDecision: bourse.TypeDefinitive, Echelon: "2", NumeroDossier: x.NumeroDossier,
				Correspondance: bourse.ByIdentifiant, Raison: bourse.RaisonDefinitive,
			},
		}, tcase{
			name:       "pliage, par identité seule: " + p.name,
			d:          with("", p.saisi),
			byIdentity: []bourse.Dossier{x},
			want: byIdentity(with("", p.saisi), bourse.StatutBoursier, bourse.TypeDefinitive, "2",
				x.NumeroDossier, ineCrous, bourse.RaisonDefinitive),
		})
	}

	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := bourse.Decide(tc.d, tc.byIdentifiant, tc.byIdentity)
			verify(t, tc.d, got, tc.want)
		})
	}
}

// BenchmarkDecide measures the engine on a typical lookup (one dossier, no
// identity) and on a lookup with an identity whose identifier has three
// dossiers. Run with -benchmem to see the allocations.
func BenchmarkDecide(b *testing.B) {
	b.Run("un dossier", func(b *testing.B) {
		ds := []bourse.Dossier{dossier("MON", bourse.EtatValide, conditionnelle("1", june))}
		b.ReportAllocs()
		for b.Loop() {
			bourse.Decide(byINE, ds, nil)
		}
	})
	b.Run("trois dossiers avec identité", func(b *testing.B) {
		d := bourse.Query{
			Identifiant: ine, Annee: annee,
			Identity: &bourse.Identity{Nom: "Boulet", Prenom: "Amandine", DateNaissance: amandine.DateNaissance},
		}
		ds := []bourse.Dossier{
			dossier("AMI", bourse.EtatAnnule, nil),
			dossier("MON", bourse.EtatValide, conditionnelle("1", june)),
			dossier("PAR", bourse.EtatValide, definitive("1", september)),
		}
		b.ReportAllocs()
		for b.Loop() {
			bourse.Decide(d, ds, ds)
		}
	})
}
