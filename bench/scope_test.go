package bench

import (
	"context"
	"errors"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/goasync/async"
)

// The Scope variants of workloads B, C, D, E and F.
func init() {
	ctx := context.Background()

	// B and D: a goroutine per child, no limit.
	addExtra("B_All10k", func(_ int, in []int) []variant {
		return []variant{simple("async-scope", func() int { return scopeMap(ctx, in, work) })}
	})
	addExtra("D_Sleep1k", func(_ int, in []int) []variant {
		return []variant{simple("async-scope", func() int { return scopeMap(ctx, in, sleepTask) })}
	})

	// C: Limit(n).
	for _, limit := range limits {
		addExtra("C_Limit10k/"+strconv.Itoa(limit), func(_ int, in []int) []variant {
			return []variant{simple("async-scope", func() int { return scopeMap(ctx, in, work, async.Limit(limit)) })}
		})
	}

	// E: children parked in a scope.
	pendingExtras = append(pendingExtras, pendingVariant{"async-scope",
		func(_ testing.TB, n int, gate <-chan struct{}, started *atomic.Int64) (func() int, int) {
			out := make([]int, n)
			s := async.NewScope(ctx)
			for i := range n {
				s.Go(func(context.Context) error { out[i] = pendingTask(i, gate, started); return nil })
			}
			return func() int { _ = s.Wait(); return sum(out) }, n
		}})

	// F fail-fast: the first failure cancels the siblings; Wait reports it.
	addExtra("F_FailFast10k", func(_ int, in []int) []variant {
		return []variant{simple("async-scope", func() int {
			s := async.NewScope(ctx)
			for _, x := range in {
				s.Go(func(ctx context.Context) error { _, err := failTask(ctx, x); return err })
			}
			return countFirst(s.Wait())
		})}
	})

	// F collect-all: a supervised scope collects every failure.
	addExtra("F_CollectAll10k", func(_ int, in []int) []variant {
		return []variant{simple("async-scope-supervise", func() int {
			s := async.NewScope(ctx, async.Supervise())
			for _, x := range in {
				s.Go(func(ctx context.Context) error { _, err := failTask(ctx, x); return err })
			}
			err := s.Wait()
			if !errors.Is(err, errFail) {
				return 0
			}
			return countFailures(err)
		})}
	})
}

// scopeMap runs fn over in as children of a scope, writing results by index.
func scopeMap(ctx context.Context, in []int, fn func(int) int, opts ...async.ScopeOption) int {
	out := make([]int, len(in))
	s := async.NewScope(ctx, opts...)
	for i, x := range in {
		s.Go(func(context.Context) error { out[i] = fn(x); return nil })
	}
	_ = s.Wait()
	return sum(out)
}
