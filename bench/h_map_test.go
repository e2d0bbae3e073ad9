package bench

import (
	"runtime"
	"testing"

	lop "github.com/samber/lo/parallel"
	"github.com/sourcegraph/conc/iter"
)

// Workload H: map a slice of 100k trivial elements with GOMAXPROCS workers
// (async.Map's target, and conc's iter.Map to match).
var workloadH = register(workload{
	name: "H_Map100k",
	want: sumWork,
	variants: func(n int) []variant {
		in := inputs(n)
		vs := []variant{
			simple("raw", func() int { return sum(rawWorkers(in, runtime.GOMAXPROCS(0))) }),
			simple("conc-iter", func() int {
				return sum(iter.Map(in, func(x *int) int { return work(*x) }))
			}),
			simple("lo", func() int {
				return sum(lop.Map(in, func(x int, _ int) int { return work(x) }))
			}),
		}
		return append(vs, extraVariants("H_Map100k", n, in)...)
	},
}, 1000)

func BenchmarkH_Map100k(b *testing.B) { runVariants(b, workloadH, 100_000) }
