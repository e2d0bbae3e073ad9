package async

import "context"

// Offload runs fn outside the event loop and returns its future: the seed's
// "use a thread pool for CPU-heavy or blocking work". Inside a loop (see
// [RunLoop]), fn runs on one of at most GOMAXPROCS goroutines per loop while
// loop tasks go on; awaiting the future gives the loop up; tasks fn starts are
// not loop tasks; and a virtual clock never jumps past offloaded work that
// is still running. Outside a loop, Offload is [Go]. It panics if ctx or fn
// is nil.
func Offload[T any](ctx context.Context, fn func(context.Context) (T, error)) *Future[T] {
	checkCtx("Offload", ctx)
	if fn == nil {
		panic("async: Offload with nil function")
	}
	l := loopOf(ctx)
	if l == nil {
		return spawn(ctx, fn, nil)
	}
	f := new(Future[T])
	f.t.start(ctx, nil, nil, 0)
	f.t.state.Or(stOffload) // before anyone sees f: its context is not the loop's
	l.mu.Lock()
	l.externals++
	l.mu.Unlock()
	go func() {
		l.offload <- struct{}{}
		defer func() {
			<-l.offload
			l.mu.Lock()
			l.externals--
			if l.holder == nil {
				l.dispatch(nil) // the clock may move now
			}
			l.mu.Unlock()
		}()
		f.run(fn)
	}()
	return f
}
