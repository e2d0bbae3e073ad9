package unawaited

import (
	"context"

	"github.com/goasync/async"
)

// Near misses: every future here reaches someone who reads it.

func awaited(ctx context.Context) (int, error) {
	f := async.Go(ctx, work)
	return f.Await(ctx)
}

func awaitedInline(ctx context.Context) (int, error) {
	return async.Go(ctx, work).Await(ctx)
}

func returned(ctx context.Context) *async.Future[int] {
	f := async.Go(ctx, work)
	return f
}

func returnedDirectly(ctx context.Context) *async.Future[int] {
	return async.Go(ctx, work)
}

func sent(ctx context.Context, ch chan<- *async.Future[int]) {
	f := async.Go(ctx, work)
	ch <- f
}

func sentDirectly(ctx context.Context, ch chan<- *async.Future[int]) {
	ch <- async.Go(ctx, work)
}

type holder struct{ f *async.Future[int] }

func storedInStruct(ctx context.Context, h *holder) {
	h.f = async.Go(ctx, work)
}

func storedInLiteral(ctx context.Context) holder {
	f := async.Go(ctx, work)
	return holder{f: f}
}

func storedInSlice(ctx context.Context, n int) []*async.Future[int] {
	fs := make([]*async.Future[int], n)
	for i := range fs {
		fs[i] = async.Go(ctx, work)
	}
	return fs
}

var global *async.Future[int]

func storedGlobally(ctx context.Context) {
	global = async.Go(ctx, work)
}

func awaitedInDefer(ctx context.Context) (err error) {
	f := async.Go(ctx, work)
	defer func() {
		if _, e := f.Await(ctx); e != nil && err == nil {
			err = e
		}
	}()
	return nil
}

func combined(ctx context.Context) ([]int, error) {
	a := async.Go(ctx, work)
	b := async.Go(ctx, work)
	return async.All(ctx, a, b)
}

func passedOn(ctx context.Context) {
	f := async.Go(ctx, work)
	consume(f)
}

func consume(*async.Future[int]) {}

func peeked(ctx context.Context) bool {
	f := async.Go(ctx, work)
	_, done := f.Peek()
	return done
}

func chainedAndAwaited(ctx context.Context) (string, error) {
	f := async.Go(ctx, work)
	g := async.Then(ctx, f, func(ctx context.Context, v int) (string, error) { return "", nil })
	return g.Await(ctx)
}

func canceledThenAwaited(ctx context.Context) error {
	f := async.Go(ctx, work)
	f.Cancel()
	_, err := f.Await(ctx)
	return err
}

func selected(ctx context.Context) {
	f := async.Go(ctx, work)
	select {
	case <-f.Done():
	case <-ctx.Done():
	}
}

func resolvedAndPromises() {
	async.Resolved(1) // settled already: nothing to lose
	p := async.NewPromise[int]()
	p.Future() // the promise's owner settles it; nothing starts here
	p.Resolve(1)
}

func capturedByClosure(ctx context.Context) func() (int, error) {
	f := async.Go(ctx, work)
	return func() (int, error) { return f.Await(ctx) }
}

func notAFuture(ctx context.Context) {
	work(ctx)
}
