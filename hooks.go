package async

import (
	"context"
	"runtime/trace"
	"sync"
	"sync/atomic"
)

// hook is told about task lifecycle events. The debug registry, profiling
// and SetObserver install one (see hookSet); with none installed each event
// point costs one atomic load. Methods run on the goroutine where the event
// happens and must not block.
type hook interface {
	// taskStarted: t was created, by the task parent (nil if none). It
	// runs before t is shared with another goroutine.
	taskStarted(t, parent *task)
	// taskRunning: t's function begins on its goroutine.
	taskRunning(t *task)
	// taskReturned: t's function returned, panicked or called
	// runtime.Goexit; on the goroutine of taskRunning, before t settles.
	taskReturned(t *task)
	// taskSettled: t's outcome is final.
	taskSettled(t *task)
	// awaitBegin: whoever awaits with ctx (a task, if ctx is or derives
	// from one) starts waiting on the tasks in on, which it must not keep.
	// Its result goes to awaitEnd when the wait ends, on the same
	// goroutine.
	awaitBegin(ctx context.Context, on []*task) *awaitRec
	awaitEnd(rec *awaitRec)
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

// The installed features. They are combined into one hookSet, installed
// whenever any of them is on, so that with all of them off the event points
// cost one atomic load each.
var (
	hookMu    sync.Mutex
	installed hookSet
)

// reinstall applies change to the installed features and installs the
// result.
func reinstall(change func(*hookSet)) {
	hookMu.Lock()
	defer hookMu.Unlock()
	change(&installed)
	if installed.reg == nil && !installed.prof && installed.obs == nil {
		setHook(nil)
		return
	}
	hs := installed // a copy: an installed hookSet never changes
	setHook(&hs)
}

// dbgOf returns what the hooks keep on t, or nil: tasks started while no
// hook was installed have none.
func dbgOf(t *task) *taskDebug {
	if x := t.x.Load(); x != nil {
		return x.dbg
	}
	return nil
}

// hookSet dispatches events to the features that are on: the debug
// registry, profiling (pprof labels and runtime/trace) and an Observer.
type hookSet struct {
	reg  *registry // debug mode
	prof bool      // SetProfiling, or debug mode
	obs  Observer
}

func (h *hookSet) taskStarted(t, parent *task) {
	var d *taskDebug
	if h.reg != nil {
		d = h.reg.started(t, parent)
	}
	if t.parent != nil && (h.obs != nil || h.prof) {
		ctx := t.parent
		if h.obs != nil {
			if c := h.obs.TaskStarted(ctx, t.name()); c != nil {
				ctx = c
			}
		}
		var tt *trace.Task
		labels := false
		if h.prof {
			ctx, tt, labels = startProfiling(ctx, t.name())
		}
		// Nothing to keep for an unnamed task while not tracing, with no
		// observer: no allocation.
		if d == nil && (h.obs != nil || tt != nil || labels) {
			d = new(taskDebug)
		}
		if d != nil {
			d.observed, d.trace, d.labels = h.obs != nil, tt, labels
			if ctx != t.parent {
				d.values = ctx
			}
		}
	}
	if d != nil {
		t.mu.Lock()
		t.ext().dbg = d
		t.mu.Unlock()
	}
}

func (h *hookSet) taskRunning(t *task) {
	if h.reg != nil {
		h.reg.running(t)
	}
	if d := dbgOf(t); d != nil && h.prof {
		d.runProfiling(t)
	}
}

func (h *hookSet) taskReturned(t *task) {
	if d := dbgOf(t); d != nil {
		d.stopProfiling(t) // even if profiling was turned off since it ran
	}
}

func (h *hookSet) taskSettled(t *task) {
	if h.reg != nil {
		h.reg.settled(t)
	}
	d := dbgOf(t)
	if d == nil {
		return
	}
	if h.obs != nil && d.observed {
		ctx := d.values
		if ctx == nil {
			ctx = t.parent
		}
		h.obs.TaskEnded(ctx, t.err)
	}
	d.endTrace()
}

func (h *hookSet) awaitBegin(ctx context.Context, on []*task) *awaitRec {
	if h.obs != nil {
		ctxs := make([]context.Context, 0, len(on))
		for _, t := range on {
			if d := dbgOf(t); d != nil && d.values != nil {
				ctxs = append(ctxs, d.values)
			}
		}
		h.obs.Awaiting(ctx, ctxs)
	}
	tracing := h.prof && trace.IsEnabled()
	if h.reg == nil && !tracing {
		return nil // nothing to end
	}
	rec := &awaitRec{waiter: taskOfContext(ctx)}
	if h.reg != nil {
		h.reg.awaitBegin(rec, on)
	}
	if tracing {
		rec.region = trace.StartRegion(ctx, "async.Await")
	}
	return rec
}

func (h *hookSet) awaitEnd(rec *awaitRec) {
	if rec == nil {
		return
	}
	if rec.region != nil {
		rec.region.End()
	}
	if h.reg != nil {
		h.reg.awaitEnd(rec)
	}
}

// noteGroup records that t belongs to a scope or a pool (kind), named name,
// for the registry. It is called right after t.start, before t runs.
func noteGroup(t *task, kind, name string) {
	if h := hooks.Load(); h != nil {
		if hs, ok := h.h.(*hookSet); ok && hs.reg != nil {
			hs.reg.group(t, kind, name)
		}
	}
}
