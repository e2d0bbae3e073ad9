package stream

import (
	"context"
	"iter"
	"runtime/debug"

	"github.com/goasync/async"
)

// source pulls items from an input iterator one at a time, from whichever
// goroutine asks (one at a time), and records a panic in the iterator instead
// of propagating it, with the iterator's own stack.
type source[T any] struct {
	next     func() (T, bool)
	stop     func()
	panicked *async.PanicError // set before next reports the end
}

func pull[T any](in iter.Seq[T]) *source[T] {
	s := &source[T]{}
	s.next, s.stop = iter.Pull(func(yield func(T) bool) {
		defer func() {
			// Recovered here, on the iterator's coroutine, so the stack is
			// the iterator's; next then reports the end of the input.
			if p := recover(); p != nil {
				s.panicked = &async.PanicError{Value: p, Stack: debug.Stack()}
			}
		}()
		in(yield)
	})
	return s
}

// checkArgs panics, naming call, on a nil context, input or function.
func checkArgs(call string, ctx context.Context, nilIn, nilFn bool) {
	switch {
	case ctx == nil:
		panic("async: " + call + " with nil Context")
	case nilIn:
		panic("async: " + call + " with nil input iterator")
	case nilFn:
		panic("async: " + call + " with nil function")
	}
}
