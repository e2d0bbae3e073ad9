package stream

import (
	"context"
	"fmt"
	"iter"
	"runtime/debug"
	"sync"
	"time"

	"github.com/goasync/async"
	"github.com/goasync/async/internal/ctxerr"
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
// goroutine of Batch's own, at most one batch ahead of the consumer (the
// batch being filled, and one full batch waiting); breaking out of the loop
// returns only after that goroutine has exited, and a panic in in re-panics
// on the consuming goroutine with a *[async.PanicError], after the items
// read before it have been yielded.
//
// To batch the results of [Map], which may fail, use [BatchResults].
//
// Batch panics if ctx or in is nil, size < 1, or maxWait < 0.
func Batch[T any](ctx context.Context, in iter.Seq[T], size int, maxWait time.Duration) iter.Seq[[]T] {
	checkBatch("stream.Batch", ctx, in == nil, size, maxWait)
	seq := func(yield func(T, error) bool) {
		for v := range in {
			if !yield(v, nil) {
				return
			}
		}
	}
	return func(yield func([]T) bool) {
		batch(ctx, seq, size, maxWait, false, func(b []T, _ error) bool { return yield(b) })
	}
}

// BatchResults is [Batch] for a stream of results that may fail, such as
// [Map]'s, so that a Map → batch → sink pipeline is one range statement:
//
//	for rows, err := range stream.BatchResults(ctx, stream.Map(ctx, lines, parse, async.Limit(4)), 500, 50*time.Millisecond) {
//		if err != nil {
//			return err // the first failure, from any stage
//		}
//		if err := save(ctx, rows); err != nil {
//			return err // breaking out stops every stage
//		}
//	}
//
// It yields (batch, nil) as Batch yields batches. The first error read
// from in, the end of ctx (an error matching ctx.Err() and its cause), or a
// panic in in (a *[async.PanicError]) is yielded as (nil, err) once, and
// the stream stops: the partial batch held at that moment is dropped, so no
// batch reaches the consumer after a failure, and in is not read further
// (which stops Map and cancels its calls in flight). A full batch completed
// before the failure was read is yielded before it; on ctx's end nothing
// held is. Reading ahead and breaking out are as in Batch.
//
// BatchResults panics if ctx or in is nil, size < 1, or maxWait < 0.
func BatchResults[T any](ctx context.Context, in iter.Seq2[T, error], size int, maxWait time.Duration) iter.Seq2[[]T, error] {
	checkBatch("stream.BatchResults", ctx, in == nil, size, maxWait)
	return func(yield func([]T, error) bool) {
		batch(ctx, in, size, maxWait, true, yield)
	}
}

func checkBatch(call string, ctx context.Context, nilIn bool, size int, maxWait time.Duration) {
	checkArgs(call, ctx, nilIn, false)
	if size < 1 {
		panic(fmt.Sprintf("async: %s size %d: must be at least 1", call, size))
	}
	if maxWait < 0 {
		panic(fmt.Sprintf("async: %s maxWait %v: must not be negative", call, maxWait))
	}
}

// batch runs one range over a batching stage. With failing set (BatchResults)
// an error, ctx's end or a panic in in is yielded as an error and drops what
// is held; otherwise (Batch) in yields no errors, ctx's end yields what is
// held, and a panic in in re-panics.
func batch[T any](ctx context.Context, in iter.Seq2[T, error], size int, maxWait time.Duration, failing bool, yield func([]T, error) bool) {
	if ctx.Err() != nil {
		if failing {
			yield(nil, ctxerr.Of(ctx))
		}
		return
	}
	if maxWait == 0 {
		batchBySize(ctx, in, size, failing, yield)
		return
	}
	b := &batcher[T]{size: size, cur: make([]T, 0, size), wake: make(chan struct{}, 1), exited: make(chan struct{})}
	b.room.L = &b.mu
	go b.read(in)
	defer func() {
		b.mu.Lock()
		b.stopped = true
		b.room.Signal()
		b.mu.Unlock()
		<-b.exited
		if b.panicked != nil && !failing {
			panic(b.panicked)
		}
	}()
	b.consume(ctx, maxWait, failing, yield)
}

func batchBySize[T any](ctx context.Context, in iter.Seq2[T, error], size int, failing bool, yield func([]T, error) bool) {
	if failing {
		// A panic in in is a failure to yield; one in the consumer's loop
		// body (inside yield) is not ours to catch.
		inYield := false
		consumer := yield
		yield = func(b []T, err error) bool {
			inYield = true
			ok := consumer(b, err)
			inYield = false
			return ok
		}
		defer func() {
			if inYield {
				return
			}
			if p := recover(); p != nil {
				consumer(nil, &async.PanicError{Value: p, Stack: debug.Stack()})
			}
		}()
	}
	b := make([]T, 0, size)
	for v, err := range in {
		if err != nil {
			yield(nil, err)
			return
		}
		b = append(b, v)
		if len(b) == size {
			if !yield(b, nil) {
				return
			}
			b = make([]T, 0, size)
		}
		if ctx.Err() != nil {
			if failing {
				yield(nil, ctxerr.Of(ctx))
				return
			}
			break
		}
	}
	if len(b) > 0 {
		yield(b, nil)
	}
}

// batcher is a time-bounded batching stage: a reader goroutine appends items
// to the batch being filled under mu and hands over full batches, so the
// consumer is woken once or twice per batch, not per item. The consumer cuts
// a partial batch when maxWait has passed since its first item.
type batcher[T any] struct {
	size int

	mu       sync.Mutex
	room     sync.Cond // the reader waits here while a full batch is pending
	cur      []T       // the batch being filled
	firstAt  time.Time // when cur got its first item
	full     []T       // a full batch the consumer has not taken, or nil
	ended    bool      // in is exhausted, failed or panicked
	err      error     // in's error (BatchResults)
	panicked *async.PanicError
	stopped  bool // the consumer is gone: the reader stops
	waiting  bool // the consumer waits on wake

	wake   chan struct{} // capacity 1: the reader pokes the waiting consumer
	exited chan struct{} // closed when the reader has returned
}

// poke wakes the consumer if it waits. mu is held.
func (b *batcher[T]) poke() {
	if b.waiting {
		b.waiting = false
		select {
		case b.wake <- struct{}{}:
		default:
		}
	}
}

func (b *batcher[T]) read(in iter.Seq2[T, error]) {
	defer close(b.exited)
	defer func() {
		p := recover()
		b.mu.Lock()
		if p != nil {
			b.panicked = &async.PanicError{Value: p, Stack: debug.Stack()}
		}
		b.ended = true
		b.poke()
		b.mu.Unlock()
	}()
	for v, err := range in {
		b.mu.Lock()
		if b.stopped {
			b.mu.Unlock()
			return
		}
		if err != nil {
			b.err = err
			b.mu.Unlock()
			return
		}
		b.cur = append(b.cur, v)
		if len(b.cur) == 1 {
			b.firstAt = time.Now()
			b.poke() // the consumer arms its timer
		}
		if len(b.cur) == b.size {
			for b.full != nil && !b.stopped {
				b.room.Wait()
			}
			if b.stopped {
				b.mu.Unlock()
				return
			}
			b.full, b.cur = b.cur, make([]T, 0, b.size)
			b.poke()
		}
		b.mu.Unlock()
	}
}

func (b *batcher[T]) consume(ctx context.Context, maxWait time.Duration, failing bool, yield func([]T, error) bool) {
	timer := time.NewTimer(maxWait)
	timer.Stop()
	defer timer.Stop()
	var armed time.Time // the first-item time the timer is armed for
	done := ctx.Done()
	for {
		b.mu.Lock()
		if b.full != nil { // a full batch made before any failure was read
			out := b.full
			b.full = nil
			b.room.Signal()
			b.mu.Unlock()
			if !yield(out, nil) {
				return
			}
			continue
		}
		if b.ended {
			out, err, panicked := b.cur, b.err, b.panicked
			b.cur = nil
			b.mu.Unlock()
			switch {
			case failing && err != nil:
				yield(nil, err)
			case failing && panicked != nil:
				yield(nil, panicked)
			case len(out) > 0:
				yield(out, nil)
			}
			return
		}
		var due time.Duration
		if len(b.cur) > 0 {
			if due = maxWait - time.Since(b.firstAt); due <= 0 {
				out := b.cur
				b.cur = make([]T, 0, b.size)
				b.mu.Unlock()
				if !yield(out, nil) {
					return
				}
				continue
			}
			if !armed.Equal(b.firstAt) {
				armed = b.firstAt
				timer.Reset(due)
			}
		}
		b.waiting = true
		b.mu.Unlock()
		select {
		case <-b.wake:
		case <-timer.C:
			armed = time.Time{}
		case <-done:
			b.mu.Lock()
			b.stopped = true
			full, cur := b.full, b.cur
			b.full, b.cur = nil, nil
			b.room.Signal()
			b.mu.Unlock()
			if failing {
				yield(nil, ctxerr.Of(ctx))
				return
			}
			if full != nil && !yield(full, nil) {
				return
			}
			if len(cur) > 0 {
				yield(cur, nil)
			}
			return
		}
		b.mu.Lock()
		b.waiting = false
		b.mu.Unlock()
	}
}
