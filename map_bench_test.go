package async

import (
	"context"
	"sync"
	"testing"
)

func BenchmarkMap(b *testing.B) {
	const n = 100_000
	in := make([]int, n)
	for i := range in {
		in[i] = i
	}
	ctx := context.Background()
	double := func(_ context.Context, v int) (int, error) { return v * 2, nil }
	b.Run("raw", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			out := make([]int, n)
			var wg sync.WaitGroup
			for i, v := range in {
				wg.Add(1)
				go func() {
					defer wg.Done()
					out[i], _ = double(ctx, v)
				}()
			}
			wg.Wait()
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/elem")
	})
	b.Run("async", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := Map(ctx, in, double); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/elem")
	})
}
