package async

import "sync/atomic"

// A Promise is the writing side of a [Future]: whoever holds it settles the
// future once, from any goroutine. It is how callback-based or event-driven
// code hands results to code that awaits.
type Promise[T any] struct {
	f *Future[T]
}

// NewPromise returns a promise whose future is pending.
func NewPromise[T any]() *Promise[T] {
	f := newLatched[T]()
	f.t.startPromise(stLatch)
	return &Promise[T]{f: f}
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
// future, before Await returns to anyone, so it must not block; if the
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
