package bench

import (
	"context"
	"testing"

	"github.com/goasync/async"
)

// queueCap is the capacity of the queue and of the channel it is compared
// with.
const queueCap = 64

// Workload Q: one uncontended Put and Get (the Queue's target); the
// floor is a buffered channel of the same capacity.
var workloadQ = register(workload{
	name: "Q_Queue",
	want: func(int) int { return work(input) },
	variants: func(int) []variant {
		ctx := context.Background()
		return []variant{
			{"raw", func(testing.TB) func() int {
				ch := make(chan int, queueCap)
				return func() int {
					ch <- work(input)
					return <-ch
				}
			}},
			{"async", func(testing.TB) func() int {
				q := async.NewQueue[int](queueCap)
				return func() int {
					if err := q.Put(ctx, work(input)); err != nil {
						panic(err)
					}
					v, err := q.Get(ctx)
					if err != nil {
						panic(err)
					}
					return v
				}
			}},
		}
	},
}, 1)

func BenchmarkQ_Queue(b *testing.B) { runVariants(b, workloadQ, 1) }
