package bench

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/alitto/pond/v2"
	"github.com/panjf2000/ants/v2"
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
			simple("raw", func() int { return rawFanout(in, sleepTask) }),
			simple("errgroup", func() int { return errgroupFanout(in, sleepTask) }),
			simple("conc", func() int { return concFanout(in, sleepTask) }),
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
			simple("lo", func() int { return loFanout(in, sleepTask) }),
			simple("async-all", func() int { return asyncAllFanout(ctx, in, sleepTask) }),
		}
		return append(vs, extraVariants("D_Sleep1k", n, in)...)
	},
}, 200)

func BenchmarkD_Sleep1k(b *testing.B) { runVariants(b, workloadD, 1000) }
