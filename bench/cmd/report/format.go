package main

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"golang.org/x/perf/benchunit"
)

// fmtValue formats a tidied measurement for a reader: times with an SI
// prefix, bytes and counts as plain numbers.
func fmtValue(v float64, unit string) string {
	if math.IsInf(v, 0) || math.IsNaN(v) {
		return "?"
	}
	switch {
	case strings.HasPrefix(unit, "sec/"):
		return benchunit.Scale(v, benchunit.Decimal) + "s"
	case strings.HasPrefix(unit, "B/"):
		return groupDigits(v) + " B"
	default:
		return groupDigits(v)
	}
}

// groupDigits prints v with thousands separators, and one decimal below 10.
func groupDigits(v float64) string {
	if v != math.Trunc(v) && math.Abs(v) < 10 {
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	s := strconv.FormatInt(int64(math.Round(v)), 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

func fmtRatio(r float64) string {
	switch {
	case math.IsInf(r, 0) || math.IsNaN(r):
		return "?"
	case r >= 100:
		return strconv.FormatFloat(r, 'f', 0, 64)
	case r >= 10:
		return strconv.FormatFloat(r, 'f', 1, 64)
	}
	return strconv.FormatFloat(r, 'f', 2, 64)
}

// ratioCI is " [lo–hi]" for a ratio's interval, or "" with too few runs.
func ratioCI(r ratio) string {
	if r.runs < 2 || math.IsInf(r.lo, 0) || math.IsInf(r.hi, 0) {
		return ""
	}
	return fmt.Sprintf(" [%s–%s]", fmtRatio(r.lo), fmtRatio(r.hi))
}

// pctCI is the half-width of a summary's interval as a percentage of its
// center, like benchstat's "± x%".
func pctCI(v *variant, unit string) string {
	s, ok := v.summary(unit)
	if !ok || v.runs(unit) < 2 {
		return ""
	}
	return "± " + s.PctRangeString()
}

func itoa(i int) string { return strconv.Itoa(i) }

func joinArgs(args []string) string { return strings.Join(args, " ") }
