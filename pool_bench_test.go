package async

import (
	"context"
	"sync"
	"testing"
)

// Pool benchmarks. "raw" is the floor: a fixed set of worker goroutines
// reading closures from a channel, results written in place, a WaitGroup to
// wait; "async-pool" submits the same work and awaits futures. Peers (pond,
// ants, conc) are compared in the bench module.

const poolBatch = 10_000

// 10k trivial tasks on 2 workers: Submit each, then await each. The ns/task
// metric is what the pool's target (≤ 250 ns/task) refers to.
func BenchmarkPool10k(b *testing.B) {
	ctx := context.Background()
	const workers = 2
	b.Run("raw", func(b *testing.B) {
		b.ReportAllocs()
		out := make([]int, poolBatch)
		jobs := make(chan func(), 64)
		var workersWG sync.WaitGroup
		for range workers {
			workersWG.Add(1)
			go func() {
				defer workersWG.Done()
				for j := range jobs {
					j()
				}
			}()
		}
		for b.Loop() {
			var wg sync.WaitGroup
			wg.Add(poolBatch)
			for i := range poolBatch {
				jobs <- func() { out[i] = scopeWork(i); wg.Done() }
			}
			wg.Wait()
		}
		close(jobs)
		workersWG.Wait()
		reportPerTask(b, poolBatch)
	})
	b.Run("async-pool", func(b *testing.B) {
		b.ReportAllocs()
		p := NewPool(workers)
		fs := make([]*Future[int], poolBatch)
		for b.Loop() {
			for i := range fs {
				fs[i] = Submit(ctx, p, func(context.Context) (int, error) { return scopeWork(i), nil })
			}
			for _, f := range fs {
				_, _ = f.Await(ctx)
			}
		}
		reportPerTask(b, poolBatch)
		_ = p.Close()
	})
}

// One task at a time: Submit, then Await before the next (latency, two
// goroutine switches per task).
func BenchmarkPoolSubmitAwait(b *testing.B) {
	ctx := context.Background()
	b.Run("raw", func(b *testing.B) {
		b.ReportAllocs()
		type job struct {
			i     int
			reply chan int
		}
		jobs := make(chan job)
		done := make(chan struct{})
		go func() {
			defer close(done)
			for j := range jobs {
				j.reply <- scopeWork(j.i)
			}
		}()
		sum := 0
		for i := 0; b.Loop(); i++ {
			reply := make(chan int, 1)
			jobs <- job{i, reply}
			sum += <-reply
		}
		close(jobs)
		<-done
	})
	b.Run("async-pool", func(b *testing.B) {
		b.ReportAllocs()
		p := NewPool(2)
		sum := 0
		for i := 0; b.Loop(); i++ {
			v, _ := Submit(ctx, p, func(context.Context) (int, error) { return scopeWork(i), nil }).Await(ctx)
			sum += v
		}
		_ = p.Close()
	})
}

// What a queued task costs: every op submits one task behind a busy worker.
// B/op is the memory of a queued task (the target: ≤ 150 B).
func BenchmarkPoolQueued(b *testing.B) {
	ctx := context.Background()
	b.Run("raw", func(b *testing.B) {
		b.ReportAllocs()
		gate := make(chan struct{})
		var queue []func() int
		queue = append(queue, func() int { <-gate; return 0 })
		for i := 0; b.Loop(); i++ {
			queue = append(queue, func() int { return scopeWork(i) })
		}
		_ = queue
	})
	b.Run("async-pool", func(b *testing.B) {
		b.ReportAllocs()
		p := NewPool(1)
		gate := make(chan struct{})
		Submit(ctx, p, func(context.Context) (int, error) { <-gate; return 0, nil })
		for i := 0; b.Loop(); i++ {
			Submit(ctx, p, func(context.Context) (int, error) { return scopeWork(i), nil })
		}
		b.StopTimer()
		close(gate)
		_ = p.Close()
	})
}

func reportPerTask(b *testing.B, n int) {
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/task")
}
