package bench

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

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
			// The hand-written baseline of a per-call timeout: the same
			// workers, each call under its own context.WithTimeoutCause.
			simple("raw-timeout", func() int { return sum(rawWorkersTimeout(in, runtime.GOMAXPROCS(0), time.Minute)) }),
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

// rawWorkersTimeout is rawWorkers with a deadline per call, as one writes it
// by hand: each call's context is a child of the run's, which a failure
// would cancel (as Map's calls' contexts are).
func rawWorkersTimeout(in []int, limit int, d time.Duration) []int {
	run, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	out := make([]int, len(in))
	var next atomic.Int64
	var wg sync.WaitGroup
	wg.Add(limit)
	for range limit {
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(in) {
					return
				}
				ctx, cancel := context.WithTimeoutCause(run, d, errTimeout)
				out[i] = workCtx(ctx, in[i])
				cancel()
			}
		}()
	}
	wg.Wait()
	return out
}

var errTimeout = errors.New("timeout")

// workCtx is work under a context, which it checks as a real call would.
func workCtx(ctx context.Context, x int) int {
	if ctx.Err() != nil {
		return 0
	}
	return work(x)
}
