package async

import (
	"fmt"
	"time"

	"github.com/goasync/async/internal/option"
)

// Options come in families, one per kind of call, so that an option given
// to a call it does not apply to is a compile error, as gRPC separates its
// dial, call and server options. An option that means the same thing in
// several families ([Name], [Limit], [Progress], [Timeout] and the retry
// options) has a type that belongs to each of them, and is written once:
//
//	async.Map(ctx, urls, fetch, async.Limit(8), async.Timeout(2*time.Second), async.Attempts(3))
//	async.Run(ctx, fn, async.Limit(8), async.Name("crawl"))
//
// The families are interfaces that only this module implements; to build a
// list of options, use the family's type: []async.MapOption{async.Limit(8)}.
type (
	// A TaskOption configures a task: [Go] and [Func] accept [Name],
	// [Timeout], [Attempts], [Backoff] and [RetryIf].
	TaskOption = option.TaskOption
	// A MapOption configures a mapping call: [Map], [MapSettled], [ForEach]
	// and the stream package's ForEach accept [Limit], [Progress],
	// [Timeout], [Attempts], [Backoff] and [RetryIf]. Every MapOption is
	// also a StreamOption.
	MapOption = option.MapOption
	// A StreamOption configures a stream of results: the stream package's
	// Map and MapSettled accept the MapOptions, [Unordered] and [Buffer].
	StreamOption = option.StreamOption
	// A ScopeOption configures a scope: [NewScope] and [Run] accept
	// [Limit], [Supervise], [Name] and [Progress].
	ScopeOption = option.ScopeOption
	// A PoolOption configures a pool: [NewPool] accepts [Backlog], [Name]
	// and [Progress].
	PoolOption = option.PoolOption
	// A LoopOption configures an event loop: [RunLoop] accepts [Name],
	// [Seed], [VirtualTime] and [SlowTask].
	LoopOption = option.LoopOption
	// A CallOption applies to each call of a function: [Timeout],
	// [Attempts], [Backoff] and [RetryIf]. It is a TaskOption, a MapOption
	// and a StreamOption, and [Retry] takes CallOptions alone.
	CallOption = option.CallOption
	// A NameOption ([Name]) is a TaskOption, ScopeOption, PoolOption and
	// LoopOption.
	NameOption = option.NameOption
	// A LimitOption ([Limit]) is a MapOption, StreamOption and ScopeOption.
	LimitOption = option.LimitOption
	// A ProgressOption ([Progress]) is a MapOption, StreamOption,
	// ScopeOption and PoolOption.
	ProgressOption = option.ProgressOption
)

// config is the parsed form of a call's options.
type config = option.Config

// Name names a task, scope, pool or loop. The name appears in errors
// ([TaskError]), panic reports and unobserved-failure reports.
func Name(name string) NameOption { return option.Named(option.New(option.Name, 0, name)) }

// Timeout gives a task a deadline d after its start; given to a mapping call
// or a stream, it gives each call that deadline (each attempt, with the
// retry options). A task or call that ends because of it fails with an error
// matching both [ErrTimeout] and context.DeadlineExceeded. Timeout panics if
// d <= 0.
func Timeout(d time.Duration) CallOption {
	if d <= 0 {
		panic(fmt.Sprintf("async: Timeout(%v): duration must be positive", d))
	}
	return option.Call(option.New(option.Timeout, int64(d), ""))
}

// Limit bounds how many functions run at once. It panics if n < 1.
func Limit(n int) LimitOption {
	if n < 1 {
		panic(fmt.Sprintf("async: Limit(%d): limit must be at least 1", n))
	}
	return option.Limited(option.New(option.Limit, int64(n), ""))
}

// Supervise makes a scope collect its children's failures without cancelling
// their siblings. A failure of [Run]'s own function still cancels them.
func Supervise() ScopeOption { return option.ForScope(option.New(option.Supervise, 0, "")) }

// Backlog bounds how many tasks may wait in a pool's queue. It panics if n < 0.
func Backlog(n int) PoolOption {
	if n < 0 {
		panic(fmt.Sprintf("async: Backlog(%d): backlog must not be negative", n))
	}
	return option.ForPool(option.New(option.Backlog, int64(n), ""))
}

// Progress registers fn to be told how many items are done out of total
// (total is -1 when unknown). Calls come from one goroutine at a time, in
// order, so fn may drive a progress bar. In a scope or a pool, an item is a
// child or a task, and total grows as they start. It panics if fn is nil.
func Progress(fn func(done, total int)) ProgressOption {
	if fn == nil {
		panic("async: Progress(nil)")
	}
	return option.Progressing(option.NewProgress(fn))
}

// Unordered lets a stream yield results as they complete instead of in input
// order.
func Unordered() StreamOption { return option.ForStream(option.New(option.Unordered, 0, "")) }

// Buffer sets how many finished results a stream may hold ahead of its
// consumer. It panics if n < 0.
func Buffer(n int) StreamOption {
	if n < 0 {
		panic(fmt.Sprintf("async: Buffer(%d): buffer must not be negative", n))
	}
	return option.ForStream(option.New(option.Buffer, int64(n), ""))
}
