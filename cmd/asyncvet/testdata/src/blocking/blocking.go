package blocking

import (
	"context"
	"iter"
	"sync"
	"testing"
	"time"

	"github.com/goasync/async"
	"github.com/goasync/async/asynctest"
	"github.com/goasync/async/stream"
)

// True positives.

func sleeps(ctx context.Context) error {
	return async.RunLoop(ctx, func(ctx context.Context) error {
		time.Sleep(time.Millisecond) // want `time.Sleep blocks the event loop: no other loop task runs until it returns; use async.Sleep\(ctx, d\), which gives the loop up while it waits`
		return nil
	})
}

func waitGroup(ctx context.Context) error {
	return async.RunLoop(ctx, func(ctx context.Context) error {
		var wg sync.WaitGroup
		wg.Add(1)
		go func() { defer wg.Done() }()
		wg.Wait() // want `sync.WaitGroup.Wait blocks the event loop: the loop tasks it waits for cannot run; start them in an async.Scope and call Scope.Wait, or wait with async.Offload`
		return nil
	})
}

func receives(ctx context.Context, ch chan int) error {
	return async.RunLoop(ctx, func(ctx context.Context) error {
		v := <-ch // want `a channel receive outside select blocks the event loop`
		_ = v
		for range ch { // want `ranging over a channel blocks the event loop`
		}
		<-ctx.Done() // want `a channel receive outside select blocks the event loop`
		return nil
	})
}

func futureDone(ctx context.Context, f *async.Future[int]) error {
	return async.RunLoop(ctx, func(ctx context.Context) error {
		<-f.Done() // want `receiving from Future.Done outside select blocks the event loop; use Await`
		return nil
	})
}

// A loop task started from loop code is loop code too.
func inTask(ctx context.Context) error {
	return async.RunLoop(ctx, func(ctx context.Context) error {
		f := async.Go(ctx, func(ctx context.Context) (int, error) {
			time.Sleep(time.Millisecond) // want `time.Sleep blocks the event loop`
			return 1, nil
		})
		_, err := f.Await(ctx)
		return err
	})
}

func inScope(ctx context.Context) error {
	return async.RunLoop(ctx, func(ctx context.Context) error {
		return async.Run(ctx, func(s *async.Scope) error {
			s.Go(func(ctx context.Context) error {
				time.Sleep(time.Millisecond) // want `time.Sleep blocks the event loop`
				return nil
			})
			async.Spawn(s, func(ctx context.Context) (int, error) {
				time.Sleep(time.Millisecond) // want `time.Sleep blocks the event loop`
				return 0, nil
			}).Await(ctx)
			return nil
		})
	})
}

func inMap(ctx context.Context, ids []int) error {
	return async.RunLoop(ctx, func(ctx context.Context) error {
		_, err := async.Map(ctx, ids, func(ctx context.Context, id int) (int, error) {
			time.Sleep(time.Millisecond) // want `time.Sleep blocks the event loop`
			return id, nil
		})
		return err
	})
}

// A named function given to RunLoop, and one it starts as a task.
func loopMain(ctx context.Context) error {
	time.Sleep(time.Millisecond) // want `time.Sleep blocks the event loop`
	_, err := async.Go(ctx, loopTask).Await(ctx)
	return err
}

func loopTask(ctx context.Context) (int, error) {
	time.Sleep(time.Millisecond) // want `time.Sleep blocks the event loop`
	return 1, nil
}

func named(ctx context.Context) error {
	return async.RunLoop(ctx, loopMain)
}

func deferredInLoop(ctx context.Context) error {
	return async.RunLoop(ctx, func(ctx context.Context) error {
		defer func() {
			time.Sleep(time.Millisecond) // want `time.Sleep blocks the event loop`
		}()
		func() {
			time.Sleep(time.Millisecond) // want `time.Sleep blocks the event loop`
		}()
		return nil
	})
}

// asynctest.Explore runs its function in RunLoop.
func explored(t *testing.T) {
	asynctest.Explore(t, 100, func(ctx context.Context) error {
		time.Sleep(time.Millisecond) // want `time.Sleep blocks the event loop`
		return nil
	})
}

// The stream package waits for goroutines of its own with channels: its
// consumers hold the loop.
func streams(ctx context.Context, in iter.Seq[int], ch chan int) error {
	return async.RunLoop(ctx, func(ctx context.Context) error {
		double := func(_ context.Context, v int) (int, error) { return 2 * v, nil }
		for v, err := range stream.Map(ctx, in, double) { // want `ranging over stream.Map blocks the event loop: the stream's calls run on goroutines of its own`
			_, _ = v, err
		}
		for range stream.FromChan(ctx, ch) { // want `ranging over stream.FromChan blocks the event loop`
		}
		return stream.ForEach(ctx, in, func(context.Context, int) error { return nil }) // want `stream.ForEach blocks the event loop: its calls run on goroutines of its own`
	})
}

// A goroutine of the task's own that waits with the task's context acts
// for the task.
func foreignWait(ctx context.Context, f *async.Future[int], q *async.Queue[int]) error {
	return async.RunLoop(ctx, func(ctx context.Context) error {
		go func() {
			f.Await(ctx)     // want `Future.Await in a goroutine started by loop code waits with the loop task's context ctx: the wait acts for the task`
			async.Yield(ctx) // want `async.Yield in a goroutine started by loop code waits with the loop task's context ctx`
		}()
		_, err := async.Go(ctx, func(tctx context.Context) (int, error) {
			go func() {
				q.Get(tctx) // want `Queue.Get in a goroutine started by loop code waits with the loop task's context tctx`
			}()
			return 0, nil
		}).Await(ctx)
		return err
	})
}
