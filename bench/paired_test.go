package bench

import (
	"slices"
	"strconv"
	"testing"
	"time"
)

// Paired runs: each variant of a workload against its raw variant in the same
// process, alternating a few operations of one with a few of the other, and
// reports the median of the per-round time ratios to the baseline (x-raw)
// with its quartiles.
// A ratio from runs minutes apart, or from separate processes, moves by ±30 %
// on a workload of many short-lived goroutines (GC timing, scheduling, the
// machine's other load); alternating in one process cancels what drifts
// slower than a round. The report leaves these out (they repeat its
// workloads); run them on their own:
//
//	go test -run '^$' -bench '^BenchmarkPaired' -benchtime 200x

// runPaired runs each variant of w against its variant named base; a round
// runs ops operations of each, enough for a few milliseconds.
func runPaired(b *testing.B, w workload, n int, base string, ops int) {
	vs := w.variants(n)
	var raw func() int
	for _, v := range vs {
		if v.name == base {
			raw = v.setup(b)
		}
	}
	if raw == nil {
		b.Fatalf("%s has no variant %s", w.name, base)
	}
	for _, v := range vs {
		if v.name == base {
			continue
		}
		b.Run(v.name, func(b *testing.B) {
			op := v.setup(b)
			timed := func(f func() int) time.Duration {
				t0 := time.Now()
				for range ops {
					sink += f()
				}
				return time.Since(t0)
			}
			timed(raw) // warm both up before the first round
			timed(op)
			ratios := make([]float64, 0, b.N)
			for i := range b.N {
				var dr, dv time.Duration
				if i%2 == 0 {
					dr, dv = timed(raw), timed(op)
				} else {
					dv, dr = timed(op), timed(raw)
				}
				ratios = append(ratios, float64(dv)/float64(dr))
			}
			slices.Sort(ratios)
			q := func(p float64) float64 { return ratios[int(p*float64(len(ratios)-1))] }
			b.ReportMetric(q(0.5), "x-raw")
			b.ReportMetric(q(0.25), "x-raw-p25")
			b.ReportMetric(q(0.75), "x-raw-p75")
		})
	}
}

func BenchmarkPairedA_Spawn(b *testing.B) { runPaired(b, workloadA, 1, "raw", 4000) }

func BenchmarkPairedB_All10k(b *testing.B) { runPaired(b, workloadB, 10_000, "raw", 4) }

func BenchmarkPairedC_Limit10k(b *testing.B) {
	for i, l := range limits {
		b.Run(strconv.Itoa(l), func(b *testing.B) { runPaired(b, workloadsC[i], 10_000, "raw-sem", 4) })
	}
}
