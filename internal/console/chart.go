package console

import (
	"slices"
	"strconv"
	"time"

	"github.com/aglae-connector/aglae-connector/internal/bourse"
)

// serie is one statut of the chart: its label, colour and pattern (the
// chart reads without colour: each statut has its own hatching, named in
// the legend and the data table).
type serie struct {
	Statut  bourse.Statut
	Libelle string
	Couleur string
	Motif   string // the id of its SVG pattern
}

var series = []serie{
	{bourse.StatutBoursier, "Boursier", "#1d4ed8", "m-boursier"},
	{bourse.StatutEnAttente, "En attente", "#b45309", "m-attente"},
	{bourse.StatutNonBoursier, "Non boursier", "#4b5563", "m-non"},
	{bourse.StatutInconnu, "Inconnu", "#7e22ce", "m-inconnu"},
}

type segment struct {
	X, Y, W, H float64
	Motif      string
	Titre      string
}

type graduation struct {
	Y     float64
	X     float64
	Texte string
}

type jourLigne struct {
	Jour   string
	Counts []int
	Total  int
}

// graphique is the chart of the answers per day, computed for the
// template: bars stacked by statut, the axes, and the data table.
type graphique struct {
	Largeur, Hauteur float64
	Series           []serie
	Segments         []segment
	Y                []graduation
	X                []graduation
	Table            []jourLigne
	Total            int
	Vide             bool
	Resume           string
}

const (
	gW, gH                        = 800.0, 300.0
	gGauche, gDroite, gHaut, gBas = 56.0, 12.0, 12.0, 36.0
)

// dessiner lays out the chart of js from the season's first day to its
// last answered day.
func dessiner(js []Jour, debut time.Time) graphique {
	g := graphique{Largeur: gW, Hauteur: gH, Series: series}
	if len(js) == 0 {
		g.Vide = true
		return g
	}
	if js[0].Jour.Before(debut) {
		debut = js[0].Jour
	}
	fin := js[len(js)-1].Jour
	ndays := int(fin.Sub(debut).Hours()/24+0.5) + 1
	counts := make([][]int, ndays)
	for i := range counts {
		counts[i] = make([]int, len(series))
	}
	for _, j := range js {
		d := int(j.Jour.Sub(debut).Hours()/24 + 0.5)
		k := slices.IndexFunc(series, func(s serie) bool { return s.Statut == j.Statut })
		if d >= 0 && d < ndays && k >= 0 {
			counts[d][k] += j.N
		}
	}
	maxi := 1
	for d, cs := range counts {
		t := 0
		for _, n := range cs {
			t += n
		}
		maxi = max(maxi, t)
		g.Total += t
		if t > 0 {
			g.Table = append(g.Table, jourLigne{Jour: debut.AddDate(0, 0, d).Format("02/01/2006"), Counts: cs, Total: t})
		}
	}
	maxi = niceCeil(maxi)
	plotW, plotH := gW-gGauche-gDroite, gH-gHaut-gBas
	bw := plotW / float64(ndays)
	for d, cs := range counts {
		y := gHaut + plotH
		for k, n := range cs {
			if n == 0 {
				continue
			}
			h := plotH * float64(n) / float64(maxi)
			y -= h
			g.Segments = append(g.Segments, segment{X: gGauche + float64(d)*bw, Y: y, W: max(bw-0.5, 0.5), H: h, Motif: series[k].Motif,
				Titre: debut.AddDate(0, 0, d).Format("02/01/2006") + " : " + strconv.Itoa(n) + " " + series[k].Libelle})
		}
	}
	for i := 0; i <= 4; i++ {
		v := maxi * i / 4
		g.Y = append(g.Y, graduation{Y: gHaut + plotH - plotH*float64(v)/float64(maxi), X: gGauche - 6, Texte: strconv.Itoa(v)})
	}
	// One label at the first of each month (at most 12).
	for d := 0; d < ndays; d++ {
		t := debut.AddDate(0, 0, d)
		if t.Day() == 1 || d == 0 {
			g.X = append(g.X, graduation{X: gGauche + float64(d)*bw, Y: gH - gBas + 16, Texte: t.Format("01/2006")})
		}
	}
	g.Resume = strconv.Itoa(g.Total) + " réponses du " + debut.Format("02/01/2006") + " au " + fin.Format("02/01/2006")
	return g
}

// niceCeil rounds n up to 1, 2 or 5 times a power of ten, so that the
// axis reads in round numbers.
func niceCeil(n int) int {
	p := 1
	for p*10 <= n {
		p *= 10
	}
	for _, m := range []int{1, 2, 5, 10} {
		if n <= m*p {
			if m*p%4 != 0 && m*p >= 4 {
				continue
			}
			return m * p
		}
	}
	return 10 * p
}
