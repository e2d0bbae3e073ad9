package bench

import (
	"iter"
	"sync"
	"testing"

	"github.com/sourcegraph/conc/stream"
)

// streamLimit is workload G's bound on items in flight.
const streamLimit = 8

// seqN is a lazily produced stream 0..n-1.
func seqN(n int) iter.Seq[int] {
	return func(yield func(int) bool) {
		for i := range n {
			if !yield(i) {
				return
			}
		}
	}
}

// rawOrdered is the classic ordered pipeline: the producer queues a result
// channel per item, in order, and hands the item to a worker; the consumer
// reads the result channels in order. The queue's capacity bounds the
// lookahead.
func rawOrdered(seq iter.Seq[int], limit int) int {
	type job struct {
		x   int
		out chan int
	}
	jobs := make(chan job)
	order := make(chan chan int, limit)
	var wg sync.WaitGroup
	wg.Add(limit)
	for range limit {
		go func() {
			defer wg.Done()
			for j := range jobs {
				j.out <- work(j.x)
			}
		}()
	}
	go func() {
		for x := range seq {
			out := make(chan int, 1)
			order <- out
			jobs <- job{x, out}
		}
		close(jobs)
		close(order)
	}()
	s := 0
	for out := range order {
		s += <-out
	}
	wg.Wait()
	return s
}

// rawUnordered: workers between an input and an output channel.
func rawUnordered(seq iter.Seq[int], limit int) int {
	jobs := make(chan int, limit)
	results := make(chan int, limit)
	var wg sync.WaitGroup
	wg.Add(limit)
	for range limit {
		go func() {
			defer wg.Done()
			for x := range jobs {
				results <- work(x)
			}
		}()
	}
	go func() {
		for x := range seq {
			jobs <- x
		}
		close(jobs)
		wg.Wait()
		close(results)
	}()
	s := 0
	for v := range results {
		s += v
	}
	return s
}

// Workload G: map a stream of n items with at most streamLimit in flight.
func workloadG(ordered bool) workload {
	name := "G_Stream1M/unordered"
	if ordered {
		name = "G_Stream1M/ordered"
	}
	return workload{
		name: name,
		want: sumWork,
		variants: func(n int) []variant {
			var vs []variant
			if ordered {
				vs = append(vs,
					simple("raw", func() int { return rawOrdered(seqN(n), streamLimit) }),
					simple("conc", func() int {
						// conc's stream runs tasks concurrently and calls
						// their callbacks in submission order.
						s := stream.New().WithMaxGoroutines(streamLimit)
						total := 0
						for x := range seqN(n) {
							s.Go(func() stream.Callback {
								v := work(x)
								return func() { total += v }
							})
						}
						s.Wait()
						return total
					}),
				)
			} else {
				vs = append(vs, simple("raw", func() int { return rawUnordered(seqN(n), streamLimit) }))
			}
			return append(vs, extraVariants(name, n, inputs(n))...)
		},
	}
}

var (
	workloadGOrdered   = register(workloadG(true), 1000)
	workloadGUnordered = register(workloadG(false), 1000)
)

func BenchmarkG_Stream1M(b *testing.B) {
	b.Run("ordered", func(b *testing.B) { runVariants(b, workloadGOrdered, 1_000_000) })
	b.Run("unordered", func(b *testing.B) { runVariants(b, workloadGUnordered, 1_000_000) })
}
