package async

import "context"

// An Observer is told about every task's life, for tracing and metrics (the
// asyncotel module implements one with OpenTelemetry). Its methods are
// called synchronously, on the goroutine where the event happens, and must
// not block. Promises (and Resolved and Rejected futures) are not tasks and
// are not reported.
type Observer interface {
	// TaskStarted is called when a task is created (by Go, Func, Then,
	// Catch, Spawn, Submit, ...), on the creating goroutine, before the
	// task can run. ctx is the context the task was started with; name is
	// the task's Name or "". The context returned, which must be ctx or
	// derive from it, is where the task's context looks up values: a
	// tracing span stored in it is seen by the task's function and becomes
	// the parent of the tasks it starts. A nil result means ctx.
	TaskStarted(ctx context.Context, name string) context.Context
	// TaskEnded is called once the task has settled, on the settling
	// goroutine, before goroutines blocked awaiting the task are woken,
	// with the context TaskStarted returned and the task's error (nil on
	// success; a [*PanicError] if it panicked). A goroutine that awaits
	// the task just as it settles, without blocking, may see the outcome
	// first.
	TaskEnded(ctx context.Context, err error)
	// Awaiting is called when a goroutine starts waiting, with ctx, in
	// Await or a combinator (All, Race, ...) for tasks that have not
	// settled; on holds the contexts TaskStarted returned for those
	// tasks. It is not told when the wait ends.
	Awaiting(ctx context.Context, on []context.Context)
}

// SetObserver installs o (nil removes it) and returns the previous one. Only
// tasks started after it was installed are reported to it. With no observer,
// a task pays one atomic load for it.
func SetObserver(o Observer) (previous Observer) {
	reinstall(func(h *hookSet) {
		previous = h.obs
		h.obs = o
	})
	return previous
}
