package bench

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/goasync/async"
)

// This file holds the variants of goasync APIs that landed after the core
// (Scope and Limit from issue 4; Pool, Map and stream.Map as they land).

// bExtra returns workload B's Scope variant: a goroutine per child, no limit.
func bExtra(_ int, in []int) []variant {
	ctx := context.Background()
	return []variant{
		simple("async-scope", func() int {
			out := make([]int, len(in))
			s := async.NewScope(ctx)
			for i, x := range in {
				s.Go(func(context.Context) error { out[i] = work(x); return nil })
			}
			_ = s.Wait()
			return sum(out)
		}),
	}
}

// cExtra returns workload C's variants of APIs still landing.
func cExtra(limit int, in []int) []variant { return nil }

// dExtra returns workload D's Scope variant.
func dExtra(_ int, in []int) []variant {
	ctx := context.Background()
	return []variant{
		simple("async-scope", func() int {
			out := make([]int, len(in))
			s := async.NewScope(ctx)
			for i, x := range in {
				s.Go(func(context.Context) error { out[i] = sleepTask(x); return nil })
			}
			_ = s.Wait()
			return sum(out)
		}),
	}
}

// pendingExtra returns workload E's Scope variant: children parked in a
// scope.
func pendingExtra() []pendingVariant {
	ctx := context.Background()
	return []pendingVariant{
		{"async-scope", func(_ testing.TB, n int, gate <-chan struct{}, started *atomic.Int64) (func() int, int) {
			out := make([]int, n)
			s := async.NewScope(ctx)
			for i := range n {
				s.Go(func(context.Context) error { out[i] = pendingTask(i, gate, started); return nil })
			}
			return func() int { _ = s.Wait(); return sum(out) }, n
		}},
	}
}

// failFastExtra returns workload F's Scope variant: the first failure
// cancels the siblings, and Wait reports it.
func failFastExtra(_ int, in []int) []variant {
	ctx := context.Background()
	return []variant{
		simple("async-scope", func() int {
			s := async.NewScope(ctx)
			for _, x := range in {
				s.Go(func(ctx context.Context) error { _, err := failTask(ctx, x); return err })
			}
			return countFirst(s.Wait())
		}),
	}
}

// collectAllExtra returns workload F's supervised Scope: every failure is
// collected and Wait reports them all.
func collectAllExtra(_ int, in []int) []variant {
	ctx := context.Background()
	return []variant{
		simple("async-scope-supervise", func() int {
			s := async.NewScope(ctx, async.Supervise())
			for _, x := range in {
				s.Go(func(ctx context.Context) error { _, err := failTask(ctx, x); return err })
			}
			err := s.Wait()
			if !errors.Is(err, errFail) {
				return 0
			}
			return countFailures(err)
		}),
	}
}

// gExtra returns workload G's stream.Map variants (issue 5, landing).
func gExtra(ordered bool, n int) []variant { return nil }

// hExtra returns workload H's async.Map variant (issue 5, landing).
func hExtra(in []int) []variant { return nil }
