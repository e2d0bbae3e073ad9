package stream

import (
	"context"
	"iter"
)

// FromChan returns an iterator over the values received from ch. It yields
// each value as it arrives and stops when ch is closed or ctx ends (an ended
// ctx wins over values still waiting in ch), or when the loop breaks; it
// never closes ch. FromChan panics if ctx or ch is nil.
func FromChan[T any](ctx context.Context, ch <-chan T) iter.Seq[T] {
	checkArgs("stream.FromChan", ctx, false, false)
	if ch == nil {
		panic("async: stream.FromChan with nil channel")
	}
	return func(yield func(T) bool) {
		done := ctx.Done()
		for {
			if ctx.Err() != nil {
				return
			}
			select {
			case v, ok := <-ch:
				if !ok || !yield(v) {
					return
				}
			case <-done:
				return
			}
		}
	}
}
