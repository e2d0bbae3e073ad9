package dist

import (
	"fmt"
	"log/slog"
	"time"
)

// A WorkerOption configures [NewWorker].
type WorkerOption interface{ applyWorker(*workerConfig) }

// A ClientOption configures [NewClient].
type ClientOption interface{ applyClient(*clientConfig) }

// An Option configures both workers and clients, which must agree on it.
type Option interface {
	WorkerOption
	ClientOption
}

// common is what clients and workers must agree on.
type common struct {
	ns        string // namespace: prefix of stream, bucket and subject names
	codec     Codec
	resultTTL time.Duration
	maxQueued int64 // 0: no limit
	replicas  int   // 0: the server's default (1)
}

func defaultCommon() common { return common{ns: "ASYNC", codec: JSON, resultTTL: DefaultResultTTL} }

type workerConfig struct {
	common
	concurrency int
	prefetch    int // -1: the default, concurrency
	ackWait     time.Duration
	drain       time.Duration
	name        string
	log         *slog.Logger
}

type clientConfig struct {
	common
}

type workerOptionFunc func(*workerConfig)

func (f workerOptionFunc) applyWorker(c *workerConfig) { f(c) }

type commonOption func(*common)

func (f commonOption) applyWorker(c *workerConfig) { f(&c.common) }
func (f commonOption) applyClient(c *clientConfig) { f(&c.common) }

// validName reports whether s can name a function or a namespace: 1 to 128
// letters, digits, '-' and '_' (it becomes a consumer name and a subject
// token).
func validName(s string) bool {
	if len(s) == 0 || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// Namespace sets the prefix of the streams, buckets and subjects that
// clients and workers share (default "ASYNC"), so that independent
// applications can use one NATS server. It panics if ns is not made of
// letters, digits, '-' and '_'.
func Namespace(ns string) Option {
	if !validName(ns) {
		panic(fmt.Sprintf("async: dist.Namespace(%q): use letters, digits, '-' and '_'", ns))
	}
	return commonOption(func(c *common) { c.ns = ns })
}

// Encoding sets the codec for requests and responses (default [JSON]). It
// panics if c is nil.
func Encoding(c Codec) Option {
	if c == nil {
		panic("async: dist.Encoding(nil)")
	}
	return commonOption(func(cc *common) { cc.codec = c })
}

// Concurrency sets how many handlers a worker runs at once (default 16, or
// GOMAXPROCS if larger: handlers often wait on I/O, and asking the server for
// tasks one at a time would cost more than running them). A worker takes a
// task from the queue only when it has a free slot for it, or room among
// its [Prefetch]ed tasks, so other queued tasks stay available to other
// workers; CPU-bound handlers want n near the number of cores. It panics if n < 1.
func Concurrency(n int) WorkerOption {
	if n < 1 {
		panic(fmt.Sprintf("async: dist.Concurrency(%d): must be at least 1", n))
	}
	return workerOptionFunc(func(c *workerConfig) { c.concurrency = n })
}

// Prefetch sets how many tasks a worker takes from the queue beyond its
// free handler slots (default: as many as [Concurrency]), so that a handler
// that returns finds its next task already here and the worker asks the
// server for tasks in batches rather than one slot at a time, which costs
// the server less per task. A prefetched task waits for a slot on this
// worker: it is heartbeated like a running one, so its ack wait never
// expires while it waits, and it is handed back to the queue at once (not
// run) when the worker stops. Handing back counts as a delivery for
// [MaxAttempts], as does a worker dying with prefetched tasks.
//
// Prefetching trades fairness for throughput: a task prefetched behind a
// long-running handler waits for it even if another worker is idle. Workers
// of long tasks, or of tasks with MaxAttempts(1), should use Prefetch(0),
// which takes a task only when a slot is free. It panics if n < 0.
func Prefetch(n int) WorkerOption {
	if n < 0 {
		panic(fmt.Sprintf("async: dist.Prefetch(%d): must not be negative", n))
	}
	return workerOptionFunc(func(c *workerConfig) { c.prefetch = n })
}

// AckWait sets how long a task may go without news from its worker before it
// is delivered to another worker (default 30s). A running handler is
// heartbeated every AckWait/3, so only a dead or stuck worker loses its
// tasks; a shorter AckWait finds dead workers sooner at the cost of more
// heartbeats. The setting belongs to each function's queue, so workers of one
// function should agree on it. It panics if d < 100ms.
func AckWait(d time.Duration) WorkerOption {
	if d < 100*time.Millisecond {
		panic(fmt.Sprintf("async: dist.AckWait(%v): must be at least 100ms", d))
	}
	return workerOptionFunc(func(c *workerConfig) { c.ackWait = d })
}

// WorkerName names a worker in errors and in the workers bucket (default:
// host name, process id and a random suffix). It panics if name is empty.
func WorkerName(name string) WorkerOption {
	if name == "" {
		panic("async: dist.WorkerName(\"\")")
	}
	return workerOptionFunc(func(c *workerConfig) { c.name = name })
}

// DefaultResultTTL is how long outcomes are kept when [ResultTTL] does not
// say.
const DefaultResultTTL = 24 * time.Hour

// ResultTTL sets how long a task's outcome is kept in the results bucket
// (default [DefaultResultTTL]): [Attach] and calls with a [Key] find it for
// that long. It is a property of the bucket, set by whoever creates it (the
// first worker or client); workers update it to theirs. It panics if d is
// below one second.
func ResultTTL(d time.Duration) Option {
	if d < time.Second {
		panic(fmt.Sprintf("async: dist.ResultTTL(%v): must be at least 1s", d))
	}
	return commonOption(func(c *common) { c.resultTTL = d })
}

// MaxQueued bounds how many tasks the namespace's queue holds (queued and
// running, all functions together; default: no bound). A call beyond it
// fails at once with an error matching [ErrQueueFull] instead of growing
// the server's storage. Like [ResultTTL] it is a property of the stream.
// It panics if n < 1.
func MaxQueued(n int64) Option {
	if n < 1 {
		panic(fmt.Sprintf("async: dist.MaxQueued(%d): must be at least 1", n))
	}
	return commonOption(func(c *common) { c.maxQueued = n })
}

// DrainTimeout sets how long [Worker.Run], once its context ends, lets
// running handlers finish (default 30s). Handlers still running then have
// their context canceled; their tasks are handed back to the queue for
// another worker instead of failing. It panics if d < 0.
func DrainTimeout(d time.Duration) WorkerOption {
	if d < 0 {
		panic(fmt.Sprintf("async: dist.DrainTimeout(%v): must not be negative", d))
	}
	return workerOptionFunc(func(c *workerConfig) { c.drain = d })
}

// Logger sets where a worker reports what it drops: malformed or hostile
// task messages, and outcomes it cannot store (default [slog.Default]).
// Each kind of problem is logged at most once a second, with a count of
// the ones left out. It panics if l is nil.
func Logger(l *slog.Logger) WorkerOption {
	if l == nil {
		panic("async: dist.Logger(nil)")
	}
	return workerOptionFunc(func(c *workerConfig) { c.log = l })
}

// A CallOption configures one [Call].
type CallOption func(*callConfig)

type callConfig struct {
	timeout     time.Duration
	key         string
	maxAttempts int
	retry       []time.Duration
	retrySet    bool
	wait        bool
}

// DefaultMaxAttempts is how many times a task is delivered at most when the
// call does not say ([MaxAttempts]).
const DefaultMaxAttempts = 5

// Timeout gives the task a deadline d from now. The deadline travels with
// the task: a worker does not start a task whose deadline has passed, the
// handler's context ends at the deadline, and the future settles with an
// error matching [async.ErrTimeout] when it passes, even if no worker is
// alive. The deadline is a wall-clock time, so the clocks of clients and
// workers should agree (NTP). It panics if d <= 0.
func Timeout(d time.Duration) CallOption {
	if d <= 0 {
		panic(fmt.Sprintf("async: dist.Timeout(%v): must be positive", d))
	}
	return func(c *callConfig) { c.timeout = d }
}

// Key makes the call idempotent: calls of the same function with the same key
// make one task, which runs once (at least once, on failures), and all their
// futures get its result, for as long as the result is kept ([ResultTTL]).
// Being one task, it is canceled by the Cancel of any of those futures. It
// panics if key is empty.
func Key(key string) CallOption {
	if key == "" {
		panic("async: dist.Key(\"\")")
	}
	return func(c *callConfig) { c.key = key }
}

// MaxAttempts bounds how many times the task is delivered to a worker
// (default [DefaultMaxAttempts]). A delivery counts when a worker takes the
// task, whether its handler then fails ([Retry]), the worker dies or its ack
// wait expires, or a stopping worker hands it back unstarted ([Prefetch]). When the bound is reached the future rejects with an error
// matching [ErrDeadLetter]. It panics if n < 1.
func MaxAttempts(n int) CallOption {
	if n < 1 {
		panic(fmt.Sprintf("async: dist.MaxAttempts(%d): must be at least 1", n))
	}
	return func(c *callConfig) { c.maxAttempts = n }
}

// Retry makes handler errors and panics transient: the task goes back to the
// queue and is tried again after backoff[i] for the i-th retry (the last
// delay repeats; no delays means at once), until [MaxAttempts]. Errors
// wrapped with [Permanent], timeouts and cancellations are not retried.
// Without Retry a handler error settles the future at once. It panics if a
// delay is negative.
func Retry(backoff ...time.Duration) CallOption {
	for _, d := range backoff {
		if d < 0 {
			panic(fmt.Sprintf("async: dist.Retry: negative delay %v", d))
		}
	}
	b := append([]time.Duration(nil), backoff...)
	return func(c *callConfig) { c.retry, c.retrySet = b, true }
}

// WaitForWorker queues the task even if no worker serves the function now,
// instead of failing with [ErrNoWorker]; it runs when one starts.
func WaitForWorker() CallOption { return func(c *callConfig) { c.wait = true } }

// Replicas makes the namespace's streams and buckets keep n copies, on n
// servers of a JetStream cluster (default 1), so that queued tasks and
// stored outcomes survive the loss of a server (n = 3 survives one). It is
// a property of the streams, set by whoever creates them (the first worker
// or client); workers update them to theirs. A server that is not in a
// cluster refuses n > 1. It panics if n is not between 1 and 5 (the most
// JetStream allows).
func Replicas(n int) Option {
	if n < 1 || n > 5 {
		panic(fmt.Sprintf("async: dist.Replicas(%d): must be between 1 and 5", n))
	}
	return commonOption(func(c *common) { c.replicas = n })
}
