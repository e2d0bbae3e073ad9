package async

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"
)

// Scope benchmarks. Sub-benchmarks: "raw" is the floor written with plain
// goroutines, a WaitGroup and (for limits) a channel semaphore, the way
// errgroup does it; "async-scope" is a Scope doing the same work. Peers
// (errgroup, conc, pond, ants) are compared in the bench module, which keeps
// them out of this module's dependencies. Each op runs a whole batch; the
// ns/child metric divides by its size.

const scopeBatch = 10_000

//go:noinline
func scopeWork(i int) int { return i + 1 }

func reportPerChild(b *testing.B, n int) {
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/child")
}

func BenchmarkScope10k(b *testing.B) {
	ctx := context.Background()
	out := make([]int, scopeBatch)
	b.Run("raw", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var wg sync.WaitGroup
			for i := range scopeBatch {
				wg.Add(1)
				go func() { defer wg.Done(); out[i] = scopeWork(i) }()
			}
			wg.Wait()
		}
		reportPerChild(b, scopeBatch)
	})
	b.Run("async-scope", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			s := NewScope(ctx)
			for i := range scopeBatch {
				s.Go(func(context.Context) error { out[i] = scopeWork(i); return nil })
			}
			_ = s.Wait()
		}
		reportPerChild(b, scopeBatch)
	})
}

func BenchmarkScopeLimit10k(b *testing.B) {
	ctx := context.Background()
	out := make([]int, scopeBatch)
	for _, limit := range []int{8, 2} {
		b.Run(strconv.Itoa(limit), func(b *testing.B) {
			b.Run("raw", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					var wg sync.WaitGroup
					sem := make(chan struct{}, limit)
					for i := range scopeBatch {
						sem <- struct{}{}
						wg.Add(1)
						go func() {
							defer func() { <-sem; wg.Done() }()
							out[i] = scopeWork(i)
						}()
					}
					wg.Wait()
				}
				reportPerChild(b, scopeBatch)
			})
			b.Run("async-scope", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					s := NewScope(ctx, Limit(limit))
					for i := range scopeBatch {
						s.Go(func(context.Context) error { out[i] = scopeWork(i); return nil })
					}
					_ = s.Wait()
				}
				reportPerChild(b, scopeBatch)
			})
		})
	}
}

func BenchmarkSpawn10k(b *testing.B) {
	ctx := context.Background()
	b.Run("raw", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var wg sync.WaitGroup
			chs := make([]chan int, scopeBatch)
			for i := range chs {
				ch := make(chan int, 1)
				chs[i] = ch
				wg.Add(1)
				go func() { defer wg.Done(); ch <- scopeWork(i) }()
			}
			wg.Wait()
			sum := 0
			for _, ch := range chs {
				sum += <-ch
			}
		}
		reportPerChild(b, scopeBatch)
	})
	b.Run("async-scope", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			s := NewScope(ctx)
			fs := make([]*Future[int], scopeBatch)
			for i := range fs {
				fs[i] = Spawn(s, func(context.Context) (int, error) { return scopeWork(i), nil })
			}
			_ = s.Wait()
			sum := 0
			for _, f := range fs {
				v, _ := f.Await(ctx)
				sum += v
			}
		}
		reportPerChild(b, scopeBatch)
	})
}

// 1k children each waiting 1 ms: the I/O-shaped fan-out, where the scope's
// own cost should vanish into the wait.
func BenchmarkScopeSleep1k(b *testing.B) {
	ctx := context.Background()
	const n = 1000
	b.Run("raw", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var wg sync.WaitGroup
			for range n {
				wg.Add(1)
				go func() { defer wg.Done(); time.Sleep(time.Millisecond) }()
			}
			wg.Wait()
		}
	})
	b.Run("async-scope", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			s := NewScope(ctx)
			for range n {
				s.Go(func(context.Context) error { time.Sleep(time.Millisecond); return nil })
			}
			_ = s.Wait()
		}
	})
}
