package async

import "context"

// Then returns a future for fn applied to f's value. fn runs in a new
// goroutine once f succeeds, with a context derived from ctx; while f is
// pending no goroutine is parked. If f fails (error or panic), the returned
// future settles with the same error, untouched, and fn does not run. If ctx
// ends or the returned future is canceled before fn starts, it settles with
// the context's error. Then panics if ctx, f or fn is nil.
func Then[T, U any](ctx context.Context, f *Future[T], fn func(context.Context, T) (U, error)) *Future[U] {
	checkChain("Then", ctx, f, fn == nil)
	if l := loopOf(ctx); l != nil {
		return inLoopAfter(l, ctx, f, func(ctx context.Context) (U, error) {
			if err := f.t.err; err != nil {
				return *new(U), err
			}
			return fn(ctx, f.val)
		})
	}
	return chain(ctx, f, func(g *Future[U]) {
		if err := f.t.err; err != nil {
			g.settle(*new(U), err)
			return
		}
		v := f.val
		go g.run(func(ctx context.Context) (U, error) { return fn(ctx, v) })
	})
}

// Catch returns a future that settles with f's value if f succeeds, and
// otherwise with fn applied to f's error; fn runs in a new goroutine with a
// context derived from ctx, and no goroutine is parked while f is pending.
// Catch observes f's failure, so it is not reported as unobserved. If ctx
// ends or the returned future is canceled before fn starts, it settles with
// the context's error. Catch panics if ctx, f or fn is nil.
func Catch[T any](ctx context.Context, f *Future[T], fn func(context.Context, error) (T, error)) *Future[T] {
	checkChain("Catch", ctx, f, fn == nil)
	if l := loopOf(ctx); l != nil {
		return inLoopAfter(l, ctx, f, func(ctx context.Context) (T, error) {
			if err := f.t.err; err != nil {
				return fn(ctx, err)
			}
			return f.val, nil
		})
	}
	return chain(ctx, f, func(g *Future[T]) {
		err := f.t.err
		if err == nil {
			g.settle(f.val, nil)
			return
		}
		go g.run(func(ctx context.Context) (T, error) { return fn(ctx, err) })
	})
}

func checkChain[T any](op string, ctx context.Context, f *Future[T], nilFn bool) {
	if ctx == nil {
		panic("async: " + op + " with nil Context")
	}
	if f == nil {
		panic("async: " + op + " on nil *Future")
	}
	f.t.mustBeMade(op)
	if nilFn {
		panic("async: " + op + " with nil function")
	}
}

// chain makes a future g that waits on f without a goroutine and calls next(g)
// once f has settled, unless g was canceled first.
func chain[T, U any](ctx context.Context, f *Future[T], next func(g *Future[U])) *Future[U] {
	g := new(Future[U])
	g.t.start(ctx, nil, func(err error) { g.settle(*new(U), err) }, 0)
	f.t.observe()
	w := &chainWaiter[U]{g: g, next: next}
	if !f.t.subscribe(w) {
		w.notify(&f.t)
	}
	return g
}

type chainWaiter[U any] struct {
	g    *Future[U]
	next func(g *Future[U])
}

func (w *chainWaiter[U]) notify(*task) {
	if w.g.t.claimStart() {
		w.next(w.g)
	}
}

// inLoopAfter is Then and Catch inside an event loop: a loop task that waits
// for f in the loop, then runs fn there.
func inLoopAfter[T, U any](l *loop, ctx context.Context, f *Future[T], fn func(context.Context) (U, error)) *Future[U] {
	f.t.observe()
	return spawnLoop(l, ctx, func(ctx context.Context) (U, error) {
		if err := f.t.wait(ctx); err != nil {
			return *new(U), err
		}
		return fn(ctx)
	}, nil)
}
