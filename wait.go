package async

import (
	"context"
	"strconv"
	"sync/atomic"
	"unsafe"
)

// waitMode says when a group of tasks is done waiting.
type waitMode uint8

const (
	waitAll     waitMode = iota // every task succeeded, or the first failure
	waitSettled                 // every task settled
	waitAny                     // the first success, or every task failed
	waitFirst                   // the first task to settle
)

// group waits for a set of tasks without a goroutine per task: it subscribes
// to each pending task and is notified as they settle.
type group struct {
	mode      waitMode
	remaining atomic.Int64
	first     atomic.Pointer[task] // the task that decided the outcome, if one did
	fired     atomic.Bool
	ch        chan struct{}
	lt        *loopTask // a loop task waiting; woken through its loop
}

func (g *group) notify(t *task) {
	if g.fired.Load() {
		return
	}
	if g.decides(t.state.Load()&stFailed != 0) {
		if g.first.CompareAndSwap(nil, t) {
			g.fire()
		}
		return
	}
	if g.remaining.Add(-1) == 0 {
		g.fire()
	}
}

// decides reports whether a task that settled (failed or not) decides the
// group's outcome.
func (g *group) decides(failed bool) bool {
	switch g.mode {
	case waitAll:
		return failed
	case waitAny:
		return !failed
	case waitFirst:
		return true
	}
	return false
}

func (g *group) fire() {
	if g.fired.CompareAndSwap(false, true) {
		if g.ch != nil {
			close(g.ch)
		}
		if g.lt != nil {
			g.lt.l.makeReady(g.lt)
		}
	}
}

// waitTasks waits on ts according to mode. It returns the deciding task (a
// failure for waitAll, a success for waitAny, the first for waitFirst), or nil
// when every task settled without one. If ctx ends first it returns ctx's
// error. Every task is marked observed (the caller takes charge of
// outcomes), except in waitSettled mode, whose caller marks the tasks it
// reports as settled.
// It panics, naming op, if a task is nil or was not made. ts is not modified
// (it may be the caller's own slice of futures: see tasksOf).
//
// The tasks before from are known to have succeeded (waitAll only): they are
// counted as settled and not looked at again.
//
// A non-nil take (waitAll only) is called with the index of each task that
// succeeded: when waitTasks returns neither a task nor an error, it has been
// called for every index from from on. The tasks settled before the first
// pending one are taken in the first pass, so that All reads each value while
// that pass has the future's memory at hand; the rest once all have settled.
func waitTasks(ctx context.Context, op string, mode waitMode, ts []*task, from int, take func(i int)) (*task, error) {
	g := &group{mode: mode}
	g.remaining.Store(int64(len(ts) - from))
	lt := runningLoopTask(ctx)
	var mark uint32 // what subscribing also sets: the caller takes charge of outcomes
	if mode != waitSettled {
		mark = stHandled
	}
	// One pass marks every task observed and subscribes to the pending ones
	// (passes over many futures are memory-bound, so there is one). The
	// settled tasks decide before any that settles while the pass goes on,
	// in input order, so that ties among them are decided the same way every
	// time: the first settled task that decides is noted, and wins at the
	// end of the pass even if a task subscribed to has notified g since.
	// The settled tasks that decide nothing are counted here and taken off
	// g.remaining at the end, which no notification can bring to zero
	// before that. A settled success needs no mark: only failures are ever
	// reported.
	var (
		decided    *task // the first settled task, in input order, that decides
		counted    int64
		takeFrom   = len(ts) // the first pending task's index: values from here on are taken at the end
		subscribed bool
	)
	for i := from; i < len(ts); i++ {
		t := ts[i]
		if t == nil {
			g.abandon(ts[from:i], subscribed)
			panicNilFuture(op, i)
		}
		s := t.state.Load()
		if s&stInit == 0 {
			g.abandon(ts[from:i], subscribed)
			panicZeroFuture(op, i)
		}
		if s&stSettled != 0 {
			if mark != 0 && s&stFailed != 0 {
				t.observe()
			}
			switch {
			case decided != nil:
			case g.decides(s&stFailed != 0):
				decided = t
			default:
				counted++
				if take != nil && takeFrom == len(ts) {
					take(i)
				}
			}
			continue
		}
		if takeFrom == len(ts) {
			takeFrom = i
		}
		if decided != nil || g.fired.Load() {
			if mark != 0 {
				t.observe()
			}
			continue
		}
		if !subscribed {
			subscribed = true
			if lt != nil {
				g.lt = lt
			} else {
				g.ch = make(chan struct{})
			}
		}
		if !t.subscribeMarked(g, mark) {
			g.notify(t) // settled since the look above
		}
		if h := waitHookSubscribed.Load(); h != nil {
			(*h)(i) // tests: settle tasks while the pass goes on
		}
	}
	if decided != nil {
		g.fired.Store(true) // notifications from here on are ignored
	} else if counted > 0 && g.remaining.Add(-counted) == 0 {
		g.fire()
	}
	var err error
	if !g.fired.Load() && g.remaining.Load() > 0 {
		if h := hooks.Load(); h != nil {
			defer h.h.awaitEnd(h.h.awaitBegin(ctx, unsettled(ts)))
		}
		switch {
		case lt != nil:
			if lt.l.blockUntil(lt, ctx, g.fired.Load) != nil && !g.fired.Load() {
				err = ctxError(ctx)
			}
		case ctx.Done() == nil:
			<-g.ch
		default:
			select {
			case <-g.ch:
			case <-ctx.Done():
				if !g.fired.Load() {
					err = ctxError(ctx)
				}
			}
		}
	}
	if subscribed && g.remaining.Load() != 0 { // some never notified g: leave nothing behind on them
		g.leave(ts[from:])
	}
	if err != nil {
		return nil, err
	}
	if decided != nil {
		return decided, nil
	}
	first := g.first.Load()
	if first == nil && take != nil {
		for i := takeFrom; i < len(ts); i++ {
			take(i)
		}
	}
	return first, nil
}

// abandon leaves nothing of g on the tasks its pass has subscribed to (ts,
// those before a bad input it is about to panic on), and makes g ignore
// notifications meanwhile, so that a loop task that panicked is not woken.
func (g *group) abandon(ts []*task, subscribed bool) {
	if !subscribed {
		return
	}
	g.fired.Store(true)
	g.leave(ts)
}

// leave unsubscribes g from the tasks of ts that have not settled.
func (g *group) leave(ts []*task) {
	for _, t := range ts {
		if t.state.Load()&stSettled == 0 {
			t.unsubscribe(g)
		}
	}
}

// waitHookSubscribed, for tests, runs in waitTasks's pass after it subscribed
// to the task at index i; nil in production.
var waitHookSubscribed atomic.Pointer[func(i int)]

// unsettled returns the tasks of ts that have not settled.
func unsettled(ts []*task) []*task {
	var p []*task
	for _, t := range ts {
		if t.state.Load()&stSettled == 0 {
			p = append(p, t)
		}
	}
	return p
}

// tasksOf returns the futures' tasks, without copying: a Future's task is its
// first field, so a slice of *Future[T] is one of *task. Nil futures are
// found by whoever goes over them (waitTasks).
func tasksOf[T any](fs []*Future[T]) []*task {
	return unsafe.Slice((**task)(unsafe.Pointer(unsafe.SliceData(fs))), len(fs))
}

func panicZeroFuture(op string, i int) {
	panic("async: " + op + ": future " + strconv.Itoa(i) + " is a zero Future (futures come from Go, Resolved, Rejected or NewPromise)")
}

func panicNilFuture(op string, i int) {
	panic("async: " + op + ": future " + strconv.Itoa(i) + " is nil")
}

func checkCtx(op string, ctx context.Context) {
	if ctx == nil {
		panic("async: " + op + " with nil Context")
	}
}
