package demo

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/aglae-connector/aglae-connector/internal/extract"
	"github.com/aglae-connector/aglae-connector/internal/ident"
)

var annees = []int{2023, 2024, 2025}

// collect generates opts and returns all lines (tests only: Generate itself
// keeps nothing).
func collect(t testing.TB, opts Options) []extract.Line {
	t.Helper()
	var l []extract.Line
	if err := Generate(opts, func(x extract.Line) error { l = append(l, x); return nil }); err != nil {
		t.Fatalf("Generate: %v", err)
	}
	return l
}

func write(t testing.TB, opts Options) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := Write(&b, opts); err != nil {
		t.Fatalf("Write: %v", err)
	}
	return b.Bytes()
}

func TestDeterministic(t *testing.T) {
	opts := Options{Dossiers: 5000, Annees: []int{2025, 2023, 2024, 2024}, Seed: 7}
	a := write(t, opts)
	b := write(t, Options{Dossiers: 5000, Annees: []int{2023, 2024, 2025}, Seed: 7})
	if !bytes.Equal(a, b) {
		t.Fatal("two runs with the same options (years in another order) differ")
	}
	c := write(t, Options{Dossiers: 5000, Annees: annees, Seed: 8})
	if bytes.Equal(a, c) {
		t.Fatal("another seed gives the same extract")
	}
	// The special cases do not depend on the seed.
	la, lc := bytes.SplitN(a, []byte("\n"), 23), bytes.SplitN(c, []byte("\n"), 23)
	for i := range 22 {
		if !bytes.Equal(la[i], lc[i]) {
			t.Errorf("special line %d depends on the seed", i+1)
		}
	}
}

func TestExactCount(t *testing.T) {
	for _, n := range []int{0, 1, 2, 18, 19, 20, 22, 23, 100, 1234, 4999} {
		if got := len(collect(t, Options{Dossiers: n, Annees: annees, Seed: uint64(n)})); got != n {
			t.Errorf("Generate %d dossiers: got %d lines", n, got)
		}
		b := write(t, Options{Dossiers: n, Annees: annees, Seed: uint64(n)})
		if got := bytes.Count(b, []byte("\n")); got != n {
			t.Errorf("Write %d dossiers: got %d lines", n, got)
		}
	}
}

func TestOptionsRefused(t *testing.T) {
	for _, o := range []Options{
		{Dossiers: 10},
		{Dossiers: -1, Annees: annees},
		{Dossiers: 10, Annees: []int{1999}},
		{Dossiers: 10, Annees: []int{2100}},
	} {
		if err := Generate(o, func(extract.Line) error { return nil }); err == nil {
			t.Errorf("Generate(%+v) accepted", o)
		}
	}
}

func TestEmitError(t *testing.T) {
	stop := errors.New("stop")
	n := 0
	err := Generate(Options{Dossiers: 1000, Annees: annees}, func(extract.Line) error {
		n++
		if n == 50 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 50 {
		t.Fatalf("got %v after %d lines, want stop after 50", err, n)
	}
}

// The JSON written is the JSON of the lines Generate produces.
func TestWriteIsJSONLines(t *testing.T) {
	opts := Options{Dossiers: 300, Annees: annees, Seed: 3}
	lines := collect(t, opts)
	sc := bufio.NewScanner(bytes.NewReader(write(t, opts)))
	sc.Buffer(nil, 1<<20)
	i := 0
	for sc.Scan() {
		var l extract.Line
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&l); err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		if !strings.Contains(sc.Text(), `"piecesManquantes":[`) {
			t.Fatalf("line %d: piecesManquantes is not an array: %s", i+1, sc.Text())
		}
		a, _ := json.Marshal(l)
		b, _ := json.Marshal(lines[i])
		if !bytes.Equal(a, b) {
			t.Fatalf("line %d: written %s, generated %s", i+1, a, b)
		}
		i++
	}
	if i != len(lines) {
		t.Fatalf("%d lines written, %d generated", i, len(lines))
	}
}

// validate checks one line against SPEC §6 and the demo's own rules and
// returns the faults.
func validate(l extract.Line) []string {
	var f []string
	bad := func(s string) { f = append(f, s) }

	ine, err := ident.ParseINE(l.Identifiant)
	if err != nil {
		bad("identifiant: " + err.Error())
	} else if ine.Value != l.Identifiant || ine.Format == ident.FormatProvisional {
		bad("identifiant not normalised or provisional")
	}
	nd, err := ident.ParseNumeroDossier(l.NumeroDossier)
	if err != nil {
		bad("numeroDossier: " + err.Error())
	} else if nd.Annee != l.AnneeUniversitaire || nd.Academie != l.Academie || nd.INE.Value != l.Identifiant {
		bad("numeroDossier does not match year, académie, identifiant")
	}
	if academieIndex(l.Academie) < 0 {
		bad("unknown académie " + l.Academie)
	}
	if l.Nom == "" || l.Prenom == "" || l.Nom != strings.ToUpper(l.Nom) {
		bad("nom/prenom")
	}
	if len(l.DateNaissance) != 10 || l.DateNaissance[4] != '-' || l.DateNaissance[7] != '-' {
		bad("dateNaissance " + l.DateNaissance)
	} else if l.Identifiant != idBoulet {
		if age := l.AnneeUniversitaire - atoi(l.DateNaissance[:4]); age < 17 || age > 30 {
			bad("age out of 17–30")
		}
	}

	switch l.Etat {
	case "NON_TRAITE", "PIECES_MANQUANTES", "VALIDE", "ANNULE":
	default:
		bad("etat " + l.Etat)
	}
	if l.PiecesManquantes == nil {
		bad("piecesManquantes is null")
	}
	if (len(l.PiecesManquantes) > 0) != (l.Etat == "PIECES_MANQUANTES") {
		bad("piecesManquantes non-empty iff PIECES_MANQUANTES")
	}
	if d := l.Decision; d != nil {
		if l.Etat == "NON_TRAITE" || l.Etat == "PIECES_MANQUANTES" {
			bad("decision on a dossier " + l.Etat)
		}
		if !dateInAnnee(d.Date, l.AnneeUniversitaire, 1, 10) {
			bad("decision date " + d.Date)
		}
		if d.ProgressionVerified && !d.SousReserveProgression {
			bad("progressionVerifiee without sousReserveProgression")
		}
		switch d.Nature {
		case "REJET":
			if d.Echelon != nil || d.MontantAnnuel != nil || d.SousReserveProgression {
				bad("REJET with échelon, montant or réserve")
			}
			if d.Bareme != nil && *d.Bareme != l.AnneeUniversitaire-1 {
				bad("REJET with a barème other than the year's")
			}
		case "ATTRIBUTION_CONDITIONNELLE", "ATTRIBUTION_DEFINITIVE":
			if d.Echelon == nil || d.MontantAnnuel == nil || d.Bareme == nil || d.PointsCharge == nil || d.PointsDistance == nil {
				bad("attribution without échelon, montant, barème or points")
				break
			}
			e := slices.Index(echelons, *d.Echelon)
			if e < 0 {
				bad("échelon " + *d.Echelon)
				break
			}
			if *d.MontantAnnuel != montant(e, l.AnneeUniversitaire) && !(l.Identifiant == idBoulet && *d.MontantAnnuel == 1653) {
				bad("montant not from the barème")
			}
			if *d.Bareme != l.AnneeUniversitaire-1 {
				bad("barème is not year-1")
			}
			if d.Nature == "ATTRIBUTION_DEFINITIVE" && d.SousReserveProgression {
				bad("definitive sous réserve")
			}
			if pd, pc := *d.PointsDistance, *d.PointsCharge; pd < 0 || pd > 2 || pc < pd {
				bad("points")
			}
		default:
			bad("nature " + d.Nature)
		}
	}

	if len(l.Voeux) < 1 || len(l.Voeux) > 3 {
		bad("1–3 vœux")
	}
	for i, v := range l.Voeux {
		if v.Rang != i+1 {
			bad("vœu rank")
		}
		if u, err := ident.ParseUAI(v.UAI); err != nil || u != v.UAI {
			bad("UAI " + v.UAI)
		}
		if a, e := etablissementByUAI(v.UAI); academies[a].code != v.Academie || e.nom != v.Etablissement {
			bad("vœu académie or establishment")
		}
		if v.Formation == "" {
			bad("vœu formation")
		}
	}
	return f
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

// dateInAnnee says whether s is a valid YYYY-MM-DD of year a, from month
// m1 to month m2.
func dateInAnnee(s string, a, m1, m2 int) bool {
	if len(s) != 10 || atoi(s[:4]) != a || s[4] != '-' || s[7] != '-' {
		return false
	}
	m, j := atoi(s[5:7]), atoi(s[8:10])
	return m >= m1 && m <= m2 && j >= 1 && j <= firstDay(a, m+1)-firstDay(a, m)
}

func TestEveryLineValid(t *testing.T) {
	for _, opts := range []Options{
		{Dossiers: 30000, Annees: []int{2021, 2022, 2023, 2024, 2025}, Seed: 11},
		{Dossiers: 3000, Annees: []int{2014, 2015}, Seed: 12},             // 2015–2016 barème
		{Dossiers: 3000, Annees: []int{2004, 2010, 2016, 2024}, Seed: 13}, // years far apart
		{Dossiers: 500, Annees: []int{2014}, Seed: 14},
	} {
		lines := collect(t, opts)
		dossiers := map[string]int{}
		identities := map[string]identity{}
		byAnnee := map[string][]extract.Line{} // identifiant + year
		anneesFrom := map[string][]int{}
		faults := 0
		for i, l := range lines {
			for _, f := range validate(l) {
				if faults++; faults <= 20 {
					t.Errorf("%v line %d (%s): %s", opts.Annees, i+1, l.NumeroDossier, f)
				}
			}
			if !slices.Contains(opts.Annees, l.AnneeUniversitaire) {
				t.Errorf("line %d: year %d not asked for", i+1, l.AnneeUniversitaire)
			}
			if j, ok := dossiers[l.NumeroDossier]; ok {
				t.Errorf("line %d: numeroDossier %s already on line %d", i+1, l.NumeroDossier, j)
			}
			dossiers[l.NumeroDossier] = i + 1
			id := identity{l.Nom, l.Prenom, l.DateNaissance}
			if prev, ok := identities[l.Identifiant]; ok && prev != id {
				t.Errorf("line %d: identifiant %s has two identities: %v and %v", i+1, l.Identifiant, prev, id)
			}
			identities[l.Identifiant] = id
			k := l.Identifiant + itoa4(l.AnneeUniversitaire)
			byAnnee[k] = append(byAnnee[k], l)
			if a := anneesFrom[l.Identifiant]; len(a) == 0 || a[len(a)-1] != l.AnneeUniversitaire {
				anneesFrom[l.Identifiant] = append(a, l.AnneeUniversitaire)
			}
		}
		// Several dossiers the same year: in different académies, with
		// different outcomes.
		for k, ds := range byAnnee {
			if len(ds) > 2 {
				t.Errorf("%s: %d dossiers the same year", k, len(ds))
			}
			if len(ds) == 2 && (ds[0].Academie == ds[1].Academie || result(ds[0]) == result(ds[1])) {
				// COLIN Bastien's two conditional awards are the tie-break case.
				if ds[0].Identifiant != idColin {
					t.Errorf("%s: two dossiers with the same académie or outcome", k)
				}
			}
		}
		// A student's years are consecutive entries of Annees, listed once
		// each, in order.
		sorted := slices.Sorted(slices.Values(opts.Annees))
		multi := 0
		for id, a := range anneesFrom {
			i := slices.Index(sorted, a[0])
			if i < 0 || i+len(a) > len(sorted) || !slices.Equal(sorted[i:i+len(a)], a) {
				t.Errorf("%s: years %v are not consecutive years of %v", id, a, sorted)
			}
			if len(a) > 1 {
				multi++
			}
		}
		if len(opts.Annees) > 1 && multi < len(anneesFrom)/4 {
			t.Errorf("%v: only %d of %d students span several years", opts.Annees, multi, len(anneesFrom))
		}
	}
}

// The extract passes the import validation of package extract. A sample
// is enough, as long as it holds every special case (the first lines) and
// ordinary dossiers of every category; TestEveryLineValid checks the
// demo's own rules over larger extracts.
func TestImportable(t *testing.T) {
	const sample = 1000
	// The outcome of each category of ordinary dossier (an ANNULE one may
	// keep its conditional award).
	categories := map[string]int{
		"VALIDE ATTRIBUTION_DEFINITIVE": catDefinitive, "VALIDE ATTRIBUTION_CONDITIONNELLE": catConditionnelle,
		"VALIDE REJET": catRejet, "PIECES_MANQUANTES": catPieces, "NON_TRAITE": catNonTraite, "VALIDE": catValide,
		"ANNULE": catAnnule, "ANNULE ATTRIBUTION_CONDITIONNELLE": catAnnule,
	}
	for _, anneeSet := range [][]int{annees, {2014, 2015}} {
		specials := specials(slices.Sorted(slices.Values(anneeSet)))
		b := write(t, Options{Dossiers: sample, Annees: anneeSet, Seed: 21})
		faults := 0
		rd := extract.NewReader(bytes.NewReader(b), func(f extract.Fault) {
			if faults++; faults <= 10 {
				t.Error(f)
			}
		})
		n := 0
		var seen [nCat]int
		for d, ok := rd.Next(); ok; d, ok = rd.Next() {
			outcome := string(d.Etat)
			if d.Decision != nil {
				outcome += " " + string(d.Decision.Nature)
			}
			if n < len(specials) {
				if d.NumeroDossier != specials[n].NumeroDossier {
					t.Errorf("%v line %d: dossier %s, want the special case %s", anneeSet, n+1, d.NumeroDossier, specials[n].NumeroDossier)
				}
			} else if c, ok := categories[outcome]; ok {
				seen[c]++
			} else {
				t.Errorf("%v line %d: outcome %q of no category", anneeSet, n+1, outcome)
			}
			n++
		}
		if rd.Err() != nil || n != sample || rd.Faults() != 0 {
			t.Errorf("%v: %d valid dossiers of %d, %d faults, %v", anneeSet, n, sample, rd.Faults(), rd.Err())
		}
		for c, k := range seen {
			if k == 0 {
				t.Errorf("%v: no ordinary dossier of category %d in the sample", anneeSet, c)
			}
		}
	}
}

// result sums up the outcome of a dossier.
func result(l extract.Line) string {
	if l.Decision == nil {
		return l.Etat
	}
	return l.Etat + " " + l.Decision.Nature
}

func TestSpecialCases(t *testing.T) {
	for _, anneeSet := range [][]int{{2023, 2024, 2025}, {2014}, {2010, 2012, 2014, 2016, 2018, 2020, 2022}} {
		y := anneeSet[len(anneeSet)-1]
		const n = 20000
		lines := collect(t, Options{Dossiers: n, Annees: anneeSet, Seed: 99})
		line := func(i int) extract.Line { return lines[i-1] }

		// Line 1: the seed.
		b := line(1)
		want := extract.Line{
			NumeroDossier: itoa4(y) + "MON1111037734L", AnneeUniversitaire: y, Academie: "MON",
			Identifiant: "1111037734L", Nom: "BOULET", Prenom: "Amandine", DateNaissance: "1996-11-28",
			Etat: "VALIDE", PiecesManquantes: []string{},
			Voeux: []extract.Voeu{{Rang: 1, Academie: "MON", UAI: "0341088Y", Etablissement: "UM1 UFR Médecine", Formation: "Diplômes de santé, 1re année"}},
		}
		d := b.Decision
		b.Decision = nil
		if !jsonEqual(b, want) {
			t.Errorf("line 1: got %+v, want %+v", b, want)
		}
		if d == nil || d.Nature != "ATTRIBUTION_CONDITIONNELLE" || *d.Echelon != "1" || *d.MontantAnnuel != 1653.00 ||
			*d.Bareme != y-1 || *d.PointsCharge != 3 || *d.PointsDistance != 1 || d.SousReserveProgression || d.Date != itoa4(y)+"-06-12" {
			t.Errorf("line 1: decision %+v", d)
		}

		// Lines 2–19: the table of specials.go.
		type tcase struct {
			line               int
			id, acad, nom, pre string
			etat, nature       string
		}
		for _, c := range []tcase{
			{2, idNDiaye, "CRE", "N'DIAYE", "Élodie", "VALIDE", "ATTRIBUTION_DEFINITIVE"},
			{3, idLeGoff, "REN", "LE GOFF", "Jean-Pierre", "VALIDE", "REJET"},
			{4, idDiallo, "VER", "DIALLO", "Aminata", "VALIDE", "ATTRIBUTION_CONDITIONNELLE"},
			{5, idWang, "PAR", "WANG", "Lei", "VALIDE", "ATTRIBUTION_DEFINITIVE"},
			{6, idKouassi, "LYO", "KOUASSI", "Ange-Marie", "PIECES_MANQUANTES", ""},
			{7, idFontA, "LIL", "FONTAINE", "Pauline", "VALIDE", "ATTRIBUTION_DEFINITIVE"},
			{8, idFontB, "BOR", "FONTAINE", "Pauline", "VALIDE", "REJET"},
			{9, idBrunet, "AIX", "BRUNET", "Hélène", "VALIDE", "REJET"},
			{10, idBrunet, "NCE", "BRUNET", "Hélène", "VALIDE", "ATTRIBUTION_CONDITIONNELLE"},
			{11, idColin, "GRE", "COLIN", "Bastien", "VALIDE", "ATTRIBUTION_CONDITIONNELLE"},
			{12, idColin, "LYO", "COLIN", "Bastien", "VALIDE", "ATTRIBUTION_CONDITIONNELLE"},
			{13, idMeunier, "PAR", "MEUNIER", "Sophie", "ANNULE", "ATTRIBUTION_DEFINITIVE"},
			{14, idMeunier, "VER", "MEUNIER", "Sophie", "PIECES_MANQUANTES", ""},
			{15, idBarbier, "TOU", "BARBIER", "Romain", "VALIDE", "ATTRIBUTION_CONDITIONNELLE"},
			{16, idRenaud, "BOR", "RENAUD", "Clara", "VALIDE", "ATTRIBUTION_CONDITIONNELLE"},
			{17, idLemaire, "STR", "LEMAIRE", "Victor", "NON_TRAITE", ""},
			{18, idGilles, "VER", "GILLES", "Margaux", "VALIDE", ""},
			{19, idPerrot, "NAN", "PERROT", "Damien", "ANNULE", "ATTRIBUTION_CONDITIONNELLE"},
		} {
			l := line(c.line)
			nature := ""
			if l.Decision != nil {
				nature = l.Decision.Nature
			}
			if l.NumeroDossier != itoa4(y)+c.acad+c.id || l.Nom != c.nom || l.Prenom != c.pre || l.Etat != c.etat || nature != c.nature {
				t.Errorf("line %d: got %s %s %s %s %s, want %+v", c.line, l.NumeroDossier, l.Nom, l.Prenom, l.Etat, nature, c)
			}
		}
		if d := line(15).Decision; !d.SousReserveProgression || d.ProgressionVerified {
			t.Error("line 15: not sous réserve de progression, not verified")
		}
		if d := line(16).Decision; !d.SousReserveProgression || !d.ProgressionVerified {
			t.Error("line 16: not sous réserve de progression, verified")
		}
		if d11, d12 := line(11).Decision.Date, line(12).Decision.Date; d11 >= d12 {
			t.Errorf("lines 11–12: LYO's decision (%s) is not the latest (%s)", d12, d11)
		}
		for i, f := range map[int]ident.Format{15: ident.FormatRNIE, 16: ident.FormatSIFA, 18: ident.FormatBase36, 2: ident.FormatBEA} {
			if ine, _ := ident.ParseINE(line(i).Identifiant); ine.Format != f {
				t.Errorf("line %d: format %v, want %v", i, ine.Format, f)
			}
		}

		// ARNAUD Julie: one dossier per year over the last years.
		suite := anneeSet[max(0, len(anneeSet)-5):]
		for suite[len(suite)-1]-suite[0] > 13 {
			suite = suite[1:]
		}
		for i, a := range suite {
			l := line(nSpecial + 1 + i)
			nature := "ATTRIBUTION_DEFINITIVE"
			if i == len(suite)-1 {
				nature = "ATTRIBUTION_CONDITIONNELLE"
			}
			if l.NumeroDossier != itoa4(a)+"GRE"+idArnaud || l.Decision == nil || l.Decision.Nature != nature {
				t.Errorf("line %d: got %s, want ARNAUD Julie's %d dossier", nSpecial+1+i, l.NumeroDossier, a)
			}
		}
		if l := line(nSpecial + len(suite) + 1); l.Identifiant == idArnaud || slices.Contains(specialIdentifiants, l.Identifiant) {
			t.Errorf("line %d is still a special case", nSpecial+len(suite)+1)
		}

		// Identities over the whole extract: the foreign students and the
		// other special students are alone with their identity in year Y,
		// the homonyms are exactly two; no provisional INE appears.
		byIdentity := map[identity][]string{}
		for _, l := range lines {
			if l.AnneeUniversitaire != y {
				continue
			}
			k := identity{l.Nom, l.Prenom, l.DateNaissance}
			if !slices.Contains(byIdentity[k], l.Identifiant) {
				byIdentity[k] = append(byIdentity[k], l.Identifiant)
			}
			if ine, _ := ident.ParseINE(l.Identifiant); ine.Format == ident.FormatProvisional {
				t.Errorf("%s: provisional INE in the extract", l.NumeroDossier)
			}
		}
		for i := 1; i <= nSpecial; i++ {
			l := line(i)
			ids := byIdentity[identity{l.Nom, l.Prenom, l.DateNaissance}]
			if want := 1 + btoi(i == 7 || i == 8); len(ids) != want {
				t.Errorf("line %d: %d identifiers share the identity of %s %s, want %d", i, len(ids), l.Nom, l.Prenom, want)
			}
		}
		if line(7).Identifiant == line(8).Identifiant || line(7).DateNaissance != line(8).DateNaissance {
			t.Error("lines 7–8 are not homonyms")
		}
		for i, p := range provisional(y) {
			ine, err := ident.ParseINE(p)
			if err != nil || ine.Format != ident.FormatProvisional {
				t.Errorf("provisional INE %s of line %d: %v %v", p, i+4, ine.Format, err)
			}
			if slices.ContainsFunc(lines, func(l extract.Line) bool { return l.Identifiant == p }) {
				t.Errorf("provisional INE %s is in the extract", p)
			}
		}
		// Names with accents, hyphens, apostrophes and particles.
		for _, s := range []string{"Élodie", "Jean-Pierre", "N'DIAYE", "LE GOFF", "Hélène", "Ange-Marie"} {
			if !slices.ContainsFunc(lines[:nSpecial], func(l extract.Line) bool { return l.Nom == s || l.Prenom == s }) {
				t.Errorf("no special student named %s", s)
			}
		}
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

func TestProportions(t *testing.T) {
	const n = 10000
	lines := collect(t, Options{Dossiers: n, Annees: annees, Seed: 2025})
	var cat [nCat]int
	var reserve, verified int
	var ech [8]int
	var formats [6]int
	var annee = map[int]int{}
	second := 0
	seen := map[string]bool{}
	for _, l := range lines {
		annee[l.AnneeUniversitaire]++
		k := l.Identifiant + itoa4(l.AnneeUniversitaire)
		if seen[k] {
			second++
		}
		seen[k] = true
		ine, _ := ident.ParseINE(l.Identifiant)
		formats[ine.Format]++
		d := l.Decision
		switch {
		case l.Etat == "ANNULE":
			cat[catAnnule]++
		case l.Etat == "NON_TRAITE":
			cat[catNonTraite]++
		case l.Etat == "PIECES_MANQUANTES":
			cat[catPieces]++
		case d == nil:
			cat[catValide]++
		case d.Nature == "ATTRIBUTION_DEFINITIVE":
			cat[catDefinitive]++
		case d.Nature == "ATTRIBUTION_CONDITIONNELLE":
			cat[catConditionnelle]++
			if d.SousReserveProgression {
				reserve++
				if d.ProgressionVerified {
					verified++
				}
			}
		case d.Nature == "REJET":
			cat[catRejet]++
		}
		if d != nil && d.Echelon != nil {
			ech[slices.Index(echelons, *d.Echelon)]++
		}
	}
	near := func(what string, got, total int, want, tol float64) {
		t.Helper()
		p := float64(got) / float64(total)
		if math.Abs(p-want) > tol {
			t.Errorf("%s: %.1f %% (%d of %d), want %.1f ± %.1f %%", what, 100*p, got, total, 100*want, 100*tol)
		} else {
			t.Logf("%s: %.1f %% (%d of %d)", what, 100*p, got, total)
		}
	}
	noms := [nCat]string{"ATTRIBUTION_DEFINITIVE", "VALIDE + CONDITIONNELLE", "REJET", "PIECES_MANQUANTES", "NON_TRAITE", "VALIDE without decision", "ANNULE"}
	for c := range nCat {
		near(noms[c], cat[c], n, float64(categoryWeights[c])/1000, 0.015)
	}
	near("sous réserve among conditional", reserve, cat[catConditionnelle], 1.0/3, 0.05)
	near("verified among sous réserve", verified, reserve, 0.5, 0.08)
	near("INE-BEA", formats[ident.FormatBEA], n, 0.85, 0.02)
	near("INE-Base 36", formats[ident.FormatBase36], n, 0.08, 0.015)
	near("INE-RNIE", formats[ident.FormatRNIE], n, 0.04, 0.01)
	near("INE-SIFA", formats[ident.FormatSIFA], n, 0.03, 0.01)
	near("second dossier the same year", second, n, 0.005, 0.003)
	totalEch := 0
	for _, e := range ech {
		totalEch += e
	}
	for i, e := range ech {
		near("échelon "+echelons[i], e, totalEch, float64(echelonWeights[i])/100, 0.02)
	}
	if ech[0] <= ech[7] || ech[1] <= ech[6] {
		t.Errorf("échelons %v: low levels should be more frequent", ech)
	}
	for _, a := range annees {
		near("year "+itoa4(a), annee[a], n, 1.0/3, 0.08)
	}
}

// BenchmarkGenerate measures the generation of 100,000 dossiers.
func BenchmarkGenerate(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if err := Generate(Options{Dossiers: 100_000, Annees: annees, Seed: 1}, func(extract.Line) error { return nil }); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWrite measures generating and encoding 100,000 dossiers.
func BenchmarkWrite(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if err := Write(io.Discard, Options{Dossiers: 100_000, Annees: annees, Seed: 1}); err != nil {
			b.Fatal(err)
		}
	}
}
