package async

import (
	"context"
	"iter"
)

// AsCompleted yields each future's index and outcome in the order they
// settle (futures already settled come first, in input order). The sequence
// ends when every future has been yielded, when the consumer stops, or when
// ctx ends (check ctx.Err() after the loop to tell); every future that has
// settled is yielded before the end of ctx is noticed, so with a ctx that has
// already ended it yields exactly the futures already settled. It starts no goroutine
// and leaves nothing registered on the futures when it ends. Only the
// outcomes it yields count as observed. It panics if ctx or any future is
// nil.
func AsCompleted[T any](ctx context.Context, fs ...*Future[T]) iter.Seq2[int, Result[T]] {
	checkCtx("AsCompleted", ctx)
	for i, t := range tasksOf(fs) {
		if t == nil {
			panicNilFuture("AsCompleted", i)
		}
		t.mustBeMade("AsCompleted")
	}
	return func(yield func(int, Result[T]) bool) {
		ready := make(chan int, len(fs))
		nodes := make([]completion, len(fs))
		lt := runningLoopTask(ctx) // in a loop, wait by giving the loop up
		for i, f := range fs {     // settled ones first, in input order
			nodes[i] = completion{ready: ready, i: i, lt: lt}
			if f.t.state.Load()&stSettled != 0 {
				ready <- i
				nodes[i].ready = nil
			}
		}
		for i, f := range fs {
			if nodes[i].ready != nil && !f.t.subscribe(&nodes[i]) {
				ready <- i
			}
		}
		defer func() {
			for i, f := range fs {
				if f.t.state.Load()&stSettled == 0 {
					f.t.unsubscribe(&nodes[i])
				}
			}
		}()
		cd := ctx.Done()
		for range fs {
			// A settled future is yielded before ctx's end is noticed, as
			// Await and All do: a select between the two would pick at
			// random.
			var i int
			select {
			case i = <-ready:
			default:
				if lt != nil {
					if lt.l.blockUntil(lt, ctx, func() bool { return len(ready) > 0 }) != nil && len(ready) == 0 {
						return
					}
					i = <-ready
					break
				}
				select {
				case i = <-ready:
				case <-cd:
					select {
					case i = <-ready: // settled as ctx ended
					default:
						return
					}
				}
			}
			f := fs[i]
			if f.t.state.Load()&stFailed != 0 {
				f.t.observe()
			}
			if !yield(i, Result[T]{Value: f.val, Err: f.t.err}) {
				return
			}
		}
	}
}

// completion reports one future's index when it settles.
type completion struct {
	ready chan<- int
	i     int
	lt    *loopTask // a loop task consuming the sequence
}

func (c *completion) notify(*task) {
	c.ready <- c.i
	if c.lt != nil {
		c.lt.l.makeReady(c.lt)
	}
}
