package stream

import (
	"context"
	"iter"
	"sync"
	"testing"

	"github.com/goasync/async"
)

// count yields 0, 1, ..., n-1.
func count(n int) iter.Seq[int] {
	return func(yield func(int) bool) {
		for i := range n {
			if !yield(i) {
				return
			}
		}
	}
}

func BenchmarkStreamMap(b *testing.B) {
	const n = 100_000
	ctx := context.Background()
	double := func(_ context.Context, v int) (int, error) { return v * 2, nil }
	perElem := func(b *testing.B) {
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/elem")
	}
	b.Run("raw", func(b *testing.B) {
		// A goroutine per element and a channel per result, consumed in
		// order: the usual hand-written ordered pipeline.
		b.ReportAllocs()
		for b.Loop() {
			results := make(chan chan int, 64)
			go func() {
				defer close(results)
				for v := range count(n) {
					ch := make(chan int, 1)
					results <- ch
					go func() { r, _ := double(ctx, v); ch <- r }()
				}
			}()
			for ch := range results {
				<-ch
			}
		}
		perElem(b)
	})
	b.Run("raw-workers", func(b *testing.B) {
		// Unordered: GOMAXPROCS workers reading one channel.
		b.ReportAllocs()
		for b.Loop() {
			in, out := make(chan int, 64), make(chan int, 64)
			var wg sync.WaitGroup
			for range 2 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for v := range in {
						r, _ := double(ctx, v)
						out <- r
					}
				}()
			}
			go func() {
				for v := range count(n) {
					in <- v
				}
				close(in)
				wg.Wait()
				close(out)
			}()
			for range out {
			}
		}
		perElem(b)
	})
	b.Run("async-ordered", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			for _, err := range Map(ctx, count(n), double) {
				if err != nil {
					b.Fatal(err)
				}
			}
		}
		perElem(b)
	})
	b.Run("async-unordered", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			for _, err := range Map(ctx, count(n), double, async.Unordered()) {
				if err != nil {
					b.Fatal(err)
				}
			}
		}
		perElem(b)
	})
	b.Run("async-foreach", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := ForEach(ctx, count(n), func(ctx context.Context, v int) error { _, err := double(ctx, v); return err }); err != nil {
				b.Fatal(err)
			}
		}
		perElem(b)
	})
}
