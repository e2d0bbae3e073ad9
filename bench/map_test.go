package bench

import (
	"context"
	"strconv"
	"time"

	"github.com/goasync/async"
)

// The async.Map variants of workloads B, C, D, F and H.
func init() {
	ctx := context.Background()
	trivial := func(_ context.Context, x int) (int, error) { return work(x), nil }
	mapSum := func(in []int, fn func(context.Context, int) (int, error), opts ...async.MapOption) int {
		out, err := async.Map(ctx, in, fn, opts...)
		if err != nil {
			panic(err)
		}
		return sum(out)
	}

	// B and H: the default limit, GOMAXPROCS.
	for _, w := range []string{"B_All10k", "H_Map100k"} {
		addExtra(w, func(_ int, in []int) []variant {
			return []variant{simple("async-map", func() int { return mapSum(in, trivial) })}
		})
	}
	// H: the per-call options' cost over plain Map (a context with a
	// deadline per call; the retry wrapper around each call, which never
	// retries here), and MapSettled's (a result and a recover per element).
	addExtra("H_Map100k", func(_ int, in []int) []variant {
		return []variant{
			simple("async-map-timeout", func() int { return mapSum(in, trivial, async.Timeout(time.Minute)) }),
			simple("async-map-attempts", func() int { return mapSum(in, trivial, async.Attempts(3)) }),
			simple("async-map-timeout-attempts", func() int {
				return mapSum(in, trivial, async.Timeout(time.Minute), async.Attempts(3))
			}),
			simple("async-mapsettled", func() int {
				s := 0
				for _, r := range async.MapSettled(ctx, in, trivial) {
					if r.Err != nil {
						panic(r.Err)
					}
					s += r.Value
				}
				return s
			}),
		}
	})
	// C: Limit(n).
	for _, limit := range limits {
		addExtra("C_Limit10k/"+strconv.Itoa(limit), func(_ int, in []int) []variant {
			return []variant{simple("async-map", func() int { return mapSum(in, trivial, async.Limit(limit)) })}
		})
	}
	// D: every task waiting at once, as in the other variants.
	addExtra("D_Sleep1k", func(_ int, in []int) []variant {
		return []variant{simple("async-map", func() int {
			return mapSum(in, func(_ context.Context, x int) (int, error) { return sleepTask(x), nil }, async.Limit(len(in)))
		})}
	})
	// F fail-fast: Map cancels the calls in flight, starts no more, and
	// returns the first failure.
	addExtra("F_FailFast10k", func(_ int, in []int) []variant {
		return []variant{simple("async-map", func() int {
			_, err := async.Map(ctx, in, failTask)
			return countFirst(err)
		})}
	})
}
