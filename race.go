package async

import "context"

// Any returns the value of the first future to succeed. If every future
// fails, it returns an [*AggregateError] holding their errors in input order.
// With no futures it returns [ErrNoFutures] at once. If ctx ends first, Any
// returns an error matching ctx.Err(). Like [All], it cancels nothing and
// takes charge of every future's outcome. It panics if ctx or any future is
// nil.
func Any[T any](ctx context.Context, fs ...*Future[T]) (T, error) {
	checkCtx("Any", ctx)
	var zero T
	if len(fs) == 0 {
		return zero, ErrNoFutures
	}
	ts := tasksOf(fs)
	won, err := waitTasks(ctx, "Any", waitAny, ts, 0, nil)
	if err != nil {
		return zero, err
	}
	if won == nil {
		errs := make([]error, len(fs))
		for i, f := range fs {
			errs[i] = f.t.err
		}
		return zero, &AggregateError{Errors: errs}
	}
	for _, f := range fs {
		if &f.t == won {
			return f.val, nil
		}
	}
	panic("async: internal error: Any lost its winner")
}

// Race returns the outcome of the first future to settle, success or
// failure. With no futures it returns [ErrNoFutures] at once. If several are
// already settled when Race is called, the first in input order wins; one
// that settles while Race is still reading its input may lose to a later
// one that Race finds already settled. If ctx ends first, Race returns an
// error matching ctx.Err(). Race cancels the losers no more than [All]
// does; it takes charge of every future's outcome. It panics if ctx or any
// future is nil.
func Race[T any](ctx context.Context, fs ...*Future[T]) (T, error) {
	checkCtx("Race", ctx)
	var zero T
	if len(fs) == 0 {
		return zero, ErrNoFutures
	}
	ts := tasksOf(fs)
	won, err := waitTasks(ctx, "Race", waitFirst, ts, 0, nil)
	if err != nil {
		return zero, err
	}
	for _, f := range fs {
		if &f.t == won {
			return f.val, f.t.err
		}
	}
	panic("async: internal error: Race lost its winner")
}
