package stream

import (
	"context"
	"iter"
	"runtime/debug"
	"sync"
	"sync/atomic"

	"github.com/goasync/async"
)

// Merge returns an iterator that reads every input concurrently, one
// goroutine per input, and yields their items as they are produced,
// interleaved. Each input is read at most one item ahead of the consumer.
// The iterator ends when every input is exhausted or ctx ends. When it ends
// or the loop breaks, Merge stops reading and returns only after every
// goroutine it started has exited.
//
// A panic in an input stops the others and re-panics on the consuming
// goroutine with a *[async.PanicError] carrying the input's stack. Merge
// panics if ctx or any input is nil.
func Merge[T any](ctx context.Context, ins ...iter.Seq[T]) iter.Seq[T] {
	checkArgs("stream.Merge", ctx, false, false)
	for _, in := range ins {
		if in == nil {
			panic("async: stream.Merge with nil input iterator")
		}
	}
	return func(yield func(T) bool) {
		if len(ins) == 0 {
			return
		}
		m := &merger[T]{
			out:    make(chan T),
			stop:   make(chan struct{}),
			exited: make(chan struct{}),
		}
		m.live.Store(int32(len(ins)))
		for _, in := range ins {
			go m.feed(in)
		}
		defer m.shutdown()
		done := ctx.Done()
		for {
			select {
			case v := <-m.out:
				if !yield(v) {
					return
				}
			case <-m.exited:
				return
			case <-m.stop: // an input panicked
				return
			case <-done:
				return
			}
		}
	}
}

// merger is one range over a Merge iterator.
type merger[T any] struct {
	out      chan T
	stop     chan struct{} // closed to stop the feeders
	stopOnce sync.Once
	live     atomic.Int32  // feeders running
	exited   chan struct{} // closed when live drops to zero
	panicked *async.PanicError
	panicMu  sync.Mutex
}

func (m *merger[T]) feed(in iter.Seq[T]) {
	defer func() {
		if p := recover(); p != nil {
			m.panicMu.Lock()
			if m.panicked == nil {
				m.panicked = &async.PanicError{Value: p, Stack: debug.Stack()}
			}
			m.panicMu.Unlock()
			m.halt()
		}
		if m.live.Add(-1) == 0 {
			close(m.exited)
		}
	}()
	for v := range in {
		select {
		case m.out <- v:
		case <-m.stop:
			return
		}
	}
}

func (m *merger[T]) halt() { m.stopOnce.Do(func() { close(m.stop) }) }

// shutdown stops the feeders, waits for them, and re-panics with an input's
// panic. Consumer's goroutine only.
func (m *merger[T]) shutdown() {
	m.halt()
	<-m.exited
	if m.panicked != nil {
		panic(m.panicked)
	}
}
