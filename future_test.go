package async

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
	"unsafe"
)

var bg = context.Background()

func TestGoReturnsValueAndError(t *testing.T) {
	v, err := Go(bg, value(42)).Await(bg)
	if v != 42 || err != nil {
		t.Fatalf("got %v, %v; want 42, nil", v, err)
	}
	boom := errors.New("boom")
	_, err = Go(bg, failing[int](boom)).Await(bg)
	if err != boom {
		t.Fatalf("got %v; want the task's own error, unwrapped", err)
	}
}

func TestGoContextCarriesParentValues(t *testing.T) {
	type key struct{}
	ctx := context.WithValue(bg, key{}, "v")
	got, _ := Go(ctx, func(ctx context.Context) (any, error) { return ctx.Value(key{}), nil }).Await(bg)
	if got != "v" {
		t.Fatalf("task saw %v; want the parent's value", got)
	}
}

func TestAwaitContextEndsFirstLeavesFutureIntact(t *testing.T) {
	release := make(chan struct{})
	f := Go(bg, func(context.Context) (int, error) { <-release; return 7, nil })

	ctx, cancel := context.WithCancel(bg)
	cancel()
	_, err := f.Await(ctx)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Await with ended ctx: %v; want context.Canceled", err)
	}
	cause := errors.New("gave up")
	ctx, cancelCause := context.WithCancelCause(bg)
	cancelCause(cause)
	if _, err := f.Await(ctx); !errors.Is(err, context.Canceled) || !errors.Is(err, cause) {
		t.Fatalf("Await: %v; want context.Canceled and the cause", err)
	}
	if _, done := f.Peek(); done {
		t.Fatal("future settled because an awaiter gave up")
	}
	close(release)
	if v, err := f.Await(bg); v != 7 || err != nil {
		t.Fatalf("re-await got %v, %v; want 7, nil", v, err)
	}
}

func TestAwaitWithCancellableContextWaits(t *testing.T) {
	ctx, cancel := context.WithCancel(bg)
	defer cancel()
	release := make(chan struct{})
	f := Go(bg, func(context.Context) (string, error) { <-release; return "ok", nil })
	go close(release)
	if v, err := f.Await(ctx); v != "ok" || err != nil {
		t.Fatalf("got %q, %v", v, err)
	}
}

func TestAwaitSettledDoesNotAllocate(t *testing.T) {
	f := Resolved(3)
	g := Go(bg, value(4))
	g.Await(bg)
	ctx, cancel := context.WithCancel(bg)
	defer cancel()
	allocs := testing.AllocsPerRun(100, func() {
		f.Await(bg)
		g.Await(ctx)
	})
	if allocs != 0 {
		t.Fatalf("Await on settled futures allocated %v times", allocs)
	}
}

func TestCancel(t *testing.T) {
	started := make(chan struct{})
	f := Go(bg, func(ctx context.Context) (int, error) {
		close(started)
		<-ctx.Done()
		if context.Cause(ctx) != ErrCanceled {
			return 0, errors.New("cause is not ErrCanceled")
		}
		return 0, ctx.Err()
	})
	<-started
	f.Cancel()
	_, err := f.Await(bg)
	if !errors.Is(err, ErrCanceled) || !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v; want ErrCanceled and context.Canceled", err)
	}
	f.Cancel() // settled: no-op
	if _, err2 := f.Await(bg); err2 != err {
		t.Fatalf("Cancel after settling changed the result to %v", err2)
	}
}

func TestCancelBeforeTaskLooks(t *testing.T) {
	gate := make(chan struct{})
	f := Go(bg, func(ctx context.Context) (int, error) {
		<-gate
		return 0, ctx.Err()
	})
	f.Cancel()
	close(gate)
	if _, err := f.Await(bg); !errors.Is(err, ErrCanceled) {
		t.Fatalf("got %v; want ErrCanceled", err)
	}
}

func TestCancelIgnoredTaskSucceeds(t *testing.T) {
	gate := make(chan struct{})
	f := Go(bg, func(ctx context.Context) (int, error) { <-gate; return 1, nil })
	f.Cancel()
	close(gate)
	if v, err := f.Await(bg); v != 1 || err != nil {
		t.Fatalf("a task that ignores cancellation and succeeds: got %v, %v", v, err)
	}
}

func TestParentCancellationReachesTask(t *testing.T) {
	ctx, cancel := context.WithCancelCause(bg)
	stop := errors.New("shutting down")
	f := Go(ctx, func(ctx context.Context) (int, error) { <-ctx.Done(); return 0, context.Cause(ctx) })
	cancel(stop)
	_, err := f.Await(bg)
	if !errors.Is(err, stop) {
		t.Fatalf("got %v; want the parent's cause", err)
	}
	if errors.Is(err, ErrCanceled) {
		t.Fatalf("%v matches ErrCanceled, but the future itself was not canceled", err)
	}
}

func TestParentAlreadyCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(bg)
	cancel()
	_, err := Go(ctx, func(ctx context.Context) (int, error) { return 0, ctx.Err() }).Await(bg)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v", err)
	}
}

func TestNestedTaskCanceledWithParentTask(t *testing.T) {
	inner := make(chan *Future[int], 1)
	outer := Go(bg, func(ctx context.Context) (int, error) {
		g := Go(ctx, func(ctx context.Context) (int, error) { <-ctx.Done(); return 0, ctx.Err() })
		inner <- g
		<-ctx.Done()
		return 0, ctx.Err()
	})
	g := <-inner
	outer.Cancel()
	if _, err := g.Await(bg); !errors.Is(err, context.Canceled) || errors.Is(err, ErrCanceled) {
		t.Fatalf("inner got %v; want context.Canceled from its parent, not its own ErrCanceled", err)
	}
	if _, err := outer.Await(bg); !errors.Is(err, ErrCanceled) {
		t.Fatalf("outer got %v", err)
	}
}

func TestTaskContextEndsWhenTaskReturns(t *testing.T) {
	ctxs := make(chan context.Context, 1)
	Go(bg, func(ctx context.Context) (int, error) { ctxs <- ctx; return 0, nil }).Await(bg)
	ctx := <-ctxs
	select {
	case <-ctx.Done():
	default:
		t.Fatal("task context still live after the task returned")
	}
	if ctx.Err() != context.Canceled {
		t.Fatalf("Err = %v", ctx.Err())
	}
}

func TestDerivedContextsFollowTheTask(t *testing.T) {
	type key struct{}
	derived := make(chan context.Context, 3)
	f := Go(bg, func(ctx context.Context) (int, error) {
		c1, cancel1 := context.WithCancel(ctx)
		defer cancel1()
		// A value context in between must not hide the task from its children.
		c2, cancel2 := context.WithTimeout(context.WithValue(ctx, key{}, 1), time.Hour)
		defer cancel2()
		stopped := make(chan struct{})
		context.AfterFunc(ctx, func() { close(stopped) })
		derived <- c1
		derived <- c2
		<-c1.Done()
		<-c2.Done()
		<-stopped
		if context.Cause(c1) != ErrCanceled || context.Cause(c2) != ErrCanceled {
			return 0, errors.New("derived contexts lost the cause")
		}
		return 0, ctx.Err()
	})
	<-derived
	<-derived
	f.Cancel()
	if _, err := f.Await(bg); !errors.Is(err, ErrCanceled) {
		t.Fatalf("got %v", err)
	}
}

// Deriving contexts from a task's context must not start a goroutine per
// derived context (the standard library does that for contexts it does not
// recognise); the task's inner context makes it recognise ours.
func TestDerivedContextsStartNoGoroutine(t *testing.T) {
	type key struct{}
	counts := make(chan [2]int, 1)
	Go(bg, func(ctx context.Context) (int, error) {
		before := runtime.NumGoroutine()
		var cancels []context.CancelFunc
		for range 100 {
			c, cancel := context.WithCancel(context.WithValue(ctx, key{}, 1))
			cancels = append(cancels, cancel)
			_ = c
		}
		counts <- [2]int{before, runtime.NumGoroutine()}
		for _, c := range cancels {
			c()
		}
		return 0, nil
	}).Await(bg)
	c := <-counts
	if c[1] > c[0]+5 {
		t.Fatalf("goroutines went from %d to %d while deriving 100 contexts", c[0], c[1])
	}
}

func TestContextCauseOfCanceledTask(t *testing.T) {
	causes := make(chan error, 1)
	f := Go(bg, func(ctx context.Context) (int, error) {
		<-ctx.Done()
		causes <- context.Cause(ctx)
		return 0, ctx.Err()
	})
	f.Cancel()
	f.Await(bg)
	if c := <-causes; c != ErrCanceled {
		t.Fatalf("context.Cause = %v; want ErrCanceled", c)
	}
}

func TestTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var deadline time.Time
		f := Go(bg, func(ctx context.Context) (int, error) {
			deadline, _ = ctx.Deadline()
			<-ctx.Done()
			return 0, ctx.Err()
		}, Timeout(time.Second))
		start := time.Now()
		_, err := f.Await(bg)
		if !errors.Is(err, ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("got %v; want ErrTimeout and DeadlineExceeded", err)
		}
		if got := time.Since(start); got != time.Second {
			t.Fatalf("timed out after %v; want 1s", got)
		}
		if !deadline.Equal(start.Add(time.Second)) {
			t.Fatalf("Deadline = %v; want start+1s", deadline)
		}
	})
}

func TestTimeoutOfCallerIsNotErrTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(bg, time.Second)
		defer cancel()
		f := Go(ctx, func(ctx context.Context) (int, error) { <-ctx.Done(); return 0, ctx.Err() }, Timeout(time.Hour))
		_, err := f.Await(bg)
		if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ErrTimeout) {
			t.Fatalf("got %v; want DeadlineExceeded from the caller's context, not ErrTimeout", err)
		}
	})
}

func TestTimeoutNotReachedLeavesNoTimer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		v, err := Go(bg, value(5), Timeout(time.Hour)).Await(bg)
		if v != 5 || err != nil {
			t.Fatal(v, err)
		}
		// synctest.Test fails if a goroutine or timer is left running in the bubble.
	})
}

func TestNamedTaskErrors(t *testing.T) {
	boom := errors.New("boom")
	_, err := Go(bg, failing[int](boom), Name("fetch")).Await(bg)
	var te *TaskError
	if !errors.As(err, &te) || te.Task != "fetch" || !errors.Is(err, boom) {
		t.Fatalf("got %v; want a TaskError named fetch wrapping boom", err)
	}
	_, err = Go(bg, func(context.Context) (int, error) { panic("x") }, Name("p")).Await(bg)
	var pe *PanicError
	if !errors.As(err, &pe) || pe.Task != "p" || errors.As(err, &te) {
		t.Fatalf("got %#v; a panic carries the name itself, without a TaskError", err)
	}
}

func TestGoexit(t *testing.T) {
	_, err := Go(bg, func(context.Context) (int, error) { runtime.Goexit(); return 1, nil }).Await(bg)
	if !errors.Is(err, ErrGoexit) {
		t.Fatalf("got %v; want ErrGoexit", err)
	}
}

func TestFunc(t *testing.T) {
	double := Func(func(ctx context.Context, n int) (int, error) { return 2 * n, nil }, Name("double"))
	a, b := double(bg, 2), double(bg, 5)
	x, y, err := All2(bg, a, b)
	if x != 4 || y != 10 || err != nil {
		t.Fatal(x, y, err)
	}
}

// A call of an async function keeps its argument with the future until the
// function runs, and not after: a settled future does not keep it alive.
func TestFuncReleasesArgument(t *testing.T) {
	type big struct{ b [1 << 10]byte }
	use := Func(func(_ context.Context, p *big) (int, error) { return len(p.b), nil })
	check := func(t *testing.T, ctx context.Context) {
		p := new(big)
		released := make(chan struct{})
		runtime.AddCleanup(p, func(ch chan struct{}) { close(ch) }, released)
		f := use(ctx, p)
		p = nil
		if n, err := f.Await(ctx); n != 1<<10 || err != nil {
			t.Fatal(n, err)
		}
		for i := 0; ; i++ {
			runtime.GC()
			select {
			case <-released:
				runtime.KeepAlive(f)
				return
			default:
			}
			if i == 100 {
				t.Fatal("a settled future keeps its function's argument alive")
			}
			runtime.Gosched()
		}
	}
	t.Run("go", func(t *testing.T) { check(t, bg) })
	t.Run("loop", func(t *testing.T) {
		_ = RunLoop(bg, func(ctx context.Context) error { check(t, ctx); return nil }, SlowTask(time.Hour))
	})
}

func TestPeekAndDone(t *testing.T) {
	p := NewPromise[int]()
	f := p.Future()
	if _, done := f.Peek(); done {
		t.Fatal("pending future peeked as done")
	}
	d := f.Done()
	select {
	case <-d:
		t.Fatal("Done closed early")
	default:
	}
	p.Resolve(9)
	<-d
	if r, done := f.Peek(); !done || r.Value != 9 || r.Err != nil {
		t.Fatalf("Peek = %+v, %v", r, done)
	}
	select {
	case <-f.Done():
	default:
		t.Fatal("Done after settling returned an open channel")
	}
}

func TestResolvedRejected(t *testing.T) {
	if v, err := Resolved("x").Await(bg); v != "x" || err != nil {
		t.Fatal(v, err)
	}
	boom := errors.New("boom")
	if _, err := Rejected[int](boom).Await(bg); err != boom {
		t.Fatal(err)
	}
	select {
	case <-Resolved(1).Done():
	default:
		t.Fatal("Resolved future's Done is open")
	}
}

func TestProgrammerErrorsPanicAtCallSite(t *testing.T) {
	var nilCtx context.Context
	mustPanic(t, "nil Context", func() { Go(nilCtx, value(1)) })
	mustPanic(t, "nil function", func() { Go[int](bg, nil) })
	mustPanic(t, "nil function", func() { Func[int, int](nil) })
	mustPanic(t, "Rejected(nil)", func() { Rejected[int](nil) })
	mustPanic(t, "Timeout", func() { Timeout(0) })
	mustPanic(t, "Timeout", func() { Timeout(-time.Second) })
	mustPanic(t, "Go: nil option", func() { Go(bg, value(1), nil) })
	mustPanic(t, "zero Future", func() { new(Future[int]).Await(bg) })
	mustPanic(t, "zero Future", func() { new(Future[int]).Cancel() })
	mustPanic(t, "nil *Future", func() { (*Future[int])(nil).Await(bg) })
	mustPanic(t, "nil Context", func() { NewPromise[int]().Future().Await(nilCtx) })
	mustPanic(t, "nil Context", func() { Sleep(nilCtx, 0) })
}

// The loop membership that precedes a loop task is found by address
// (task.loopTask, loopTask.task): it must sit right before the future,
// whatever T is.
func TestTaskPrefixes(t *testing.T) {
	checkPrefixes[int](t)
	checkPrefixes[struct{}](t)
	checkPrefixes[[3]byte](t)
	checkPrefixes[struct{ n atomic.Int64 }](t)
	checkPrefixes[[]string](t)

	if unsafe.Sizeof(uintptr(0)) == 8 {
		// The sizes the memory targets rest on (64-bit).
		for _, c := range []struct {
			what      string
			got, want uintptr
		}{
			{"task", unsafe.Sizeof(task{}), 72},
			{"Future[int]", unsafe.Sizeof(Future[int]{}), 80},
			{"loopFuture[int]", unsafe.Sizeof(loopFuture[int]{}), 144},
			{"loopCall[int, int]", unsafe.Sizeof(loopCall[int, int]{}), 144},
		} {
			if c.got > c.want {
				t.Errorf("%s is %d bytes, want at most %d", c.what, c.got, c.want)
			}
		}
	}
}

func checkPrefixes[T any](t *testing.T) {
	t.Helper()
	lt := unsafe.Sizeof(loopTask{})
	for _, c := range []struct {
		what      string
		got, want uintptr
	}{
		{"loopFuture.f", unsafe.Offsetof(loopFuture[T]{}.f), lt},
		{"loopFuture.lt", unsafe.Offsetof(loopFuture[T]{}.lt), 0}, // its body finds it from lt
		{"loopCall.f", unsafe.Offsetof(loopCall[T, T]{}.f), lt},
		{"loopCall.lt", unsafe.Offsetof(loopCall[T, T]{}.lt), 0},
		{"loopSpawn.c", unsafe.Offsetof(loopSpawn[T]{}.c), lt},
		{"spawnChild.f", unsafe.Offsetof(spawnChild[T]{}.f), 0},
		{"Future.t", unsafe.Offsetof(Future[T]{}.t), 0},
		{"goCall.f", unsafe.Offsetof(goCall[T, T]{}.f), 0}, // its start finds the call from its task
	} {
		if c.got != c.want {
			t.Errorf("%T: offset of %s is %d, want %d", *new(T), c.what, c.got, c.want)
		}
	}
	b := new(loopFuture[T])
	b.f.t.state.Store(stLoop)
	if b.f.t.loopTask() != &b.lt || b.lt.task() != &b.f.t {
		t.Errorf("%T: loop membership and task do not find each other", *new(T))
	}
}

// task.initState writes an atomic.Uint32 as a plain uint32.
func TestInitStateLayout(t *testing.T) {
	var u atomic.Uint32
	if unsafe.Sizeof(u) != 4 {
		t.Fatalf("atomic.Uint32 is %d bytes", unsafe.Sizeof(u))
	}
	var tk task
	tk.initState(stInit | stLoop)
	if tk.state.Load() != stInit|stLoop {
		t.Fatalf("state %b", tk.state.Load())
	}
}

// Many Awaits on one pending future: the first has a channel of its own,
// the others share the future's done channel, so none is added to a list of
// waiters, and those whose context ends leave nothing behind.
func TestAwaitersShareOneChannel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := NewPromise[int]()
		f := p.Future()
		ctx, cancel := context.WithCancel(context.Background())
		const n = 100
		vals, errs := make([]int, n), make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				c := context.Background()
				if i%2 == 0 {
					c = ctx
				}
				vals[i], errs[i] = f.Await(c)
			})
		}
		synctest.Wait() // every Await is blocked
		if x := f.t.x.Load(); x == nil || x.done == nil || len(x.more) != 0 {
			t.Fatalf("waiters: want one own channel and the shared done channel, got ext %+v", x)
		}
		cancel()
		synctest.Wait()
		p.Resolve(7)
		wg.Wait()
		for i := range n {
			if i%2 == 0 {
				if !errors.Is(errs[i], context.Canceled) {
					t.Errorf("Await %d with a canceled context: %v", i, errs[i])
				}
			} else if vals[i] != 7 || errs[i] != nil {
				t.Errorf("Await %d: %d, %v; want 7, nil", i, vals[i], errs[i])
			}
		}
	})
}

// A task settles without its lock when nobody watches it (settleReturned).
// These tests pause a task's goroutine between its look at the state and its
// compare-and-swap, add something that the settlement must see, and check
// that it does.

// notifyWaiter records that its task notified it.
type notifyWaiter chan struct{}

func (w notifyWaiter) notify(*task) { close(w) }

// settleAround runs fn as a task's function on a goroutine of its own,
// pauses that goroutine in settleReturned just before its swap, runs meet,
// and returns the future once the goroutine has settled it.
func settleAround(t *testing.T, fn func(context.Context) (int, error), meet func(f *Future[int])) *Future[int] {
	t.Helper()
	f := new(Future[int])
	f.t.start(bg, nil, nil, 0)
	paused, resume, ran := make(chan struct{}), make(chan struct{}), make(chan struct{})
	var once atomic.Bool
	hook := func(tk *task) {
		if tk == &f.t && once.CompareAndSwap(false, true) {
			close(paused)
			<-resume
		}
	}
	settleHookSwapping.Store(&hook)
	defer settleHookSwapping.Store(nil)
	go func() { f.run(fn); close(ran) }()
	<-paused // the task returned, looked at its state, and is about to settle
	if f.t.state.Load()&stSettled != 0 {
		t.Fatal("settled before its swap")
	}
	meet(f)
	close(resume)
	<-ran
	if v, err := f.Await(bg); v != 42 || err != nil {
		t.Fatalf("got %v, %v; want 42, nil", v, err)
	}
	return f
}

func TestSettleMeetsSubscriber(t *testing.T) {
	w := make(notifyWaiter)
	settleAround(t, value(42), func(f *Future[int]) {
		if !f.t.subscribe(w) {
			t.Fatal("subscribe found a task settled that had not swapped its state")
		}
	})
	select {
	case <-w:
	default:
		t.Fatal("a waiter added just before a task settled was not notified")
	}
}

func TestSettleMeetsAwait(t *testing.T) {
	var c <-chan struct{}
	settleAround(t, value(42), func(f *Future[int]) {
		var own awaiter
		if c, own = f.t.awaitChan(); own == nil {
			t.Fatal("a blocked Await on a pending task got no channel of its own")
		}
	})
	select {
	case <-c:
	default:
		t.Fatal("an Await that blocked just before its task settled was not woken")
	}
}

func TestSettleMeetsDone(t *testing.T) {
	var d <-chan struct{}
	settleAround(t, value(42), func(f *Future[int]) { d = f.Done() })
	select {
	case <-d:
	default:
		t.Fatal("Future.Done asked just before the task settled was not closed")
	}
}

func TestSettleMeetsContextDone(t *testing.T) {
	var taskCtx context.Context
	var d <-chan struct{}
	settleAround(t, func(ctx context.Context) (int, error) {
		taskCtx = ctx
		return 42, nil
	}, func(*Future[int]) {
		d = taskCtx.Done() // from another goroutine: makes the standard context (the extension)
	})
	select {
	case <-d:
	default:
		t.Fatal("the context of a task that returned was not ended: asked for Done just before the task settled")
	}
	if err := taskCtx.Err(); err != context.Canceled {
		t.Fatalf("task context Err = %v; want context.Canceled", err)
	}
}

func TestSettleWithoutLockThenWatchers(t *testing.T) {
	var taskCtx context.Context
	f := new(Future[int])
	f.t.start(bg, nil, nil, 0)
	f.run(func(ctx context.Context) (int, error) { taskCtx = ctx; return 42, nil })
	if s := f.t.state.Load(); s&(stSettled|stReturned) != stSettled|stReturned || s&stWatched != 0 {
		t.Fatalf("state %b: want settled and returned without the lock", s)
	}
	if f.t.subscribe(make(notifyWaiter)) {
		t.Fatal("subscribe to a settled task succeeded")
	}
	if c, own := f.t.awaitChan(); c != closedChan || own != nil {
		t.Fatal("awaitChan on a settled task did not return the closed channel")
	}
	select {
	case <-taskCtx.Done():
	default:
		t.Fatal("the context of a settled task is not done")
	}
	if v, err := f.Await(bg); v != 42 || err != nil {
		t.Fatalf("got %v, %v; want 42, nil", v, err)
	}
}
