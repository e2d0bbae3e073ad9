// Package stream is a stub of github.com/goasync/async/stream for the
// analyzers' tests.
package stream

import (
	"context"
	"iter"
	"time"

	"github.com/goasync/async"
)

func Map[T, U any](ctx context.Context, in iter.Seq[T], fn func(context.Context, T) (U, error), opts ...async.Option) iter.Seq2[U, error] {
	return func(func(U, error) bool) {}
}

func ForEach[T any](ctx context.Context, in iter.Seq[T], fn func(context.Context, T) error, opts ...async.Option) error {
	return nil
}

func Merge[T any](ctx context.Context, ins ...iter.Seq[T]) iter.Seq[T] { return func(func(T) bool) {} }

func Batch[T any](ctx context.Context, in iter.Seq[T], size int, maxWait time.Duration) iter.Seq[[]T] {
	return func(func([]T) bool) {}
}

func FromChan[T any](ctx context.Context, ch <-chan T) iter.Seq[T] { return func(func(T) bool) {} }
