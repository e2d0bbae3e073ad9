package main

import (
	"bytes"
	"fmt"
	"math"
	"strings"

	"golang.org/x/perf/benchfmt"
	"golang.org/x/perf/benchmath"
)

// confidence is the level of every interval in the report.
const confidence = 0.95

// assumption: benchmark times are not normally distributed, so, like
// benchstat's default, summaries are medians with order-statistic intervals
// and comparisons are Mann-Whitney U tests.
var assumption = benchmath.AssumeNothing

// A group is one workload: the sub-benchmarks of one benchmark function.
type group struct {
	pkg      string // the "pkg:" of its results ("" for cross-language groups)
	name     string // the benchmark name without "Benchmark" and the variant
	variants []*variant
	byName   map[string]*variant
}

// A variant is one sub-benchmark: raw, a peer, or goasync.
type variant struct {
	name    string
	values  map[string][]float64 // tidied unit (sec/op, B/op, ...) -> one value per run
	samples map[string]*benchmath.Sample
}

func (g *group) variant(name string) *variant { return g.byName[name] }

// sample returns the variant's measurements in unit, or nil.
func (v *variant) sample(unit string) *benchmath.Sample {
	if v == nil {
		return nil
	}
	if s, ok := v.samples[unit]; ok {
		return s
	}
	vals, ok := v.values[unit]
	if !ok {
		return nil
	}
	s := benchmath.NewSample(append([]float64(nil), vals...), &benchmath.DefaultThresholds)
	v.samples[unit] = s
	return s
}

// summary is the median of unit with its confidence interval.
func (v *variant) summary(unit string) (benchmath.Summary, bool) {
	s := v.sample(unit)
	if s == nil || len(s.Values) == 0 {
		return benchmath.Summary{}, false
	}
	return assumption.Summary(s, confidence), true
}

// runs is how many measurements the variant has in unit.
func (v *variant) runs(unit string) int {
	if s := v.sample(unit); s != nil {
		return len(s.Values)
	}
	return 0
}

// A ratio compares a variant with a baseline in one unit: the ratio of the
// medians, an interval for it, and the U test's p-value.
//
// The interval divides the ends of the two medians' 95 % intervals
// ([lo_x/hi_base, hi_x/lo_base]); it is conservative (wider than a joint
// interval would be). benchmath gives intervals for medians, not for their
// ratio, and the report does no statistics of its own beyond this division.
type ratio struct {
	center, lo, hi float64
	cmp            benchmath.Comparison
	runs           int
}

// significant reports whether the U test rejects "same distribution".
func (r ratio) significant() bool { return r.cmp.P < r.cmp.Alpha }

func compare(x, base *variant, unit string) (ratio, bool) {
	sx, okx := x.summary(unit)
	sb, okb := base.summary(unit)
	if !okx || !okb || sb.Center == 0 {
		return ratio{}, false
	}
	r := ratio{center: sx.Center / sb.Center, runs: min(x.runs(unit), base.runs(unit))}
	r.lo, r.hi = math.Inf(-1), math.Inf(1)
	if sb.Hi > 0 {
		r.lo = sx.Lo / sb.Hi
	}
	if sb.Lo > 0 {
		r.hi = sx.Hi / sb.Lo
	}
	r.cmp = assumption.Compare(x.sample(unit), base.sample(unit))
	return r, true
}

// analyze parses benchmark output and groups it by workload. Groups keep the
// order in which they first appear; variants too.
func analyze(raw []byte) ([]*group, error) {
	rd := benchfmt.NewReader(bytes.NewReader(raw), "results")
	var groups []*group
	byKey := map[string]*group{}
	for rd.Scan() {
		res, ok := rd.Result().(*benchfmt.Result)
		if !ok {
			continue // unit metadata and syntax errors (stray output lines)
		}
		gname, vname := splitName(res.Name)
		pkgName := res.GetConfig("pkg")
		if strings.HasPrefix(gname, "XL_") {
			pkgName = "" // Node and Python results of one workload form one group
		}
		key := pkgName + "\x00" + gname
		g := byKey[key]
		if g == nil {
			g = &group{pkg: pkgName, name: gname, byName: map[string]*variant{}}
			byKey[key] = g
			groups = append(groups, g)
		}
		v := g.byName[vname]
		if v == nil {
			v = &variant{name: vname, values: map[string][]float64{}, samples: map[string]*benchmath.Sample{}}
			g.byName[vname] = v
			g.variants = append(g.variants, v)
		}
		for _, val := range res.Values {
			v.values[val.Unit] = append(v.values[val.Unit], val.Value)
		}
	}
	if err := rd.Err(); err != nil {
		return nil, fmt.Errorf("reading results: %w", err)
	}
	return groups, nil
}

// splitName splits "BenchmarkB_All10k/async-all-2" into the group
// "B_All10k" and the variant "async-all". A benchmark without sub-benchmarks
// is a group of one variant named "".
func splitName(n benchfmt.Name) (groupName, variantName string) {
	base, parts := n.Parts()
	name := strings.TrimPrefix(string(base), "Benchmark")
	var pos []string
	for _, p := range parts {
		if len(p) > 0 && p[0] == '/' {
			pos = append(pos, string(p[1:]))
		}
	}
	if len(pos) == 0 {
		return name, ""
	}
	for _, p := range pos[:len(pos)-1] {
		name += "/" + p
	}
	return name, pos[len(pos)-1]
}

// Kinds of variant, from the naming convention.
const (
	kindRaw   = "raw"
	kindPeer  = "peer"
	kindAsync = "goasync"
	kindOther = "other"
)

var peers = []string{"errgroup", "conc", "pond", "ants", "lo"}

func kindOf(variant string) string {
	lib, _, _ := strings.Cut(variant, "-")
	switch {
	case lib == "raw":
		return kindRaw
	case lib == "async" || strings.HasPrefix(variant, "async"):
		return kindAsync
	}
	for _, p := range peers {
		if lib == p {
			return kindPeer
		}
	}
	return kindOther
}
