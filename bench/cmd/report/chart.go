package main

import (
	"fmt"
	"image/color"
	"math"
	"path/filepath"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// Colours by kind of variant: the floor, the peers, goasync.
var kindColors = map[string]color.Color{
	kindRaw:   color.RGBA{R: 150, G: 150, B: 150, A: 255},
	kindPeer:  color.RGBA{R: 70, G: 120, B: 190, A: 255},
	kindAsync: color.RGBA{R: 230, G: 120, B: 30, A: 255},
	kindOther: color.RGBA{R: 120, G: 170, B: 90, A: 255},
}

// drawCharts draws a horizontal bar chart per workload of the suite and per
// cross-language job: the median of its primary unit with the confidence
// interval as error bars. It returns each group's file name.
func drawCharts(groups []*group, dir string) (map[*group]string, error) {
	files := map[*group]string{}
	for _, g := range groups {
		if g.pkg != benchModule {
			continue
		}
		name := strings.NewReplacer("/", "_").Replace(g.name) + ".svg"
		ok, err := drawChart(g, filepath.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("chart %s: %w", g.name, err)
		}
		if ok {
			files[g] = name
		}
	}
	return files, nil
}

func drawChart(g *group, path string) (bool, error) {
	unit := primaryUnit(g)
	type bar struct {
		name           string
		center, lo, hi float64
		kind           string
	}
	var bars []bar
	for _, v := range g.variants {
		s, ok := v.summary(unit)
		if !ok {
			continue
		}
		lo, hi := s.Lo, s.Hi
		if math.IsInf(lo, 0) || math.IsInf(hi, 0) || v.runs(unit) < 2 {
			lo, hi = s.Center, s.Center
		}
		bars = append(bars, bar{v.name, s.Center, lo, hi, kindOf(v.name)})
	}
	if len(bars) == 0 {
		return false, nil
	}
	// One scale for the axis: the largest value picks the unit.
	scale, label := 1.0, unit
	maxV := 0.0
	for _, b := range bars {
		maxV = math.Max(maxV, b.hi)
	}
	if strings.HasPrefix(unit, "sec/") {
		per := strings.TrimPrefix(unit, "sec")
		switch {
		case maxV >= 1:
			scale, label = 1, "s"+per
		case maxV >= 1e-3:
			scale, label = 1e3, "ms"+per
		case maxV >= 1e-6:
			scale, label = 1e6, "µs"+per
		default:
			scale, label = 1e9, "ns"+per
		}
	}

	p := plot.New()
	p.Title.Text = g.name
	p.X.Label.Text = label + " (median, 95 % interval; lower is better)"
	p.X.Min = 0
	names := make([]string, len(bars))
	// Bars are drawn bottom-up; list the first variant at the top.
	for i, b := range bars {
		y := float64(len(bars) - 1 - i)
		names[len(bars)-1-i] = b.name
		bc, err := plotter.NewBarChart(plotter.Values{b.center * scale}, vg.Points(14))
		if err != nil {
			return false, err
		}
		bc.Horizontal = true
		bc.XMin = y
		bc.Color = kindColors[b.kind]
		bc.LineStyle.Width = 0
		p.Add(bc)
		if b.hi > b.lo {
			eb, err := plotter.NewXErrorBars(errPoint{x: b.center * scale, y: y, lo: (b.center - b.lo) * scale, hi: (b.hi - b.center) * scale})
			if err != nil {
				return false, err
			}
			p.Add(eb)
		}
	}
	p.NominalY(names...)
	height := vg.Length(60+22*len(bars)) * vg.Millimeter / 4
	if err := p.Save(16*vg.Centimeter, height, path); err != nil {
		return false, err
	}
	return true, nil
}

// errPoint is one bar's interval for plotter.XErrorBars.
type errPoint struct{ x, y, lo, hi float64 }

func (e errPoint) Len() int                      { return 1 }
func (e errPoint) XY(int) (float64, float64)     { return e.x, e.y }
func (e errPoint) XError(int) (float64, float64) { return e.lo, e.hi }
