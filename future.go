package async

import (
	"context"
	"sync/atomic"
	"unsafe"

	"github.com/goasync/async/internal/option"
)

// A Future is the eventual result of a task: a value of type T or an error.
// It settles exactly once and can then be awaited any number of times, from
// any goroutine. Futures come from [Go], [Func], [Then], [Catch], [Resolved],
// [Rejected] and [Promise.Future]; the zero Future is not usable.
type Future[T any] struct {
	t   task // first field: the Future's address is the task's, for cleanups
	val T
}

// Result is a settled outcome: a value, or an error.
type Result[T any] struct {
	Value T
	Err   error
}

// Go starts fn in a new goroutine and returns a future for its result.
//
// fn runs with a context derived from ctx that also ends when the future is
// canceled, when its [Timeout] passes, or when fn returns. A panic in fn, or a
// call to runtime.Goexit, settles the future with an error instead of
// crashing the process.
//
// With [Attempts], [Backoff] or [RetryIf], the task calls fn as [Retry]
// does, and [Timeout] then bounds each attempt rather than the whole task.
// Go panics if ctx or fn is nil.
func Go[T any](ctx context.Context, fn func(context.Context) (T, error), opts ...TaskOption) *Future[T] {
	if ctx == nil {
		panic("async: Go with nil Context")
	}
	if fn == nil {
		panic("async: Go with nil function")
	}
	var c *config
	if len(opts) > 0 {
		parsed := option.Parse("Go", opts)
		c = &parsed
		if c.Retrying() {
			fn = retrying(fn, retryTask(c))
		}
	}
	return spawn(ctx, fn, c)
}

// retryTask takes the per-call options out of a task's config (the retry
// loop runs inside the task, with the Timeout per attempt) and returns them.
func retryTask(c *config) *callPolicy {
	p := newCallPolicy(c, false)
	c.Timeout = 0
	return p
}

// retrying returns fn retried under p.
func retrying[T any](fn func(context.Context) (T, error), p *callPolicy) func(context.Context) (T, error) {
	return func(ctx context.Context) (T, error) {
		var v T
		err := p.do(ctx, func(ctx context.Context) error {
			var err error
			v, err = fn(ctx)
			return err
		})
		return v, err
	}
}

func spawn[T any](ctx context.Context, fn func(context.Context) (T, error), c *config) *Future[T] {
	if loopsRunning.Load() != 0 {
		if l := loopOf(ctx); l != nil {
			return spawnLoop(l, ctx, fn, c)
		}
	}
	x := new(goFuture[T])
	x.f.t.start(ctx, c, nil, 0)
	goTask(&x.f.t, &x.s, pendingFn[T](fn))
	return &x.f
}

// goFuture is the allocation of a task started by Go: its future, and what
// starts its goroutine.
type goFuture[T any] struct {
	f Future[T]
	s goStart
}

// A starter is what a task started by Go or by an async function runs,
// kept in the task's err field from spawn until the task's goroutine takes
// it. So the goroutine starts from a plain function of one pointer (a
// 16-byte closure; one of the future and the function, in generic code,
// would be 32), and the future needs no field of its own for it. Nothing
// reads err before the task settles, and a func or a pointer is stored in an
// interface without an allocation.
type starter interface {
	error
	start(t *task)
}

// pendingFn is a Go task's function, as a starter.
type pendingFn[T any] func(context.Context) (T, error)

func (pendingFn[T]) Error() string { return errNotStarted }

// errNotStarted is what a starter says if it is ever read as an error.
const errNotStarted = "async: task not started"

// start runs the function on t, the task of a Future[T].
func (fn pendingFn[T]) start(t *task) {
	(*Future[T])(unsafe.Pointer(t)).run(fn) // t is the Future's first field
}

// run calls fn on the current goroutine and settles f with its outcome,
// turning a panic or runtime.Goexit into an error.
func (f *Future[T]) run(fn func(context.Context) (T, error)) {
	returned := false
	h := hooks.Load()
	defer func() {
		if !returned {
			var err error
			if r := recover(); r != nil {
				err = newPanicError(r, &f.t)
			} else {
				err = f.t.outcome(ErrGoexit)
			}
			if h != nil {
				h.h.taskReturned(&f.t)
			}
			f.settle(*new(T), err)
		}
	}()
	if h != nil {
		h.h.taskRunning(&f.t)
	}
	v, err := fn(&f.t)
	returned = true
	if h != nil {
		h.h.taskReturned(&f.t)
	}
	if err != nil { // outcome is no small function: most tasks skip the call
		err = f.t.outcome(err)
	}
	f.settleReturned(v, err)
}

// settleReturned settles f with what its function returned, from the task's
// own goroutine, its only settler. Most tasks succeed with nobody waiting
// yet, no extension and no hooks: they settle with one compare-and-swap of
// the state, without t.mu, and their context ends with it (stReturned).
// Whoever adds a waiter, a done channel or the extension sets stWatched
// under t.mu first (see watch), so the swap fails, and the task settles
// under t.mu, which sees what was added. The value is written before the
// swap, which publishes it; nobody reads it before stSettled.
func (f *Future[T]) settleReturned(v T, err error) {
	t := &f.t
	if err == nil && hooks.Load() == nil && t.endsOnReturn() {
		f.val = v
		for {
			s := t.state.Load()
			if s&(stSettled|stWatched|stLoop) != 0 {
				break
			}
			if h := settleHookSwapping.Load(); h != nil {
				(*h)(t) // tests: pause between the look and the swap
			}
			if t.state.CompareAndSwap(s, s|stSettled|stReturned) {
				return
			}
		}
	}
	f.settle(v, err)
}

// settle records the outcome if f is still pending and reports whether it did.
func (f *Future[T]) settle(v T, err error) bool {
	t := &f.t
	t.mu.Lock()
	if t.state.Load()&stSettled != 0 {
		t.mu.Unlock()
		return false
	}
	f.val = v
	if err != nil { // t.err is nil until now: spare a pointer write (and its barrier)
		t.err = err
	}
	t.finish() // unlocks
	return true
}

// settleHookSwapping, for tests, runs in settleReturned between its look at
// the state and its compare-and-swap; nil in production.
var settleHookSwapping atomic.Pointer[func(t *task)]

// Func turns fn into an async function: each call starts fn(ctx, a) with [Go]
// and returns its future. A call makes one allocation: a is kept with the
// future, not captured in a closure. Options are those of [Go], checked now,
// not at each call; Func panics if fn is nil.
func Func[A, T any](fn func(context.Context, A) (T, error), opts ...TaskOption) func(context.Context, A) *Future[T] {
	if fn == nil {
		panic("async: Func with nil function")
	}
	var c *config
	if len(opts) > 0 {
		parsed := option.Parse("Func", opts)
		c = &parsed
		if c.Retrying() {
			p, call := retryTask(c), fn
			fn = func(ctx context.Context, a A) (T, error) {
				var v T
				err := p.do(ctx, func(ctx context.Context) error {
					var err error
					v, err = call(ctx, a)
					return err
				})
				return v, err
			}
		}
	}
	return func(ctx context.Context, a A) *Future[T] {
		if ctx == nil {
			panic("async: async function called with nil Context")
		}
		return spawnCall(ctx, fn, a, c)
	}
}

// spawnCall is spawn for fn(ctx, a), with a kept in the future's allocation.
func spawnCall[A, T any](ctx context.Context, fn func(context.Context, A) (T, error), a A, c *config) *Future[T] {
	if loopsRunning.Load() != 0 {
		if l := loopOf(ctx); l != nil {
			b := &loopCall[A, T]{a: a}
			b.lt.l, b.lt.body = l, runCall[A, T](fn)
			b.f.t.startLoop(ctx, c, &b.lt)
			l.admit(&b.lt)
			return &b.f
		}
	}
	x := &goCall[A, T]{fn: fn, a: a}
	x.f.t.start(ctx, c, nil, 0)
	goTask(&x.f.t, &x.s, x)
	return &x.f
}

// goCall is a call of an async function made by Func outside a loop: its
// future, the function and its argument, in one allocation. It is its own
// starter.
type goCall[A, T any] struct {
	f  Future[T] // first field: the task's address is the call's
	s  goStart
	fn func(context.Context, A) (T, error)
	a  A
}

func (*goCall[A, T]) Error() string { return errNotStarted }

func (x *goCall[A, T]) start(*task) {
	fn, a := x.fn, x.a
	x.fn, x.a = nil, *new(A) // the future does not keep them alive
	x.f.run(func(ctx context.Context) (T, error) { return fn(ctx, a) })
}

// Await blocks until f settles or ctx ends, whichever is first. If f settles,
// Await returns its value and error. If ctx ends first, Await returns an error
// matching ctx.Err() (and its cause) and leaves f untouched: the task keeps
// running and f can be awaited again. Awaiting a settled future does not block
// and does not allocate. An Await that has to wait yields the processor once
// first (as runtime.Gosched does), so that a task started just before, which
// has usually not run yet, can run and settle without the awaiter parking.
func (f *Future[T]) Await(ctx context.Context) (T, error) {
	if f == nil {
		panic("async: Await on nil *Future")
	}
	s := f.t.state.Load()
	if s&stSettled == 0 {
		if s == 0 {
			f.t.mustBeMade("Await")
		}
		if ctx == nil {
			panic("async: Await with nil Context")
		}
		if err := f.t.wait(ctx); err != nil {
			var zero T
			return zero, err
		}
		s = f.t.state.Load()
	}
	if s&stFailed != 0 {
		f.t.observe()
	}
	return f.val, f.t.err
}

// Done returns a channel that is closed when f settles, for use in select.
func (f *Future[T]) Done() <-chan struct{} {
	if f == nil {
		panic("async: Done on nil *Future")
	}
	f.t.mustBeMade("Done")
	return f.t.doneChan()
}

// Peek returns f's outcome without blocking; done is false while f is pending.
func (f *Future[T]) Peek() (r Result[T], done bool) {
	if f == nil {
		panic("async: Peek on nil *Future")
	}
	s := f.t.state.Load()
	if s&stSettled == 0 {
		f.t.mustBeMade("Peek")
		return Result[T]{}, false
	}
	if s&stFailed != 0 {
		f.t.observe()
	}
	return Result[T]{Value: f.val, Err: f.t.err}, true
}

// Cancel asks f's task to stop by ending its context with cause [ErrCanceled].
// A task that returns because of it settles with an error matching both
// ErrCanceled and context.Canceled. A future from a [Promise] that is still
// pending is rejected with ErrCanceled. Cancel on a settled future does
// nothing. Cancel does not wait; await the future to know when the task
// has stopped.
func (f *Future[T]) Cancel() {
	if f == nil {
		panic("async: Cancel on nil *Future")
	}
	s := f.t.state.Load()
	f.t.mustBeMade("Cancel")
	if s&stSettled != 0 {
		return
	}
	if s&stPromise != 0 {
		var zero T
		f.settle(zero, ErrCanceled)
		return
	}
	f.t.cancel(ctxCanceled, nil)
}

// Resolved returns a future already settled with v.
func Resolved[T any](v T) *Future[T] {
	f := &Future[T]{val: v}
	f.t.state.Store(stInit | stSettled)
	return f
}

// Rejected returns a future already settled with err. If nobody observes it,
// it is reported as an unobserved failure. Rejected panics if err is nil.
func Rejected[T any](err error) *Future[T] {
	if err == nil {
		panic("async: Rejected(nil)")
	}
	f := new(Future[T])
	f.t.startPromise(0)
	f.settle(*new(T), err)
	return f
}
