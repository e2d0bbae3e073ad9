// Package stream maps, filters and combines iterators concurrently: the
// streaming counterpart of async.Map for inputs that do not fit in memory or
// arrive over time, in the spirit of Kotlin Flow, .NET's
// Parallel.ForEachAsync and channels, and Swift's AsyncSequence.
//
// Inputs and outputs are plain iter.Seq and iter.Seq2 values, so stages
// compose with range loops and with each other:
//
//	lines := stream.FromChan(ctx, ch)
//	for r, err := range stream.Map(ctx, lines, parse, async.Limit(8)) {
//		if err != nil {
//			return err
//		}
//		use(r)
//	}
//
// Options are package async's: ForEach takes async.MapOption values, Map and
// MapSettled async.StreamOption values (every MapOption is one).
// async.Limit(n) bounds the calls in flight (default runtime.GOMAXPROCS(0)),
// async.Progress reports progress, async.Timeout, async.Attempts,
// async.Backoff and async.RetryIf apply to each call, and for Map and
// MapSettled async.Unordered() and async.Buffer(n) trade order and memory
// for throughput.
//
// # Pulling, stopping and panics
//
// A stage reads its input lazily and only as far ahead as its options allow,
// so an infinite input is fine. Breaking out of a range loop over a stage
// cancels the work in flight, and every goroutine the stage started has
// exited before the range statement returns. A stage cannot interrupt an
// input iterator that is blocked producing its next item: such an input
// must end when its own context does (as [FromChan]'s does), and breaking
// out then waits until it yields or returns. A panic in an input iterator is
// never lost: [Map] and [ForEach] report it as an error, a *async.PanicError
// carrying the input's stack; [Merge] and [Batch], which yield no errors,
// re-panic with it on the consuming goroutine.
package stream
