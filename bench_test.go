package async

import (
	"context"
	"runtime"
	"sync"
	"testing"
)

// Sub-benchmark naming: "raw" is the floor (plain goroutines, channels,
// WaitGroup); "async..." is this package. The benchmark report computes
// ratios between them.

//go:noinline
func work(i int) int { return i * 2 }

func BenchmarkGoAwait(b *testing.B) {
	ctx := context.Background()
	b.Run("raw", func(b *testing.B) {
		b.ReportAllocs()
		sum := 0
		for i := 0; b.Loop(); i++ {
			ch := make(chan int, 1)
			go func() { ch <- work(i) }()
			sum += <-ch
		}
		_ = sum
	})
	b.Run("async", func(b *testing.B) {
		b.ReportAllocs()
		sum := 0
		for i := 0; b.Loop(); i++ {
			v, _ := Go(ctx, func(context.Context) (int, error) { return work(i), nil }).Await(ctx)
			sum += v
		}
		_ = sum
	})
	// A cancellable parent costs a registration so that its end reaches the task.
	b.Run("async-cancellable-parent", func(b *testing.B) {
		b.ReportAllocs()
		cctx, cancel := context.WithCancel(ctx)
		defer cancel()
		sum := 0
		for i := 0; b.Loop(); i++ {
			v, _ := Go(cctx, func(context.Context) (int, error) { return work(i), nil }).Await(cctx)
			sum += v
		}
		_ = sum
	})
}

func BenchmarkAwaitSettled(b *testing.B) {
	ctx := context.Background()
	f := Resolved(1)
	b.ReportAllocs()
	sum := 0
	for b.Loop() {
		v, _ := f.Await(ctx)
		sum += v
	}
	_ = sum
}

const fanout = 10_000

func BenchmarkAll10k(b *testing.B) {
	ctx := context.Background()
	b.Run("raw", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			out := make([]int, fanout)
			var wg sync.WaitGroup
			wg.Add(fanout)
			for i := range fanout {
				go func() { out[i] = work(i); wg.Done() }()
			}
			wg.Wait()
		}
	})
	b.Run("async", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			fs := make([]*Future[int], fanout)
			for i := range fanout {
				fs[i] = Go(ctx, func(context.Context) (int, error) { return work(i), nil })
			}
			if _, err := All(ctx, fs...); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkPending measures the memory of 1M pending tasks, each with its
// goroutine parked, as bytes per pending task (heap plus stacks). Goroutine
// stacks dominate, and the runtime sizes new stacks from the average it has
// seen (GODEBUG=adaptivestackstart), so raw and async move together between
// runs: compare them within a run, or run with GODEBUG=adaptivestackstart=0
// for fixed 2 KB stacks.
func BenchmarkPending(b *testing.B) {
	const n = 1_000_000
	measure := func(b *testing.B, start func(release <-chan struct{}) func()) {
		for b.Loop() {
			runtime.GC()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			release := make(chan struct{})
			wait := start(release)
			runtime.ReadMemStats(&after)
			close(release)
			wait()
			used := (after.HeapAlloc + after.StackInuse) - (before.HeapAlloc + before.StackInuse)
			b.ReportMetric(float64(used)/n, "B/pending")
		}
	}
	b.Run("raw", func(b *testing.B) {
		measure(b, func(release <-chan struct{}) func() {
			chs := make([]chan int, n)
			for i := range chs {
				ch := make(chan int, 1)
				chs[i] = ch
				go func() { <-release; ch <- 1 }()
			}
			return func() {
				for _, ch := range chs {
					<-ch
				}
			}
		})
	})
	b.Run("async", func(b *testing.B) {
		ctx := context.Background()
		measure(b, func(release <-chan struct{}) func() {
			fs := make([]*Future[int], n)
			for i := range fs {
				fs[i] = Go(ctx, func(context.Context) (int, error) { <-release; return 1, nil })
			}
			return func() { All(ctx, fs...) }
		})
	})
}

func BenchmarkThenChain(b *testing.B) {
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		p := NewPromise[int]()
		f := p.Future()
		for range 100 {
			f = Then(ctx, f, func(_ context.Context, v int) (int, error) { return v + 1, nil })
		}
		p.Resolve(0)
		f.Await(ctx)
	}
}

func BenchmarkRace(b *testing.B) {
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		p := NewPromise[int]()
		f := Go(ctx, func(context.Context) (int, error) { return 1, nil })
		Race(ctx, p.Future(), f)
	}
}

// BenchmarkAllOfSettled10k is All over 10k futures that have all succeeded:
// its pass over them alone.
func BenchmarkAllOfSettled10k(b *testing.B) {
	fs := make([]*Future[int], fanout)
	for i := range fs {
		fs[i] = Go(context.Background(), func(context.Context) (int, error) { return i, nil })
	}
	if _, err := All(context.Background(), fs...); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := All(context.Background(), fs...); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAllOfPending10k is All over 10k futures that are all pending when
// it starts and succeed after it has gone over them: its pass, the
// settlements' notifications and the values. Run with -cpu 1, All goes
// over every future before the goroutine that settles them runs.
func BenchmarkAllOfPending10k(b *testing.B) {
	ps := make([]*Promise[int], fanout)
	fs := make([]*Future[int], fanout)
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		for i := range ps {
			ps[i] = NewPromise[int]()
			fs[i] = ps[i].Future()
		}
		b.StartTimer()
		go func() {
			for i, p := range ps {
				p.Resolve(i)
			}
		}()
		if _, err := All(context.Background(), fs...); err != nil {
			b.Fatal(err)
		}
	}
}
