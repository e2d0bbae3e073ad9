package async

import (
	"context"
	"errors"
	"runtime"
	"sync/atomic"

	"github.com/goasync/async/internal/ctxerr"
	"github.com/goasync/async/internal/option"
	"github.com/goasync/async/internal/progress"
)

// Map calls fn on every element of in and returns the results in input
// order. It is the one-call fix for awaiting in a loop: the calls run
// concurrently, at most [Limit] at a time (default runtime.GOMAXPROCS(0)),
// on a fixed set of goroutines, and Map blocks until every call it started
// has returned.
//
// Each call gets a context derived from ctx. On the first failure (an error,
// a panic as a [*PanicError], or runtime.Goexit as [ErrGoexit]) Map cancels
// that context with the failure as its cause, starts no more calls, waits for
// the calls in flight, and returns nil and that failure; errors returned by
// calls it cancelled are its fallout and are not reported. If ctx ends first,
// Map stops the same way and returns an error matching ctx.Err() and its
// cause. A call that was about to start as the failure happened may still
// start, with an already cancelled context. One of the calls runs on the
// caller's goroutine: if it calls runtime.Goexit (as t.FailNow does), that
// ends the caller as it would without Map, once the other calls have
// returned.
//
// [Timeout] bounds each call: its context ends after d with cause
// [ErrTimeout], and an error it causes matches ErrTimeout. [Attempts],
// [Backoff] and [RetryIf] retry each call as [Retry] does (the Timeout then
// bounds each attempt); a call counts as failed only once its retries are
// spent, with a [*RetryError].
//
// [Progress] is told (0, len(in)) first, then the number of calls that have
// succeeded. Map panics if ctx or fn is nil.
func Map[T, U any](ctx context.Context, in []T, fn func(context.Context, T) (U, error), opts ...MapOption) ([]U, error) {
	checkCtx("Map", ctx)
	if fn == nil {
		panic("async: Map with nil function")
	}
	c := option.Parse("Map", opts)
	out := make([]U, len(in))
	var err error
	if c.PerCall() {
		p := newCallPolicy(&c, false)
		err = forEachIndex(ctx, len(in), &c, shadowCalls(ctx, "Map", func(ctx context.Context, i int) error {
			return p.do(ctx, func(ctx context.Context) error {
				v, err := fn(ctx, in[i])
				out[i] = v
				return err
			})
		}))
	} else {
		err = forEachIndex(ctx, len(in), &c, shadowCalls(ctx, "Map", func(ctx context.Context, i int) error {
			v, err := fn(ctx, in[i])
			out[i] = v
			return err
		}))
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ForEach calls fn on every element of in, at most [Limit] at a time
// (default runtime.GOMAXPROCS(0)), and blocks until every call it started
// has returned. It returns nil if every call succeeded; failures, panics,
// cancellation, the per-call options and [Progress] are handled exactly as
// in [Map]. It panics if ctx or fn is nil.
func ForEach[T any](ctx context.Context, in []T, fn func(context.Context, T) error, opts ...MapOption) error {
	checkCtx("ForEach", ctx)
	if fn == nil {
		panic("async: ForEach with nil function")
	}
	c := option.Parse("ForEach", opts)
	if c.PerCall() {
		p := newCallPolicy(&c, false)
		return forEachIndex(ctx, len(in), &c, shadowCalls(ctx, "ForEach", func(ctx context.Context, i int) error {
			return p.do(ctx, func(ctx context.Context) error { return fn(ctx, in[i]) })
		}))
	}
	return forEachIndex(ctx, len(in), &c, shadowCalls(ctx, "ForEach", func(ctx context.Context, i int) error {
		return fn(ctx, in[i])
	}))
}

// MapSettled calls fn on every element of in, like [Map], but without
// failing fast: every element runs and gets its own outcome, in input order,
// as [AllSettled] gives for futures. A panic in fn is that element's
// [*PanicError]. When ctx ends, the calls in flight see it through their
// context, no more calls start, and each element not started gets
// Result{Err: e} with e matching ctx.Err() and its cause. MapSettled blocks
// until every call it started has returned; one of them runs on the
// caller's goroutine, and runtime.Goexit in a call ends the run as in Map
// (the elements left get [ErrGoexit]).
//
// Options are those of Map; [Progress] counts settled elements, failed or
// not. It panics if ctx or fn is nil.
func MapSettled[T, U any](ctx context.Context, in []T, fn func(context.Context, T) (U, error), opts ...MapOption) []Result[U] {
	checkCtx("MapSettled", ctx)
	if fn == nil {
		panic("async: MapSettled with nil function")
	}
	c := option.Parse("MapSettled", opts)
	out := make([]Result[U], len(in))
	ran := make([]bool, len(in))
	var p *callPolicy
	if c.PerCall() {
		p = newCallPolicy(&c, false)
	}
	call := func(ctx context.Context, i int) (err error) {
		returned := false
		defer func() {
			if !returned {
				if r := recover(); r != nil {
					out[i].Err, ran[i] = newPanicError(r, nil), true
				}
			}
		}()
		if p == nil {
			out[i].Value, out[i].Err = fn(ctx, in[i])
		} else {
			out[i].Err = p.do(ctx, func(ctx context.Context) error {
				var err error
				out[i].Value, err = fn(ctx, in[i])
				return err
			})
		}
		returned, ran[i] = true, true
		return nil
	}
	if err := forEachIndex(ctx, len(in), &c, shadowCalls(ctx, "MapSettled", call)); err != nil {
		// ctx ended (or a call called runtime.Goexit): the elements
		// that did not run get that end.
		for i := range out {
			if !ran[i] {
				out[i] = Result[U]{Err: err}
			}
		}
	}
	return out
}

// indexRun is one call of Map or ForEach: a fixed set of workers claim
// indices from next until they run out or the run is cancelled.
type indexRun struct {
	next atomic.Int64 // the next unclaimed index
	_    [56]byte     // keep the hot counter off the cache line of the fields below

	n        int64
	chunkDiv int64 // claim() takes remaining/chunkDiv indices at a time
	fn       func(context.Context, int) error
	ctx      context.Context // the calls' context
	cancel   context.CancelCauseFunc
	parent   context.Context
	prog     *progress.Reporter

	failed atomic.Bool
	err    error // the first failure; written once, by whoever set failed

	live   atomic.Int32  // workers on goroutines of their own still running
	exited chan struct{} // closed when live drops to zero
}

// forEachIndex calls fn(ctx, i) for every i in [0, n) on min(limit, n)
// workers, one of them the calling goroutine, and returns the first failure.
func forEachIndex(ctx context.Context, n int, c *config, fn func(context.Context, int) error) error {
	if n == 0 {
		return nil
	}
	limit := c.Limit
	if limit <= 0 {
		limit = runtime.GOMAXPROCS(0)
	}
	if runningLoopTask(ctx) != nil {
		return forEachInLoop(ctx, n, limit, c, fn)
	}
	workers := min(limit, n)
	r := &indexRun{n: int64(n), chunkDiv: int64(workers) * 8, fn: fn, parent: ctx, prog: progress.New(c.Progress, n)}
	r.ctx, r.cancel = context.WithCancelCause(ctx)
	defer r.cancel(nil)
	r.prog.Start()

	if workers > 1 {
		r.exited = make(chan struct{})
		r.live.Store(int32(workers - 1))
		for range workers - 1 {
			go r.worker()
		}
		// Wait for the others even if a call on this goroutine ends it with
		// runtime.Goexit, so that no worker outlives Map.
		defer r.wait()
	}
	r.work()
	if workers > 1 {
		r.wait()
	}
	return r.result()
}

func (r *indexRun) worker() {
	defer func() {
		if r.live.Add(-1) == 0 {
			close(r.exited)
		}
	}()
	r.work()
}

// wait blocks until every worker on a goroutine of its own has returned.
// Their calls have been cancelled by then if anything failed, so waiting is
// not ctx-aware: Map never returns while one of its calls still runs.
func (r *indexRun) wait() {
	defer blockEnd(blockBegin(r.parent, "Map or ForEach calls", "", 0))
	park(context.Background(), r.exited, nil)
}

// work claims and runs indices until none is left or the run is cancelled.
// A panic or runtime.Goexit in fn ends this worker and fails the run.
func (r *indexRun) work() {
	returned := false
	defer func() {
		if !returned {
			if p := recover(); p != nil {
				r.fail(newPanicError(p, nil))
			} else {
				r.fail(ErrGoexit)
			}
		}
	}()
	// Locals, so the loop does not reload them through r after each call.
	ctx, fn, prog := r.ctx, r.fn, r.prog
	for lo, hi := r.claim(); lo < hi; lo, hi = r.claim() {
		for i := lo; i < hi; i++ {
			if ctx.Err() != nil { // an atomic load since Go 1.26
				// Ended by a failure (then fail is a no-op) or by the
				// parent context.
				r.fail(ctxError(r.parent))
				returned = true
				return
			}
			if err := fn(ctx, int(i)); err != nil {
				r.fail(err)
				returned = true
				return
			}
			if prog != nil {
				prog.Add()
			}
		}
	}
	returned = true
}

// claim takes the next chunk of indices [lo, hi); it is empty when none is
// left. Chunks shrink as the work runs out (guided scheduling): large while
// much is left, so that workers seldom touch the shared counter or write
// results to the same cache line, and single indices at the end, so that no
// worker is left holding a queue of calls while the others are idle.
func (r *indexRun) claim() (lo, hi int64) {
	for {
		lo = r.next.Load()
		if lo >= r.n {
			return lo, lo
		}
		c := min(max((r.n-lo)/r.chunkDiv, 1), maxChunk)
		if r.next.CompareAndSwap(lo, lo+c) {
			return lo, lo + c
		}
	}
}

// maxChunk bounds how many calls a worker claims at once, and so how long a
// slow call can hold back the calls claimed with it.
const maxChunk = 32

// fail records err if it is the run's first failure and cancels the calls'
// context with it.
func (r *indexRun) fail(err error) {
	if r.failed.CompareAndSwap(false, true) {
		r.err = err
		r.cancel(err)
	}
}

// result is the run's error once every worker has returned.
func (r *indexRun) result() error {
	// A call that only returned because the caller's context ended is
	// fallout of that end: report the end itself, with its cause.
	return ctxerr.Fallout(r.parent, r.err)
}

// forEachInLoop is forEachIndex for a loop task: each call is a loop task of
// a scope that keeps the Limit, so calls run one at a time on the loop and
// switch where they wait. The first failure cancels the rest, and calls that
// ended because of it are fallout, as outside the loop.
func forEachInLoop(ctx context.Context, n, limit int, c *config, fn func(context.Context, int) error) error {
	prog := progress.New(c.Progress, n)
	prog.Start()
	err := Run(ctx, func(s *Scope) error {
		for i := range n {
			s.Go(func(ctx context.Context) error {
				defer prog.Add()
				return fn(ctx, i)
			})
		}
		return nil
	}, Limit(limit))
	var agg *AggregateError
	if errors.As(err, &agg) && len(agg.Errors) > 0 {
		err = agg.Errors[0] // the first failure; Map reports that one
	}
	return ctxerr.Fallout(ctx, err)
}
