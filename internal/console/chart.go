package console

import (
	"slices"
	"strconv"
	"time"

	"github.com/aglae-connector/aglae-connector/internal/bourse"
)

// chartSeries is one statut of the chart: its label, colour and pattern (the
// chart reads without colour: each statut has its own hatching, named in
// the legend and the data table).
type chartSeries struct {
	Statut  bourse.Statut
	Label   string
	Color   string
	Pattern string // the id of its SVG pattern
}

var series = []chartSeries{
	{bourse.StatutBoursier, "Boursier", "#1d4ed8", "m-boursier"},
	{bourse.StatutEnAttente, "En attente", "#b45309", "m-attente"},
	{bourse.StatutNonBoursier, "Non boursier", "#4b5563", "m-non"},
	{bourse.StatutInconnu, "Inconnu", "#7e22ce", "m-inconnu"},
}

type segment struct {
	X, Y, W, H float64
	Pattern    string
	Title      string
}

type tick struct {
	Y    float64
	X    float64
	Text string
}

type dayRow struct {
	Day    string
	Counts []int
	Total  int
}

// chart is the chart of the answers per day, computed for the
// template: bars stacked by statut, the axes, and the data table.
type chart struct {
	Width, Height float64
	Series        []chartSeries
	Segments      []segment
	Y             []tick
	X             []tick
	Table         []dayRow
	Total         int
	Empty         bool
	Summary       string
}

const (
	chartWidth, chartHeight                          = 800.0, 300.0
	marginLeft, marginRight, marginTop, marginBottom = 56.0, 12.0, 12.0, 36.0
)

// drawChart lays out the chart of days from the season's first day to its
// last answered day.
func drawChart(days []Day, start time.Time) chart {
	g := chart{Width: chartWidth, Height: chartHeight, Series: series}
	if len(days) == 0 {
		g.Empty = true
		return g
	}
	if days[0].Day.Before(start) {
		start = days[0].Day
	}
	end := days[len(days)-1].Day
	ndays := int(end.Sub(start).Hours()/24+0.5) + 1
	counts := make([][]int, ndays)
	for i := range counts {
		counts[i] = make([]int, len(series))
	}
	for _, j := range days {
		d := int(j.Day.Sub(start).Hours()/24 + 0.5)
		k := slices.IndexFunc(series, func(s chartSeries) bool { return s.Statut == j.Statut })
		if d >= 0 && d < ndays && k >= 0 {
			counts[d][k] += j.N
		}
	}
	peak := 1
	for d, cs := range counts {
		t := 0
		for _, n := range cs {
			t += n
		}
		peak = max(peak, t)
		g.Total += t
		if t > 0 {
			g.Table = append(g.Table, dayRow{Day: start.AddDate(0, 0, d).Format("02/01/2006"), Counts: cs, Total: t})
		}
	}
	peak = niceCeil(peak)
	plotW, plotH := chartWidth-marginLeft-marginRight, chartHeight-marginTop-marginBottom
	bw := plotW / float64(ndays)
	for d, cs := range counts {
		y := marginTop + plotH
		for k, n := range cs {
			if n == 0 {
				continue
			}
			h := plotH * float64(n) / float64(peak)
			y -= h
			g.Segments = append(g.Segments, segment{X: marginLeft + float64(d)*bw, Y: y, W: max(bw-0.5, 0.5), H: h, Pattern: series[k].Pattern,
				Title: start.AddDate(0, 0, d).Format("02/01/2006") + " : " + strconv.Itoa(n) + " " + series[k].Label})
		}
	}
	for i := 0; i <= 4; i++ {
		v := peak * i / 4
		g.Y = append(g.Y, tick{Y: marginTop + plotH - plotH*float64(v)/float64(peak), X: marginLeft - 6, Text: strconv.Itoa(v)})
	}
	// One label at the first of each month (at most 12).
	for d := 0; d < ndays; d++ {
		t := start.AddDate(0, 0, d)
		if t.Day() == 1 || d == 0 {
			g.X = append(g.X, tick{X: marginLeft + float64(d)*bw, Y: chartHeight - marginBottom + 16, Text: t.Format("01/2006")})
		}
	}
	g.Summary = strconv.Itoa(g.Total) + " réponses du " + start.Format("02/01/2006") + " au " + end.Format("02/01/2006")
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
