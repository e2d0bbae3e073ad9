package async

import (
	"context"
	"runtime/pprof"
	"runtime/trace"
)

// profiling is SetProfiling's setting; guarded by hookMu.
var profiling bool

// SetProfiling turns task profiling on or off and returns the previous
// setting. It is also on in debug mode ([SetDebug]).
//
// With it on, a named task's function runs with the pprof label
// async.task=<name>, so CPU and goroutine profiles group samples by task;
// labels added with pprof.Do inside the task keep it. While runtime/trace is
// tracing, each task started is a trace.Task (named after the task, or
// "async.task") that nests under the trace task of the context it was
// started with, its function runs in a region "async.run", and each wait in
// Await or a combinator is a region "async.Await", so that go tool trace
// shows tasks, their children and where they waited. Tasks started while
// profiling was off get none of this. With it off, a task pays one atomic
// load for it.
func SetProfiling(on bool) (previous bool) {
	reinstall(func(h *hookSet) {
		previous = profiling
		profiling = on
		h.prof = on || h.reg != nil
	})
	return previous
}

// profileLabel is the pprof label key under which named tasks run.
const profileLabel = "async.task"

// startProfiling makes the trace task (while tracing) and the labels (for a
// named task) of a task named name, started with ctx, and returns the
// context that carries them.
func startProfiling(ctx context.Context, name string) (_ context.Context, tt *trace.Task, labels bool) {
	if trace.IsEnabled() {
		tn := name
		if tn == "" {
			tn = "async.task"
		}
		ctx, tt = trace.NewTask(ctx, tn)
	}
	if name != "" {
		ctx = pprof.WithLabels(ctx, pprof.Labels(profileLabel, name))
		labels = true
	}
	return ctx, tt, labels
}

// runProfiling runs on the task's goroutine as its function starts.
func (d *taskDebug) runProfiling(t *task) {
	if d.labels {
		pprof.SetGoroutineLabels(d.values)
	}
	if d.trace != nil {
		d.region = trace.StartRegion(d.values, "async.run")
	}
}

// stopProfiling runs on the task's goroutine as its function returns: the
// goroutine goes back to the labels of the context the task was started
// with (a pool's worker goes on to other tasks).
func (d *taskDebug) stopProfiling(t *task) {
	if d.region != nil {
		d.region.End()
		d.region = nil
	}
	if d.labels {
		pprof.SetGoroutineLabels(t.parent)
	}
}

func (d *taskDebug) endTrace() {
	if d.trace != nil {
		d.trace.End()
	}
}
