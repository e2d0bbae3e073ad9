// Package async is a stub of github.com/goasync/async for the analyzers'
// tests: the API surface asyncvet looks for, without behaviour, so the
// tests do not depend on the state of the real package.
package async

import (
	"context"
	"iter"
	"time"
)

type Option struct{}

func Name(string) Option           { return Option{} }
func Timeout(time.Duration) Option { return Option{} }
func Limit(int) Option             { return Option{} }

type Future[T any] struct{ val T }

type Result[T any] struct {
	Value T
	Err   error
}

func Go[T any](ctx context.Context, fn func(context.Context) (T, error), opts ...Option) *Future[T] {
	return new(Future[T])
}

func Func[A, T any](fn func(context.Context, A) (T, error), opts ...Option) func(context.Context, A) *Future[T] {
	return func(context.Context, A) *Future[T] { return new(Future[T]) }
}

func (f *Future[T]) Await(ctx context.Context) (T, error) { return f.val, nil }
func (f *Future[T]) Done() <-chan struct{}                { return nil }
func (f *Future[T]) Peek() (Result[T], bool)              { return Result[T]{}, false }
func (f *Future[T]) Cancel()                              {}

func Then[T, U any](ctx context.Context, f *Future[T], fn func(context.Context, T) (U, error)) *Future[U] {
	return new(Future[U])
}

func Catch[T any](ctx context.Context, f *Future[T], fn func(context.Context, error) (T, error)) *Future[T] {
	return new(Future[T])
}

func Resolved[T any](v T) *Future[T]       { return new(Future[T]) }
func Rejected[T any](err error) *Future[T] { return new(Future[T]) }

type Promise[T any] struct{ f Future[T] }

func NewPromise[T any]() *Promise[T]        { return new(Promise[T]) }
func (p *Promise[T]) Future() *Future[T]    { return &p.f }
func (p *Promise[T]) Resolve(v T) bool      { return true }
func (p *Promise[T]) Reject(err error) bool { return true }

func All[T any](ctx context.Context, fs ...*Future[T]) ([]T, error)                      { return nil, nil }
func AllSettled[T any](ctx context.Context, fs ...*Future[T]) ([]Result[T], error)       { return nil, nil }
func Any[T any](ctx context.Context, fs ...*Future[T]) (T, error)                        { var v T; return v, nil }
func Race[T any](ctx context.Context, fs ...*Future[T]) (T, error)                       { var v T; return v, nil }
func AsCompleted[T any](ctx context.Context, fs ...*Future[T]) iter.Seq2[int, Result[T]] { return nil }
func All2[A, B any](ctx context.Context, a *Future[A], b *Future[B]) (A, B, error) {
	var x A
	var y B
	return x, y, nil
}

func Sleep(ctx context.Context, d time.Duration) error { return nil }

type Scope struct{}

func NewScope(ctx context.Context, opts ...Option) *Scope                     { return new(Scope) }
func Run(ctx context.Context, fn func(*Scope) error, opts ...Option) error    { return nil }
func (s *Scope) Go(fn func(context.Context) error)                            {}
func (s *Scope) TryGo(fn func(context.Context) error) bool                    { return true }
func (s *Scope) Start(fn func(ctx context.Context, ready func()) error) error { return nil }
func (s *Scope) Context() context.Context                                     { return nil }
func (s *Scope) Cancel()                                                      {}
func (s *Scope) Wait() error                                                  { return nil }

func Spawn[T any](s *Scope, fn func(context.Context) (T, error)) *Future[T] { return new(Future[T]) }

type Pool struct{}

func NewPool(workers int, opts ...Option) *Pool                              { return new(Pool) }
func (p *Pool) Go(ctx context.Context, fn func(context.Context) error) error { return nil }
func (p *Pool) Close() error                                                 { return nil }

func Submit[T any](ctx context.Context, p *Pool, fn func(context.Context) (T, error)) *Future[T] {
	return new(Future[T])
}

func Map[T, U any](ctx context.Context, in []T, fn func(context.Context, T) (U, error), opts ...Option) ([]U, error) {
	return nil, nil
}

func ForEach[T any](ctx context.Context, in []T, fn func(context.Context, T) error, opts ...Option) error {
	return nil
}

type Queue[T any] struct{ v T }

func NewQueue[T any](capacity int) *Queue[T]            { return new(Queue[T]) }
func (q *Queue[T]) Put(ctx context.Context, v T) error  { return nil }
func (q *Queue[T]) Get(ctx context.Context) (T, error)  { return q.v, nil }
func (q *Queue[T]) All(ctx context.Context) iter.Seq[T] { return nil }
func (q *Queue[T]) TryGet() (T, bool)                   { return q.v, false }

type Event struct{}

func (e *Event) Set()                           {}
func (e *Event) Wait(ctx context.Context) error { return nil }

// The event loop.

func RunLoop(ctx context.Context, main func(context.Context) error, opts ...Option) error { return nil }

func Offload[T any](ctx context.Context, fn func(context.Context) (T, error)) *Future[T] {
	return new(Future[T])
}

func Yield(ctx context.Context) error { return nil }
func InLoop(ctx context.Context) bool { return false }
