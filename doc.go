// Package async brings async/await to Go: typed futures, promises, combinators,
// structured concurrency and panic-safe tasks, using only the standard library.
//
// # Futures
//
// [Go] starts a function in its own goroutine and returns a [*Future] for its
// result; [Future.Await] waits for it:
//
//	f := async.Go(ctx, func(ctx context.Context) (User, error) { return fetchUser(ctx, id) })
//	// ... do other work ...
//	u, err := f.Await(ctx)
//
// A Future is settled exactly once, with a value or an error, and can be
// awaited any number of times from any goroutine. Awaiting with a context that
// ends first returns the context's error and leaves the future untouched: the
// task keeps running and can be awaited again. [Func] turns a function into an
// "async function" whose calls start work and return futures.
//
// # Task contexts
//
// Each task runs with its own context, derived from the one given to [Go].
// It ends when the parent ends, when [Future.Cancel] is called, when its
// [Timeout] passes, or when the task returns (like a request's context ends
// when the handler returns). The context costs nothing extra until the task
// calls Done on it or derives another context from it.
//
// # Combinators
//
// [All], [AllSettled], [Any], [Race], [AsCompleted], [All2] and [All3] wait on
// several futures without a goroutine per future. None of them cancels the
// futures it was given: they are not its to cancel. To cancel siblings when
// one fails, start them in a [Scope]. When ctx ends first, [AllSettled]
// still returns what has settled, marking the rest [ErrNotSettled].
//
// # Fan-out, retries and options
//
// [Map], [MapSettled] and [ForEach] run a function over a slice on a bounded
// set of workers; [Retry] calls a function until it succeeds, with
// exponential backoff and jitter. The per-call options ([Timeout],
// [Attempts], [Backoff], [RetryIf]) apply to each call of Map, MapSettled,
// ForEach, the stream package, and to the tasks of [Go] and [Func]:
//
//	pages, err := async.Map(ctx, urls, fetch, async.Limit(8), async.Timeout(2*time.Second), async.Attempts(3))
//
// Options are typed by the family of calls they configure ([TaskOption],
// [MapOption], [StreamOption], [ScopeOption], [PoolOption], [LoopOption],
// [CallOption]), so a misplaced option does not compile; an option shared by
// several families, such as [Limit] or [Name], is written the same way in
// each.
//
// # Failures
//
// A panic in a task never crashes the process from another goroutine: the
// future settles with a [*PanicError] carrying the value and the panicking
// goroutine's stack. A failed future that is garbage-collected before anyone
// observed its error is reported to the handler set with
// [SetUnobservedHandler] (by default, logged with log/slog).
//
// Programmer errors (a nil context, function or future, a bad option value
// such as Limit(0)) panic at the call site with a message starting "async:".
package async
