package async

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
)

// task is the untyped core of a Future: its settlement state, the waiters to
// notify, and the task's context. A *task is the context.Context handed to the
// task's function, so a task needs no separate context allocation; a real
// context from the standard library is made only when the function asks for
// Done or derives a context from it (see inner).
//
// The fields a combinator touches on each of many futures (state, mu, w1,
// x) come first, to share as few cache lines as possible. A plain task is
// 72 bytes, so that a Future of a word is 80: what only some tasks need
// lives in taskExt.
type task struct {
	state    atomic.Uint32 // st* bits
	ctxState atomic.Uint32 // ctx* reason the task's context ended
	mu       sync.Mutex    // guards done, w1, and ext fields not marked otherwise
	w1       waiter        // the first waiter, or a *waiterPair of the first two; more in ext.more
	x        atomic.Pointer[taskExt]
	err      error           // the settlement error; written before stSettled
	parent   context.Context // nil for promises and resolved futures
}

type innerCtx struct {
	ctx    context.Context
	cancel context.CancelCauseFunc
}

// taskExt holds what most tasks never need, so that a plain task stays small.
type taskExt struct {
	// inner is a standard child of parent, made on the first Done, Cause or
	// derived context (at start for a Timeout). It makes those behave
	// exactly as the standard library's do, without a goroutine per derived
	// context. Until then the parent's end is read lazily (see Err), so a
	// task under a request's context costs no registration. Made under mu.
	inner     atomic.Pointer[innerCtx]
	done      chan struct{} // made by Future.Done on demand
	name      string        // set before the task is shared
	created   []uintptr     // debug mode: where the task was started
	more      []waiter      // waiters beyond the first
	parentErr error         // the parent's Err when it ended this task's context
	stop      func() bool   // unregisters from a standard parent context
	abort     func(error)   // settles a task that has not started (Then, Catch)
	fail      *failure      // watches a failed future for unobserved errors
	deadline  time.Time     // a Timeout on a loop's virtual clock
	dbg       *taskDebug    // debug mode, profiling and observers (debug.go); set before the task is shared
}

// Task states.
const (
	stInit     uint32 = 1 << iota // made by a constructor; a zero Future lacks it
	stSettled                     // the value and err are final
	stFailed                      // settled with a non-nil error
	stHandled                     // a combinator or Then/Catch took charge of the outcome
	stPromise                     // settled by a Promise; Cancel rejects it
	stWaiting                     // a Then/Catch task not started yet; Cancel settles it
	stOffload                     // started by Offload: its context is not its loop's
	stLoop                        // its loop membership precedes it (see loopFuture)
	stReturned                    // the task returned, which ended its context (see ctxReason)
	stWatched                     // a waiter, a done channel or the extension was added: settling takes t.mu (see settleReturned)
)

// Reasons a task's context ended.
const (
	ctxLive     uint32 = iota
	ctxCanceled        // Future.Cancel
	ctxTimeout         // the Timeout option
	ctxParent          // the parent context ended
	ctxReturned        // the task returned
)

// A waiter is told, once, that a task has settled. notify runs on the
// settling goroutine and must not block.
type waiter interface{ notify(t *task) }

// closedChan is returned by Done once a future has settled or a context ended
// before anyone asked for a channel.
var closedChan = func() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}()

// ext returns the task's extension, making it if needed. Callers hold t.mu or
// own t exclusively. Making it sets stWatched, so that a task settling
// without the lock from then on takes it and sees the extension.
func (t *task) ext() *taskExt {
	x := t.x.Load()
	if x == nil {
		x = new(taskExt)
		t.x.Store(x)
		t.state.Or(stWatched)
	}
	return x
}

// watch marks t as watched (stWatched) before a waiter or a done channel is
// added under t.mu, and reports whether t has already settled: then nothing
// must be added, as the settlement has not seen it. The caller holds t.mu.
// After the mark, a task that settles without the lock fails its
// compare-and-swap and settles under t.mu, after the caller (see
// settleReturned).
func (t *task) watch() (settled bool) {
	return t.state.Or(stWatched)&stSettled != 0
}

func (t *task) name() string {
	if x := t.x.Load(); x != nil {
		return x.name
	}
	return ""
}

func (t *task) createdStack() []byte {
	if x := t.x.Load(); x != nil && x.created != nil {
		return asyncStack(x)
	}
	return nil
}

func (t *task) mustBeMade(op string) {
	if t.state.Load()&stInit == 0 {
		panic("async: " + op + " on a zero Future (futures come from Go, Resolved, Rejected or NewPromise)")
	}
}

// start prepares a pending task that runs with a context derived from parent.
// It must be called before t is shared with another goroutine. A non-nil abort
// marks a task that starts later (Then, Catch): ending its context before then
// settles it through abort. layout says what precedes t in its allocation
// (stLoop or 0).
func (t *task) start(parent context.Context, c *config, abort func(error), layout uint32) {
	if abort != nil {
		t.initState(layout | stInit | stWaiting)
		t.ext().abort = abort
	} else {
		t.initState(layout | stInit)
	}
	t.parent = parent
	if c != nil && c.Name != "" {
		t.ext().name = c.Name
	}
	if debugMode.Load() {
		t.ext().created = callers(3) // from start's caller; formatting skips the library's frames
	}
	if c != nil && c.Timeout > 0 {
		// The deadline lives in a standard context from the start, so that
		// Deadline reports it and its timer is the standard library's. The
		// cause layer lets Cancel end it with ErrCanceled.
		causeCtx, cancelCause := context.WithCancelCause(parent)
		deadlineCtx, cancel := context.WithDeadlineCause(causeCtx, time.Now().Add(c.Timeout), ErrTimeout)
		t.ext().inner.Store(&innerCtx{deadlineCtx, cancelCause})
		_ = cancel // released through cancelInner, which ends the deadline's parent
	} else if abort != nil || layout&stLoop != 0 {
		// A loop task must hear of its parent's end itself, to wake
		// where it waits in its loop. Other tasks read it lazily.
		t.link(parent, abort != nil || t.loopTask().watchesParent(parent))
	}
	if h := hooks.Load(); h != nil {
		h.h.taskStarted(t, taskOfContext(parent))
	}
}

// startPromise prepares a pending task settled by a Promise: it has no
// context, and Cancel rejects it.
func (t *task) startPromise(layout uint32) {
	t.initState(layout | stInit | stPromise)
	if h := hooks.Load(); h != nil {
		h.h.taskStarted(t, nil)
	}
}

// initState sets the state of t, which no other goroutine can see yet, with
// a plain write: an atomic store would be a locked exchange, which waits for
// every write before it (those initialising t) to reach memory. An
// extension made before (a promise's name, a loop task's deadline) keeps
// its stWatched.
func (t *task) initState(s uint32) {
	if t.x.Load() != nil {
		s |= stWatched
	}
	*(*uint32)(unsafe.Pointer(&t.state)) = s
}

// link arranges for t to hear of parent's end. Most tasks need not: their
// Err reads the parent's lazily, and Done makes a standard child of the
// parent on demand. A task that must act when its context ends (needCallback:
// Then and Catch before they start, loop tasks waiting in their loop)
// registers a callback.
func (t *task) link(parent context.Context, needCallback bool) {
	if !needCallback || parent.Done() == nil {
		return
	}
	if err := parent.Err(); err != nil {
		t.cancel(ctxParent, err)
		return
	}
	stop := context.AfterFunc(parent, func() { t.cancel(ctxParent, parent.Err()) })
	t.mu.Lock()
	t.ext().stop = stop
	t.mu.Unlock()
}

// innerNow returns t's inner context, or nil if none has been made.
func (t *task) innerNow() context.Context {
	if x := t.x.Load(); x != nil {
		if in := x.inner.Load(); in != nil {
			return in.ctx
		}
	}
	return nil
}

// cancel ends t's context for reason. err is the parent's error for
// ctxParent. It is idempotent: the first reason wins.
func (t *task) cancel(reason uint32, err error) {
	if reason == ctxCanceled && t.parent != nil && t.parent.Err() != nil {
		reason, err = ctxParent, t.parent.Err() // the parent ended first
	}
	t.mu.Lock()
	// Marking t watched (see watch) before deciding: a task that has
	// returned without its lock has stReturned by now, and one that has not
	// will settle under t.mu, after this. t.mu alone does not exclude the
	// lock-free settlement, which would end the context as returned between
	// our look and our store.
	if t.ctxState.Load() != ctxLive || t.state.Or(stWatched)&stReturned != 0 {
		t.mu.Unlock()
		return
	}
	x := t.x.Load()
	if reason == ctxReturned {
		// A standard context that ended before the return (the parent's
		// end, a Timeout) keeps its reason: Err must not change.
		if r := t.reason(); r != ctxLive {
			reason, err = r, x.inner.Load().ctx.Err()
		} else if perr := t.parent.Err(); perr != nil && t.innerNow() == nil {
			reason, err = ctxParent, perr // Err read it lazily
		}
	}
	if reason == ctxParent {
		x = t.ext()
		x.parentErr = err
	}
	t.ctxState.Store(reason)
	var (
		cancelInner context.CancelCauseFunc
		stop        func() bool
		abort       func(error)
	)
	if x != nil {
		if in := x.inner.Load(); in != nil {
			cancelInner = in.cancel
		}
		stop = x.stop
		abort, x.abort = x.abort, nil
	}
	t.mu.Unlock()

	if stop != nil && reason != ctxParent {
		stop() // first, so that cancelling inner below does not wake our own AfterFunc
	}
	if cancelInner != nil {
		cancelInner(causeOf(reason, err))
	}
	if abort != nil && reason != ctxReturned && t.claimStart() {
		abort(t.outcome(t.Err()))
	}
	if reason != ctxReturned {
		if lt := t.loopTask(); lt != nil {
			lt.l.wakeParked(lt) // wake it where it waits in its loop
		}
	}
}

func causeOf(reason uint32, parentErr error) error {
	switch reason {
	case ctxCanceled:
		return ErrCanceled
	case ctxTimeout:
		return ErrTimeout
	case ctxParent:
		return parentErr
	}
	return context.Canceled
}

// ctxReason is the reason recorded for the end of t's context, or ctxLive:
// ctxState, or ctxReturned once a task that needed nothing released has
// returned (finish records that in state, with the settlement, to spare
// a second atomic write).
func (t *task) ctxReason() uint32 {
	if s := t.ctxState.Load(); s != ctxLive {
		return s
	}
	if t.state.Load()&stReturned != 0 {
		return ctxReturned
	}
	return ctxLive
}

// reason reports why t's context ended, or ctxLive. A Timeout's standard
// context may have ended before its AfterFunc ran; reason looks there too so a
// task that saw the deadline is classified as timed out.
func (t *task) reason() uint32 {
	if s := t.ctxReason(); s != ctxLive {
		return s
	}
	if inner := t.innerNow(); inner != nil {
		if inner.Err() != nil {
			if context.Cause(inner) == ErrTimeout {
				return ctxTimeout
			}
			return ctxParent
		}
	}
	return ctxLive
}

// claimStart clears stWaiting; it reports whether this caller cleared it, and
// so gets to start (or abort) a Then/Catch task.
func (t *task) claimStart() bool {
	for {
		s := t.state.Load()
		if s&stWaiting == 0 {
			return false
		}
		if t.state.CompareAndSwap(s, s&^stWaiting) {
			return true
		}
	}
}

// outcome turns what a task's function returned into its settlement error:
// an error caused by Cancel or Timeout is tagged with ErrCanceled or
// ErrTimeout, and a named task's error carries the name.
func (t *task) outcome(err error) error {
	if err == nil {
		return nil
	}
	switch t.reason() {
	case ctxCanceled:
		if errors.Is(err, context.Canceled) && !errors.Is(err, ErrCanceled) {
			err = &tagged{ErrCanceled, err}
		}
	case ctxTimeout:
		if errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, ErrTimeout) {
			err = &tagged{ErrTimeout, err}
		}
	}
	if name := t.name(); name != "" {
		var pe *PanicError
		if !errors.As(err, &pe) {
			err = &TaskError{Task: name, Err: err}
		}
	}
	return err
}

// finish completes a settlement begun under t.mu (with the value and t.err
// already written): it publishes the state, wakes every waiter, watches an
// unhandled failure, and ends the task's context.
func (t *task) finish() {
	// Most tasks succeed with nobody waiting yet, no extension and no hooks:
	// their context ends with the state (stReturned, see below). That path
	// stays small, as it runs at the bottom of every task's goroutine.
	if t.err == nil && t.w1 == nil && t.x.Load() == nil && hooks.Load() == nil && t.endsOnReturn() {
		t.state.Or(stSettled | stReturned)
		t.mu.Unlock()
		return
	}
	t.finishSlow()
}

func (t *task) finishSlow() {
	bits := stSettled
	if t.err != nil {
		bits |= stFailed
	}
	// The task returned, so its context ends. A plain task (no extension,
	// so no standard context made) has nothing else to release: its context
	// ends with the settlement (stReturned), instead of in cancel.
	x := t.x.Load()
	ended := x == nil && t.endsOnReturn()
	if ended {
		bits |= stReturned
	}
	s := t.state.Or(bits) | bits
	w1 := t.w1
	var (
		more []waiter
		d    chan struct{} // doneChan makes none once stSettled is set
	)
	if x != nil {
		more, x.more = x.more, nil
		d = x.done
	}
	if w1 != nil || more != nil {
		// Waiters are let go, except a hook attached by a package of this
		// module, which is found from the future after it settles too.
		t.w1 = nil
		if h := hookAmong(w1, more); h != nil {
			t.w1 = h
		}
	}
	t.mu.Unlock()

	// Hooks before waking anyone blocked on t, so that an observer has
	// ended the task's span (and the registry shows it settled) by the
	// time they resume.
	if h := hooks.Load(); h != nil {
		h.h.taskSettled(t)
	}
	// Combinators first, blocked Awaits and Done last: once an Await
	// returns, every combinator waiting on t has been told, so completion
	// order is the same for everyone. A blocked Await's own channel is
	// the first waiter, or the second of a pair (see awaitChan).
	var aw awaiter
	switch w := w1.(type) {
	case nil:
	case awaiter:
		aw = w
	case *waiterPair:
		w.a.notify(t) // never an awaiter
		if aw, _ = w.b.(awaiter); aw == nil {
			w.b.notify(t)
		}
	default:
		w.notify(t)
	}
	for _, w := range more {
		w.notify(t)
	}
	if aw != nil {
		aw.notify(t)
	}
	if d != nil {
		close(d)
	}
	if s&stFailed != 0 && s&stHandled == 0 {
		t.watchUnobserved()
	}
	if !ended && t.parent != nil && !t.keepsContext() {
		t.cancel(ctxReturned, nil)
	}
}

// endsOnReturn reports whether t's context is still live, so that its
// return can end it (stReturned): t has a parent, nothing ended its
// context, and the parent has not ended either, whose reason the context
// would otherwise keep (Err never changes once non-nil).
func (t *task) endsOnReturn() bool {
	return t.parent != nil && t.ctxState.Load() == ctxLive && t.parent.Err() == nil
}

// subscribe registers w to be notified when t settles. It reports false, and
// registers nothing, if t has already settled.
func (t *task) subscribe(w waiter) bool { return t.subscribeMarked(w, 0) }

// subscribeMarked is subscribe that also sets mark in t's state, in the same
// atomic operation: stHandled to observe t (as observe does) on the way.
func (t *task) subscribeMarked(w waiter, mark uint32) bool {
	t.mu.Lock()
	if t.state.Or(stWatched|mark)&stSettled != 0 { // see watch
		if x := t.x.Load(); mark&stHandled != 0 && x != nil && x.fail != nil {
			x.fail.observed.Store(true) // its failure watch is set: see observe
		}
		t.mu.Unlock()
		return false
	}
	t.place(w)
	t.mu.Unlock()
	return true
}

// place adds w to t's waiters: as the first, paired with it, or on the
// extension's list. The caller holds t.mu and has marked t watched.
func (t *task) place(w waiter) {
	if _, awaiting := w.(awaiter); t.hasRoom(awaiting) {
		t.addWaiter(w)
		return
	}
	x := t.ext()
	x.more = append(x.more, w)
}

// A waiterPair holds a task's first two waiters, so that a second one (a
// combinator over a promise that already has an AfterSettle hook, say)
// costs a pair rather than the extension and a list. a is never a blocked
// Await: one of those is b, told last like any other (see finishSlow).
type waiterPair struct{ a, b waiter }

// notify tells both; finishSlow unpacks a pair instead, to tell a blocked
// Await last.
func (p *waiterPair) notify(t *task) {
	p.a.notify(t)
	p.b.notify(t)
}

// hasRoom reports whether t can take one more waiter without its
// extension: as the first waiter, or paired with it. A blocked Await
// (awaiting) is not paired with another. The caller holds t.mu.
func (t *task) hasRoom(awaiting bool) bool {
	switch t.w1.(type) {
	case nil:
		// Empty after its waiter left, a first waiter would be told
		// before the extension's list, which came earlier; an Await is
		// told last anyway.
		x := t.x.Load()
		return awaiting || x == nil || len(x.more) == 0
	case *waiterPair:
		return false
	case awaiter:
		return !awaiting && t.x.Load() == nil
	default:
		return t.x.Load() == nil // its list of more waiters comes after the first
	}
}

// addWaiter makes w the first waiter, or pairs it with the first one, where
// hasRoom found room. The caller holds t.mu and has marked t watched.
func (t *task) addWaiter(w waiter) {
	switch first := t.w1.(type) {
	case nil:
		t.w1 = w
	case awaiter:
		t.w1 = &waiterPair{a: w, b: first}
	default:
		t.w1 = &waiterPair{a: first, b: w}
	}
}

// unsubscribe removes w, so that a combinator that returned early leaves
// nothing behind on a long-lived future.
func (t *task) unsubscribe(w waiter) {
	t.mu.Lock()
	if t.w1 == w {
		t.w1 = nil
	} else if p, ok := t.w1.(*waiterPair); ok && (p.a == w || p.b == w) {
		if p.a == w {
			t.w1 = p.b
		} else {
			t.w1 = p.a
		}
	} else if x := t.x.Load(); x != nil {
		for i, m := range x.more {
			if m == w {
				x.more = append(x.more[:i], x.more[i+1:]...)
				break
			}
		}
	}
	t.mu.Unlock()
}

// observe records that someone has seen, or taken charge of, t's outcome.
func (t *task) observe() {
	if t.state.Load()&stHandled == 0 {
		t.state.Or(stHandled)
	}
	if x := t.x.Load(); x != nil {
		if f := t.failureWatch(x); f != nil {
			f.observed.Store(true)
		}
	}
}

func (t *task) failureWatch(x *taskExt) *failure {
	t.mu.Lock()
	f := x.fail
	t.mu.Unlock()
	return f
}

// wait blocks until t settles or ctx ends; it returns nil if t settled.
func (t *task) wait(ctx context.Context) error {
	if h := hooks.Load(); h != nil {
		defer h.h.awaitEnd(h.h.awaitBegin(ctx, []*task{t}))
	}
	if lt := runningLoopTask(ctx); lt != nil {
		return t.waitInLoop(lt, ctx)
	}
	cd := ctx.Done()
	if cd != nil {
		select {
		case <-cd:
			if t.state.Load()&stSettled != 0 {
				return nil
			}
			return ctxError(ctx)
		default:
		}
	}
	// A task that has just been started has usually not run yet: yielding
	// once lets it run, and settle, before we park, which spares a park and
	// a wake-up (and the channel to wake us). This is only a yield: the
	// task still runs on its own goroutine.
	runtime.Gosched()
	if t.state.Load()&stSettled != 0 {
		return nil
	}
	w, own := t.awaitChan()
	if cd == nil {
		<-w
		return nil
	}
	select {
	case <-w:
		return nil
	case <-cd:
		if own != nil {
			t.unsubscribe(own)
		}
		if t.state.Load()&stSettled != 0 {
			return nil
		}
		return ctxError(ctx)
	}
}

// An awaiter is a blocked Await: closed when its task settles, after every
// other kind of waiter has been told.
type awaiter chan struct{}

func (w awaiter) notify(*task) { close(w) }

// awaitChan returns a channel closed when t settles, for a blocked Await.
// If t has room for one more waiter (hasRoom), the channel is the Await's
// own, registered as t's first waiter or paired with it (own: to
// unsubscribe if the Await gives up); otherwise it is
// the task's done channel, shared, so that many Awaits on one future cost
// one channel and no list to search when they give up.
func (t *task) awaitChan() (c <-chan struct{}, own awaiter) {
	t.mu.Lock()
	if t.watch() {
		t.mu.Unlock()
		return closedChan, nil
	}
	if t.hasRoom(true) {
		w := make(awaiter)
		t.addWaiter(w)
		t.mu.Unlock()
		return w, w
	}
	d := t.doneLocked()
	t.mu.Unlock()
	return d, nil
}

func (t *task) doneChan() <-chan struct{} {
	if t.state.Load()&stSettled != 0 {
		return closedChan
	}
	t.mu.Lock()
	if t.watch() { // settled since: finish closed no channel
		t.mu.Unlock()
		return closedChan
	}
	d := t.doneLocked()
	t.mu.Unlock()
	return d
}

// doneLocked returns t's done channel, making it; t is pending and the
// caller holds t.mu.
func (t *task) doneLocked() chan struct{} {
	x := t.ext()
	if x.done == nil {
		x.done = make(chan struct{})
	}
	return x.done
}

// The context.Context implementation: a *task is its task's context.

// Deadline reports the task's deadline: its Timeout, or its parent's.
func (t *task) Deadline() (time.Time, bool) {
	if x := t.x.Load(); x != nil && !x.deadline.IsZero() {
		return x.deadline, true // on the loop's virtual clock
	}
	if inner := t.innerNow(); inner != nil {
		return inner.Deadline()
	}
	return t.parent.Deadline()
}

// Done returns a channel closed when the task's context ends.
func (t *task) Done() <-chan struct{} {
	if t.ctxReason() != ctxLive && t.innerNow() == nil {
		return closedChan
	}
	return t.innerCtx().Done()
}

// Err reports why the task's context ended, or nil.
func (t *task) Err() error {
	switch t.ctxReason() {
	case ctxLive:
		if inner := t.innerNow(); inner != nil {
			return inner.Err()
		}
		if t.parent != nil {
			return t.parent.Err()
		}
		return nil
	case ctxTimeout:
		return context.DeadlineExceeded
	case ctxParent:
		return t.x.Load().parentErr
	default:
		return context.Canceled
	}
}

// taskKey finds the innermost task in a context chain.
type taskKey struct{}

// Value returns the value for key from the task's context chain.
func (t *task) Value(key any) any {
	switch key {
	case taskKey{}:
		return t
	case loopKey{}:
		if t.state.Load()&stOffload != 0 {
			return nil // offloaded work runs outside the loop
		}
	case cancelCtxKey:
		// The standard library asks for its cancelCtx this way when a
		// context is derived from ours; answering with the inner context
		// lets it link children directly and lets context.Cause see our
		// cause.
		if cancelCtxKey != nil {
			return t.innerCtx().Value(key)
		}
	}
	if x := t.x.Load(); x != nil && x.dbg != nil && x.dbg.values != nil {
		return x.dbg.values.Value(key) // an observer's or tracer's values, then the parent's
	}
	return t.parent.Value(key)
}

// AfterFunc makes context.AfterFunc and derived contexts register with the
// inner context instead of starting a goroutine to watch ours.
func (t *task) AfterFunc(f func()) func() bool {
	return context.AfterFunc(t.innerCtx(), f)
}

func (t *task) String() string {
	if name := t.name(); name != "" {
		return "async.task(" + name + ")"
	}
	return "async.task"
}

// innerCtx returns the standard context mirroring t's, making it on first use.
func (t *task) innerCtx() context.Context {
	if in := t.innerNow(); in != nil {
		return in
	}
	t.mu.Lock()
	if in := t.innerNow(); in != nil {
		t.mu.Unlock()
		return in
	}
	// The extension first: a task that has not settled by then settles
	// under t.mu (see watch), after this, and so ends the context made
	// here; one that has is seen as returned below.
	x := t.ext()
	parent := t.parent
	if parent == nil {
		parent = context.Background()
	}
	reason := t.ctxReason()
	if reason != ctxLive && reason != ctxParent {
		// The task's context ended for its own reason first: that reason
		// is the cause, even if the parent has ended since.
		parent = context.WithoutCancel(parent)
	}
	ctx, cancel := context.WithCancelCause(parent)
	x.inner.Store(&innerCtx{ctx, cancel})
	t.mu.Unlock()
	if reason != ctxLive && reason != ctxParent {
		cancel(causeOf(reason, nil))
	}
	return ctx
}

// cancelCtxKey is the key the standard library's context package uses to find
// its own cancelCtx. It is learned once, without goroutines, by asking
// context.Cause about a context that records the key it is asked for.
var cancelCtxKey = func() (key any) {
	defer func() { _ = recover() }() // if the probe ever breaks, derived contexts still work, through a goroutine
	p := &keyProbe{}
	_ = context.Cause(p)
	return p.key
}()

type keyProbe struct{ key any }

func (*keyProbe) Deadline() (time.Time, bool) { return time.Time{}, false }
func (*keyProbe) Done() <-chan struct{}       { return closedChan }
func (*keyProbe) Err() error                  { return context.Canceled }
func (p *keyProbe) Value(key any) any {
	p.key = key
	return nil
}

// loopTask returns t's membership in an event loop, or nil.
func (t *task) loopTask() *loopTask {
	if t.state.Load()&stLoop == 0 {
		return nil
	}
	return (*loopTask)(unsafe.Add(unsafe.Pointer(t), -int(unsafe.Sizeof(loopTask{}))))
}

// keepsContext reports whether t's context outlives t: RunLoop's main task,
// whose context is the loop's for as long as the loop runs.
func (t *task) keepsContext() bool {
	lt := t.loopTask()
	return lt != nil && lt.isMain()
}
