package bench

import (
	"context"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/goasync/async"
)

// The Pool variants of workloads A, C and E.
func init() {
	ctx := context.Background()

	// A: Submit + Await on a long-lived pool of GOMAXPROCS workers.
	addExtra("A_Spawn", func(int, []int) []variant {
		return []variant{{"async-pool", func(tb testing.TB) func() int {
			p := newPool(tb, runtime.GOMAXPROCS(0))
			return func() int {
				x := input
				v, _ := async.Submit(ctx, p, func(context.Context) (int, error) { return work(x), nil }).Await(ctx)
				return v
			}
		}}}
	})

	// C: a pool with limit workers; Submit every task, then All.
	for _, limit := range limits {
		addExtra("C_Limit10k/"+strconv.Itoa(limit), func(_ int, in []int) []variant {
			return []variant{{"async-pool", func(tb testing.TB) func() int {
				p := newPool(tb, limit)
				return func() int {
					fs := make([]*async.Future[int], len(in))
					for i, x := range in {
						fs[i] = async.Submit(ctx, p, func(context.Context) (int, error) { return work(x), nil })
					}
					out, _ := async.All(ctx, fs...)
					return sum(out)
				}
			}}}
		})
	}

	// E: tasks queued behind one busy worker: what a queued task costs.
	pendingExtras = append(pendingExtras, pendingVariant{"async-pool-queued",
		func(tb testing.TB, n int, gate <-chan struct{}, started *atomic.Int64) (func() int, int) {
			p := newPool(tb, 1)
			fs := make([]*async.Future[int], n)
			for i := range n {
				fs[i] = async.Submit(ctx, p, func(context.Context) (int, error) { return pendingTask(i, gate, started), nil })
			}
			return func() int { out, _ := async.All(ctx, fs...); return sum(out) }, 1
		}})
}

// newPool makes a pool closed when the benchmark or test ends.
func newPool(tb testing.TB, workers int) *async.Pool {
	p := async.NewPool(workers)
	tb.Cleanup(func() {
		if err := p.Close(); err != nil {
			tb.Error(err)
		}
	})
	return p
}
