package async

import (
	"context"
	"sync"
	"sync/atomic"
)

// An Event is a flag that goroutines can wait for, like asyncio.Event:
// [Event.Set] raises it and wakes every waiter, [Event.Clear] lowers it
// again. The zero Event is ready to use and not set. An Event must not be
// copied after first use.
type Event struct {
	set atomic.Bool
	mu  sync.Mutex
	ch  chan struct{} // made by the first Wait after a Clear; closed by Set
	// loopers are loop tasks in Wait, made ready by Set.
	loopers []*loopTask
}

// Set raises the flag and wakes every goroutine blocked in [Event.Wait].
// Setting a set event does nothing.
func (e *Event) Set() {
	e.mu.Lock()
	if !e.set.Load() {
		e.set.Store(true)
		if e.ch != nil {
			close(e.ch)
		}
	}
	loopers := e.loopers
	e.loopers = nil
	e.mu.Unlock()
	for _, lt := range loopers {
		lt.l.makeReady(lt)
	}
}

// IsSet reports whether the flag is raised.
func (e *Event) IsSet() bool { return e.set.Load() }

// Clear lowers the flag: later Waits block until the next Set. Waits that
// Set already released are not affected.
func (e *Event) Clear() {
	e.mu.Lock()
	if e.set.Load() {
		e.set.Store(false)
		e.ch = nil
	}
	e.mu.Unlock()
}

// Wait blocks until the flag is raised or ctx ends, whichever is first. It
// returns nil if the flag is raised (at once, even if ctx has ended), or an
// error matching ctx.Err() and its cause.
func (e *Event) Wait(ctx context.Context) error {
	checkCtx("Event.Wait", ctx)
	if e.set.Load() {
		return nil
	}
	e.mu.Lock()
	if e.set.Load() {
		e.mu.Unlock()
		return nil
	}
	if e.ch == nil {
		e.ch = make(chan struct{})
	}
	ch := e.ch
	lt := runningLoopTask(ctx)
	if lt != nil {
		e.loopers = append(e.loopers, lt)
	}
	e.mu.Unlock()
	defer blockEnd(blockBegin(ctx, "Event.Wait", "", 0))
	if park(ctx, ch, lt) {
		return nil
	}
	return ctxError(ctx)
}
