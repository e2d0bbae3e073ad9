package async

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"

	"github.com/goasync/async/internal/option"
	"github.com/goasync/async/internal/progress"
)

// A Scope runs child functions that cannot outlive it: [Scope.Wait] returns
// only after every child has returned, including children started by
// children. A child that fails, by returning an error or by panicking,
// cancels the scope's context with its failure as the cause, so its siblings
// stop; with [Supervise] failures are collected and the siblings run on.
// Wait reports every failure, never only the first.
//
// Make a Scope with [NewScope] (or use [Run]); the zero Scope is not usable,
// and a Scope must not be copied. Its methods may be called from any
// goroutine, including from its children.
type Scope struct {
	_ noCopy

	ctx       context.Context // what children receive
	cancel    context.CancelCauseFunc
	done      <-chan struct{} // ctx.Done(), cached
	parent    context.Context
	name      string
	cfg       *config // for spawned futures: the scope's name; nil when unnamed
	supervise bool

	// state counts live children in units of 2; bit 0 is set once Wait has
	// begun. Once it is exactly scopeWaiting, no child can be added.
	state atomic.Uint64
	idle  chan struct{} // closed by the last child to return after Wait began

	mu       sync.Mutex
	errs     []error       // real failures, in the order they were recorded
	lost     *lostFailures // reports errs if the scope is collected without Wait
	created  []uintptr     // debug mode: where the scope was made
	canceled bool          // Cancel ended the context (not the parent, not a failure)
	// fallout is set once a child's error was left out as cancellation
	// fallout, or a child was dropped unstarted: the work did not complete.
	fallout atomic.Bool

	lim  *limiter           // nil without Limit
	prog *progress.Reporter // nil without Progress

	// In an event loop (see RunLoop) children are loop tasks; loop is set
	// then, and a Limit is kept by queueing children (Go has no context to
	// give the loop up with while it waits for a slot).
	loop        *loop
	loopLimit   int
	loopActive  int         // guarded by mu
	loopPending []loopChild // children waiting for a slot; guarded by mu
	idleWaiter  *loopTask   // a loop task in Wait; guarded by mu

	waitOnce sync.Once
	result   error
}

const scopeWaiting = 1

// NewScope returns a scope whose context is derived from ctx. Options: [Limit]
// bounds how many children run at once, [Supervise] keeps siblings running
// when a child fails, [Name] names the scope in its errors, [Progress] is
// told how many children have returned out of those started so far (a
// TryGo that refuses counts as one started and done; Run's own function is
// not counted). The caller must call [Scope.Wait]. NewScope panics if ctx is
// nil.
func NewScope(ctx context.Context, opts ...ScopeOption) *Scope {
	if ctx == nil {
		panic("async: NewScope with nil Context")
	}
	c := option.Parse("NewScope", opts)
	s := &Scope{parent: ctx, name: c.Name, supervise: c.Supervise, idle: make(chan struct{}), prog: progress.New(c.Progress, 0)}
	if debugMode.Load() {
		s.created = callers(2)
	}
	s.prog.Start()
	s.ctx, s.cancel = context.WithCancelCause(ctx)
	s.done = s.ctx.Done()
	if c.Name != "" {
		s.cfg = &config{Name: c.Name}
	}
	if l := loopOf(ctx); l != nil {
		s.loop, s.loopLimit = l, c.Limit
		cancel := s.cancel
		s.cancel = func(cause error) { cancel(cause); l.needScan.Store(true) }
		s.ctx = loopScopeCtx{s.ctx}
	} else if c.Limit > 0 {
		s.lim = newLimiter(c.Limit)
	}
	return s
}

// Run makes a scope with [NewScope], calls fn with it as one more child, and
// returns [Scope.Wait]'s result: it returns only after fn and every child
// have returned. fn's error, or its panic, counts as a child's failure, and
// it cancels the scope's context even with [Supervise]: the owner failed, so
// its children's work is no longer wanted (as Kotlin's supervisorScope
// does). If fn calls runtime.Goexit, Run still waits for the children before
// the goroutine exits. Run panics if ctx or fn is nil.
func Run(ctx context.Context, fn func(*Scope) error, opts ...ScopeOption) error {
	checkCtx("Run", ctx)
	if fn == nil {
		panic("async: Run with nil function")
	}
	s := NewScope(ctx, opts...)
	s.enter("Run")
	// In debug mode Run's function is listed as a task, and the scope's
	// children as started by it.
	if sh := newShadow(ctx, s.name, "scope", s.name); sh != nil {
		s.ctx = sh.begin(s.ctx)
		owner := fn
		fn = func(s *Scope) error {
			return sh.run(s.ctx, func(context.Context) error { return owner(s) })
		}
	}
	s.runOwner(fn)
	return s.Wait()
}

// runOwner runs Run's function as a child on the caller's goroutine.
func (s *Scope) runOwner(fn func(*Scope) error) {
	returned := false
	defer func() {
		if returned {
			return
		}
		if r := recover(); r != nil {
			s.fail(s.stamp(newPanicError(r, nil)), false, true)
			s.release(1) // the owner is not counted in Progress
			return       // Run goes on to Wait
		}
		// runtime.Goexit: the goroutine is ending, but the children must not
		// outlive the scope.
		s.fail(s.stamp(ErrGoexit), false, true)
		s.release(1) // the owner is not counted in Progress
		s.Wait()
	}()
	err := fn(s)
	returned = true
	if err != nil {
		ended := s.ended()
		s.fail(s.stamp(err), ended, true)
	}
	s.release(1) // the owner is not counted in Progress
}

// Go starts fn as a child with the scope's context.
//
// Without [Limit], Go starts a goroutine and returns at once. With Limit(n),
// a child runs on one of at most n worker goroutines (started as children
// arrive, kept until Wait), and up to n more children may wait, not yet
// started, for a worker. When n children are running and n are waiting, Go
// blocks until a worker takes one, or until the scope's context ends: the
// child is then never started and counts as cancellation fallout, so a
// failing scope can never leave its caller blocked. Waiting children are
// likewise dropped if the context ends before a worker takes them. A child
// that calls Go on its own limited scope can therefore block while holding a
// worker; use [Scope.TryGo] there.
//
// Go panics if fn is nil or if [Scope.Wait] has returned.
func (s *Scope) Go(fn func(context.Context) error) {
	s.check("Go")
	if fn == nil {
		panic("async: Scope.Go with nil function")
	}
	s.enter("Scope.Go")
	if s.loop != nil {
		s.loopGo(func(ctx context.Context) { s.call(ctx, fn); s.exit() }, nil, true)
		return
	}
	if sh := newShadow(s.ctx, s.name, "scope", s.name); sh != nil {
		c := &shadowGo{fn, sh}
		if s.lim == nil {
			go func() { c.run(s); s.exit() }()
		} else {
			s.lim.dispatch(s, c, true)
		}
		return
	}
	if s.lim == nil {
		go s.runGo(fn)
		return
	}
	s.lim.dispatch(s, goChild(fn), true)
}

// TryGo is [Scope.Go] that never blocks nor queues, with errgroup's
// contract: it returns true only when fn starts without waiting for another
// child to finish. In a scope with [Limit] it returns false, and fn is not
// started, when every one of the n children that may run is taken (running,
// or waiting for a worker). Without Limit it always starts fn and returns
// true. TryGo panics if fn is nil or if [Scope.Wait] has returned.
func (s *Scope) TryGo(fn func(context.Context) error) bool {
	s.check("TryGo")
	if fn == nil {
		panic("async: Scope.TryGo with nil function")
	}
	s.enter("Scope.TryGo")
	if s.loop != nil {
		if s.loopGo(func(ctx context.Context) { s.call(ctx, fn); s.exit() }, nil, false) {
			return true
		}
		s.exit()
		return false
	}
	if sh := newShadow(s.ctx, s.name, "scope", s.name); sh != nil {
		c := &shadowGo{fn, sh}
		if s.lim == nil {
			go func() { c.run(s); s.exit() }()
			return true
		}
		if s.lim.dispatch(s, c, false) {
			return true
		}
		sh.discard() // not started: not a task
		s.exit()
		return false
	}
	if s.lim == nil {
		go s.runGo(fn)
		return true
	}
	if s.lim.dispatch(s, goChild(fn), false) {
		return true
	}
	s.exit()
	return false
}

// Spawn starts fn as a child of s, like [Scope.Go] (it respects the scope's
// [Limit] and blocks the same way), and returns a future for its result. The
// future's task runs with a context derived from the scope's. Its failure is
// also a failure of the scope, reported by [Scope.Wait]; the scope takes
// charge of it, so it is never reported as unobserved. Canceling the future
// with [Future.Cancel] is not a failure of the scope. If the scope's context
// ends before a worker takes the child, the future settles with the
// context's error without running fn.
//
// Spawn panics if s or fn is nil or if Wait has returned.
func Spawn[T any](s *Scope, fn func(context.Context) (T, error)) *Future[T] {
	if s == nil {
		panic("async: Spawn on nil *Scope")
	}
	s.check("Spawn")
	if fn == nil {
		panic("async: Spawn with nil function")
	}
	s.enter("Spawn")
	if s.loop != nil {
		x := &loopSpawn[T]{c: spawnChild[T]{fn: fn}}
		c, lt := &x.c, &x.lt
		lt.l = s.loop
		c.f.t.startLoop(s.ctx, s.cfg, lt)
		noteGroup(&c.f.t, "scope", s.name)
		c.f.t.observe()
		s.loopStart(loopChild{func() {
			s.loop.start(lt, func() {
				defer s.loopChildDone()
				c.spawn(s)
			})
		}, func() { c.drop(s) }}, true)
		return &c.f
	}
	c := &spawnChild[T]{fn: fn}
	c.f.t.start(s.ctx, s.cfg, nil, 0)
	noteGroup(&c.f.t, "scope", s.name)
	c.f.t.observe() // the scope reports the failure
	if s.lim == nil {
		c.s = s
		goTask(&c.f.t, &c.g, c) // c is its own starter
	} else {
		s.lim.dispatch(s, c, true)
	}
	return &c.f
}

// Start runs fn as a child (Trio's nursery.start) and blocks until fn calls
// ready or returns, whichever is first. If fn calls ready, Start returns nil
// and fn goes on as an ordinary child: its later failure is the scope's. If fn
// returns first, Start returns fn's error, or [ErrNotReady] if it returned
// nil, and that outcome is not a failure of the scope (Start's caller has
// it). Calling ready more than once, or after fn returned, does nothing.
//
// Start respects the scope's [Limit] like [Scope.Go]; if the scope's context
// ends before fn could start, Start returns the context's error. Start panics
// if fn is nil or if [Scope.Wait] has returned.
func (s *Scope) Start(fn func(ctx context.Context, ready func()) error) error {
	s.check("Start")
	if fn == nil {
		panic("async: Scope.Start with nil function")
	}
	s.enter("Scope.Start")
	c := &startChild{fn: fn, ch: make(chan error, 1), ctx: s.ctx}
	if s.loop != nil {
		c.waiter = s.loop.current()
		s.loopGo(func(ctx context.Context) {
			c.ctx = ctx
			c.start(s)
		}, func() { c.drop(s) }, true)
		if c.waiter != nil {
			s.loop.blockUntil(c.waiter, context.Background(), func() bool { return len(c.ch) > 0 })
		}
		return <-c.ch
	}
	if s.lim == nil {
		go c.start(s)
	} else {
		s.lim.dispatch(s, c, true)
	}
	return <-c.ch
}

// ErrNotReady is returned by [Scope.Start] when its function returns nil
// without having called ready.
var ErrNotReady = errors.New("async: Start: function returned without calling ready")

// Context returns the context the scope's children receive. It ends when a
// child fails (unless [Supervise] is set), when [Scope.Cancel] is called, when
// the parent context ends, or when [Scope.Wait] returns. Its cause is the
// first failure, [ErrCanceled] after Cancel, or the parent's cause.
func (s *Scope) Context() context.Context {
	s.check("Context")
	return s.ctx
}

// Cancel ends the scope's context with cause [ErrCanceled], asking every child
// to stop. It does not wait (call [Scope.Wait]). Children that return because
// of it are cancellation fallout, not failures: if nothing really failed,
// Wait returns nil. Cancel after the context ended does nothing.
func (s *Scope) Cancel() {
	s.check("Cancel")
	s.mu.Lock()
	if s.ctx.Err() == nil {
		s.canceled = true
		s.cancel(ErrCanceled)
	}
	s.mu.Unlock()
}

// Wait blocks until every child has returned, including children started by
// children while it waits, then ends the scope's context and returns:
//   - nil if no child really failed (even if the parent context ended: the
//     work completed);
//   - the failure itself if exactly one did;
//   - for several, an [*AggregateError] listing every failure in the order
//     they happened; the first is the one that canceled the scope (unless
//     [Supervise] is set, when none does).
//
// A child's error that only exists because the scope's context ended is
// cancellation fallout and is left out: the context had ended when the child
// returned, and the error matches the context's error or its cause. An error
// returned while the context was still live is never fallout, so two children
// failing independently with the same error value are both reported. Panics
// are always failures ([*PanicError]). If no child really failed but some
// child's error was fallout, or a child was dropped unstarted, and the parent
// context ended (and [Scope.Cancel] did not end the scope first), Wait
// returns an error matching the parent's error and cause.
//
// Once Wait has returned, Go, TryGo, Spawn and Start panic; calling Wait again,
// from any goroutine, returns the same result. A child must not call Wait: it
// would wait for itself.
func (s *Scope) Wait() error {
	s.check("Wait")
	s.waitOnce.Do(s.wait)
	return s.result
}

func (s *Scope) wait() {
	if s.state.Or(scopeWaiting)>>1 != 0 {
		defer blockEnd(blockBegin(s.parent, "Scope.Wait", s.name, 0))
		if s.loop != nil {
			if lt := s.loop.current(); lt != nil { // give the loop up while children run
				s.mu.Lock()
				s.idleWaiter = lt
				s.mu.Unlock()
				s.loop.blockUntil(lt, context.Background(), s.isIdle)
			}
		}
		<-s.idle
	}
	if s.lim != nil {
		s.lim.close()
	}
	s.mu.Lock()
	errs, canceled := s.errs, s.canceled
	if s.lost != nil {
		s.lost.waited.Store(true) // Wait reports them
	}
	s.mu.Unlock()
	switch len(errs) {
	case 0:
		if !canceled && s.ctx.Err() != nil && s.fallout.Load() {
			s.result = ctxError(s.parent)
		}
	case 1:
		s.result = errs[0]
	default:
		s.result = &AggregateError{Errors: errs}
	}
	s.cancel(nil)
}

func (s *Scope) check(op string) {
	if s == nil {
		panic("async: Scope." + op + " on nil *Scope")
	}
	if s.ctx == nil {
		panic("async: Scope." + op + " on a zero Scope (use NewScope or Run)")
	}
}

// enter counts a new child; it panics once Wait has seen the last child
// return.
func (s *Scope) enter(op string) {
	for {
		st := s.state.Load()
		if st == scopeWaiting {
			panic("async: " + op + " after Scope.Wait returned")
		}
		if s.state.CompareAndSwap(st, st+2) {
			if op != "Run" {
				s.prog.Grow()
			}
			return
		}
	}
}

// exit uncounts a child; the last one out after Wait began wakes Wait.
func (s *Scope) exit() { s.exitN(1) }

// exitN uncounts n children, which are done for Progress.
func (s *Scope) exitN(n uint64) {
	s.prog.AddN(n)
	s.release(n)
}

// release uncounts n children (or Run's owner).
func (s *Scope) release(n uint64) {
	if n > 0 && s.state.Add(^(2*n-1)) == scopeWaiting { // -2n
		close(s.idle)
		if s.loop != nil {
			s.mu.Lock()
			w := s.idleWaiter
			s.mu.Unlock()
			if w != nil {
				s.loop.makeReady(w)
			}
		}
	}
}

func (s *Scope) isIdle() bool {
	select {
	case <-s.idle:
		return true
	default:
		return false
	}
}

// loopGo starts body as a loop task child (already counted by enter). With
// a Limit and no free slot, block queues it, and otherwise loopGo reports
// false and starts nothing. drop, if not nil, runs instead of body if the
// scope ends while the child is queued.
func (s *Scope) loopGo(body func(ctx context.Context), drop func(), block bool) bool {
	return s.loopStart(loopChild{func() {
		f := spawnLoop(s.loop, s.ctx, func(ctx context.Context) (struct{}, error) {
			defer s.loopChildDone() // on every path, runtime.Goexit included
			body(ctx)
			return struct{}{}, nil
		}, nil)
		f.t.observe() // the scope records the child's outcome
	}, drop}, block)
}

// A loopChild is a child of a scope in a loop: start starts it; drop, if not
// nil, tells whoever waits for it that it never will start (its scope ended
// while it waited for a slot).
type loopChild struct {
	start, drop func()
}

// loopStart runs c.start now if the Limit allows, else queues c (block) or
// reports false. Each child it starts must end with loopChildDone.
func (s *Scope) loopStart(c loopChild, block bool) bool {
	s.mu.Lock()
	if s.loopLimit > 0 && s.loopActive >= s.loopLimit {
		if !block {
			s.mu.Unlock()
			return false
		}
		s.loopPending = append(s.loopPending, c)
		s.mu.Unlock()
		return true
	}
	s.loopActive++
	s.mu.Unlock()
	c.start()
	return true
}

// loopChildDone frees a child's slot and starts a queued child in it.
func (s *Scope) loopChildDone() {
	s.mu.Lock()
	var next *loopChild
	if len(s.loopPending) > 0 {
		next = &s.loopPending[0]
		s.loopPending = s.loopPending[1:]
	} else {
		s.loopActive--
	}
	s.mu.Unlock()
	if next != nil {
		if s.ctx.Err() != nil { // the scope ended: queued children are fallout
			s.mu.Lock()
			s.loopActive--
			dropped := append([]loopChild{*next}, s.loopPending...)
			s.loopPending = nil
			s.mu.Unlock()
			s.fallout.Store(true)
			for _, c := range dropped {
				if c.drop != nil {
					c.drop() // a Spawn's future settles, a Start returns
				}
			}
			s.exitN(uint64(len(dropped)))
			return
		}
		next.start()
	}
}

// fail records a child's failure. endedFirst says the scope's context had
// ended when the child returned err (false for panics and Goexit, which are
// failures whatever the scope's state); only then may err be fallout. A
// failure of Run's own function (owner) cancels the scope even under
// Supervise.
func (s *Scope) fail(err error, endedFirst, owner bool) {
	if endedFirst && s.isFallout(err) {
		s.fallout.Store(true)
		return
	}
	s.mu.Lock()
	s.errs = append(s.errs, err)
	s.noteLost(err)
	if len(s.errs) == 1 && !s.supervise || owner {
		// Under s.mu, so that the first recorded failure is the cause.
		s.cancel(err)
	}
	s.mu.Unlock()
}

// ended reports whether the scope's context has ended. Sampled as soon as a
// child returns an error, it tells fallout from an independent failure.
func (s *Scope) ended() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// isFallout reports whether err, returned once the scope's context had
// ended, matches the context's error or its cause.
func (s *Scope) isFallout(err error) bool {
	return errors.Is(err, s.ctx.Err()) || errors.Is(err, context.Cause(s.ctx))
}

// stamp puts a named scope's name on a child's failure, as a named task's
// own errors carry its name.
func (s *Scope) stamp(err error) error {
	if s.name == "" {
		return err
	}
	if pe, ok := err.(*PanicError); ok {
		if pe.Task == "" {
			pe.Task = s.name
		}
		return pe
	}
	return &TaskError{Task: s.name, Err: err}
}

// runGo runs a child started with Go on its own goroutine.
func (s *Scope) runGo(fn func(context.Context) error) {
	s.call(s.ctx, fn)
	s.exit()
}

// call runs fn as a child on the current goroutine and records its outcome.
// The caller uncounts the child, unless fn calls runtime.Goexit: call then
// uncounts it, as the caller will never run again.
func (s *Scope) call(ctx context.Context, fn func(context.Context) error) {
	returned := false
	defer func() {
		if !returned {
			s.recovered(recover())
		}
	}()
	err := fn(ctx)
	returned = true
	if err != nil {
		ended := s.ended()
		if testHookFailing != nil {
			testHookFailing(s)
		}
		s.fail(s.stamp(err), ended, false)
	}
}

// testHookFailing, if set (by tests only), runs between a Go child's return
// with an error and the recording of that error.
var testHookFailing func(*Scope)

// recovered records a child that panicked (r != nil) or called
// runtime.Goexit, which it also uncounts. It must be called from the child's
// deferred function, so that the panic's stack is the child's.
func (s *Scope) recovered(r any) {
	if r != nil {
		s.fail(s.stamp(newPanicError(r, nil)), false, false)
		return
	}
	s.fail(s.stamp(ErrGoexit), false, false)
	s.exit()
}

// A scopeChild is a child that has been counted and can run on any
// goroutine; a limited scope's workers take them from the handoff.
type scopeChild interface {
	// run runs the child and records its outcome; the caller then uncounts
	// it, unless the child called runtime.Goexit (run uncounts it then).
	run(s *Scope)
	// drop settles a child that will never run because the scope's context
	// ended first; the caller uncounts it.
	drop(s *Scope)
}

// goChild is a child started with Go or TryGo. A func is pointer-shaped, so
// making it a scopeChild does not allocate.
type goChild func(context.Context) error

func (fn goChild) run(s *Scope) { s.call(s.ctx, fn) }
func (goChild) drop(s *Scope)   { s.fallout.Store(true) }

// shadowGo is a child started with Go or TryGo in debug mode: it is listed
// in Tasks (see shadow).
type shadowGo struct {
	fn func(context.Context) error
	sh *shadow
}

func (c *shadowGo) run(s *Scope) {
	s.call(s.ctx, func(ctx context.Context) error { return c.sh.run(ctx, c.fn) })
}

func (c *shadowGo) drop(s *Scope) {
	c.sh.end(context.Cause(s.ctx))
	s.fallout.Store(true)
}

// spawnChild is a child started with Spawn; its future lives in it, so a
// spawned child is one allocation.
type spawnChild[T any] struct {
	f          Future[T] // first field: its address is the allocation's
	g          goStart   // starts its goroutine, in a scope without Limit
	s          *Scope    // the scope, for the goroutine
	fn         func(context.Context) (T, error)
	abnormal   bool // fn panicked or called runtime.Goexit
	endedFirst bool // fn returned an error after its context had ended
}

// loopSpawn is the allocation that holds a child spawned in a loop: its
// future preceded by its loop membership (see loopTask).
type loopSpawn[T any] struct {
	lt loopTask
	c  spawnChild[T]
}

func (c *spawnChild[T]) run(s *Scope) {
	returned := false
	defer func() {
		if !returned { // runtime.Goexit, after f.run settled f
			c.finish(s)
			s.exit()
		}
	}()
	c.f.run(c.call)
	returned = true
	c.finish(s)
}

// call runs fn, noting whether it ended abnormally: only then is the
// future's error this child's own panic (or Goexit) rather than, say, the
// scope's cause being returned.
func (c *spawnChild[T]) call(ctx context.Context) (T, error) {
	returned := false
	defer func() {
		if !returned {
			c.abnormal = true
		}
	}()
	v, err := c.fn(ctx)
	returned = true
	if err != nil {
		c.endedFirst = ctx.Err() != nil
	}
	return v, err
}

// spawn runs c on its own goroutine.
func (c *spawnChild[T]) spawn(s *Scope) {
	c.run(s)
	s.exit()
}

func (*spawnChild[T]) Error() string { return errNotStarted }

// start runs the child on its own goroutine (goTask).
func (c *spawnChild[T]) start(*task) {
	s := c.s
	c.s = nil
	c.spawn(s)
}

func (c *spawnChild[T]) finish(s *Scope) {
	c.fn = nil // release what fn holds; the future may live on
	t := &c.f.t
	if err := t.err; err != nil {
		switch {
		case c.abnormal:
			s.fail(err, false, false)
		case t.reason() == ctxCanceled && errors.Is(err, ErrCanceled):
			// Future.Cancel: whoever canceled it knows, and the future
			// carries the error.
		default:
			s.fail(err, c.endedFirst, false)
		}
	}
}

func (c *spawnChild[T]) drop(s *Scope) {
	s.fallout.Store(true)
	c.fn = nil
	c.f.settle(*new(T), ctxError(s.ctx))
}

// startChild is a child started with Start.
type startChild struct {
	fn        func(ctx context.Context, ready func()) error
	ch        chan error // capacity 1: nil for ready, or the early outcome
	signalled atomic.Bool
	ctx       context.Context // what fn receives: the scope's, or its loop task's
	waiter    *loopTask       // in a loop: the task blocked in Start
}

// signal hands Start's result to its caller, once; it reports whether this
// call did.
func (c *startChild) signal(err error) bool {
	if c.signalled.Load() || !c.signalled.CompareAndSwap(false, true) {
		return false
	}
	c.ch <- err
	if c.waiter != nil {
		c.waiter.l.makeReady(c.waiter)
	}
	return true
}

func (c *startChild) ready() { c.signal(nil) }

func (c *startChild) run(s *Scope) {
	returned := false
	defer func() {
		if returned {
			return
		}
		r := recover()
		var err error
		if r != nil {
			err = s.stamp(newPanicError(r, nil))
		} else {
			err = s.stamp(ErrGoexit)
		}
		if !c.signal(err) {
			s.fail(err, false, false)
		}
		if r == nil {
			s.exit() // runtime.Goexit: the caller will not run again
		}
	}()
	err := c.fn(c.ctx, c.ready)
	returned = true
	ended := err != nil && s.ended()
	if c.signalled.Load() {
		if err != nil {
			s.fail(s.stamp(err), ended, false)
		}
		return
	}
	early := err
	if early == nil {
		early = ErrNotReady
	}
	if !c.signal(s.stamp(early)) && err != nil {
		s.fail(s.stamp(err), ended, false) // ready raced with the return
	}
}

// start runs c on its own goroutine.
func (c *startChild) start(s *Scope) {
	c.run(s)
	s.exit()
}

func (c *startChild) drop(s *Scope) {
	s.fallout.Store(true)
	c.signal(ctxError(s.ctx))
}

// noCopy makes go vet's copylocks check report copies of the struct that
// holds it.
type noCopy struct{}

func (*noCopy) Lock()   {}
func (*noCopy) Unlock() {}
