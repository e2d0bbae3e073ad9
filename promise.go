package async

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
