package async

import (
	"fmt"
	"time"

	"github.com/goasync/async/internal/option"
)

// An Option configures a task, a scope, a pool or a mapping call. One
// vocabulary serves every call in this module (including package stream);
// passing an option to a call it does not apply to panics at the call site,
// naming the options that call accepts.
type Option = option.Option

// config is the parsed form of a call's options.
type config = option.Config

func parseOptions(call string, allowed option.Set, opts []Option) config {
	return option.Parse(call, allowed, opts)
}

// Name names a task, scope or pool. The name appears in errors
// ([TaskError]), panic reports and unobserved-failure reports.
func Name(name string) Option { return option.New(option.Name, 0, name) }

// Timeout gives a task a deadline d after its start. A task that ends because
// of it settles with an error matching both [ErrTimeout] and
// context.DeadlineExceeded. Timeout panics if d <= 0.
func Timeout(d time.Duration) Option {
	if d <= 0 {
		panic(fmt.Sprintf("async: Timeout(%v): duration must be positive", d))
	}
	return option.New(option.Timeout, int64(d), "")
}

// Limit bounds how many functions run at once. It panics if n < 1.
func Limit(n int) Option {
	if n < 1 {
		panic(fmt.Sprintf("async: Limit(%d): limit must be at least 1", n))
	}
	return option.New(option.Limit, int64(n), "")
}

// Supervise makes a scope collect its children's failures without cancelling
// their siblings. A failure of [Run]'s own function still cancels them.
func Supervise() Option { return option.New(option.Supervise, 0, "") }

// Backlog bounds how many tasks may wait in a pool's queue. It panics if n < 0.
func Backlog(n int) Option {
	if n < 0 {
		panic(fmt.Sprintf("async: Backlog(%d): backlog must not be negative", n))
	}
	return option.New(option.Backlog, int64(n), "")
}

// Progress registers fn to be told how many items are done out of total
// (total is -1 when unknown). Calls come from one goroutine at a time, in
// order, so fn may drive a progress bar. It panics if fn is nil.
func Progress(fn func(done, total int)) Option {
	if fn == nil {
		panic("async: Progress(nil)")
	}
	return option.NewProgress(fn)
}

// Unordered lets a stream yield results as they complete instead of in input
// order.
func Unordered() Option { return option.New(option.Unordered, 0, "") }

// Buffer sets how many finished results a stream may hold ahead of its
// consumer. It panics if n < 0.
func Buffer(n int) Option {
	if n < 0 {
		panic(fmt.Sprintf("async: Buffer(%d): buffer must not be negative", n))
	}
	return option.New(option.Buffer, int64(n), "")
}
