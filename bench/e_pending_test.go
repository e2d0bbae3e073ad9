package bench

import (
	"context"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/alitto/pond/v2"
	"github.com/goasync/async"
	"github.com/panjf2000/ants/v2"
	"github.com/samber/lo"
	"github.com/sourcegraph/conc"
	"golang.org/x/sync/errgroup"
)

// A pendingVariant starts n tasks that each call started.Add(1) and then
// block until gate closes. It returns a function that waits for them all and
// returns the checksum, and how many of the n tasks run at once (n, except for
// a pool whose tasks queue behind a few workers).
type pendingVariant struct {
	name  string
	start func(tb testing.TB, n int, gate <-chan struct{}, started *atomic.Int64) (await func() int, running int)
}

// pendingTask is workload E's task.
func pendingTask(x int, gate <-chan struct{}, started *atomic.Int64) int {
	started.Add(1)
	<-gate
	return work(x)
}

func pendingVariants() []pendingVariant {
	ctx := context.Background()
	return []pendingVariant{
		{"raw", func(_ testing.TB, n int, gate <-chan struct{}, started *atomic.Int64) (func() int, int) {
			out := make([]int, n)
			var wg sync.WaitGroup
			wg.Add(n)
			for i := range n {
				go func() { out[i] = pendingTask(i, gate, started); wg.Done() }()
			}
			return func() int { wg.Wait(); return sum(out) }, n
		}},
		{"raw-chan", func(_ testing.TB, n int, gate <-chan struct{}, started *atomic.Int64) (func() int, int) {
			chs := make([]chan int, n)
			for i := range n {
				ch := make(chan int, 1)
				chs[i] = ch
				go func() { ch <- pendingTask(i, gate, started) }()
			}
			return func() int {
				s := 0
				for _, ch := range chs {
					s += <-ch
				}
				return s
			}, n
		}},
		{"errgroup", func(_ testing.TB, n int, gate <-chan struct{}, started *atomic.Int64) (func() int, int) {
			out := make([]int, n)
			g := new(errgroup.Group)
			for i := range n {
				g.Go(func() error { out[i] = pendingTask(i, gate, started); return nil })
			}
			return func() int { _ = g.Wait(); return sum(out) }, n
		}},
		{"conc", func(_ testing.TB, n int, gate <-chan struct{}, started *atomic.Int64) (func() int, int) {
			out := make([]int, n)
			wg := conc.NewWaitGroup()
			for i := range n {
				wg.Go(func() { out[i] = pendingTask(i, gate, started) })
			}
			return func() int { wg.Wait(); return sum(out) }, n
		}},
		{"pond", func(tb testing.TB, n int, gate <-chan struct{}, started *atomic.Int64) (func() int, int) {
			pool := pond.NewResultPool[int](0)
			tb.Cleanup(pool.StopAndWait)
			ts := make([]pond.ResultTask[int], n)
			for i := range n {
				ts[i] = pool.Submit(func() int { return pendingTask(i, gate, started) })
			}
			return func() int {
				s := 0
				for _, t := range ts {
					v, _ := t.Wait()
					s += v
				}
				return s
			}, n
		}},
		{"ants", func(tb testing.TB, n int, gate <-chan struct{}, started *atomic.Int64) (func() int, int) {
			pool, err := ants.NewPool(0)
			if err != nil {
				tb.Fatal(err)
			}
			tb.Cleanup(pool.Release)
			out := make([]int, n)
			var wg sync.WaitGroup
			wg.Add(n)
			for i := range n {
				if err := pool.Submit(func() { out[i] = pendingTask(i, gate, started); wg.Done() }); err != nil {
					tb.Fatal(err)
				}
			}
			return func() int { wg.Wait(); return sum(out) }, n
		}},
		{"lo", func(_ testing.TB, n int, gate <-chan struct{}, started *atomic.Int64) (func() int, int) {
			chs := make([]<-chan int, n)
			for i := range n {
				chs[i] = lo.Async(func() int { return pendingTask(i, gate, started) })
			}
			return func() int {
				s := 0
				for _, ch := range chs {
					s += <-ch
				}
				return s
			}, n
		}},
		{"async", func(_ testing.TB, n int, gate <-chan struct{}, started *atomic.Int64) (func() int, int) {
			fs := make([]*async.Future[int], n)
			for i := range n {
				fs[i] = async.Go(ctx, func(context.Context) (int, error) { return pendingTask(i, gate, started), nil })
			}
			return func() int { out, _ := async.All(ctx, fs...); return sum(out) }, n
		}},
	}
}

// allPendingVariants adds the variants of APIs still landing.
func allPendingVariants() []pendingVariant { return append(pendingVariants(), pendingExtras...) }

// measurePending starts n pending tasks, waits until the running ones have
// all started (so lazily started workers exist too), and returns the heap
// and stack bytes per task that they hold, from runtime.MemStats after a GC.
func measurePending(tb testing.TB, v pendingVariant, n int) (bytesPerTask float64, checksum int) {
	gate := make(chan struct{})
	var started atomic.Int64
	var m0, m1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)
	// No collections while the tasks start: each would scan every parked
	// goroutine's stack, which makes starting 1M tasks take seconds. The
	// measurement itself is taken after an explicit collection.
	gcPercent := debug.SetGCPercent(-1)
	await, running := v.start(tb, n, gate, &started)
	for started.Load() < int64(running) {
		runtime.Gosched()
	}
	runtime.GC()
	runtime.ReadMemStats(&m1)
	debug.SetGCPercent(gcPercent)
	close(gate)
	checksum = await()
	held := int64(m1.HeapAlloc+m1.StackInuse) - int64(m0.HeapAlloc+m0.StackInuse)
	return float64(held) / float64(n), checksum
}

// BenchmarkE_Pending1M reports B/task: what one pending task (its goroutine,
// if it has one, and its result slot) holds. Run it with -benchtime=1x and
// one variant per process: a process reuses the runtime's goroutine
// descriptors, so a second measurement in the same process would not pay
// for them. The report does exactly that.
func BenchmarkE_Pending1M(b *testing.B) {
	n := *pendingTasks
	for _, v := range allPendingVariants() {
		b.Run(v.name, func(b *testing.B) {
			total := 0.0
			for i := 0; i < b.N; i++ {
				per, got := measurePending(b, v, n)
				if got != sumWork(n) {
					b.Fatalf("checksum %d, want %d", got, sumWork(n))
				}
				total += per
			}
			b.ReportMetric(total/float64(b.N), "B/task")
		})
	}
}

func TestPendingVariants(t *testing.T) {
	for _, v := range allPendingVariants() {
		t.Run(v.name, func(t *testing.T) {
			if _, got := measurePending(t, v, 1000); got != sumWork(1000) {
				t.Fatalf("checksum %d, want %d", got, sumWork(1000))
			}
		})
	}
}
