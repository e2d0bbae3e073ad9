package bench

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/alitto/pond/v2"
	"github.com/goasync/async"
	"github.com/sourcegraph/conc/pool"
	"golang.org/x/sync/errgroup"
)

// failTask is workload F's task: 1 % of them fail. It checks its context
// first, as a real task would, so that fail-fast variants that cancel can
// skip work.
func failTask(ctx context.Context, x int) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if x%100 == 99 {
		return 0, errFail
	}
	return work(x), nil
}

// failFastWant: the fail-fast variants return 1 when they report a failure.
func failFastWant(int) int { return 1 }

// collectAllWant: the collect-all variants return how many failures they
// report: all of them.
func collectAllWant(n int) int { return n / 100 }

// Workload F, fail-fast: n tasks, 1 % fail; return the first failure as soon
// as it is known. Variants that can cancel the rest do (errgroup.WithContext,
// conc's WithCancelOnError, pond's group, a scope); async.All returns at the
// first failure without waiting for the rest and cancels nothing.
var workloadFailFast = register(workload{
	name: "F_FailFast10k",
	want: failFastWant,
	variants: func(n int) []variant {
		ctx := context.Background()
		in := inputs(n)
		vs := []variant{
			simple("raw", func() int {
				ctx, cancel := context.WithCancelCause(ctx)
				defer cancel(nil)
				var wg sync.WaitGroup
				wg.Add(len(in))
				for _, x := range in {
					go func() {
						defer wg.Done()
						if _, err := failTask(ctx, x); err != nil {
							cancel(err)
						}
					}()
				}
				wg.Wait()
				return countFirst(context.Cause(ctx))
			}),
			simple("errgroup", func() int {
				g, ctx := errgroup.WithContext(ctx)
				for _, x := range in {
					g.Go(func() error { _, err := failTask(ctx, x); return err })
				}
				return countFirst(g.Wait())
			}),
			simple("conc", func() int {
				p := pool.New().WithContext(ctx).WithCancelOnError().WithFirstError()
				for _, x := range in {
					p.Go(func(ctx context.Context) error { _, err := failTask(ctx, x); return err })
				}
				return countFirst(p.Wait())
			}),
			{"pond", func(tb testing.TB) func() int {
				p := pond.NewPool(0)
				tb.Cleanup(p.StopAndWait)
				return func() int {
					g := p.NewGroupContext(ctx)
					gctx := g.Context()
					for _, x := range in {
						g.SubmitErr(func() error { _, err := failTask(gctx, x); return err })
					}
					return countFirst(g.Wait())
				}
			}},
			simple("async-all", func() int {
				fs := make([]*async.Future[int], len(in))
				for i, x := range in {
					fs[i] = async.Go(ctx, func(ctx context.Context) (int, error) { return failTask(ctx, x) })
				}
				_, err := async.All(ctx, fs...)
				return countFirst(err)
			}),
		}
		return append(vs, extraVariants("F_FailFast10k", n, in)...)
	},
}, 1000)

func BenchmarkF_FailFast10k(b *testing.B) { runVariants(b, workloadFailFast, 10_000) }

// countFirst is 1 when err reports a task failure.
func countFirst(err error) int {
	if errors.Is(err, errFail) {
		return 1
	}
	return 0
}

// Workload F, collect-all: n tasks, 1 % fail; run them all and report every
// failure. errgroup and pond keep only the first error, so they are absent.
var workloadCollectAll = register(workload{
	name: "F_CollectAll10k",
	want: collectAllWant,
	variants: func(n int) []variant {
		ctx := context.Background()
		in := inputs(n)
		vs := []variant{
			simple("raw", func() int {
				errs := make([]error, len(in))
				var wg sync.WaitGroup
				wg.Add(len(in))
				for i, x := range in {
					go func() { _, errs[i] = failTask(ctx, x); wg.Done() }()
				}
				wg.Wait()
				return countFailures(errors.Join(errs...))
			}),
			simple("conc", func() int {
				p := pool.New().WithErrors()
				for _, x := range in {
					p.Go(func() error { _, err := failTask(ctx, x); return err })
				}
				return countFailures(p.Wait())
			}),
			simple("async-settled", func() int {
				fs := make([]*async.Future[int], len(in))
				for i, x := range in {
					fs[i] = async.Go(ctx, func(ctx context.Context) (int, error) { return failTask(ctx, x) })
				}
				rs, _ := async.AllSettled(ctx, fs...)
				errs := make([]error, 0, len(rs)/100)
				for _, r := range rs {
					if r.Err != nil {
						errs = append(errs, r.Err)
					}
				}
				return countFailures(errors.Join(errs...))
			}),
		}
		return append(vs, extraVariants("F_CollectAll10k", n, in)...)
	},
}, 1000)

func BenchmarkF_CollectAll10k(b *testing.B) { runVariants(b, workloadCollectAll, 10_000) }
