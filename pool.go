package async

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/goasync/async/internal/option"
	"github.com/goasync/async/internal/progress"
)

// ErrClosed is the error of work offered to a [Pool] after [Pool.Close], of
// [Queue.Put] after [Queue.Close], and of [Queue.Get] once a closed queue is
// drained.
var ErrClosed = errors.New("async: closed")

// poolIdleTimeout is how long a pool's workers may go without new work
// before they exit; they go at the first check after a full period of it.
const poolIdleTimeout = time.Second

// A Pool runs submitted tasks on at most a fixed number of long-lived worker
// goroutines, and hands back their results as futures.
//
// Workers start as work arrives and exit after about a second without new
// work, so an idle pool holds no goroutines, nor memory for the queue it once
// had. Tasks that find every worker busy wait in a first-in first-out queue,
// unbounded unless [Backlog] bounds it; submitting to a full queue blocks. A
// panic in a task settles its future with a [*PanicError] and the worker
// carries on.
//
// Make a Pool with [NewPool]; the zero Pool is not usable, and a Pool must
// not be copied. Its methods may be called from any goroutine, including from
// its own tasks (but a task that blocks submitting to its own full pool can
// wait forever).
type Pool struct {
	_ noCopy

	// Read by every Submit, written rarely: kept off the cache line of mu,
	// which the workers take for every task. alive and idle are written
	// under mu and read without it by submitters adding to the queue (see
	// put).
	n       int                // most workers
	backlog int                // most queued tasks; -1: unbounded
	name    string             // the pool's name, for Go tasks' errors
	cfg     *config            // for tasks' futures: the name; nil when unnamed
	prog    *progress.Reporter // nil without Progress
	wake    chan poolJob       // parked workers receive work here; no job means exit
	alive   atomic.Int32       // worker goroutines
	idle    atomic.Int32       // parked workers that nothing was handed to yet
	active  atomic.Bool        // work arrived since the reaper last looked
	_       [64]byte

	// mu guards what follows, except the queue's adding end (its own lock).
	mu      sync.Mutex
	waiters []*poolWaiter // submitters blocked on a full queue, first come first served
	closed  bool
	reaper  *time.Timer // armed while workers are alive
	armed   bool
	stats   PoolStats // Running, Completed, Failed, Panicked
	goErrs  []error   // failures of tasks started with Go, for Close
	queue   poolQueue

	wg        sync.WaitGroup // worker goroutines
	closeOnce sync.Once
	closeErr  error
}

// PoolStats is a snapshot of a [Pool]'s counters. After [Pool.Close] has
// returned they are exact and final.
type PoolStats struct {
	Workers   int // worker goroutines alive
	Running   int // tasks handed to a worker and not finished
	Queued    int // tasks accepted and waiting for a worker
	Completed int // tasks finished, successfully or not (includes Failed)
	Failed    int // tasks that ended with an error or a panic (includes Panicked)
	Panicked  int // tasks that panicked
}

// NewPool returns a pool that runs at most workers tasks at once. Options:
// [Backlog] bounds how many accepted tasks may wait for a worker (without it
// the queue is unbounded; Backlog(0) accepts a task only when a worker can
// take it at once); [Name] names the pool's tasks in their errors;
// [Progress] is told how many tasks have finished out of those submitted so
// far (a submission refused, closed pool or ended ctx, counts as finished).
// NewPool starts no goroutine. It panics if workers < 1.
func NewPool(workers int, opts ...PoolOption) *Pool {
	if workers < 1 {
		panic(fmt.Sprintf("async: NewPool(%d): workers must be at least 1", workers))
	}
	c := option.Parse("NewPool", opts)
	p := &Pool{n: workers, backlog: -1, name: c.Name, wake: make(chan poolJob, workers), prog: progress.New(c.Progress, 0)}
	p.prog.Start()
	if c.HasBacklog {
		p.backlog = c.Backlog
	}
	if c.Name != "" {
		p.cfg = &config{Name: c.Name}
	}
	trackPool(p) // for Pools
	return p
}

// Submit queues fn to run on p and returns a future for its result. fn runs
// with a context derived from ctx, which also ends when the future is
// canceled or fn returns.
//
// If the queue is full, Submit blocks until there is room or ctx ends; then
// it returns a future already rejected with ctx's error, and nothing is
// queued. If p is closed, the future is rejected with [ErrClosed]. A task
// whose context ends while it waits in the queue is settled with the
// context's error without running. Submit panics if ctx, p or fn is nil.
func Submit[T any](ctx context.Context, p *Pool, fn func(context.Context) (T, error)) *Future[T] {
	checkCtx("Submit", ctx)
	if p == nil {
		panic("async: Submit to nil *Pool")
	}
	p.check("Submit")
	if fn == nil {
		panic("async: Submit with nil function")
	}
	j := new(poolTask[T])
	j.f.t.start(ctx, p.cfg, nil, 0)
	noteGroup(&j.f.t, "pool", p.name)
	p.prog.Grow()
	j.f.t.err = pendingFn[T](fn) // until a worker takes it, as Go's tasks do
	if err := p.put(ctx, j); err != nil {
		j.f.settle(*new(T), err)
		p.prog.Add()
	}
	return &j.f
}

// Go queues fn to run on p, like [Submit] without a future. Its error is that
// of queueing: nil once fn is accepted, [ErrClosed] if p is closed, or ctx's
// error if ctx ended while the queue was full. What fn itself returns is
// reported by [Pool.Close], so that no failure is dropped; errors matching
// context.Canceled are left out (whoever canceled knows). fn receives ctx.
// Go panics if ctx or fn is nil.
func (p *Pool) Go(ctx context.Context, fn func(context.Context) error) error {
	checkCtx("Pool.Go", ctx)
	p.check("Go")
	if fn == nil {
		panic("async: Pool.Go with nil function")
	}
	p.prog.Grow()
	sh := newShadow(ctx, p.name, "pool", p.name) // debug mode: listed in Tasks
	err := p.put(ctx, &poolGo{ctx: ctx, sh: sh, fn: fn})
	if err != nil {
		sh.discard()
		p.prog.Add()
	}
	return err
}

// Stats returns a snapshot of p's counters.
func (p *Pool) Stats() PoolStats {
	p.check("Stats")
	p.mu.Lock()
	st := p.stats
	st.Workers = int(p.alive.Load())
	st.Queued = p.queue.len()
	p.mu.Unlock()
	return st
}

// Close stops p from accepting work: from then on Submit's futures are
// rejected and Go returns [ErrClosed], including for submitters blocked on a
// full queue. Close then blocks until every accepted task has finished and
// every worker has exited. It returns the failures of tasks started with
// [Pool.Go]: nil, the failure itself, or an [*AggregateError] in the order
// they happened. Calling Close again returns the same result. A task of p
// must not call Close: it would wait for itself.
func (p *Pool) Close() error {
	p.check("Close")
	p.closeOnce.Do(p.close)
	return p.closeErr
}

func (p *Pool) close() {
	p.queue.shutDown() // submitters now take mu, and see closed
	p.mu.Lock()
	p.closed = true
	waiters := p.waiters
	p.waiters = nil
	for _, w := range waiters {
		w.settled = true
	}
	p.dispatch() // tasks added just before, whose submitters have not yet looked for a worker
	for ; p.idle.Load() > 0; p.idle.Add(-1) {
		p.alive.Add(-1)
		p.wake <- nil
	}
	if p.reaper != nil {
		p.reaper.Stop()
		p.armed = false
	}
	p.mu.Unlock()
	for _, w := range waiters {
		w.ch <- ErrClosed
	}
	p.wg.Wait()
	p.mu.Lock()
	errs := p.goErrs
	p.mu.Unlock()
	switch len(errs) {
	case 0:
	case 1:
		p.closeErr = errs[0]
	default:
		p.closeErr = &AggregateError{Errors: errs}
	}
}

func (p *Pool) check(op string) {
	if p == nil {
		panic("async: Pool." + op + " on nil *Pool")
	}
	if p.wake == nil {
		panic("async: Pool." + op + " on a zero Pool (use NewPool)")
	}
}

// A poolWaiter is a submitter blocked on a full queue. Whoever settles it
// (a worker making room, Close, or the submitter giving up) sets settled
// under p.mu; workers and Close then send the outcome on ch.
type poolWaiter struct {
	item    poolJob
	ch      chan error // capacity 1: nil once queued, or ErrClosed
	settled bool
}

// put hands j to an idle worker, to a new one, or to the queue, and blocks
// while the queue is full. It returns nil once j is accepted.
//
// Once every worker has started and none is parked, an unbounded pool's
// submitters add to the queue under the queue's own lock, not mu, which the
// workers take for every task; then they look for a parked worker again. A
// worker about to park counts itself idle before it looks at the queue a last
// time, so one of the two sees the other (both sides use sequentially
// consistent atomics).
func (p *Pool) put(ctx context.Context, j poolJob) error {
	if p.backlog < 0 && int(p.alive.Load()) == p.n && p.idle.Load() == 0 {
		if h := poolHookAdding.Load(); h != nil {
			(*h)(false)
		}
		if p.queue.tryPush(j) {
			if h := poolHookAdding.Load(); h != nil {
				(*h)(true)
			}
			if !p.active.Load() {
				p.active.Store(true)
			}
			if p.idle.Load() > 0 || int(p.alive.Load()) < p.n {
				p.mu.Lock()
				p.dispatch()
				p.mu.Unlock()
			}
			return nil
		}
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return ErrClosed
	}
	p.active.Store(true)
	if p.queue.len() == 0 && (p.idle.Load() > 0 || int(p.alive.Load()) < p.n) {
		p.stats.Running++
		p.handOff(j)
		p.mu.Unlock()
		return nil
	}
	if p.backlog < 0 || p.queue.len() < p.backlog {
		p.queue.push(j)
		p.dispatch() // a worker may have parked since the queue was last empty
		p.mu.Unlock()
		return nil
	}
	w := &poolWaiter{item: j, ch: make(chan error, 1)}
	p.waiters = append(p.waiters, w)
	p.mu.Unlock()
	defer blockEnd(blockBegin(ctx, "full pool", p.name, 0))
	if done := ctx.Done(); done != nil {
		select {
		case err := <-w.ch:
			return err
		case <-done:
		}
		p.mu.Lock()
		if !w.settled {
			w.settled = true
			for i, x := range p.waiters {
				if x == w {
					p.waiters = append(p.waiters[:i], p.waiters[i+1:]...)
					break
				}
			}
			p.mu.Unlock()
			return ctxError(ctx)
		}
		p.mu.Unlock()
	}
	return <-w.ch // accepted or refused just as ctx ended
}

// Tests pause a submitter or a worker at the two sides of that handshake.
var (
	poolHookAdding  atomic.Pointer[func(added bool)] // a submitter adding to the queue without mu, before and after
	poolHookParking atomic.Pointer[func()]           // a worker found the queue empty, holding mu
)

// handOff gives j, counted as running, to a parked worker or to a new one;
// there must be one or room for one. Called with p.mu held.
func (p *Pool) handOff(j poolJob) {
	if p.idle.Load() > 0 {
		p.idle.Add(-1)
		p.wake <- j // never blocks: it has room for every parked worker
		return
	}
	p.alive.Add(1)
	p.wg.Add(1)
	p.arm()
	go p.worker(j)
}

// dispatch hands queued tasks to parked workers, or to new ones while there
// is room, until one or the other runs out. Called with p.mu held.
func (p *Pool) dispatch() {
	for p.idle.Load() > 0 || int(p.alive.Load()) < p.n {
		j := p.next()
		if j == nil {
			return
		}
		p.handOff(j)
	}
}

// arm starts the idle check if it is not running. Called with p.mu held.
func (p *Pool) arm() {
	if p.armed {
		return
	}
	p.armed = true
	if p.reaper == nil {
		p.reaper = time.AfterFunc(poolIdleTimeout, p.reap)
	} else {
		p.reaper.Reset(poolIdleTimeout)
	}
}

// reap runs every idle period while workers are alive: if no work arrived
// during the last period, the parked workers exit.
func (p *Pool) reap() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.armed { // Close stopped it
		return
	}
	if !p.active.Load() {
		for ; p.idle.Load() > 0; p.idle.Add(-1) {
			p.alive.Add(-1)
			p.wake <- nil
		}
		p.dispatch() // a task added as the workers were told to go
		p.queue.release()
	}
	p.active.Store(false)
	if p.alive.Load() == 0 {
		p.armed = false
		return
	}
	p.reaper.Reset(poolIdleTimeout)
}

// worker runs j, then whatever the queue holds, and parks when it is empty
// until it is handed work or told to exit.
func (p *Pool) worker(j poolJob) {
	ok := false
	defer func() {
		if !ok {
			p.goexited()
		}
		p.wg.Done()
	}()
	for j != nil {
		failed, panicked := j.run(p)
		p.prog.Add()
		p.mu.Lock()
		p.record(failed, panicked)
		if j = p.next(); j != nil {
			p.mu.Unlock()
			continue
		}
		if p.closed {
			p.alive.Add(-1)
			p.mu.Unlock()
			break
		}
		if h := poolHookParking.Load(); h != nil {
			(*h)()
		}
		p.idle.Add(1)
		if j = p.next(); j != nil { // added before the submitter could see us idle
			p.idle.Add(-1)
			p.mu.Unlock()
			continue
		}
		p.mu.Unlock()
		j = <-p.wake
	}
	ok = true
}

// goexited accounts for a task that called runtime.Goexit, which ends its
// worker's goroutine, and starts a replacement if work is waiting.
func (p *Pool) goexited() {
	p.prog.Add()
	p.mu.Lock()
	p.record(true, false)
	p.alive.Add(-1)
	p.dispatch() // a replacement, if work is waiting
	p.mu.Unlock()
}

// record counts a finished task. Called with p.mu held.
func (p *Pool) record(failed, panicked bool) {
	p.stats.Running--
	p.stats.Completed++
	if failed {
		p.stats.Failed++
	}
	if panicked {
		p.stats.Panicked++
	}
}

// next takes the next task for a worker, letting the first blocked submitter
// into the room it leaves. Called with p.mu held.
func (p *Pool) next() poolJob {
	j, ok := p.queue.pop()
	if len(p.waiters) > 0 {
		w := p.waiters[0]
		p.waiters[0] = nil
		p.waiters = p.waiters[1:]
		w.settled = true
		w.ch <- nil
		if ok {
			p.queue.push(w.item)
		} else { // Backlog(0): straight to this worker
			j, ok = w.item, true
		}
	}
	if ok {
		p.stats.Running++
	}
	return j
}

// A poolJob runs an accepted task.
type poolJob interface {
	// run runs the task's function on the current goroutine, or settles
	// the task without running it if its context has ended, and reports
	// how it ended.
	run(p *Pool) (failed, panicked bool)
}

// poolTask is a task from Submit: a future, whose err field holds the
// task's function until a worker takes it, as Go's tasks do (see starter).
// A queued task is then its future and the interface value in the queue
// that points to it, and nothing else.
type poolTask[T any] struct{ f Future[T] }

func (j *poolTask[T]) run(*Pool) (failed, panicked bool) {
	t := &j.f.t
	fn := t.err.(pendingFn[T])
	t.err = nil // settle writes only a failure
	// Lock-free: Cancel marks ctxState, and the parent's Err is atomic.
	if t.ctxReason() != ctxLive || t.parent.Err() != nil {
		j.f.settle(*new(T), t.outcome(ctxError(t)))
	} else {
		j.f.run(fn)
	}
	err := t.err
	_, panicked = err.(*PanicError)
	return err != nil, panicked
}

// poolGo is a task from Pool.Go: its context, its function, and in debug
// mode its entry in Tasks.
type poolGo struct {
	ctx context.Context
	sh  *shadow
	fn  func(context.Context) error
}

func (j *poolGo) run(p *Pool) (failed, panicked bool) {
	var err error
	if j.ctx.Err() != nil {
		err = ctxError(j.ctx)
	} else {
		err, panicked = j.call(p, j.fn)
	}
	j.sh.end(err)
	if err == nil {
		return false, false
	}
	if panicked || !errors.Is(err, context.Canceled) {
		if p.name != "" && !panicked {
			err = &TaskError{Task: p.name, Err: err}
		}
		p.mu.Lock()
		p.goErrs = append(p.goErrs, err)
		p.mu.Unlock()
	}
	return true, panicked
}

// call runs fn, turning a panic into a *PanicError. On runtime.Goexit it
// records ErrGoexit before the goroutine ends.
func (j *poolGo) call(p *Pool, fn func(context.Context) error) (err error, panicked bool) {
	returned := false
	defer func() {
		if returned {
			return
		}
		if r := recover(); r != nil {
			pe := newPanicError(r, nil)
			pe.Task = p.name
			err, panicked = pe, true
			return
		}
		err = ErrGoexit
		j.sh.end(err)
		if p.name != "" {
			err = &TaskError{Task: p.name, Err: err}
		}
		p.mu.Lock()
		p.goErrs = append(p.goErrs, err)
		p.mu.Unlock()
	}()
	err = fn(j.sh.begin(j.ctx))
	returned = true
	return err, false
}
