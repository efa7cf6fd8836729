// Package demo generates a realistic Aglaé extract (SPEC §6, JSON Lines, one
// DSE dossier per line) for demonstrations, load tests and end-to-end tests.
//
// The extract starts with a fixed block of special cases (see specials.go):
// the seed's student BOULET Amandine, foreign first-year students whom
// Apogée knows by a provisional INE, homonyms, students with two dossiers the
// same year, one dossier for every row of the SPEC §3 decision table. Then
// come ordinary students, drawn from French name lists, each with dossiers in
// one to several consecutive academic years, with the proportions of a DSE
// population (most dossiers decided, about 70 % of them positive), échelons
// and amounts from the SPEC §8 barème, 1 to 3 vœux in real académies.
//
// Generation is deterministic: every draw comes from one math/rand/v2 PCG
// source seeded from Options.Seed, the vocabulary lives in slices (never in
// maps, whose iteration order varies) and no date depends on the clock. The
// same Options therefore give byte-identical output on every run and every
// machine. It is also streaming: lines are produced one student at a time,
// so memory stays bounded whatever Options.Dossiers is.
package demo

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strconv"

	"github.com/aglae-connector/aglae-connector/internal/extract"
	"github.com/aglae-connector/aglae-connector/internal/ident"
)

// Options says what to generate.
type Options struct {
	// Dossiers is the exact number of lines (dossiers) to generate.
	Dossiers int
	// Annees are the academic years to spread the dossiers over, each named
	// by its first year (2024 means 2024–2025). Order and duplicates do not
	// matter. The special cases are in the most recent year.
	Annees []int
	// Seed chooses the ordinary students; the special cases do not depend
	// on it.
	Seed uint64
}

// Generate produces opts.Dossiers lines and hands each one to emit, in
// order; it stops at the first error emit returns and returns it. The lines
// do not share memory with each other or with the generator: emit may keep
// them.
func Generate(opts Options, emit func(extract.Line) error) error {
	if opts.Dossiers < 0 {
		return fmt.Errorf("demo: negative number of dossiers: %d", opts.Dossiers)
	}
	annees, err := normalizeAnnees(opts.Annees)
	if err != nil {
		return err
	}
	g := &generator{
		r:         rand.New(rand.NewPCG(opts.Seed, 0x6167_6c61_6544_5345)), // "aglaeDSE"
		annees:    annees,
		remaining: opts.Dossiers,
		emit:      emit,
		xBEA:      4_807_526_976,
		xB36:      529_134_077_415_236,
		xRNIE:     27_093_158_446,
		xSIFA:     8_317_402_295,
	}
	lines := specials(annees)
	for _, l := range lines {
		g.identities = append(g.identities, identity{l.Nom, l.Prenom, l.DateNaissance})
	}
	for _, l := range lines {
		if err := g.emitDue(l); err != nil {
			return err
		}
	}
	for g.remaining > 0 {
		if err := g.student(); err != nil {
			return err
		}
	}
	return nil
}

// Write writes the extract of opts to w as JSON Lines, through a buffer:
// each line is what encoding/json writes for an extract.Line (without HTML
// escaping), followed by a newline.
func Write(w io.Writer, opts Options) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	err := Generate(opts, func(l extract.Line) error { return enc.Encode(l) })
	if err != nil {
		return err
	}
	return bw.Flush()
}

// normalizeAnnees sorts and deduplicates the years and checks them.
func normalizeAnnees(in []int) ([]int, error) {
	if len(in) == 0 {
		return nil, errors.New("demo: no academic year given")
	}
	annees := slices.Clone(in)
	slices.Sort(annees)
	annees = slices.Compact(annees)
	for _, a := range annees {
		// Dossier numbers accept years 2000–2099, and the barème
		// (year-1) must not be before 2000.
		if a < 2001 || a > 2099 {
			return nil, fmt.Errorf("demo: academic year %d out of range 2001–2099", a)
		}
	}
	return annees, nil
}

// generator holds the state of one generation: the random source, the lines
// still to emit and the counters that make identifiers unique.
type generator struct {
	r         *rand.Rand
	annees    []int
	remaining int
	emit      func(extract.Line) error

	// The identities of the special cases: no ordinary student may share
	// one, or identity lookups of the special cases would become ambiguous.
	identities []identity

	// The last identifier handed out in each format, as a number (see
	// stepBEA).
	xBEA, xB36, xRNIE, xSIFA uint64
}

// emitDue emits one line if some are still due.
func (g *generator) emitDue(l extract.Line) error {
	if g.remaining <= 0 {
		return nil
	}
	g.remaining--
	return g.emit(l)
}

// Dossier categories and their weights, in per mille. Ordinary lines follow
// these; the test checks them over 10,000 dossiers.
const (
	catDefinitive     = iota // VALIDE, ATTRIBUTION_DEFINITIVE
	catConditionnelle        // VALIDE, ATTRIBUTION_CONDITIONNELLE (1/3 sous réserve de progression, half of those verified)
	catRejet                 // VALIDE, REJET
	catPieces                // PIECES_MANQUANTES, no decision
	catNonTraite             // NON_TRAITE, no decision
	catValide                // VALIDE, no decision yet
	catAnnule                // ANNULE; 40 % of them keep the conditional award they had
	nCat
)

var categoryWeights = []int{
	catDefinitive:     550,
	catConditionnelle: 150,
	catRejet:          120,
	catPieces:         80,
	catNonTraite:      50,
	catValide:         30,
	catAnnule:         20,
}

// identity is what SPEC §3 compares to recognise a student.
type identity struct{ nom, prenom, naissance string }

// student is the identity of one student, the same on all their lines.
type student struct {
	identifiant string
	nom         string
	prenom      string
	naissance   string // YYYY-MM-DD
	academie    int    // index in academies
}

// student draws an ordinary student and emits their dossiers: one per
// year over a run of consecutive years of g.annees, sometimes a second one
// the same year in another académie.
func (g *generator) student() error {
	// A run of 1 to 5 consecutive years (30, 25, 20, 15, 10 %), which may start
	// before the first year asked for or end after the last one and is then
	// cut: every year gets the same share of dossiers.
	length := 1 + pick(g.r, []int{30, 25, 20, 15, 10})
	start := g.r.IntN(len(g.annees)+length-1) - (length - 1)
	if start < 0 {
		length += start
		start = 0
	}
	length = min(length, len(g.annees)-start)
	// Ages must stay within 17–30 over the run: at most 13 years apart.
	for g.annees[start+length-1]-g.annees[start] > 13 {
		length--
	}
	first, last := g.annees[start], g.annees[start+length-1]

	e := student{
		identifiant: g.identifiant(),
		nom:         noms[g.r.IntN(len(noms))],
		prenom:      prenoms[g.r.IntN(len(prenoms))],
		academie:    pick(g.r, academieWeights),
	}
	// Age at the first year: mostly 18–21, 17 to 27.
	age := 17 + pick(g.r, []int{5, 30, 20, 15, 10, 7, 5, 3, 2, 2, 1})
	ne := max(first-age, last-30)
	for {
		e.naissance = randomDate(g.r, ne, 1, 12)
		if !slices.Contains(g.identities, identity{e.nom, e.prenom, e.naissance}) {
			break
		}
	}

	for i := start; i < start+length; i++ {
		annee := g.annees[i]
		if i > start && g.r.IntN(10) == 0 {
			// One student in ten moves to another académie.
			e.academie = pick(g.r, academieWeights)
		}
		cat := pick(g.r, categoryWeights)
		if err := g.emitDue(g.line(e, annee, e.academie, cat)); err != nil {
			return err
		}
		if g.r.IntN(200) == 0 {
			// 0.5 %: a second dossier the same year in another académie,
			// with a different outcome.
			other := g.otherAcademie(e.academie)
			cat2 := pick(g.r, categoryWeights)
			for cat2 == cat {
				cat2 = pick(g.r, categoryWeights)
			}
			if err := g.emitDue(g.line(e, annee, other, cat2)); err != nil {
				return err
			}
		}
	}
	return nil
}

// otherAcademie draws an académie other than acad.
func (g *generator) otherAcademie(acad int) int {
	for {
		if a := pick(g.r, academieWeights); a != acad {
			return a
		}
	}
}

// line builds the dossier of student e for year annee in académie acad, of
// category cat.
func (g *generator) line(e student, annee, acad, cat int) extract.Line {
	code := academies[acad].code
	l := extract.Line{
		NumeroDossier:      itoa4(annee) + code + e.identifiant,
		AnneeUniversitaire: annee,
		Academie:           code,
		Identifiant:        e.identifiant,
		Nom:                e.nom,
		Prenom:             e.prenom,
		DateNaissance:      e.naissance,
		Etat:               "VALIDE",
		PiecesManquantes:   []string{},
		Voeux:              g.voeux(acad),
	}
	switch cat {
	case catDefinitive:
		// Definitive once the registration is known: July to October.
		l.Decision = g.attribution("ATTRIBUTION_DEFINITIVE", annee, randomDate(g.r, annee, 7, 10))
	case catConditionnelle:
		// Conditional awards are sent as dossiers are processed, from the
		// end of January to August.
		d := g.attribution("ATTRIBUTION_CONDITIONNELLE", annee, randomDate(g.r, annee, 2, 8))
		if g.r.IntN(3) == 0 {
			d.SousReserveProgression = true
			d.ProgressionVerified = g.r.IntN(2) == 0
		}
		l.Decision = d
	case catRejet:
		// A rejection is computed against the resources ceiling of the
		// barème the attributions of the year use, and carries it.
		bareme := annee - 1
		l.Decision = &extract.Decision{Nature: "REJET", Date: randomDate(g.r, annee, 2, 10), Bareme: &bareme}
	case catPieces:
		l.Etat = "PIECES_MANQUANTES"
		l.PiecesManquantes = g.pieces(annee)
	case catNonTraite:
		l.Etat = "NON_TRAITE"
	case catValide:
	case catAnnule:
		l.Etat = "ANNULE"
		if g.r.IntN(5) < 2 {
			// Cancelled after a conditional award (the student gave up):
			// the decision stays on the dossier, lookups ignore it.
			l.Decision = g.attribution("ATTRIBUTION_CONDITIONNELLE", annee, randomDate(g.r, annee, 2, 6))
		}
	}
	return l
}

// decisionBox holds a decision and the values its pointers designate, so
// that one allocation serves them all.
type decisionBox struct {
	d       extract.Decision
	echelon string
	montant float64
	bareme  int
	charge  int
	dist    int
}

// newAttribution returns an award of the given nature at échelon ech
// (index in echelons) for year annee, with its amount from the SPEC §8
// barème and the barème year annee-1.
func newAttribution(nature string, annee, ech int, date string, charge, dist int) *extract.Decision {
	b := &decisionBox{
		echelon: echelons[ech],
		montant: montant(ech, annee),
		bareme:  annee - 1,
		charge:  charge,
		dist:    dist,
	}
	b.d = extract.Decision{
		Nature:         nature,
		Echelon:        &b.echelon,
		MontantAnnuel:  &b.montant,
		Bareme:         &b.bareme,
		Date:           date,
		PointsCharge:   &b.charge,
		PointsDistance: &b.dist,
	}
	return &b.d
}

// attribution draws an award: échelon and points de charge.
func (g *generator) attribution(nature string, annee int, date string) *extract.Decision {
	ech := pick(g.r, echelonWeights)
	// Distance: under 30 km 0, 30–249 km 1, 250 km and more 2.
	dist := pick(g.r, []int{45, 40, 15})
	// Other dependent children: 2 points each; a child in higher education
	// 4 points since 2020 (before, counted as any other child: a
	// simplification).
	children := pick(g.r, []int{40, 30, 18, 8, 4})
	sup := pick(g.r, []int{80, 17, 3})
	perSup := 2
	if annee >= 2020 {
		perSup = 4
	}
	return newAttribution(nature, annee, ech, date, dist+2*children+perSup*sup, dist)
}

// voeux draws 1 to 3 vœux: the first in the dossier's académie, the others
// there too or, one time in three, elsewhere; never the same establishment
// and programme twice.
func (g *generator) voeux(acad int) []extract.Voeu {
	n := 1 + pick(g.r, []int{50, 30, 20})
	v := make([]extract.Voeu, 0, n)
	for len(v) < n {
		a := acad
		if len(v) > 0 && g.r.IntN(3) == 0 {
			a = pick(g.r, academieWeights)
		}
		etabs := academies[a].etabs
		e := etabs[g.r.IntN(len(etabs))]
		f := formations[e.kind][g.r.IntN(len(formations[e.kind]))]
		if slices.ContainsFunc(v, func(x extract.Voeu) bool { return x.UAI == e.uai && x.Formation == f }) {
			continue
		}
		v = append(v, extract.Voeu{
			Rang:          len(v) + 1,
			Academie:      academies[a].code,
			UAI:           e.uai,
			Etablissement: e.nom,
			Formation:     f,
		})
	}
	return v
}

// pieces draws 1 to 3 distinct missing documents, in the order of the list.
func (g *generator) pieces(annee int) []string {
	n := 1 + pick(g.r, []int{55, 30, 15})
	var chosen [len(pieces)]bool
	for k := 0; k < n; {
		if i := pick(g.r, piecesWeights); !chosen[i] {
			chosen[i] = true
			k++
		}
	}
	p := make([]string, 0, n)
	for i, ok := range chosen {
		if ok {
			p = append(p, piece(i, annee))
		}
	}
	return p
}

// Each format walks its whole space with a fixed step prime to the space's
// size: x, x+step, x+2·step… (mod size) are all different until the space is
// exhausted, so identifiers are unique without remembering them, and they
// look scattered. The starting points are arbitrary.
const (
	stepBEA  = 6_180_339_887            // prime to 10
	sizeBEA  = 10_000_000_000           // 10 digits
	stepB36  = 627_675_051_119_803      // prime to 2, 3, 5
	sizeB36  = 10 * 101_559_956_668_416 // a digit, then 9 base-36 characters (36^9)
	stepRNIE = 61_803_398_877           // prime to 10
	sizeRNIE = 1_000_000_000 * 100      // 9 digits, 2 letters out of 10
	stepSIFA = 14_214_781_741           // prime to 2, 5, 23
	sizeSIFA = 10_000 * 100_000 * 23    // 4 digits, 5 digits, one of 23 letters
)

const (
	base36    = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	lettersRN = "ABCDEFGHJK"              // INE-RNIE letters
	letters23 = "ABCDEFGHJKLMNPRSTUVWXYZ" // letters other than I, O, Q
)

// identifiant hands out a new identifier, unique among those of this
// generation and different from the special cases': 85 % INE-BEA (the
// rectorat's, the usual case), 8 % INE-Base 36 (generated by Apogée), 4 %
// INE-RNIE, 3 % INE-SIFA (apprentices).
func (g *generator) identifiant() string {
	var b [11]byte
	for {
		switch pick(g.r, []int{85, 8, 4, 3}) {
		case 0:
			g.xBEA = (g.xBEA + stepBEA) % sizeBEA
			x := g.xBEA
			digits(b[:10], x)
			b[10] = ident.BEAKey(string(b[:10]))
		case 1:
			g.xB36 = (g.xB36 + stepB36) % sizeB36
			x := g.xB36
			for i := 9; i >= 1; i-- {
				b[i] = base36[x%36]
				x /= 36
			}
			b[0] = byte('0' + x) // a leading digit: never all letters
			b[10] = ident.Base36Key(string(b[:10]))
		case 2:
			g.xRNIE = (g.xRNIE + stepRNIE) % sizeRNIE
			x := g.xRNIE
			b[10] = lettersRN[x%10]
			b[9] = lettersRN[x/10%10]
			digits(b[:9], x/100)
		case 3:
			g.xSIFA = (g.xSIFA + stepSIFA) % sizeSIFA
			x := g.xSIFA
			b[10] = letters23[x%23]
			x /= 23
			digits(b[5:10], x%100_000)
			b[4] = 'A'
			digits(b[:4], x/100_000)
		}
		if tenIdentical(b[:10]) {
			continue // refused by SPEC §4 for INE-BEA and INE-Base 36
		}
		s := string(b[:])
		if !slices.Contains(specialIdentifiants, s) {
			return s
		}
	}
}

// digits writes x in decimal into b, zero-padded on the left.
func digits(b []byte, x uint64) {
	for i := len(b) - 1; i >= 0; i-- {
		b[i] = byte('0' + x%10)
		x /= 10
	}
}

func tenIdentical(b []byte) bool {
	for _, c := range b[1:] {
		if c != b[0] {
			return false
		}
	}
	return true
}

// pick returns an index of weights drawn with probability proportional to its
// weight.
func pick(r *rand.Rand, weights []int) int {
	total := 0
	for _, p := range weights {
		total += p
	}
	x := r.IntN(total)
	for i, p := range weights {
		if x < p {
			return i
		}
		x -= p
	}
	panic("unreachable")
}

// randomDate draws a day of year annee between the first of month m1 and
// the end of month m2.
func randomDate(r *rand.Rand, annee, m1, m2 int) string {
	start := firstDay(annee, m1)
	end := firstDay(annee, m2+1) // m2+1 = 13 is the next 1 January
	j := start + r.IntN(end-start)
	m := m1
	for j >= firstDay(annee, m+1) {
		m++
	}
	return date(annee, m, j-firstDay(annee, m)+1)
}

// firstDay returns the day of the year (0-based) of the first of month m,
// m from 1 to 13.
func firstDay(annee, m int) int {
	cumulative := [14]int{0, 0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334, 365}
	j := cumulative[m]
	if m > 2 && leap(annee) {
		j++
	}
	return j
}

func leap(a int) bool { return a%4 == 0 && (a%100 != 0 || a%400 == 0) }

// date formats YYYY-MM-DD.
func date(a, m, j int) string {
	b := [10]byte{
		byte('0' + a/1000), byte('0' + a/100%10), byte('0' + a/10%10), byte('0' + a%10), '-',
		byte('0' + m/10), byte('0' + m%10), '-',
		byte('0' + j/10), byte('0' + j%10),
	}
	return string(b[:])
}

// itoa4 formats a 4-digit year.
func itoa4(a int) string {
	if a < 1000 || a > 9999 {
		return strconv.Itoa(a)
	}
	return string([]byte{byte('0' + a/1000), byte('0' + a/100%10), byte('0' + a/10%10), byte('0' + a%10)})
}
