package stream

import (
	"context"
	"fmt"
	"iter"
	"runtime/debug"
	"time"

	"github.com/goasync/async"
)

// Batch returns an iterator that groups the items of in into slices of up
// to size items. A batch is yielded as soon as it holds size items, or when
// maxWait has passed since its first item arrived, whichever is first; when
// in is exhausted, the last, partial batch is yielded. A maxWait of 0 means
// no time limit: batches are then cut by size alone and in is read on the
// consuming goroutine, with no goroutine started. Each batch is a new slice
// that the consumer may keep.
//
// When ctx ends, Batch yields the items it holds as a last batch and stops,
// so no item read from in is dropped. With maxWait > 0, in is read on a
// goroutine of Batch's own, at most one item ahead; breaking out of the loop
// returns only after that goroutine has exited, and a panic in in re-panics
// on the consuming goroutine with a *[async.PanicError], after the items
// read before it have been yielded.
//
// Batch panics if ctx or in is nil, size < 1, or maxWait < 0.
func Batch[T any](ctx context.Context, in iter.Seq[T], size int, maxWait time.Duration) iter.Seq[[]T] {
	checkArgs("stream.Batch", ctx, in == nil, false)
	if size < 1 {
		panic(fmt.Sprintf("async: stream.Batch size %d: must be at least 1", size))
	}
	if maxWait < 0 {
		panic(fmt.Sprintf("async: stream.Batch maxWait %v: must not be negative", maxWait))
	}
	if maxWait == 0 {
		return func(yield func([]T) bool) { batchBySize(ctx, in, size, yield) }
	}
	return func(yield func([]T) bool) { batchByTime(ctx, in, size, maxWait, yield) }
}

func batchBySize[T any](ctx context.Context, in iter.Seq[T], size int, yield func([]T) bool) {
	if ctx.Err() != nil {
		return
	}
	batch := make([]T, 0, size)
	for v := range in {
		batch = append(batch, v)
		if len(batch) == size {
			if !yield(batch) {
				return
			}
			batch = make([]T, 0, size)
		}
		if ctx.Err() != nil {
			break
		}
	}
	if len(batch) > 0 {
		yield(batch)
	}
}

func batchByTime[T any](ctx context.Context, in iter.Seq[T], size int, maxWait time.Duration, yield func([]T) bool) {
	items := make(chan T)
	stop := make(chan struct{})
	var panicked *async.PanicError
	go func() {
		defer func() {
			if p := recover(); p != nil {
				panicked = &async.PanicError{Value: p, Stack: debug.Stack()}
			}
			close(items) // after panicked is written: the consumer reads it once items is closed
		}()
		for v := range in {
			select {
			case items <- v:
			case <-stop:
				return
			}
		}
	}()
	defer func() {
		close(stop)
		for range items { // wait for the reader to exit
		}
		if panicked != nil {
			panic(panicked)
		}
	}()

	timer := time.NewTimer(maxWait)
	timer.Stop()
	defer timer.Stop()
	var due <-chan time.Time // timer.C while a batch is open
	batch := make([]T, 0, size)
	flush := func() bool {
		b := batch
		batch = make([]T, 0, size)
		timer.Stop()
		due = nil
		return yield(b)
	}
	done := ctx.Done()
	if ctx.Err() != nil {
		return
	}
	for {
		select {
		case v, ok := <-items:
			if !ok {
				if len(batch) > 0 {
					flush()
				}
				return
			}
			if len(batch) == 0 {
				timer.Reset(maxWait)
				due = timer.C
			}
			batch = append(batch, v)
			if len(batch) == size && !flush() {
				return
			}
		case <-due:
			if !flush() {
				return
			}
		case <-done:
			if len(batch) > 0 {
				flush()
			}
			return
		}
	}
}
