package async

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/goasync/async/internal/option"
	"github.com/goasync/async/internal/vclock"
)

// A loop runs its tasks cooperatively: each loop task is a goroutine, but
// only the holder of the loop (the "baton") executes; the others are parked.
// A task gives the loop up only while it blocks in this package, and whoever
// completes what it waits for marks it ready synchronously, so the order in
// which tasks run is decided by the loop alone: first in, first out, or by a
// seeded generator.
type loop struct {
	mu    sync.Mutex
	ready []*loopTask // ready[head:] are ready, in order; the buffer is reused
	head  int
	// switched is when the loop last changed hands: one clock read per
	// switch serves both the slow-task report and the next holder.
	switched time.Time
	parked   []*loopTask // waiting in blockUntil (order kept deterministic, not FIFO)
	// needScan says a context some parked task waits with may have ended:
	// set synchronously by the loop's, its scopes' and its tasks' cancel,
	// and by the callbacks watching other contexts.
	needScan  atomic.Bool
	holder    *loopTask // who runs; nil when the loop is idle; &l.dispatcher while timers fire
	live      int       // loop tasks not yet finished
	externals int       // work outside the loop the loop waits for (Offload)
	closed    bool      // every task finished; no more loop tasks
	finished  chan struct{}
	rng       *rand.Rand // nil: FIFO
	clock     *vclock.Clock
	slow      time.Duration
	offload   chan struct{} // bounds concurrent Offload functions
	failed    []*task       // loop tasks that failed; unobserved ones fail the loop
	cancel    context.CancelCauseFunc
	// dispatcher is the holder while virtual timers fire.
	dispatcher loopTask
}

// A loopTask is a task's membership in a loop.
type loopTask struct {
	l      *loop
	t      *task
	wake   chan struct{} // receives the loop; buffered so a handoff never blocks
	queued bool          // in l.ready; guarded by l.mu
	parkAt int           // index in l.parked while parked; guarded by l.mu
	exited bool          // guarded by l.mu
	since  time.Time     // when it last took the loop, for slow-task reports
	main   bool          // RunLoop's main: its context lasts as long as the loop
	// waitCtx is the context lt waits with while parked; guarded by l.mu.
	waitCtx context.Context
}

// loopsRunning counts running loops, so that code outside any loop pays one
// atomic load to learn it is not in one.
var loopsRunning atomic.Int32

type loopKey struct{}

var loopOptions = option.Of(option.Name, option.Seed, option.VirtualTime, option.SlowTask)

// ErrNestedLoop is returned by [RunLoop] called from inside a loop.
var ErrNestedLoop = errors.New("async: RunLoop called inside a loop task (run the function directly, or Offload it)")

// RunLoop runs main as the first task of a new cooperative event loop and
// returns when main and every loop task started from it have returned.
//
// Inside the loop, every task started with [Go], [Func], [Then], [Catch],
// [Spawn] or a [Scope] from a loop context is a loop task, and at most one
// loop task executes at any instant: a task gives the loop up only while it
// is blocked in this package ([Future.Await], the combinators, [Sleep],
// [Yield], [Queue], [Event], [Scope.Wait]) and takes it back before returning
// to its caller. Code in loop tasks therefore needs no locks for state only
// loop tasks touch. Blocking any other way (a mutex, a channel, time.Sleep,
// I/O) holds the loop; use [Offload] for such work. Pass the task's context
// to blocking calls: that is how they know they run in the loop.
//
// Without options the ready tasks run first in, first out. [Seed] picks the
// next ready task with a generator seeded by n, so a run's interleaving is
// reproducible; [VirtualTime] makes Sleep and Timeout use a clock that jumps
// ahead whenever every loop task is waiting on time; [SlowTask] sets how long
// a task may hold the loop before it is reported (default 100 ms).
//
// RunLoop returns main's error. A loop task that failed without anyone
// observing its error (awaiting it, a combinator, Then or Catch) is a failure
// of the loop too: RunLoop returns it, or an [*AggregateError] of main's
// error and such failures. If main fails, the loop's context is canceled,
// with main's error as cause. RunLoop called inside a loop returns
// [ErrNestedLoop]; it panics if ctx or main is nil.
func RunLoop(ctx context.Context, main func(context.Context) error, opts ...Option) error {
	checkCtx("RunLoop", ctx)
	if main == nil {
		panic("async: RunLoop with nil main")
	}
	c := parseOptions("RunLoop", loopOptions, opts)
	if InLoop(ctx) {
		return ErrNestedLoop
	}
	l := &loop{finished: make(chan struct{}), slow: 100 * time.Millisecond}
	if c.HasSeed {
		l.rng = rand.New(rand.NewPCG(uint64(c.Seed), uint64(c.Seed)^0x9e3779b97f4a7c15))
	}
	if c.VirtualTime {
		l.clock = vclock.New(time.Now())
	}
	if c.SlowTask > 0 {
		l.slow = c.SlowTask
	}
	l.offload = make(chan struct{}, runtime.GOMAXPROCS(0))

	loopsRunning.Add(1)
	defer loopsRunning.Add(-1)
	lctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	l.cancel = func(cause error) { cancel(cause); l.needScan.Store(true) }
	lctx = context.WithValue(lctx, loopKey{}, l)
	// The caller's context ending while every task is parked: nothing in
	// the loop would notice, so a watch wakes it to look.
	stopWatch := context.AfterFunc(lctx, func() {
		l.needScan.Store(true)
		l.kick()
	})
	defer stopWatch()

	name := c.Name
	if name == "" {
		name = "main"
	}
	mc := config{Name: name}
	mf := spawnLoopTask(l, lctx, func(ctx context.Context) (struct{}, error) {
		return struct{}{}, main(ctx)
	}, &mc, true)
	mf.t.observe() // main's outcome is RunLoop's
	<-l.finished

	_, err := mf.Await(ctx)
	if te := (*TaskError)(nil); errors.As(err, &te) && te.Task == "main" && c.Name == "" {
		err = te.Err // the default name is ours, not the caller's
	}
	// A failure nobody observed by the end of the loop is the loop's: it is
	// returned, so it is not reported again as unobserved.
	var failures []error
	l.mu.Lock()
	for _, t := range l.failed {
		if t.state.Load()&stHandled == 0 {
			t.observe()
			failures = append(failures, t.err)
		}
	}
	l.mu.Unlock()
	switch {
	case len(failures) == 0:
		return err
	case err == nil && len(failures) == 1:
		return failures[0]
	case err == nil:
		return &AggregateError{Errors: failures}
	default:
		return &AggregateError{Errors: append([]error{err}, failures...)}
	}
}

// InLoop reports whether ctx belongs to a task of a running loop (tasks
// started with [Offload] are not in the loop).
func InLoop(ctx context.Context) bool {
	checkCtx("InLoop", ctx)
	return loopOf(ctx) != nil
}

// loopOf returns the loop ctx belongs to, or nil.
func loopOf(ctx context.Context) *loop {
	if loopsRunning.Load() == 0 {
		return nil
	}
	l, _ := ctx.Value(loopKey{}).(*loop)
	if l != nil {
		l.mu.Lock()
		closed := l.closed
		l.mu.Unlock()
		if closed {
			return nil
		}
	}
	return l
}

// runningLoopTask returns the loop task that ctx belongs to if that task
// holds its loop now, which is what a blocking call needs to know to give
// the loop up instead of blocking it.
func runningLoopTask(ctx context.Context) *loopTask {
	if loopsRunning.Load() == 0 {
		return nil
	}
	t := taskOfContext(ctx)
	if t == nil {
		return nil
	}
	x := t.x.Load()
	if x == nil || x.lt == nil {
		return nil
	}
	lt := x.lt
	lt.l.mu.Lock()
	holds := lt.l.holder == lt
	lt.l.mu.Unlock()
	if !holds {
		return nil
	}
	return lt
}

// spawnLoop starts fn as a loop task: its goroutine waits for the loop
// before running.
func spawnLoop[T any](l *loop, ctx context.Context, fn func(context.Context) (T, error), c *config) *Future[T] {
	return spawnLoopTask(l, ctx, fn, c, false)
}

func spawnLoopTask[T any](l *loop, ctx context.Context, fn func(context.Context) (T, error), c *config, main bool) *Future[T] {
	f := new(Future[T])
	lt := &loopTask{l: l, t: &f.t, wake: make(chan struct{}, 1), main: main}
	f.t.startLoop(ctx, c, lt)
	l.start(lt, func() { f.run(fn) })
	return f
}

// start admits lt, whose task was started with startLoop, and runs body on a
// new goroutine once lt holds the loop.
func (l *loop) start(lt *loopTask, body func()) {
	l.admit(lt)
	go func() {
		<-lt.wake
		defer l.exit(lt)
		body()
	}()
}

// current returns the loop task that holds l now, or nil. Blocking calls
// without a context (Scope.Wait, Scope.Start) use it: in a loop only the
// holder runs loop code.
func (l *loop) current() *loopTask {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.holder == &l.dispatcher {
		return nil
	}
	return l.holder
}

// startLoop is start for a loop task: it links to its parent through a
// callback (so the end of the parent wakes it where it waits), and a Timeout
// runs on the loop's clock when the loop has a virtual one.
func (t *task) startLoop(parent context.Context, c *config, lt *loopTask) {
	t.ext().lt = lt
	if lt.l.clock != nil && c != nil && c.Timeout > 0 {
		d := c.Timeout
		cc := *c
		cc.Timeout = 0
		c = &cc
		t.ext().deadline = lt.l.clock.Now().Add(d)
		lt.l.clock.AfterFunc(d, func() { t.cancel(ctxTimeout, nil) })
	}
	t.start(parent, c, nil)
}

// admit counts a new loop task and queues it.
func (l *loop) admit(lt *loopTask) {
	l.mu.Lock()
	l.live++
	l.enqueue(lt)
	if l.holder == nil {
		l.dispatch()
	}
	l.mu.Unlock()
}

// exit runs when a loop task's function has returned and its future has
// settled: it gives the loop to the next task.
func (l *loop) exit(lt *loopTask) {
	t := lt.t
	if lt.main && t.err != nil {
		l.cancel(t.err)
	}
	l.mu.Lock()
	if !lt.main && t.state.Load()&stFailed != 0 && !errors.Is(t.err, context.Canceled) {
		l.failed = append(l.failed, t)
	}
	l.reportSlow(lt)
	lt.exited = true
	if lt.queued {
		l.unqueue(lt)
	}
	l.live--
	if l.holder == lt {
		l.dispatch()
	}
	if l.live == 0 && !l.closed {
		l.closed = true
		close(l.finished)
	}
	l.mu.Unlock()
}

func (l *loop) enqueue(lt *loopTask) {
	if lt.queued || lt.exited {
		return
	}
	lt.queued = true
	l.ready = append(l.ready, lt)
}

func (l *loop) unqueue(lt *loopTask) {
	for i := l.head; i < len(l.ready); i++ {
		if r := l.ready[i]; r == lt {
			l.ready = append(l.ready[:i], l.ready[i+1:]...)
			break
		}
	}
	lt.queued = false
}

// dispatch hands the loop to the next ready task. With none ready and a
// virtual clock, when nothing outside the loop is running, it moves the clock
// to the next timer and fires it. Otherwise the loop goes idle, and the next
// task made ready takes it. Called with l.mu held.
func (l *loop) dispatch() {
	for {
		if n := len(l.ready) - l.head; n > 0 {
			if l.rng != nil { // move the pick to the front
				i := l.head + l.rng.IntN(n)
				l.ready[l.head], l.ready[i] = l.ready[i], l.ready[l.head]
			}
			lt := l.ready[l.head]
			l.ready[l.head] = nil
			if l.head++; l.head == len(l.ready) {
				l.ready, l.head = l.ready[:0], 0
			}
			lt.queued = false
			l.holder = lt
			if l.switched.IsZero() {
				l.switched = time.Now()
			}
			lt.since = l.switched
			l.switched = time.Time{}
			lt.wake <- struct{}{}
			return
		}
		// A parked task whose context has ended is ready. Looking here,
		// at a point the loop controls, keeps runs reproducible: the
		// callbacks that also report it run on goroutines of their own.
		woke := false
		if l.needScan.Swap(false) {
			for _, p := range l.parked {
				if !p.queued && p.waitCtx != nil && p.waitCtx.Err() != nil {
					l.enqueue(p)
					woke = true
				}
			}
		}
		if woke {
			continue
		}
		if l.clock != nil && l.externals == 0 && l.live > 0 {
			l.holder = &l.dispatcher
			l.mu.Unlock()
			fired := l.clock.Advance() // timer callbacks make tasks ready
			l.mu.Lock()
			if fired {
				continue
			}
		}
		l.holder = nil
		return
	}
}

// kick makes an idle loop look for work (ended contexts, due timers).
func (l *loop) kick() {
	l.mu.Lock()
	if l.holder == nil {
		l.dispatch()
	}
	l.mu.Unlock()
}

// watchesParent reports whether a loop task must register a callback to hear
// of parent's end. The loop's own contexts need none: their cancel flags
// the loop to look (needScan), and a parked task's Err reads its parent's.
// A context the user derived is cancelled without the loop knowing.
func (lt *loopTask) watchesParent(parent context.Context) bool {
	if lt == nil || lt.main {
		return false
	}
	switch p := parent.(type) {
	case *task:
		return p.loopTask() == nil
	case loopScopeCtx:
		return false
	}
	return true
}

// loopScopeCtx marks a scope's context inside a loop: the scope's cancel
// tells the loop, so children need not watch it.
type loopScopeCtx struct{ context.Context }

// makeReady queues lt to run; if the loop is idle, lt takes it now.
func (l *loop) makeReady(lt *loopTask) {
	l.mu.Lock()
	l.enqueue(lt)
	if l.holder == nil {
		l.dispatch()
	}
	l.mu.Unlock()
}

// park gives the loop up and waits to be handed it again. lt must hold it.
func (l *loop) park(lt *loopTask, ctx context.Context) {
	l.mu.Lock()
	l.reportSlow(lt)
	lt.waitCtx = ctx
	lt.parkAt = len(l.parked)
	l.parked = append(l.parked, lt)
	l.dispatch()
	l.mu.Unlock()
	<-lt.wake
	l.mu.Lock()
	lt.waitCtx = nil
	last := len(l.parked) - 1
	l.parked[lt.parkAt] = l.parked[last]
	l.parked[lt.parkAt].parkAt = lt.parkAt
	l.parked[last] = nil
	l.parked = l.parked[:last]
	l.mu.Unlock()
}

// wakeParked makes lt ready if it is parked: a late callback about a context
// that ended finds lt already gone on, and does nothing.
func (l *loop) wakeParked(lt *loopTask) {
	l.needScan.Store(true)
	l.mu.Lock()
	if lt.waitCtx != nil {
		l.enqueue(lt)
		if l.holder == nil {
			l.dispatch()
		}
	}
	l.mu.Unlock()
}

// reportSlow warns when lt held the loop longer than the threshold. Called
// with l.mu held, when lt gives the loop up.
func (l *loop) reportSlow(lt *loopTask) {
	if l.holder != lt || lt.since.IsZero() {
		return
	}
	l.switched = time.Now() // the next holder starts now
	if held := l.switched.Sub(lt.since); held > l.slow {
		args := []any{"held", held, "threshold", l.slow}
		if name := lt.t.name(); name != "" {
			args = append(args, "task", name)
		}
		if created := lt.t.createdStack(); created != nil {
			args = append(args, "created", string(created))
		}
		slog.Warn("async: a loop task held the event loop too long (blocking call? use Offload)", args...)
	}
}

// blockUntil gives the loop up until done() is true or ctx ends. Whatever
// makes done() true must call l.makeReady(lt). The end of lt's own context
// wakes it synchronously (task.cancel); another context that can end wakes
// it through context.AfterFunc.
func (l *loop) blockUntil(lt *loopTask, ctx context.Context, done func() bool) error {
	if ctx != context.Context(lt.t) && ctx.Done() != nil {
		// For an idle loop; a busy one finds the ended context itself.
		stop := context.AfterFunc(ctx, func() { l.wakeParked(lt) })
		defer stop()
	}
	for !done() {
		if ctx.Err() != nil {
			return ctxError(ctx)
		}
		l.park(lt, ctx)
	}
	return nil
}

// loopWaiter wakes a loop task when a future it awaits settles.
type loopWaiter struct{ lt *loopTask }

func (w *loopWaiter) notify(*task) { w.lt.l.makeReady(w.lt) }

// waitInLoop is task.wait for a loop task: it gives the loop up while t is
// pending.
func (t *task) waitInLoop(lt *loopTask, ctx context.Context) error {
	w := &loopWaiter{lt}
	if t.subscribe(w) {
		defer t.unsubscribe(w)
	}
	return lt.l.blockUntil(lt, ctx, func() bool { return t.state.Load()&stSettled != 0 })
}

// Yield lets the other ready loop tasks run before the caller continues
// (asyncio.sleep(0)). Outside a loop it yields the processor. It returns
// ctx's error if ctx has ended.
func Yield(ctx context.Context) error {
	checkCtx("Yield", ctx)
	if lt := runningLoopTask(ctx); lt != nil {
		l := lt.l
		l.mu.Lock()
		l.enqueue(lt)
		l.mu.Unlock()
		l.park(lt, nil)
	} else {
		runtime.Gosched()
	}
	if ctx.Err() != nil {
		return ctxError(ctx)
	}
	return nil
}

// Now returns the current time of ctx's loop clock: the virtual time inside
// a loop run with [VirtualTime], and time.Now() otherwise.
func Now(ctx context.Context) time.Time {
	checkCtx("Now", ctx)
	if l := loopOf(ctx); l != nil && l.clock != nil {
		return l.clock.Now()
	}
	return time.Now()
}

// sleepInLoop is Sleep for a loop task on a virtual clock.
func sleepInLoop(lt *loopTask, ctx context.Context, d time.Duration) error {
	var fired atomic.Bool
	stop := lt.l.clock.AfterFunc(d, func() {
		fired.Store(true)
		lt.l.makeReady(lt)
	})
	defer stop()
	return lt.l.blockUntil(lt, ctx, fired.Load)
}

// Seed makes a loop pick the next ready task with a generator seeded by n,
// so that a run's interleaving can be reproduced. Without it, ready tasks
// run first in, first out.
func Seed(n int64) Option { return option.New(option.Seed, n, "") }

// VirtualTime makes a loop's Sleep and Timeout use a virtual clock that jumps
// to the next timer as soon as every loop task is waiting on time and no
// offloaded work is running. [Now] reads it.
func VirtualTime() Option { return option.New(option.VirtualTime, 0, "") }

// SlowTask sets how long a loop task may hold the loop before it is reported
// with log/slog at Warn level (default 100 ms). It panics if d <= 0.
func SlowTask(d time.Duration) Option {
	if d <= 0 {
		panic(fmt.Sprintf("async: SlowTask(%v): threshold must be positive", d))
	}
	return option.New(option.SlowTask, int64(d), "")
}
