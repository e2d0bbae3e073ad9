package async

import (
	"context"
	"testing"
)

// BenchmarkLoopSwitch measures one switch between two loop tasks that hand
// the loop back and forth, against two goroutines ping-ponging over an
// unbuffered channel (one op = one handoff).
func BenchmarkLoopSwitch(b *testing.B) {
	b.Run("raw", func(b *testing.B) {
		b.ReportAllocs()
		ping, pong := make(chan int), make(chan int)
		go func() {
			for v := range ping {
				pong <- v
			}
			close(pong)
		}()
		for i := 0; b.Loop(); i++ {
			ping <- i
			<-pong
		}
		close(ping)
		<-pong
	})
	b.Run("async-loop-queue", func(b *testing.B) {
		b.ReportAllocs()
		RunLoop(context.Background(), func(ctx context.Context) error {
			ping, pong := NewQueue[int](0), NewQueue[int](0)
			Go(ctx, func(ctx context.Context) (int, error) {
				for {
					v, err := ping.Get(ctx)
					if err != nil {
						return 0, nil
					}
					pong.Put(ctx, v)
				}
			})
			for i := 0; b.Loop(); i++ {
				ping.Put(ctx, i)
				pong.Get(ctx)
			}
			ping.Close()
			return nil
		})
	})
	b.Run("async-loop-yield", func(b *testing.B) {
		b.ReportAllocs()
		RunLoop(context.Background(), func(ctx context.Context) error {
			stop := false
			Go(ctx, func(ctx context.Context) (int, error) {
				for !stop {
					Yield(ctx)
				}
				return 0, nil
			})
			for b.Loop() {
				Yield(ctx) // to the other task and back: two switches
			}
			stop = true
			return nil
		})
	})
}

// BenchmarkLoopGather runs 100k loop tasks, each awaiting a trivial child,
// gathered with All: the job bench/crosslang runs in asyncio and Node.
func BenchmarkLoopGather(b *testing.B) {
	const n = 100_000
	// gather runs the job with start making task i, in a loop or not.
	gather := func(b *testing.B, inLoop bool, start func(ctx context.Context, i int) *Future[int]) {
		b.ReportAllocs()
		job := func(ctx context.Context) error {
			fs := make([]*Future[int], n)
			for i := range fs {
				fs[i] = start(ctx, i)
			}
			_, err := All(ctx, fs...)
			return err
		}
		for b.Loop() {
			var err error
			if inLoop {
				err = RunLoop(context.Background(), job)
			} else {
				err = job(context.Background())
			}
			if err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/task")
	}
	// Each task and child started with Go and a closure.
	withGo := func(ctx context.Context, i int) *Future[int] {
		return Go(ctx, func(ctx context.Context) (int, error) {
			return Go(ctx, func(context.Context) (int, error) { return i, nil }).Await(ctx)
		})
	}
	b.Run("async", func(b *testing.B) { gather(b, false, withGo) })
	b.Run("async-loop", func(b *testing.B) { gather(b, true, withGo) })
	// The job written as the Node and Python scripts write it: each task and
	// each child is a call of an async function (Func) with its argument,
	// so no closure is made per task. The loop's targets are measured on it.
	child := Func(func(_ context.Context, i int) (int, error) { return i, nil })
	task := Func(func(ctx context.Context, i int) (int, error) { return child(ctx, i).Await(ctx) })
	b.Run("async-loop-func", func(b *testing.B) { gather(b, true, task) })
	// The same job with the child called directly instead of started as a
	// task: the form of the job in bench/crosslang's Python (a coroutine
	// awaited directly is a call, not a task). For comparison only.
	direct := func(_ context.Context, i int) (int, error) { return i, nil }
	b.Run("async-loop-call", func(b *testing.B) {
		gather(b, true, func(ctx context.Context, i int) *Future[int] {
			return Go(ctx, func(ctx context.Context) (int, error) { return direct(ctx, i) })
		})
	})
	// The job's allocation floor: the same objects as async-loop (a loop
	// future and a closure per task and per child), made and called
	// directly, with no scheduling, no context and no settling: what Go's
	// allocator and collector alone cost for this job.
	b.Run("alloc-floor", func(b *testing.B) {
		b.ReportAllocs()
		ctx := context.Background()
		for b.Loop() {
			fs := make([]*loopFuture[int], n)
			for i := range fs {
				fs[i] = &loopFuture[int]{fn: func(ctx context.Context) (int, error) {
					c := &loopFuture[int]{fn: func(context.Context) (int, error) { return i, nil }}
					floorChild = c // on the heap, as a child future is
					return c.fn(ctx)
				}}
			}
			for _, f := range fs {
				f.f.val, _ = f.fn(ctx)
			}
			sum := 0
			for _, f := range fs {
				sum += f.f.val
			}
			if sum != n*(n-1)/2 {
				b.Fatal(sum)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/task")
	})
}

var floorChild *loopFuture[int]
