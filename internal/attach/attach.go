// Package attach lets this module's packages that settle promises (dist)
// keep a small hook with a promise's future: the future tells the hook
// when it settles, as Promise.AfterSettle would, and the hook can be found
// again from the future alone, before and after it settles (dist keeps a
// call's task id in it, for TaskID). A hook is one of the future's waiters,
// so attaching one costs its own allocation and nothing else: no closure,
// no stop function, no registry of futures.
//
// Package async sets Add and Find when it is initialised (it imports this
// package, so this package cannot import it).
package attach

// A Hook is kept with one future.
type Hook struct {
	// Settler is told once, on the goroutine that settles the future,
	// before any Await blocked on it returns (one that begins meanwhile may
	// return first); it must not block. The future drops it
	// once told, so that a settled future does not keep what it refers to.
	Settler interface{ Settled() }
	// Key is what the hook's owner finds it by; it never changes.
	Key string
}

var (
	// Add attaches h to f, an *async.Future made by async.NewPromise. If f
	// has settled already, h.Settler is told at once, on the caller's
	// goroutine; h is kept either way.
	Add func(f any, h *Hook)
	// Find returns the hook attached to f, an *async.Future, or nil.
	Find func(f any) *Hook
)
