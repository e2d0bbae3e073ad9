package bench

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/alitto/pond/v2"
	"github.com/goasync/async"
	"github.com/panjf2000/ants/v2"
	lop "github.com/samber/lo/parallel"
	"github.com/sourcegraph/conc"
	"golang.org/x/sync/errgroup"
)

// sleepTask is workload D's task: an I/O-shaped wait, then trivial work.
// Everyone uses time.Sleep, so the waiting is the same for all.
func sleepTask(x int) int {
	time.Sleep(time.Millisecond)
	return work(x)
}

// Workload D: n tasks each waiting 1 ms, all at once (I/O-shaped fan-out).
var workloadD = register(workload{
	name: "D_Sleep1k",
	want: sumWork,
	variants: func(n int) []variant {
		ctx := context.Background()
		in := inputs(n)
		vs := []variant{
			simple("raw", func() int {
				out := make([]int, len(in))
				var wg sync.WaitGroup
				wg.Add(len(in))
				for i, x := range in {
					go func() { out[i] = sleepTask(x); wg.Done() }()
				}
				wg.Wait()
				return sum(out)
			}),
			simple("errgroup", func() int {
				out := make([]int, len(in))
				var g errgroup.Group
				for i, x := range in {
					g.Go(func() error { out[i] = sleepTask(x); return nil })
				}
				_ = g.Wait()
				return sum(out)
			}),
			simple("conc", func() int {
				out := make([]int, len(in))
				var wg conc.WaitGroup
				for i, x := range in {
					wg.Go(func() { out[i] = sleepTask(x) })
				}
				wg.Wait()
				return sum(out)
			}),
			{"pond", func(tb testing.TB) func() int {
				pool := pond.NewResultPool[int](0)
				tb.Cleanup(pool.StopAndWait)
				return func() int {
					g := pool.NewGroup()
					for _, x := range in {
						g.Submit(func() int { return sleepTask(x) })
					}
					out, _ := g.Wait()
					return sum(out)
				}
			}},
			{"ants", func(tb testing.TB) func() int {
				pool, err := ants.NewPool(0) // 0: no limit
				if err != nil {
					tb.Fatal(err)
				}
				tb.Cleanup(pool.Release)
				return func() int {
					out := make([]int, len(in))
					var wg sync.WaitGroup
					wg.Add(len(in))
					for i, x := range in {
						if err := pool.Submit(func() { out[i] = sleepTask(x); wg.Done() }); err != nil {
							panic(err)
						}
					}
					wg.Wait()
					return sum(out)
				}
			}},
			simple("lo", func() int {
				return sum(lop.Map(in, func(x int, _ int) int { return sleepTask(x) }))
			}),
			simple("async-all", func() int {
				fs := make([]*async.Future[int], len(in))
				for i, x := range in {
					fs[i] = async.Go(ctx, func(context.Context) (int, error) { return sleepTask(x), nil })
				}
				out, _ := async.All(ctx, fs...)
				return sum(out)
			}),
		}
		return append(vs, extraVariants("D_Sleep1k", n, in)...)
	},
}, 200)

func BenchmarkD_Sleep1k(b *testing.B) { runVariants(b, workloadD, 1000) }
