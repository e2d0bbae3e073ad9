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
	"unsafe"

	"github.com/goasync/async/internal/option"
	"github.com/goasync/async/internal/vclock"
)

// A loop runs its tasks cooperatively: only the holder of the loop executes;
// every other loop task is queued or parked. A task gives the loop up only
// while it blocks in this package, and whoever completes what it waits for
// marks it ready synchronously, so the order in which tasks run is decided
// by the loop alone: first in, first out, or by a seeded generator.
//
// Loop tasks do not get a goroutine each. A task that has not started is a
// function in the ready queue; a worker goroutine that holds the loop runs
// it, and runs the next one when it returns. Only a task that blocks keeps
// its worker (its stack is on it): the loop then goes to the next ready
// task, on a parked task's worker or on a spare one. So a loop that runs
// many short tasks needs a handful of goroutines, and a switch between
// two parked tasks is one goroutine handoff.
type loop struct {
	mu     sync.Mutex
	ready  readyQueue // guarded by mu
	parked []*worker  // workers whose task waits in park (order kept deterministic, not FIFO); guarded by mu
	// needScan says a context some parked task waits with may have ended:
	// set synchronously by the loop's, its scopes' and its tasks' cancel,
	// and by the callbacks watching other contexts.
	needScan atomic.Bool
	// holder is the task that runs: nil when the loop is idle,
	// &l.dispatcher while virtual timers fire. Changed under mu; the
	// holder itself may read it without mu (nobody else changes it then).
	holder *loopTask
	// holding is the holder's address (0: idle), for runningLoopTask,
	// which any goroutine may call: an integer, only ever compared, so
	// that a switch costs no pointer write barrier (l.holder keeps the
	// task alive).
	holding atomic.Uintptr
	main    *loopTask // RunLoop's main, whose context lasts as long as the loop; set before any other task
	// seq counts turns (changes of holder, except to and from a task run
	// in its awaiter's turn), so that the watchdog can tell one long hold
	// from several short ones; guarded by mu.
	seq       uint64
	live      int // loop tasks not yet finished; guarded by mu
	externals int // work outside the loop the loop waits for (Offload); guarded by mu
	closed    atomic.Bool
	finished  chan struct{} // closed when every loop task has finished
	spares    []*worker     // workers with nothing to run; guarded by mu
	workers   sync.WaitGroup
	made      int        // workers started, ever (tests read it); guarded by mu
	rng       *rand.Rand // nil: FIFO
	clock     *vclock.Clock
	slow      time.Duration
	offload   chan struct{} // bounds concurrent Offload functions
	failed    []*task       // loop tasks that failed; unobserved ones fail the loop; guarded by mu
	cancel    context.CancelCauseFunc
	// dispatcher is the holder while virtual timers fire.
	dispatcher loopTask
	// watchIdle is set by the watchdog when it sleeps until the loop is
	// busy again; busy wakes it.
	watchIdle atomic.Bool
	busy      chan struct{}
}

// A worker is a goroutine that runs loop tasks. It runs a task that has not
// started when it holds the loop and is free; while its task is parked it
// waits on wake for the loop to come back.
type worker struct {
	wake chan struct{} // capacity 1: a handoff never blocks
	next *loopTask     // for a spare: the task to run when woken; guarded by l.mu
	// parked is the task waiting on this worker in park (only the task on
	// top of its stack can wait), with the context it waits with and its
	// index in l.parked; guarded by l.mu.
	parked  *loopTask
	waitCtx context.Context
	parkAt  int
	// awaiters are the tasks on this worker that await a task run in
	// their turn, innermost last; only the worker's goroutine uses it.
	awaiters []*loopTask
}

// A loopTask is a task's membership in a loop.
//
// A loopTask immediately precedes its task in the allocation that holds
// both (loopFuture, loopSpawn), so that neither needs a pointer to the
// other; the task's stLoop bit says it has one.
type loopTask struct {
	l       *loop
	body    loopBody // runs the task's function; nil once started
	w       *worker  // the worker the task runs on, once started
	pos     uint32   // position in l.ready while queued
	queued  bool     // in l.ready; guarded by l.mu
	started bool     // taken to run; guarded by l.mu
	exited  bool     // guarded by l.mu
	// inline says the task runs in the turn of a task that awaited it
	// before it started, on that task's worker: when it returns, the loop
	// goes back to the awaiter, on top of the worker's awaiters.
	inline bool
}

// task returns the task lt is the membership of. l.dispatcher has none.
func (lt *loopTask) task() *task {
	return (*task)(unsafe.Add(unsafe.Pointer(lt), unsafe.Sizeof(loopTask{})))
}

// isMain reports whether lt is RunLoop's main task.
func (lt *loopTask) isMain() bool { return lt == lt.l.main }

// A loopBody runs the function of lt, a loop task, and settles its future.
// A body that needs the task's allocation finds it from lt (which is its
// first field), so that the body holds no pointer to its own task: storing
// one would cost a write barrier per task while the collector marks.
type loopBody interface{ runLoopTask(lt *loopTask) }

type funcBody func()

func (f funcBody) runLoopTask(*loopTask) { f() }

// loopFuture is a loop task made by Go, Then or Catch in one allocation:
// its membership, its future and its function.
type loopFuture[T any] struct {
	lt loopTask  // first: the body finds the loopFuture from it
	f  Future[T] // right after lt (see loopTask)
	fn func(context.Context) (T, error)
}

// runFuture is the body of a loopFuture.
type runFuture[T any] struct{}

func (runFuture[T]) runLoopTask(lt *loopTask) {
	b := (*loopFuture[T])(unsafe.Pointer(lt))
	fn := b.fn
	b.fn = nil // the function's captures are not kept alive by the future
	b.f.run(fn)
}

// loopCall is a loop task made by calling an async function from Func: its
// membership, its future and the function's argument; the function itself
// is the body (runCall).
type loopCall[A, T any] struct {
	lt loopTask  // first: the body finds the loopCall from it
	f  Future[T] // right after lt (see loopTask)
	a  A
}

// runCall is the body of a loopCall: the async function.
type runCall[A, T any] func(context.Context, A) (T, error)

func (fn runCall[A, T]) runLoopTask(lt *loopTask) {
	b := (*loopCall[A, T])(unsafe.Pointer(lt))
	a := b.a
	b.a = *new(A) // the future does not keep it alive
	b.f.run(func(ctx context.Context) (T, error) { return fn(ctx, a) })
}

// loopsRunning counts running loops, so that code outside any loop pays one
// atomic load to learn it is not in one.
var loopsRunning atomic.Int32

type loopKey struct{}

// ErrNestedLoop is returned by [RunLoop] called from inside a loop.
var ErrNestedLoop = errors.New("async: RunLoop called inside a loop task (run the function directly, or Offload it)")

// maxSpares bounds the idle workers a loop keeps; more end.
const maxSpares = 4

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
// to blocking calls: that is how they know they run in the loop. For the
// same reason, a goroutine of your own must not wait in this package with a
// loop task's context (or one derived from it): the wait would act for the
// task, giving the loop up on its behalf while the task goes on running, so
// that two tasks would run at once. Start such work with [Go] (a loop task)
// or [Offload] (its function gets a context outside the loop); asyncvet's
// blocking check reports the plain case.
//
// Loop tasks cost no goroutine until they block: a task that runs to
// completion without blocking runs on a worker goroutine shared with the
// tasks before and after it. Awaiting, with the context it was started
// with, a task that has not started yet runs it at once in the awaiting
// task's turn, on its goroutine (as a direct call would), and the awaiting
// task resumes when it returns. runtime.Goexit in such a task therefore
// also ends the task that awaited it (both settle with [ErrGoexit]).
//
// Without options the ready tasks run first in, first out. [Seed] picks the
// next ready task with a generator seeded by n, so a run's interleaving is
// reproducible (and awaited tasks take their turn like the others);
// [VirtualTime] makes Sleep and Timeout use a clock that jumps ahead whenever
// every loop task is waiting on time; [SlowTask] sets how long a task may
// hold the loop before it is reported (default 100 ms).
//
// RunLoop returns main's error. A loop task that failed without anyone
// observing its error (awaiting it, a combinator, Then or Catch) is a failure
// of the loop too: RunLoop returns it, or an [*AggregateError] of main's
// error and such failures. If main fails, the loop's context is canceled,
// with main's error as cause. RunLoop called inside a loop returns
// [ErrNestedLoop]; it panics if ctx or main is nil.
func RunLoop(ctx context.Context, main func(context.Context) error, opts ...LoopOption) error {
	checkCtx("RunLoop", ctx)
	if main == nil {
		panic("async: RunLoop with nil main")
	}
	c := option.Parse("RunLoop", opts)
	if InLoop(ctx) {
		return ErrNestedLoop
	}
	l := &loop{finished: make(chan struct{}), slow: 100 * time.Millisecond, busy: make(chan struct{}, 1)}
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
	stopDog := make(chan struct{})
	dogDone := make(chan struct{})
	go l.watch(stopDog, dogDone)

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
	l.workers.Wait()
	close(stopDog)
	<-dogDone
	l.mu.Lock()
	l.ready.release()
	l.mu.Unlock()

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
	var l *loop
	if t, ok := ctx.(*task); ok && t.state.Load()&(stLoop|stOffload) == stLoop {
		l = t.loopTask().l // a loop task's own context: no walk up the chain
	} else {
		l, _ = ctx.Value(loopKey{}).(*loop)
	}
	if l != nil && l.closed.Load() {
		return nil
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
	lt := t.loopTask()
	if lt == nil || lt.l.holding.Load() != uintptr(unsafe.Pointer(lt)) {
		return nil
	}
	return lt
}

// spawnLoop starts fn as a loop task: it runs when the loop reaches it.
func spawnLoop[T any](l *loop, ctx context.Context, fn func(context.Context) (T, error), c *config) *Future[T] {
	return spawnLoopTask(l, ctx, fn, c, false)
}

func spawnLoopTask[T any](l *loop, ctx context.Context, fn func(context.Context) (T, error), c *config, main bool) *Future[T] {
	b := &loopFuture[T]{fn: fn}
	b.lt.l, b.lt.body = l, runFuture[T]{}
	if main {
		l.main = &b.lt
	}
	b.f.t.startLoop(ctx, c, &b.lt)
	l.admit(&b.lt)
	return &b.f
}

// start admits lt, whose task was started with startLoop, to run body
// when the loop reaches it.
func (l *loop) start(lt *loopTask, body func()) {
	lt.body = funcBody(body)
	l.admit(lt)
}

// current returns the loop task that holds l now, or nil. Blocking calls
// without a context (Scope.Wait, Scope.Start) use it: in a loop only the
// holder runs loop code.
func (l *loop) current() *loopTask {
	if h := l.holder; h != &l.dispatcher {
		return h
	}
	return nil
}

// startLoop is start for a loop task: it links to its parent through a
// callback (so the end of the parent wakes it where it waits), and a Timeout
// runs on the loop's clock when the loop has a virtual one.
func (t *task) startLoop(parent context.Context, c *config, lt *loopTask) {
	if lt.l.clock != nil && c != nil && c.Timeout > 0 {
		d := c.Timeout
		cc := *c
		cc.Timeout = 0
		c = &cc
		t.ext().deadline = lt.l.clock.Now().Add(d)
		lt.l.clock.AfterFunc(d, func() { t.cancel(ctxTimeout, nil) })
	}
	t.start(parent, c, nil, stLoop)
}

// admit counts a new loop task and queues it.
func (l *loop) admit(lt *loopTask) {
	l.mu.Lock()
	l.live++
	l.enqueue(lt)
	if l.holder == nil {
		l.dispatch(nil)
	}
	l.mu.Unlock()
}

// setHolder hands the loop to lt (nil: idle). Called with l.mu held.
func (l *loop) setHolder(lt *loopTask) {
	l.holder = lt
	l.holding.Store(uintptr(unsafe.Pointer(lt)))
	l.seq++
	if lt != nil && l.watchIdle.Load() {
		l.watchIdle.Store(false)
		select {
		case l.busy <- struct{}{}:
		default:
		}
	}
}

// lend hands the loop to lt within the current turn: to a task run in its
// awaiter's turn, and back. Called with l.mu held, with the loop busy.
func (l *loop) lend(lt *loopTask) {
	l.holder = lt
	l.holding.Store(uintptr(unsafe.Pointer(lt)))
}

// serve is a worker's life: it runs lt, a task that had not started, and
// then whatever the loop gives it, until it has nothing to do.
func (l *loop) serve(w *worker, lt *loopTask) {
	defer l.workers.Done()
	for lt != nil {
		lt = l.runFresh(w, lt)
		if lt == nil {
			lt = l.idle(w)
		}
	}
}

// launch gets lt, the new holder, running on a spare worker or a new one.
// Called with l.mu held.
func (l *loop) launch(lt *loopTask) {
	if n := len(l.spares); n > 0 {
		w := l.spares[n-1]
		l.spares[n-1] = nil
		l.spares = l.spares[:n-1]
		lt.w = w
		w.next = lt
		w.wake <- struct{}{}
		return
	}
	w := &worker{wake: make(chan struct{}, 1)}
	lt.w = w
	l.made++
	l.workers.Add(1)
	go l.serve(w, lt)
}

// idle waits, as a spare, until the loop gives w a task to run; it returns
// nil when w should end instead.
func (l *loop) idle(w *worker) *loopTask {
	l.mu.Lock()
	if l.closed.Load() || len(l.spares) >= maxSpares {
		l.mu.Unlock()
		return nil
	}
	l.spares = append(l.spares, w)
	l.mu.Unlock()
	select {
	case <-w.wake:
		l.mu.Lock()
		lt := w.next
		w.next = nil
		l.mu.Unlock()
		return lt
	case <-l.finished:
		return nil
	}
}

// runFresh runs lt, a task that had not started, on w, which holds the
// loop; it returns the next task w should run, if any.
func (l *loop) runFresh(w *worker, lt *loopTask) (next *loopTask) {
	returned := false
	defer func() {
		next = l.exit(lt, w)
		if !returned && next != nil {
			// runtime.Goexit: this goroutine ends, so another runs next.
			l.mu.Lock()
			l.launch(next)
			l.mu.Unlock()
			next = nil
		}
	}()
	body := lt.body // lt is ours: started was set under l.mu
	lt.body = nil
	body.runLoopTask(lt)
	returned = true
	return nil
}

// runInline runs c, a task that lt awaits and that has not started, at
// once on lt's worker, and gives the loop back to lt when c returns. It
// reports false, and does nothing, if c has started.
func (l *loop) runInline(lt, c *loopTask) bool {
	l.mu.Lock()
	if c.started || c.exited || c.body == nil {
		l.mu.Unlock()
		return false
	}
	c.started = true
	if c.queued {
		l.ready.remove(c) // out of turn
	}
	c.w = lt.w
	c.inline = true
	c.w.awaiters = append(c.w.awaiters, lt)
	body := c.body
	c.body = nil
	l.lend(c)
	l.mu.Unlock()
	returned := false
	defer func() {
		if !returned {
			// runtime.Goexit: it ends lt too, which thereby hears of
			// c's failure; c's outcome is not left unobserved.
			c.task().observe()
		}
		l.exit(c, nil) // gives the loop back to lt
	}()
	body.runLoopTask(c)
	returned = true
	return true
}

// exit runs when a loop task's function has returned and its future has
// settled: it gives the loop to whoever is next. w is the task's worker if
// the task is at the bottom of its stack (w is then free); exit returns a
// task that has not started for w to run, when that is what comes next.
func (l *loop) exit(lt *loopTask, w *worker) (next *loopTask) {
	t := lt.task()
	if lt.isMain() && t.err != nil {
		l.cancel(t.err)
	}
	l.mu.Lock()
	if !lt.isMain() && t.state.Load()&stFailed != 0 && !errors.Is(t.err, context.Canceled) {
		l.failed = append(l.failed, t)
	}
	lt.exited = true
	if lt.queued {
		l.ready.remove(lt)
	}
	l.live--
	if l.holder == lt {
		if lt.inline {
			aw := lt.w.awaiters
			l.lend(aw[len(aw)-1])
			aw[len(aw)-1] = nil
			lt.w.awaiters = aw[:len(aw)-1]
		} else {
			next = l.dispatch(w)
		}
	}
	if l.live == 0 && !l.closed.Load() {
		l.closed.Store(true)
		close(l.finished)
	}
	l.mu.Unlock()
	return next
}

func (l *loop) enqueue(lt *loopTask) {
	if lt.queued || lt.exited {
		return
	}
	lt.queued = true
	l.ready.push(lt)
}

// pick takes the next ready task. With none ready, it looks for parked
// tasks whose context has ended and, with a virtual clock and nothing
// outside the loop running, moves the clock to the next timer and fires
// it. It returns nil when there is nothing to run. Called with l.mu held,
// which it releases while timers fire.
func (l *loop) pick() *loopTask {
	for {
		for l.ready.len() > 0 {
			i := 0
			if l.rng != nil {
				i = l.rng.IntN(l.ready.len())
			}
			if lt := l.ready.pop(i); lt != nil {
				return lt
			}
		}
		// A parked task whose context has ended is ready. Looking here,
		// at a point the loop controls, keeps runs reproducible: the
		// callbacks that also report it run on goroutines of their own.
		woke := false
		if l.needScan.Swap(false) {
			for _, w := range l.parked {
				if p := w.parked; !p.queued && w.waitCtx != nil && w.waitCtx.Err() != nil {
					l.enqueue(p)
					woke = true
				}
			}
		}
		if woke {
			continue
		}
		if l.clock != nil && l.externals == 0 && l.live > 0 {
			l.setHolder(&l.dispatcher)
			l.mu.Unlock()
			fired := l.clock.Advance() // timer callbacks make tasks ready
			l.mu.Lock()
			if fired || l.ready.len() > 0 {
				continue
			}
		}
		return nil
	}
}

// dispatch hands the loop to the next ready task: a parked one's worker is
// woken; one that has not started is returned if the caller's worker is
// free to run it (free is that worker, or nil), and otherwise goes to a
// spare worker or a new one. With nothing ready the loop goes idle, and the
// next task made ready takes it. Called with l.mu held.
func (l *loop) dispatch(free *worker) *loopTask {
	return l.hand(l.pick(), free)
}

// hand gives the loop to lt, which pick chose (nil: the loop goes idle), as
// dispatch describes. Called with l.mu held.
func (l *loop) hand(lt *loopTask, free *worker) *loopTask {
	l.setHolder(lt)
	if lt == nil {
		return nil
	}
	if lt.started {
		l.unpark(lt)
		lt.w.wake <- struct{}{}
		return nil
	}
	lt.started = true
	if free != nil {
		lt.w = free
		return lt
	}
	l.launch(lt)
	return nil
}

// kick makes an idle loop look for work (ended contexts, due timers).
func (l *loop) kick() {
	l.mu.Lock()
	if l.holder == nil {
		l.dispatch(nil)
	}
	l.mu.Unlock()
}

// watchesParent reports whether a loop task must register a callback to hear
// of parent's end. The loop's own contexts need none: their cancel flags
// the loop to look (needScan), and a parked task's Err reads its parent's.
// A context the user derived is cancelled without the loop knowing.
func (lt *loopTask) watchesParent(parent context.Context) bool {
	if lt == nil || lt.isMain() {
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
		l.dispatch(nil)
	}
	l.mu.Unlock()
}

// park gives the loop up and waits to be handed it again; with requeue, lt
// is ready again at once (Yield). lt must hold the loop.
func (l *loop) park(lt *loopTask, ctx context.Context, requeue bool) {
	l.mu.Lock()
	if requeue {
		l.enqueue(lt)
	}
	w := lt.w
	w.parked, w.waitCtx, w.parkAt = lt, ctx, len(l.parked)
	l.parked = append(l.parked, w)
	next := l.pick()
	if next == lt { // nobody else to run
		l.unpark(lt)
		l.setHolder(lt) // pick may have lent the loop to the timers
		l.mu.Unlock()
		return
	}
	l.hand(next, nil) // w is not free: it waits below
	l.mu.Unlock()
	<-w.wake // whoever woke us made us the holder and unparked us
}

// unpark takes lt out of the parked set. Called with l.mu held.
func (l *loop) unpark(lt *loopTask) {
	w := lt.w
	if w == nil || w.parked != lt {
		return
	}
	w.parked, w.waitCtx = nil, nil
	last := len(l.parked) - 1
	l.parked[w.parkAt] = l.parked[last]
	l.parked[w.parkAt].parkAt = w.parkAt
	l.parked[last] = nil
	l.parked = l.parked[:last]
}

// wakeParked makes lt ready if it is parked: a late callback about a context
// that ended finds lt already gone on, and does nothing.
func (l *loop) wakeParked(lt *loopTask) {
	l.needScan.Store(true)
	l.mu.Lock()
	if w := lt.w; w != nil && w.parked == lt && w.waitCtx != nil {
		l.enqueue(lt)
		if l.holder == nil {
			l.dispatch(nil)
		}
	}
	l.mu.Unlock()
}

// watch reports loop tasks that hold the loop longer than l.slow. It looks
// every eighth of the threshold, so a task is reported while it still holds
// the loop (even one that never gives it back), once per hold; the time
// reported is a lower bound, counted from the first look that saw the hold.
// It sleeps while the loop is idle.
func (l *loop) watch(stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	tick := max(l.slow/8, time.Millisecond)
	timer := time.NewTimer(tick)
	defer timer.Stop()
	var seen uint64
	var since time.Time
	reported := false
	var slow *slowHold // the hold reported, until it ends
	for {
		select {
		case <-stop:
			if slow != nil { // the loop ended with the hold
				reportSlowEnd(slow, time.Since(since), tick)
			}
			return
		case <-timer.C:
		}
		l.mu.Lock()
		h, s := l.holder, l.seq
		l.mu.Unlock()
		if slow != nil && (h == nil || s != seen) {
			// The reported hold ended: say how long it really was.
			reportSlowEnd(slow, time.Since(since), tick)
			slow = nil
		}
		if h == nil {
			l.watchIdle.Store(true)
			if l.holding.Load() == 0 {
				select {
				case <-stop:
					return
				case <-l.busy:
				}
			} else {
				l.watchIdle.Store(false)
			}
			seen = 0
			timer.Reset(tick)
			continue
		}
		now := time.Now()
		if s != seen || h == &l.dispatcher {
			seen, since, reported = s, now, false
		} else if held := now.Sub(since); !reported && held >= l.slow {
			reported = true
			slow = reportSlow(h, held, l.slow)
		}
		timer.Reset(tick)
	}
}

// reportSlow warns that lt has held its loop for at least held.
func reportSlow(lt *loopTask, held, threshold time.Duration) *slowHold {
	sh := &slowHold{name: lt.task().name(), created: lt.task().createdStack()}
	args := []any{"held", held, "threshold", threshold}
	if sh.name != "" {
		args = append(args, "task", sh.name)
	}
	if sh.created != nil {
		args = append(args, "created", string(sh.created))
	}
	slog.Warn("async: a loop task held the event loop too long (blocking call? use Offload)", args...)
	return sh
}

// slowHold is a reported hold, for the report of its end.
type slowHold struct {
	name    string
	created []byte
}

// reportSlowEnd tells how long a reported hold lasted: held, measured
// between the watchdog's first look at the hold and its first look after
// it; each look is within precision of the hold's start or end, so the hold
// lasted held ± precision.
func reportSlowEnd(sh *slowHold, held, precision time.Duration) {
	args := []any{"held", held, "precision", precision}
	if sh.name != "" {
		args = append(args, "task", sh.name)
	}
	if sh.created != nil {
		args = append(args, "created", string(sh.created))
	}
	slog.Warn("async: a slow loop task gave the event loop back", args...)
}

// blockUntil gives the loop up until done() is true or ctx ends. Whatever
// makes done() true must call l.makeReady(lt). The end of lt's own context
// wakes it synchronously (task.cancel); another context that can end wakes
// it through context.AfterFunc.
func (l *loop) blockUntil(lt *loopTask, ctx context.Context, done func() bool) error {
	if ctx != context.Context(lt.task()) && ctx.Done() != nil {
		// For an idle loop; a busy one finds the ended context itself.
		stop := context.AfterFunc(ctx, func() { l.wakeParked(lt) })
		defer stop()
	}
	for !done() {
		if ctx.Err() != nil {
			return ctxError(ctx)
		}
		l.park(lt, ctx, false)
	}
	return nil
}

// loopWaiter wakes a loop task when a future it awaits settles.
type loopWaiter struct{ lt *loopTask }

func (w *loopWaiter) notify(*task) { w.lt.l.makeReady(w.lt) }

// waitInLoop is task.wait for a loop task: a task of the same loop that has
// not started, awaited with the context it was started with, runs at once
// in lt's turn; otherwise lt gives the loop up while t is pending.
func (t *task) waitInLoop(lt *loopTask, ctx context.Context) error {
	if c := t.loopTask(); c != nil && c.l == lt.l && c.l.rng == nil && t.parent == ctx && ctx.Err() == nil {
		if c.l.runInline(lt, c) && t.state.Load()&stSettled != 0 {
			return nil
		}
	}
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
		lt.l.park(lt, nil, true)
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
func Seed(n int64) LoopOption { return option.ForLoop(option.New(option.Seed, n, "")) }

// VirtualTime makes a loop's Sleep and Timeout use a virtual clock that jumps
// to the next timer as soon as every loop task is waiting on time and no
// offloaded work is running. [Now] reads it.
func VirtualTime() LoopOption { return option.ForLoop(option.New(option.VirtualTime, 0, "")) }

// SlowTask sets how long a loop task may hold the loop before it is reported
// with log/slog at Warn level (default 100 ms). The report comes while the
// task still holds the loop (so one that never gives it back is reported
// too), once per hold, with the task's name, a lower bound of how long it
// has held the loop (counted from the first of the loop's checks, an eighth
// of d apart, that saw the hold) and, in debug mode, where it was started.
// Tasks run at once in an awaiting task's turn (see [RunLoop]) are part of
// that turn: a task that holds the loop through many of them is reported.
// When a reported task gives the loop back, a second report says how long
// it really held it ("held", to within "precision", an eighth of d).
// Checking costs the loop no clock read per switch. It panics if d <= 0.
func SlowTask(d time.Duration) LoopOption {
	if d <= 0 {
		panic(fmt.Sprintf("async: SlowTask(%v): threshold must be positive", d))
	}
	return option.ForLoop(option.New(option.SlowTask, int64(d), ""))
}
