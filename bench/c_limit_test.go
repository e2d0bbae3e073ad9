package bench

import (
	"strconv"
	"sync"
	"testing"

	"github.com/alitto/pond/v2"
	"github.com/panjf2000/ants/v2"
	"github.com/sourcegraph/conc/pool"
	"golang.org/x/sync/errgroup"
)

// limits are workload C's concurrency limits.
var limits = []int{8, 2}

// workloadC: n trivial tasks with at most limit running at once, results in
// input order. raw is the floor: limit goroutines claiming indices; raw-sem
// is the classic goroutine per task behind a channel semaphore.
func workloadC(limit int) workload {
	return workload{
		name: "C_Limit10k/" + strconv.Itoa(limit),
		want: sumWork,
		variants: func(n int) []variant {
			in := inputs(n)
			vs := []variant{
				simple("raw", func() int { return sum(rawWorkers(in, limit)) }),
				simple("raw-sem", func() int {
					out := make([]int, len(in))
					sem := make(chan struct{}, limit)
					var wg sync.WaitGroup
					wg.Add(len(in))
					for i, x := range in {
						sem <- struct{}{}
						go func() { out[i] = work(x); <-sem; wg.Done() }()
					}
					wg.Wait()
					return sum(out)
				}),
				simple("errgroup", func() int {
					out := make([]int, len(in))
					var g errgroup.Group
					g.SetLimit(limit)
					for i, x := range in {
						g.Go(func() error { out[i] = work(x); return nil })
					}
					_ = g.Wait()
					return sum(out)
				}),
				simple("conc", func() int {
					out := make([]int, len(in))
					p := pool.New().WithMaxGoroutines(limit)
					for i, x := range in {
						p.Go(func() { out[i] = work(x) })
					}
					p.Wait()
					return sum(out)
				}),
				{"pond", func(tb testing.TB) func() int {
					p := pond.NewResultPool[int](limit)
					tb.Cleanup(p.StopAndWait)
					return func() int {
						g := p.NewGroup()
						for _, x := range in {
							g.Submit(func() int { return work(x) })
						}
						out, _ := g.Wait()
						return sum(out)
					}
				}},
				{"ants", func(tb testing.TB) func() int {
					p, err := ants.NewPool(limit)
					if err != nil {
						tb.Fatal(err)
					}
					tb.Cleanup(p.Release)
					return func() int {
						out := make([]int, len(in))
						var wg sync.WaitGroup
						wg.Add(len(in))
						for i, x := range in {
							if err := p.Submit(func() { out[i] = work(x); wg.Done() }); err != nil {
								panic(err)
							}
						}
						wg.Wait()
						return sum(out)
					}
				}},
			}
			return append(vs, extraVariants("C_Limit10k/"+strconv.Itoa(limit), n, in)...)
		},
	}
}

var workloadsC = func() []workload {
	var ws []workload
	for _, l := range limits {
		ws = append(ws, register(workloadC(l), 1000))
	}
	return ws
}()

func BenchmarkC_Limit10k(b *testing.B) {
	for i, l := range limits {
		b.Run(strconv.Itoa(l), func(b *testing.B) { runVariants(b, workloadsC[i], 10_000) })
	}
}
