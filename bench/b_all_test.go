package bench

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/alitto/pond/v2"
	"github.com/goasync/async"
	lop "github.com/samber/lo/parallel"
	"github.com/sourcegraph/conc"
	"github.com/sourcegraph/conc/iter"
	"golang.org/x/sync/errgroup"
)

// inputs returns 0..n-1, the input of the slice workloads.
func inputs(n int) []int {
	in := make([]int, n)
	for i := range in {
		in[i] = i
	}
	return in
}

// rawWorkers is the hand-written floor for a bounded map: limit goroutines
// claiming indices from an atomic counter.
func rawWorkers(in []int, limit int) []int {
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
				out[i] = work(in[i])
			}
		}()
	}
	wg.Wait()
	return out
}

func sum(vs []int) int {
	s := 0
	for _, v := range vs {
		s += v
	}
	return s
}

// Workload B: n tasks, results collected in input order. The plain variants
// start one goroutine per task; the *-map/-iter ones use GOMAXPROCS workers,
// each library's recommended way to map a slice.
var workloadB = register(workload{
	name: "B_All10k",
	want: sumWork,
	variants: func(n int) []variant {
		ctx := context.Background()
		in := inputs(n)
		vs := []variant{
			simple("raw", func() int { return rawFanout(in, work) }),
			simple("raw-cells", func() int { return rawCells(in, work) }),
			simple("raw-workers", func() int {
				return sum(rawWorkers(in, runtime.GOMAXPROCS(0)))
			}),
			simple("errgroup", func() int { return errgroupFanout(in, work) }),
			simple("conc", func() int { return concFanout(in, work) }),
			simple("conc-iter", func() int {
				return sum(iter.Map(in, func(x *int) int { return work(*x) }))
			}),
			{"pond", func(tb testing.TB) func() int {
				pool := pond.NewResultPool[int](0)
				tb.Cleanup(pool.StopAndWait)
				return func() int {
					g := pool.NewGroup()
					for _, x := range in {
						g.Submit(func() int { return work(x) })
					}
					out, _ := g.Wait()
					return sum(out)
				}
			}},
			simple("lo", func() int { return loFanout(in, work) }),
			simple("async-all", func() int { return asyncAllFanout(ctx, in, work) }),
		}
		return append(vs, extraVariants("B_All10k", n, in)...)
	},
}, 1000)

func BenchmarkB_All10k(b *testing.B) { runVariants(b, workloadB, 10_000) }

// Workload X: the cross-language job, 100k trivial async functions gathered
// (Promise.all, asyncio.gather, async.All).
var workloadGather = register(workload{
	name: "X_Gather100k",
	want: sumWork,
	variants: func(n int) []variant {
		ctx := context.Background()
		in := inputs(n)
		return []variant{
			simple("raw", func() int { return rawFanout(in, work) }),
			simple("async", func() int { return asyncAllFanout(ctx, in, work) }),
		}
	},
}, 1000)

func BenchmarkX_Gather100k(b *testing.B) { runVariants(b, workloadGather, 100_000) }

// The fan-out shapes workloads B, D and X share: run task on every input,
// each the library's recommended way, and sum the results in input order.

func rawFanout(in []int, task func(int) int) int {
	out := make([]int, len(in))
	var wg sync.WaitGroup
	wg.Add(len(in))
	for i, x := range in {
		go func() { out[i] = task(x); wg.Done() }()
	}
	wg.Wait()
	return sum(out)
}

// rawCells is rawFanout plus one heap cell per task that its value and error
// land in, and nothing else: the least that any API returning a future per
// task allocates (the task's function is one allocation in both). It is a
// reference for what such an API can reach, not a baseline.
func rawCells(in []int, task func(int) int) int {
	type cell struct {
		v   int
		err error
	}
	cs := make([]*cell, len(in))
	var wg sync.WaitGroup
	wg.Add(len(in))
	for i, x := range in {
		c := new(cell)
		cs[i] = c
		go func() { c.v = task(x); wg.Done() }()
	}
	wg.Wait()
	s := 0
	for _, c := range cs {
		if c.err == nil {
			s += c.v
		}
	}
	return s
}

func errgroupFanout(in []int, task func(int) int) int {
	out := make([]int, len(in))
	var g errgroup.Group
	for i, x := range in {
		g.Go(func() error { out[i] = task(x); return nil })
	}
	_ = g.Wait()
	return sum(out)
}

func concFanout(in []int, task func(int) int) int {
	out := make([]int, len(in))
	var wg conc.WaitGroup
	for i, x := range in {
		wg.Go(func() { out[i] = task(x) })
	}
	wg.Wait()
	return sum(out)
}

func loFanout(in []int, task func(int) int) int {
	return sum(lop.Map(in, func(x int, _ int) int { return task(x) }))
}

func asyncAllFanout(ctx context.Context, in []int, task func(int) int) int {
	fs := make([]*async.Future[int], len(in))
	for i, x := range in {
		fs[i] = async.Go(ctx, func(context.Context) (int, error) { return task(x), nil })
	}
	out, _ := async.All(ctx, fs...)
	return sum(out)
}
