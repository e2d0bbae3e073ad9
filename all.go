package async

import "context"

// All waits for every future and returns their values in input order.
//
// All returns at the first failure, in completion order, with that failure's
// error; it does not wait for the others and does not cancel them (they are
// not All's to cancel: start them in a [Scope] to have one failure cancel its
// siblings). If ctx ends first, All returns an error matching ctx.Err(). All
// of no futures is an empty slice and nil. All takes charge of every future's
// outcome, so later failures are not reported as unobserved. It panics if ctx
// or any future is nil.
func All[T any](ctx context.Context, fs ...*Future[T]) ([]T, error) {
	checkCtx("All", ctx)
	// The futures that have already succeeded, up to the first that has
	// not, decide nothing: their values are taken in a plain loop, and
	// waitTasks goes over the rest.
	vals := make([]T, len(fs))
	k := 0
	for ; k < len(fs); k++ {
		f := fs[k]
		if f == nil || f.t.state.Load()&(stInit|stSettled|stFailed) != stInit|stSettled {
			break
		}
		vals[k] = f.val
	}
	if k < len(fs) {
		failed, err := waitTasks(ctx, "All", waitAll, tasksOf(fs), k, func(i int) { vals[i] = fs[i].val })
		if err != nil {
			return nil, err
		}
		if failed != nil {
			return nil, failed.err
		}
	}
	return vals, nil
}

// AllSettled waits for every future to settle and returns their outcomes in
// input order, with a nil error.
//
// If ctx ends first, AllSettled returns what it has at that moment together
// with an error matching ctx.Err() and its cause: a slice of len(fs) results
// holding each settled future's outcome and, for each future still pending,
// Result{Err: [ErrNotSettled]}. The pending futures are untouched (their tasks
// go on running and they can be awaited later), as [Promise.allSettled]
// under a deadline is usually written by hand. Futures that settle while
// AllSettled is returning may show either way.
//
// AllSettled takes charge of the outcomes it returns, so those failures are
// not reported as unobserved; a future it reports as not settled stays
// unobserved until someone awaits it (if it then fails and nobody does, the
// failure is reported). It panics if ctx or any future is nil.
//
// [Promise.allSettled]: https://developer.mozilla.org/en-US/docs/Web/JavaScript/Reference/Global_Objects/Promise/allSettled
func AllSettled[T any](ctx context.Context, fs ...*Future[T]) ([]Result[T], error) {
	checkCtx("AllSettled", ctx)
	ts := tasksOf(fs)
	_, err := waitTasks(ctx, "AllSettled", waitSettled, ts, 0, nil)
	rs := make([]Result[T], len(fs))
	for i, f := range fs {
		if f.t.state.Load()&stSettled == 0 {
			rs[i].Err = ErrNotSettled
			continue
		}
		f.t.observe()
		rs[i] = Result[T]{Value: f.val, Err: f.t.err}
	}
	return rs, err
}

// All2 is [All] for two futures of different types.
func All2[A, B any](ctx context.Context, a *Future[A], b *Future[B]) (A, B, error) {
	checkCtx("All2", ctx)
	var za A
	var zb B
	ts := []*task{taskOf("All2", 0, a), taskOf("All2", 1, b)}
	failed, err := waitTasks(ctx, "All2", waitAll, ts, 0, nil)
	if err == nil && failed != nil {
		err = failed.err
	}
	if err != nil {
		return za, zb, err
	}
	return a.val, b.val, nil
}

// All3 is [All] for three futures of different types.
func All3[A, B, C any](ctx context.Context, a *Future[A], b *Future[B], c *Future[C]) (A, B, C, error) {
	checkCtx("All3", ctx)
	var za A
	var zb B
	var zc C
	ts := []*task{taskOf("All3", 0, a), taskOf("All3", 1, b), taskOf("All3", 2, c)}
	failed, err := waitTasks(ctx, "All3", waitAll, ts, 0, nil)
	if err == nil && failed != nil {
		err = failed.err
	}
	if err != nil {
		return za, zb, zc, err
	}
	return a.val, b.val, c.val, nil
}

func taskOf[T any](op string, i int, f *Future[T]) *task {
	if f == nil {
		panicNilFuture(op, i)
	}
	f.t.mustBeMade(op)
	return &f.t
}
