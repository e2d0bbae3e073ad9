package async

import (
	"context"
	"strconv"
	"sync/atomic"
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
	failed := t.state.Load()&stFailed != 0
	decisive := false
	switch g.mode {
	case waitAll:
		decisive = failed
	case waitAny:
		decisive = !failed
	case waitFirst:
		decisive = true
	}
	if decisive {
		if g.first.CompareAndSwap(nil, t) {
			g.fire()
		}
		return
	}
	if g.remaining.Add(-1) == 0 {
		g.fire()
	}
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
// error. Every task is marked observed: the caller takes charge of outcomes.
// ts is reordered.
func waitTasks(ctx context.Context, op string, mode waitMode, ts []*task) (*task, error) {
	g := &group{mode: mode}
	g.remaining.Store(int64(len(ts)))
	lt := runningLoopTask(ctx)
	// One pass marks every task observed and notes which are settled:
	// those are counted first, in input order, so that ties among them are
	// decided the same way every time. Passes over many futures are
	// memory-bound, so there are as few as possible: a loop task awaiting
	// tasks of its own loop subscribes to them in the same pass, as none can
	// settle while it holds the loop. The pending ones are compacted into
	// the front of ts (ts belongs to the caller's combinator): first those
	// subscribed (sub of them), then the others.
	sub := 0
	var others []*task // pending and not subscribed, when some are
	pending := ts[:0]
	for i, t := range ts {
		if t.state.Load()&stInit == 0 {
			panicZeroFuture(op, i)
		}
		t.observe()
		switch {
		case t.state.Load()&stSettled != 0:
			if !g.fired.Load() {
				g.notify(t)
			}
		case lt != nil && t.loopTask() != nil && t.loopTask().l == lt.l && len(others) == 0 && !g.fired.Load():
			if t.subscribe(g) {
				pending = append(pending, t)
				sub++
			} else {
				g.notify(t)
			}
		case lt != nil:
			others = append(others, t) // pending[sub:] would overwrite ts ahead of the pass
		default:
			pending = append(pending, t)
		}
	}
	pending = append(pending, others...)
	n := len(pending) // how many are or will be subscribed, to undo
	if !g.fired.Load() && len(pending) > 0 {
		if h := hooks.Load(); h != nil {
			defer h.h.awaitEnd(h.h.awaitBegin(ctx, pending))
		}
		if lt != nil {
			g.lt = lt
		} else {
			g.ch = make(chan struct{})
		}
		for i := sub; i < len(pending); i++ {
			if t := pending[i]; !t.subscribe(g) {
				g.notify(t) // settled since the first pass
			}
			if g.fired.Load() {
				n = i + 1
				break
			}
		}
	}
	var err error
	switch {
	case g.fired.Load() || len(pending) == 0:
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
	if g.remaining.Load() != 0 { // some never notified g: leave nothing behind on them
		for _, t := range pending[:n] {
			if t.state.Load()&stSettled == 0 {
				t.unsubscribe(g)
			}
		}
	}
	if err != nil {
		return nil, err
	}
	return g.first.Load(), nil
}

// tasksOf returns the futures' tasks. It checks for nil futures but does not
// read the futures: waitTasks checks that they were made as it goes over
// them (one pass fewer over memory for a large All).
func tasksOf[T any](op string, fs []*Future[T]) []*task {
	ts := make([]*task, len(fs))
	for i, f := range fs {
		if f == nil {
			panicNilFuture(op, i)
		}
		ts[i] = &f.t
	}
	return ts
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
