package stream

import (
	"context"
	"errors"
	"iter"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"

	"github.com/goasync/async"
	"github.com/goasync/async/internal/ctxerr"
	"github.com/goasync/async/internal/option"
	"github.com/goasync/async/internal/progress"
)

// perCall returns fn under c's per-call options ([async.Timeout],
// [async.Attempts], [async.Backoff], [async.RetryIf]), run by package
// async's own machinery; fn itself if there are none.
func perCall[T, U any](c *option.Config, fn func(context.Context, T) (U, error)) func(context.Context, T) (U, error) {
	if !c.PerCall() {
		return fn
	}
	run := option.CallRunner(c)
	return func(ctx context.Context, v T) (U, error) {
		var u U
		err := run(ctx, func(ctx context.Context) error {
			var err error
			u, err = fn(ctx, v)
			return err
		})
		return u, err
	}
}

// defaultBuffer is how many results Map may hold ahead of its consumer
// beyond Limit, as Kotlin's buffered channels do: enough that workers seldom
// wait for a consumer that is keeping up.
const defaultBuffer = 64

// errStopped cancels the calls in flight when the consumer stops early.
var errStopped = errors.New("async: stream consumer stopped")

// Map returns a stream of fn applied to each item of in. Ranging over it
// starts up to [async.Limit] calls at once (default runtime.GOMAXPROCS(0)),
// each with a context derived from ctx, and yields (result, nil) in input
// order, or in completion order with [async.Unordered]. Nothing runs until
// the stream is ranged over; each range reads in again from the start.
//
// In is read lazily: at most Limit + [async.Buffer] items (Buffer defaults
// to 64) have been read from in and not yet yielded at any time, so memory
// stays bounded whatever the input's length, and a slow consumer slows the
// reading. A larger Buffer lets fast calls run further ahead of a slow one
// in ordered mode; Buffer(0) keeps read-ahead to the calls in flight.
//
// On the first failure (fn's error, a panic in fn or in in, reported as a
// *[async.PanicError], or ctx ending) Map cancels the calls in flight, reads
// no more, waits for the calls to return, yields (zero, err) once, and
// stops. Results that precede the failure and were already done are yielded
// before it; errors of calls cancelled by the failure are its fallout and
// are not yielded. If ctx ended, err matches ctx.Err() and its cause.
//
// If the loop body breaks (or returns), the calls in flight are cancelled
// and the range statement returns once every goroutine Map started has
// exited (a worker blocked inside in, waiting for its next item, is waited
// for: see the package documentation). [async.Progress] is told (n, -1) on the consuming goroutine just
// before the n-th result is yielded.
//
// [async.Timeout] bounds each call (each attempt, when retrying): its context
// ends after d with cause [async.ErrTimeout]. [async.Attempts],
// [async.Backoff] and [async.RetryIf] retry each call as [async.Retry] does;
// a call fails only once its retries are spent.
//
// Map accepts Limit, Buffer, Unordered, Progress, Timeout, Attempts, Backoff
// and RetryIf; it panics if ctx, in or fn is nil, or if another option is
// given.
func Map[T, U any](ctx context.Context, in iter.Seq[T], fn func(context.Context, T) (U, error), opts ...async.StreamOption) iter.Seq2[U, error] {
	checkArgs("stream.Map", ctx, in == nil, fn == nil)
	c := option.Parse("stream.Map", opts)
	fn = perCall(&c, fn)
	limit := c.Limit
	if limit <= 0 {
		limit = runtime.GOMAXPROCS(0)
	}
	buffer := defaultBuffer
	if c.HasBuffer {
		buffer = c.Buffer
	}
	return func(yield func(U, error) bool) {
		r := newMapRun(ctx, in, fn, limit, limit+buffer, c.Unordered, false)
		defer r.shutdown()
		r.consume(yield, c.Progress)
	}
}

// MapSettled is [Map] without failing fast: every item read runs and its
// outcome is yielded as an [async.Result], in input order (completion order
// with [async.Unordered]). An error or a panic in fn (as a
// *[async.PanicError]) is that item's result; the stream goes on.
//
// When ctx ends, the calls in flight see it through their context and their
// outcomes are yielded, MapSettled reads no more of in, and the stream ends:
// check ctx.Err() after the loop to tell. A panic in in ends the stream with
// one last result carrying it. Breaking out of the loop, reading ahead,
// options and Progress are as in Map.
func MapSettled[T, U any](ctx context.Context, in iter.Seq[T], fn func(context.Context, T) (U, error), opts ...async.StreamOption) iter.Seq[async.Result[U]] {
	checkArgs("stream.MapSettled", ctx, in == nil, fn == nil)
	c := option.Parse("stream.MapSettled", opts)
	call := perCall(&c, fn)
	fn = func(ctx context.Context, v T) (u U, err error) {
		returned := false
		defer func() {
			if !returned {
				if p := recover(); p != nil {
					err = &async.PanicError{Value: p, Stack: debug.Stack()}
				}
			}
		}()
		u, err = call(ctx, v)
		returned = true
		return u, err
	}
	limit := c.Limit
	if limit <= 0 {
		limit = runtime.GOMAXPROCS(0)
	}
	buffer := defaultBuffer
	if c.HasBuffer {
		buffer = c.Buffer
	}
	return func(yield func(async.Result[U]) bool) {
		r := newMapRun(ctx, in, fn, limit, limit+buffer, c.Unordered, true)
		defer r.shutdown()
		r.consume(func(u U, err error) bool { return yield(async.Result[U]{Value: u, Err: err}) }, c.Progress)
	}
}

// mapRun is one range over a Map stream: workers pull items from the input,
// call fn, and store results in a ring that the consuming goroutine drains.
// Everything shared is guarded by mu, except yielded and waitingWorkers,
// which the consumer updates per result without locking.
type mapRun[T, U any] struct {
	ctx    context.Context // the calls' context
	cancel context.CancelCauseFunc
	parent context.Context
	fn     func(context.Context, T) (U, error)
	src    *source[T] // next is called with mu held
	w      int        // the window: Limit + Buffer
	order  bool
	// settled: fn's errors are results, not failures (MapSettled), and
	// the end of ctx stops the reading without being reported.
	settled bool

	mu       sync.Mutex
	consumer sync.Cond // the consumer waits here for the next result
	workers  sync.Cond // workers wait here for room in the window
	pulled   int       // items read from the input
	taken    int       // results moved out of the ring by the consumer
	ended    bool      // the input is exhausted
	live     int       // workers running
	waiting  bool      // the consumer waits on the consumer cond
	// ring holds results not yet taken. Ordered: item seq's result is at
	// seq%w and ready marks it present. Unordered: results in completion
	// order, the first at taken%w, done of them.
	ring  []result[U]
	ready []bool
	done  int

	yielded        atomic.Int64 // results handed to yield; bounds reading ahead
	waitingWorkers atomic.Int32 // workers waiting (or about to wait) for room

	failed atomic.Bool
	err    error // the first failure; written once, by whoever set failed

	exited chan struct{} // closed by the last worker to exit
	shut   bool          // shutdown has run; consumer's goroutine only
}

type result[U any] struct {
	val U
	err error
}

func newMapRun[T, U any](ctx context.Context, in iter.Seq[T], fn func(context.Context, T) (U, error), workers, window int, unordered, settled bool) *mapRun[T, U] {
	r := &mapRun[T, U]{
		settled: settled,
		parent:  ctx,
		fn:      fn,
		src:     pull(in),
		w:       window,
		order:   !unordered,
		live:    workers,
		ring:    make([]result[U], window),
		exited:  make(chan struct{}),
	}
	if r.order {
		r.ready = make([]bool, window)
	}
	r.consumer.L = &r.mu
	r.workers.L = &r.mu
	r.ctx, r.cancel = context.WithCancelCause(ctx)
	for range workers {
		go r.work()
	}
	return r
}

// work pulls and maps items until the input ends or the run is cancelled.
func (r *mapRun[T, U]) work() {
	seq := -1 // the item fn is working on
	defer func() {
		var err error
		if seq >= 0 { // fn panicked or called runtime.Goexit
			if p := recover(); p != nil {
				err = &async.PanicError{Value: p, Stack: debug.Stack()}
			} else {
				err = async.ErrGoexit
			}
			r.fail(err)
		}
		r.mu.Lock()
		if seq >= 0 {
			r.store(seq, result[U]{err: err})
		}
		r.live--
		last := r.live == 0
		if last && r.waiting {
			r.consumer.Signal() // no more results: the consumer must see the end
		}
		r.mu.Unlock()
		if last {
			close(r.exited)
		}
	}()
	r.mu.Lock()
	for r.room() {
		v, ok := r.src.next()
		if !ok {
			r.ended = true
			if p := r.src.panicked; p != nil {
				r.fail(p)
			}
			break
		}
		s := r.pulled
		r.pulled++
		r.mu.Unlock()

		seq = s
		u, err := r.fn(r.ctx, v)
		seq = -1
		if err != nil && !r.settled {
			r.fail(err)
		}

		r.mu.Lock()
		r.store(s, result[U]{val: u, err: err})
	}
	r.mu.Unlock()
}

// room waits, with mu held, until another item may be read: it reports
// false once the input is exhausted or the run is cancelled.
func (r *mapRun[T, U]) room() bool {
	for {
		if r.ended {
			return false
		}
		if r.ctx.Err() != nil {
			if r.parent.Err() != nil && !r.settled {
				r.fail(ctxerr.Of(r.parent))
			}
			return false
		}
		if r.pulled-int(r.yielded.Load()) < r.w {
			return true
		}
		// Announce the wait before checking again, so that a consumer
		// that yields meanwhile either is seen here or sees us.
		r.waitingWorkers.Add(1)
		if r.pulled-int(r.yielded.Load()) < r.w {
			r.waitingWorkers.Add(-1)
			return true
		}
		r.workers.Wait()
		r.waitingWorkers.Add(-1)
	}
}

// store puts item seq's result in the ring and wakes the consumer if it
// waits for it. mu is held. The window guarantees the place is free.
func (r *mapRun[T, U]) store(seq int, res result[U]) {
	if r.order {
		i := seq % r.w
		r.ring[i] = res
		r.ready[i] = true
		if r.waiting && seq == r.taken {
			r.consumer.Signal()
		}
		return
	}
	r.ring[(r.taken+r.done)%r.w] = res
	r.done++
	if r.waiting {
		r.consumer.Signal()
	}
}

// take moves the results ready at the head of the ring into buf. mu is held.
func (r *mapRun[T, U]) take(buf []result[U]) []result[U] {
	for {
		i := r.taken % r.w
		if r.order {
			if !r.ready[i] {
				return buf
			}
			r.ready[i] = false
		} else {
			if r.done == 0 {
				return buf
			}
			r.done--
		}
		buf = append(buf, r.ring[i])
		r.ring[i] = result[U]{}
		r.taken++
	}
}

// fail records err if it is the run's first failure and cancels the calls in
// flight with it as the cause.
func (r *mapRun[T, U]) fail(err error) {
	if r.failed.CompareAndSwap(false, true) {
		r.err = err
		r.cancel(err)
	}
}

// consume hands results to yield on the consuming goroutine, taking every
// result that is ready under one lock.
func (r *mapRun[T, U]) consume(yield func(U, error) bool, report func(done, total int)) {
	var zero U
	buf := make([]result[U], 0, r.w)
	for {
		r.mu.Lock()
		buf = r.take(buf[:0])
		for len(buf) == 0 && r.live > 0 {
			r.waiting = true
			r.consumer.Wait()
			r.waiting = false
			buf = r.take(buf)
		}
		r.mu.Unlock()
		if len(buf) == 0 { // every worker has exited and no result is left
			r.shutdown()
			if err := r.failure(); err != nil {
				yield(zero, err)
			}
			return
		}
		for i, res := range buf {
			buf[i] = result[U]{}
			if res.err != nil && !r.settled {
				// The first failure, or fallout of it: wait for the calls
				// in flight, then report the failure itself.
				r.shutdown()
				yield(zero, r.failure())
				return
			}
			n := r.yielded.Add(1) // no longer ahead of the consumer
			if r.waitingWorkers.Load() > 0 {
				r.mu.Lock()
				r.workers.Signal()
				r.mu.Unlock()
			}
			if report != nil {
				report(int(n), -1)
			}
			if !yield(res.val, res.err) {
				return
			}
		}
	}
}

// shutdown cancels the calls in flight and waits until every worker has
// exited; then it releases the input. Consumer's goroutine only.
func (r *mapRun[T, U]) shutdown() {
	if r.shut {
		return
	}
	r.shut = true
	r.cancel(errStopped)
	r.mu.Lock()
	r.workers.Broadcast() // they see the cancel and exit
	r.mu.Unlock()
	<-r.exited
	r.src.stop()
}

// failure is the error to report, once every worker has exited.
func (r *mapRun[T, U]) failure() error {
	// A call that only failed because the caller's context ended is
	// fallout of that end: report the end itself, with its cause.
	return ctxerr.Fallout(r.parent, r.err)
}

// ForEach calls fn on each item of in, at most [async.Limit] calls at once
// (default runtime.GOMAXPROCS(0)), each with a context derived from ctx, and
// blocks until every call it started has returned. It reads in lazily, never
// more than Limit items ahead of the calls.
//
// It returns nil once in is exhausted and every call succeeded. On the first
// failure (fn's error, a panic in fn or in in, reported as a
// *[async.PanicError], or ctx ending) it cancels the calls in flight, reads
// no more, waits for the calls, and returns that failure; errors of the
// calls it cancelled are not reported. If ctx ended, the error matches
// ctx.Err() and its cause. [async.Progress] is told (n, -1) as calls
// succeed, from one goroutine at a time.
//
// [async.Timeout], [async.Attempts], [async.Backoff] and [async.RetryIf]
// apply to each call as in [Map].
//
// ForEach accepts Limit, Progress, Timeout, Attempts, Backoff and RetryIf; it
// panics if ctx, in or fn is nil, or if another option is given.
func ForEach[T any](ctx context.Context, in iter.Seq[T], fn func(context.Context, T) error, opts ...async.MapOption) error {
	checkArgs("stream.ForEach", ctx, in == nil, fn == nil)
	c := option.Parse("stream.ForEach", opts)
	if c.PerCall() {
		plain := fn
		call := perCall(&c, func(ctx context.Context, v T) (struct{}, error) { return struct{}{}, plain(ctx, v) })
		fn = func(ctx context.Context, v T) error { _, err := call(ctx, v); return err }
	}
	limit := c.Limit
	if limit <= 0 {
		limit = runtime.GOMAXPROCS(0)
	}
	r := &forEachRun[T]{parent: ctx, fn: fn, src: pull(in), prog: progress.New(c.Progress, -1)}
	defer r.src.stop() // deferred first, so it runs after the wait below
	r.ctx, r.cancel = context.WithCancelCause(ctx)
	defer r.cancel(nil)
	if limit > 1 {
		r.exited = make(chan struct{})
		r.live.Store(int32(limit - 1))
		for range limit - 1 {
			go r.worker()
		}
		// Wait for the others even if fn ends this goroutine with
		// runtime.Goexit, so that no worker outlives ForEach.
		defer func() { <-r.exited }()
	}
	r.work()
	if limit > 1 {
		<-r.exited
	}
	return ctxerr.Fallout(ctx, r.err)
}

// forEachRun is one call of ForEach: workers, one of them the calling
// goroutine, pull items from the input under mu and call fn on them.
type forEachRun[T any] struct {
	ctx    context.Context
	cancel context.CancelCauseFunc
	parent context.Context
	fn     func(context.Context, T) error
	prog   *progress.Reporter

	mu    sync.Mutex // serialises pulls
	src   *source[T]
	ended bool

	failed atomic.Bool
	err    error

	live   atomic.Int32
	exited chan struct{}
}

func (r *forEachRun[T]) worker() {
	defer func() {
		if r.live.Add(-1) == 0 {
			close(r.exited)
		}
	}()
	r.work()
}

func (r *forEachRun[T]) work() {
	returned := false
	defer func() {
		if !returned {
			if p := recover(); p != nil {
				r.fail(&async.PanicError{Value: p, Stack: debug.Stack()})
			} else {
				r.fail(async.ErrGoexit)
			}
		}
	}()
	for {
		v, ok := r.pull()
		if !ok {
			break
		}
		if err := r.fn(r.ctx, v); err != nil {
			r.fail(err)
			break
		}
		if r.prog != nil {
			r.prog.Add()
		}
	}
	returned = true
}

func (r *forEachRun[T]) pull() (v T, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ended {
		return v, false
	}
	if r.ctx.Err() != nil {
		if r.parent.Err() != nil {
			r.fail(ctxerr.Of(r.parent))
		}
		return v, false
	}
	v, ok = r.src.next()
	if !ok {
		r.ended = true
		if p := r.src.panicked; p != nil {
			r.fail(p)
		}
	}
	return v, ok
}

func (r *forEachRun[T]) fail(err error) {
	if r.failed.CompareAndSwap(false, true) {
		r.err = err
		r.cancel(err)
	}
}
