package blocking

import (
	"context"
	"iter"
	"sync"
	"time"

	"github.com/goasync/async"
	"github.com/goasync/async/stream"
)

// Near misses.

// The fixes: async.Sleep, Await, a Queue.
func fixed(ctx context.Context, q *async.Queue[int]) error {
	return async.RunLoop(ctx, func(ctx context.Context) error {
		if err := async.Sleep(ctx, time.Millisecond); err != nil {
			return err
		}
		v, err := q.Get(ctx)
		_ = v
		return err
	})
}

// Offloaded work runs off the loop: blocking there is the point.
func offloaded(ctx context.Context) error {
	return async.RunLoop(ctx, func(ctx context.Context) error {
		_, err := async.Offload(ctx, func(ctx context.Context) (int, error) {
			time.Sleep(time.Millisecond)
			return 1, nil
		}).Await(ctx)
		return err
	})
}

// A plain goroutine is not a loop task.
func goroutine(ctx context.Context, ch chan int) error {
	return async.RunLoop(ctx, func(ctx context.Context) error {
		go func() {
			time.Sleep(time.Millisecond)
			<-ch
		}()
		return nil
	})
}

// A select that also waits for ctx is the way to use a channel.
func selects(ctx context.Context, ch chan int) error {
	return async.RunLoop(ctx, func(ctx context.Context) error {
		select {
		case v := <-ch:
			_ = v
		case <-ctx.Done():
			return ctx.Err()
		}
		return nil
	})
}

// A pool's workers are not loop tasks.
func pooled(ctx context.Context, p *async.Pool) error {
	return async.RunLoop(ctx, func(ctx context.Context) error {
		_, err := async.Submit(ctx, p, func(ctx context.Context) (int, error) {
			time.Sleep(time.Millisecond)
			return 1, nil
		}).Await(ctx)
		return err
	})
}

// Outside any loop, blocking is ordinary Go.
func outside(ctx context.Context, ch chan int) {
	time.Sleep(time.Millisecond)
	var wg sync.WaitGroup
	wg.Wait()
	<-ch
	async.Go(ctx, func(ctx context.Context) (int, error) {
		time.Sleep(time.Millisecond)
		return 1, nil
	}).Await(ctx)
}

// A callback stored for later does not run on the loop as far as we can
// see.
func stored(ctx context.Context) error {
	var later func()
	err := async.RunLoop(ctx, func(ctx context.Context) error {
		later = func() { time.Sleep(time.Millisecond) }
		return nil
	})
	later()
	return err
}

// Non-blocking channel operations.
func nonBlocking(ctx context.Context, ch chan int) error {
	return async.RunLoop(ctx, func(ctx context.Context) error {
		select {
		case v := <-ch:
			_ = v
		default:
		}
		ch2 := make(chan int, 1)
		ch2 <- 1 // a send is not in the list
		return nil
	})
}

// A timer in a select that also waits for ctx is how the loop waits.
func timerInSelect(ctx context.Context) error {
	return async.RunLoop(ctx, func(ctx context.Context) error {
		select {
		case <-time.After(time.Millisecond):
		case <-ctx.Done():
		}
		return nil
	})
}

// Waiting for plain goroutines is fine once it is offloaded.
func offloadedWait(ctx context.Context) error {
	return async.RunLoop(ctx, func(ctx context.Context) error {
		var wg sync.WaitGroup
		wg.Add(1)
		go func() { defer wg.Done() }()
		_, err := async.Offload(ctx, func(ctx context.Context) (struct{}, error) {
			wg.Wait()
			return struct{}{}, nil
		}).Await(ctx)
		return err
	})
}

// A function that sleeps but is never given to RunLoop.
func sleepyHelper() { time.Sleep(time.Millisecond) }

func notInLoop(ctx context.Context) error {
	sleepyHelper()
	return async.RunLoop(ctx, func(ctx context.Context) error { return nil })
}

// A busy loop task that yields, and a goroutine started by a loop task.
func yields(ctx context.Context, ch chan int) error {
	return async.RunLoop(ctx, func(ctx context.Context) error {
		_, err := async.Go(ctx, func(ctx context.Context) (int, error) {
			for i := 0; i < 1000; i++ {
				if err := async.Yield(ctx); err != nil {
					return 0, err
				}
			}
			go func() { <-ch }()
			return 1, nil
		}).Await(ctx)
		return err
	})
}

// A stream consumed off the loop, or built but not consumed there.
func streamOffLoop(ctx context.Context, in iter.Seq[int]) error {
	return async.RunLoop(ctx, func(ctx context.Context) error {
		seq := stream.Merge(ctx, in, in) // making the sequence does not block
		_, err := async.Offload(ctx, func(ctx context.Context) (int, error) {
			n := 0
			for range seq {
				n++
			}
			return n, stream.ForEach(ctx, in, func(context.Context, int) error { return nil })
		}).Await(ctx)
		return err
	})
}

// Goroutines that wait with contexts of their own, or only watch the loop
// task's context, or are started outside loop code.
func foreignWaitNearMisses(ctx context.Context, f *async.Future[int]) error {
	go func() { f.Await(ctx) }() // not loop code
	return async.RunLoop(ctx, func(ctx context.Context) error {
		go func(ctx context.Context) { f.Await(ctx) }(context.Background()) // its own parameter
		go func() {
			<-ctx.Done() // watching the task's context waits for nothing of the loop's
		}()
		_, err := async.Offload(ctx, func(octx context.Context) (int, error) { return f.Await(octx) }).Await(ctx)
		return err
	})
}
