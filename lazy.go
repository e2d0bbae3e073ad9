package async

import (
	"context"
	"sync"
	"sync/atomic"
)

// A Lazy is a value computed on first use and shared by every caller, like
// sync.OnceValues but context-aware and retrying failures. [Lazy.Get] runs
// the function at most once at a time (singleflight): concurrent Gets share
// one run. A successful result is kept for good; a failure (an error, or a
// panic as a [*PanicError]) is returned to the Gets sharing that run and
// forgotten, so the next Get runs the function again.
//
// A Lazy comes from [NewLazy]; it must not be copied.
type Lazy[T any] struct {
	fn  func(context.Context) (T, error)
	ok  atomic.Bool // val is final
	val T
	mu  sync.Mutex
	run *lazyRun[T] // the run in flight, or nil
}

// lazyRun is one run of a Lazy's function and the Gets waiting for it.
type lazyRun[T any] struct {
	f         *Future[T]
	waiters   int  // Gets waiting; guarded by Lazy.mu
	abandoned bool // every Get left and the run was cancelled; guarded by Lazy.mu
}

// NewLazy returns a Lazy whose value fn computes. NewLazy panics if fn is
// nil.
func NewLazy[T any](fn func(ctx context.Context) (T, error)) *Lazy[T] {
	if fn == nil {
		panic("async: NewLazy with nil function")
	}
	return &Lazy[T]{fn: fn}
}

// Get returns the value, computing it if needed. If the value is known it
// returns at once. Otherwise it joins the run in flight, or starts one in a
// new goroutine, and blocks until that run finishes or ctx ends, whichever
// is first.
//
// The run's context carries the values of the ctx of the Get that started it
// but not its cancellation or deadline: one caller giving up does not fail
// the others. If ctx ends first, Get returns an error matching ctx.Err() and
// its cause and the run goes on for the remaining Gets; when no Get is left
// waiting, the run's context is cancelled (the next Get waits for that run
// to stop and then starts a fresh one). Get panics if ctx is nil.
func (l *Lazy[T]) Get(ctx context.Context) (T, error) {
	if l.ok.Load() {
		return l.val, nil
	}
	checkCtx("Lazy.Get", ctx)
	var zero T
	if ctx.Err() != nil {
		return zero, ctxError(ctx)
	}
	for {
		l.mu.Lock()
		if l.ok.Load() {
			l.mu.Unlock()
			return l.val, nil
		}
		r := l.run
		if r == nil {
			r = l.start(ctx)
		}
		r.waiters++
		l.mu.Unlock()

		rec := blockBegin(ctx, "Lazy.Get", "", 0)
		err := r.f.t.wait(ctx)
		blockEnd(rec)

		l.mu.Lock()
		r.waiters--
		if err != nil { // ctx ended first
			if r.waiters == 0 && r.f.t.state.Load()&stSettled == 0 {
				r.abandoned = true
				r.f.t.cancel(ctxCanceled, nil)
			}
			l.mu.Unlock()
			return zero, err
		}
		if l.run == r {
			l.run = nil // a run that panicked did not clear itself
		}
		retry := r.abandoned
		l.mu.Unlock()
		if r.f.t.err == nil {
			return r.f.val, nil
		}
		if !retry {
			return zero, r.f.t.err
		}
		// The run was cancelled because every Get had left before this one
		// joined it; its failure is not this Get's.
	}
}

// start begins a run. l.mu is held.
func (l *Lazy[T]) start(ctx context.Context) *lazyRun[T] {
	r := &lazyRun[T]{}
	l.run = r
	r.f = spawn(context.WithoutCancel(ctx), func(ctx context.Context) (T, error) {
		v, err := l.fn(ctx)
		l.mu.Lock()
		if err == nil {
			l.val = v
			l.ok.Store(true)
		}
		if l.run == r {
			l.run = nil
		}
		l.mu.Unlock()
		return v, err
	}, nil)
	// The Gets report the outcome; a run every Get left is not an
	// unobserved failure.
	r.f.t.observe()
	return r
}
