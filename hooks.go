package async

import (
	"context"
	"sync/atomic"
)

// hook is told about task lifecycle events. The debug registry and
// SetObserver install one; with none installed each event point costs one
// atomic load. Methods run on the goroutine where the event happens and must
// not block.
type hook interface {
	// taskStarted: t was created, by the task parent (nil if none).
	taskStarted(t, parent *task)
	// taskRunning: t's function begins on its goroutine.
	taskRunning(t *task)
	// taskSettled: t's outcome is final.
	taskSettled(t *task)
	// awaitBegin: waiter (nil outside a task) starts waiting on the tasks
	// in on; awaitEnd: it stopped waiting.
	awaitBegin(waiter *task, on []*task)
	awaitEnd(waiter *task)
}

var hooks atomic.Pointer[hookBox]

type hookBox struct{ h hook }

// setHook installs h (nil removes it) and returns the previous one.
func setHook(h hook) hook {
	var b *hookBox
	if h != nil {
		b = &hookBox{h}
	}
	if old := hooks.Swap(b); old != nil {
		return old.h
	}
	return nil
}

// taskOfContext returns the innermost task whose context ctx is or derives
// from, or nil.
func taskOfContext(ctx context.Context) *task {
	if t, ok := ctx.(*task); ok {
		return t
	}
	t, _ := ctx.Value(taskKey{}).(*task)
	return t
}
