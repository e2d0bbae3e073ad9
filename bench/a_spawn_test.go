package bench

import (
	"context"
	"testing"

	"github.com/alitto/pond/v2"
	"github.com/goasync/async"
	"github.com/panjf2000/ants/v2"
	"github.com/samber/lo"
	"github.com/sourcegraph/conc"
	"golang.org/x/sync/errgroup"
)

// Workload A: start one task and wait for its value.
var workloadA = register(workload{
	name: "A_Spawn",
	want: func(int) int { return work(input) },
	variants: func(int) []variant {
		ctx := context.Background()
		vs := []variant{
			simple("raw", func() int {
				ch := make(chan int, 1)
				x := input
				go func() { ch <- work(x) }()
				return <-ch
			}),
			simple("errgroup", func() int {
				var g errgroup.Group
				var v int
				x := input
				g.Go(func() error { v = work(x); return nil })
				_ = g.Wait()
				return v
			}),
			simple("conc", func() int {
				var wg conc.WaitGroup
				var v int
				x := input
				wg.Go(func() { v = work(x) })
				wg.Wait()
				return v
			}),
			{"pond", func(tb testing.TB) func() int {
				// A long-lived pool, as pond's docs recommend; no limit, as
				// the others have none.
				pool := pond.NewResultPool[int](0)
				tb.Cleanup(pool.StopAndWait)
				return func() int {
					x := input
					v, _ := pool.Submit(func() int { return work(x) }).Wait()
					return v
				}
			}},
			{"ants", func(tb testing.TB) func() int {
				pool, err := ants.NewPool(0) // 0: no limit
				if err != nil {
					tb.Fatal(err)
				}
				tb.Cleanup(pool.Release)
				return func() int {
					ch := make(chan int, 1)
					x := input
					if err := pool.Submit(func() { ch <- work(x) }); err != nil {
						panic(err)
					}
					return <-ch
				}
			}},
			simple("lo", func() int {
				x := input
				return <-lo.Async(func() int { return work(x) })
			}),
			simple("async", func() int {
				x := input
				v, _ := async.Go(ctx, func(context.Context) (int, error) { return work(x), nil }).Await(ctx)
				return v
			}),
			{"async-func", func(testing.TB) func() int {
				// An async function: its argument is kept with the future,
				// not captured in a closure per call.
				f := async.Func(func(_ context.Context, x int) (int, error) { return work(x), nil })
				return func() int {
					v, _ := f(ctx, input).Await(ctx)
					return v
				}
			}},
		}
		return append(vs, extraVariants("A_Spawn", 1, nil)...) // the Pool variant
	},
}, 1)

func BenchmarkA_Spawn(b *testing.B) { runVariants(b, workloadA, 1) }

// Awaiting a future that has already settled: the fast path of Await.
var workloadAwaitSettled = register(workload{
	name: "A_AwaitSettled",
	want: func(int) int { return work(input) },
	variants: func(int) []variant {
		ctx := context.Background()
		return []variant{
			{"raw", func(testing.TB) func() int {
				// A closed channel guarding a value: the raw form of a
				// settled result.
				done := make(chan struct{})
				v := work(input)
				close(done)
				return func() int { <-done; return v }
			}},
			{"async", func(testing.TB) func() int {
				f := async.Resolved(work(input))
				return func() int { v, _ := f.Await(ctx); return v }
			}},
		}
	},
}, 1)

func BenchmarkA_AwaitSettled(b *testing.B) { runVariants(b, workloadAwaitSettled, 1) }
