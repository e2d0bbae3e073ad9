package bench

import (
	"context"

	"github.com/goasync/async"
	"github.com/goasync/async/stream"
)

// The stream.Map and stream.MapSettled variants of workload G.
func init() {
	ctx := context.Background()
	trivial := func(_ context.Context, x int) (int, error) { return work(x), nil }
	for _, ordered := range []bool{true, false} {
		name, opts := "G_Stream1M/ordered", []async.StreamOption{async.Limit(streamLimit)}
		if !ordered {
			name, opts = "G_Stream1M/unordered", append(opts, async.Unordered())
		}
		addExtra(name, func(n int, _ []int) []variant {
			return []variant{simple("async-stream", func() int {
				s := 0
				for v, err := range stream.Map(ctx, seqN(n), trivial, opts...) {
					if err != nil {
						panic(err)
					}
					s += v
				}
				return s
			}), simple("async-stream-settled", func() int {
				s := 0
				for r := range stream.MapSettled(ctx, seqN(n), trivial, opts...) {
					if r.Err != nil {
						panic(r.Err)
					}
					s += r.Value
				}
				return s
			})}
		})
	}
}
