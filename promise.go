package async

import (
	"sync/atomic"
	"time"

	"github.com/goasync/async/internal/option"
)

// A Promise is the writing side of a [Future]: whoever holds it settles the
// future once, from any goroutine. It is how callback-based or event-driven
// code hands results to code that awaits.
type Promise[T any] struct {
	f *Future[T]
}

// NewPromise returns a promise whose future is pending. [Name] names the
// future's task for errors, [Tasks], [Dump] and the console, where a
// pending promise is listed like a task not yet started (see
// [Promise.Awaits]).
func NewPromise[T any](opts ...NameOption) *Promise[T] {
	f := new(Future[T])
	if len(opts) > 0 {
		if c := option.Parse("NewPromise", opts); c.Name != "" {
			f.t.ext().name = c.Name
		}
	}
	if debugMode.Load() {
		f.t.ext().created = callers(2) // from NewPromise's caller
	}
	f.t.startPromise(0)
	return &Promise[T]{f: f}
}

// Awaits records what the promise's future is waiting on, such as
// "remote worker w-3" for work another process does, for [Tasks], [Dump]
// and the console: until the next Awaits or until the future settles, its
// task is listed as blocked, with [TaskInfo.Waiting] set to what (and
// [TaskInfo.Blocked] counting from this call). An empty what lists it as
// pending again. With debug mode off, Awaits does nothing.
func (p *Promise[T]) Awaits(what string) {
	p.check("Awaits")
	if reg := debugRegistry(); reg != nil {
		reg.note(&p.f.t, what, time.Now())
	}
}

// Future returns the future this promise settles.
func (p *Promise[T]) Future() *Future[T] {
	p.check("Future")
	return p.f
}

// Resolve settles the future with v. It reports false, and changes nothing,
// if the future was already settled (the first Resolve or Reject wins).
func (p *Promise[T]) Resolve(v T) bool {
	p.check("Resolve")
	return p.f.settle(v, nil)
}

// Reject settles the future with err. It reports false, and changes nothing,
// if the future was already settled. Reject panics if err is nil.
func (p *Promise[T]) Reject(err error) bool {
	p.check("Reject")
	if err == nil {
		panic("async: Promise.Reject(nil)")
	}
	var zero T
	return p.f.settle(zero, err)
}

func (p *Promise[T]) check(op string) {
	if p == nil || p.f == nil {
		panic("async: Promise." + op + " on a nil or zero Promise (use NewPromise)")
	}
}

// AfterSettle arranges for fn to run once the future settles, whoever
// settles it: Resolve, Reject, or the future's Cancel. It is how the
// producer behind a promise learns that a consumer canceled, without a
// goroutine that waits on Done. fn runs in the goroutine that settles the
// future, before any Await blocked on it returns, so it must not block (an
// Await that begins while fn runs may return first); if the
// future has settled already, fn runs at once in the caller's goroutine.
// Registering fn does not count as observing a failure.
//
// The returned stop unregisters fn; it reports whether it stopped fn from
// running. AfterSettle panics if fn is nil.
func (p *Promise[T]) AfterSettle(fn func()) (stop func() bool) {
	p.check("AfterSettle")
	if fn == nil {
		panic("async: Promise.AfterSettle(nil)")
	}
	h := &settleHook{fn: fn}
	t := &p.f.t
	if !t.subscribe(h) {
		h.notify(t)
		return func() bool { return false }
	}
	return func() bool {
		if !h.ran.CompareAndSwap(false, true) {
			return false
		}
		t.unsubscribe(h)
		return true
	}
}

// settleHook is a waiter that calls a function once.
type settleHook struct {
	fn  func()
	ran atomic.Bool
}

func (h *settleHook) notify(*task) {
	if h.ran.CompareAndSwap(false, true) {
		h.fn()
	}
}
