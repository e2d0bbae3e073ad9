// Package option holds the option vocabulary shared by package async and its
// subpackages (stream, ...). Users see the family types (TaskOption,
// MapOption, ...) through aliases in package async, where the constructors
// live.
//
// Each family of calls has its own option interface, sealed by unexported
// methods, so that an option given to a call it does not apply to is a
// compile error. An option that means the same thing in several families
// has a type that implements each of them.
package option

import (
	"context"
	"fmt"
	"time"
)

// Option is one setting. The zero Option is invalid.
type Option struct {
	kind     Kind
	n, n2    int64
	s        string
	progress func(done, total int)
	retryIf  func(error) bool
}

// Kind identifies an option.
type Kind uint8

// The option kinds.
const (
	Name Kind = iota + 1
	Timeout
	Limit
	Supervise
	Backlog
	Progress
	Unordered
	Buffer
	Seed
	VirtualTime
	SlowTask
	Attempts
	Backoff
	RetryIf
	numKinds
)

var names = [numKinds]string{
	Name: "Name", Timeout: "Timeout", Limit: "Limit", Supervise: "Supervise",
	Backlog: "Backlog", Progress: "Progress", Unordered: "Unordered", Buffer: "Buffer",
	Seed: "Seed", VirtualTime: "VirtualTime", SlowTask: "SlowTask",
	Attempts: "Attempts", Backoff: "Backoff", RetryIf: "RetryIf",
}

func (k Kind) String() string {
	if k > 0 && k < numKinds {
		return names[k]
	}
	return fmt.Sprintf("Kind(%d)", k)
}

// New makes an option of kind k with an integer (or duration) value n and a
// string value s.
func New(k Kind, n int64, s string) Option { return Option{kind: k, n: n, s: s} }

// NewBackoff makes a Backoff option.
func NewBackoff(initial, max time.Duration) Option {
	return Option{kind: Backoff, n: int64(initial), n2: int64(max)}
}

// NewRetryIf makes a RetryIf option.
func NewRetryIf(fn func(error) bool) Option { return Option{kind: RetryIf, retryIf: fn} }

// NewProgress makes a Progress option.
func NewProgress(fn func(done, total int)) Option { return Option{kind: Progress, progress: fn} }

// Config is the parsed form of a call's options. Has* fields tell an option
// given explicitly from its zero value.
type Config struct {
	Name        string
	Timeout     time.Duration
	Limit       int // 0 when not given
	Supervise   bool
	Backlog     int
	HasBacklog  bool
	Progress    func(done, total int)
	Unordered   bool
	Buffer      int
	HasBuffer   bool
	Seed        int64
	HasSeed     bool
	VirtualTime bool
	SlowTask    time.Duration
	// Retrying each call: set by Attempts, Backoff and RetryIf.
	Attempts       int // 0 when not given
	BackoffInitial time.Duration
	BackoffMax     time.Duration
	HasBackoff     bool
	RetryIf        func(error) bool
}

// Retrying reports whether an option asked for calls to be retried.
func (c *Config) Retrying() bool { return c.Attempts > 0 || c.HasBackoff || c.RetryIf != nil }

// PerCall reports whether each call needs the retry machinery: a Timeout
// per call, or retrying.
func (c *Config) PerCall() bool { return c.Timeout > 0 || c.Retrying() }

// CallRunner returns a function that runs a call under the per-call options
// of c (Timeout, Attempts, Backoff, RetryIf). Package async sets it, so that
// its subpackages retry and time out calls exactly as it does.
var CallRunner func(c *Config) func(ctx context.Context, call func(context.Context) error) error

// Parse returns the configuration of opts. It panics, naming call, on a nil
// option. Which options a call accepts is its family's type.
func Parse[O interface{ setting() Option }](call string, opts []O) Config {
	var c Config
	for _, opt := range opts {
		if any(opt) == nil {
			panic(fmt.Sprintf("async: %s: nil option", call))
		}
		o := opt.setting()
		switch o.kind {
		case Name:
			c.Name = o.s
		case Timeout:
			c.Timeout = time.Duration(o.n)
		case Limit:
			c.Limit = int(o.n)
		case Supervise:
			c.Supervise = true
		case Backlog:
			c.Backlog, c.HasBacklog = int(o.n), true
		case Progress:
			c.Progress = o.progress
		case Unordered:
			c.Unordered = true
		case Buffer:
			c.Buffer, c.HasBuffer = int(o.n), true
		case Seed:
			c.Seed, c.HasSeed = o.n, true
		case VirtualTime:
			c.VirtualTime = true
		case SlowTask:
			c.SlowTask = time.Duration(o.n)
		case Attempts:
			c.Attempts = int(o.n)
		case Backoff:
			c.BackoffInitial, c.BackoffMax, c.HasBackoff = time.Duration(o.n), time.Duration(o.n2), true
		case RetryIf:
			c.RetryIf = o.retryIf
		}
	}
	return c
}

// The families. Each is sealed by a method of its own; setting gives the
// option itself.
type (
	// TaskOption configures a task: Go, Func.
	TaskOption interface {
		setting() Option
		task()
	}
	// StreamOption configures a stream that yields results: stream.Map,
	// stream.MapSettled.
	StreamOption interface {
		setting() Option
		stream()
	}
	// MapOption configures a mapping call: Map, MapSettled, ForEach,
	// stream.ForEach. Every MapOption is also a StreamOption.
	MapOption interface {
		StreamOption
		mapping()
	}
	// ScopeOption configures a scope: NewScope, Run.
	ScopeOption interface {
		setting() Option
		scope()
	}
	// PoolOption configures a pool: NewPool.
	PoolOption interface {
		setting() Option
		pool()
	}
	// LoopOption configures an event loop: RunLoop.
	LoopOption interface {
		setting() Option
		loop()
	}
)

// The options shared by several families.
type (
	// CallOption applies to each call of a function: Timeout, Attempts,
	// Backoff, RetryIf. Retry takes them alone.
	CallOption interface {
		TaskOption
		MapOption
		call()
	}
	// NameOption names a task, scope, pool or loop.
	NameOption interface {
		TaskOption
		ScopeOption
		PoolOption
		LoopOption
	}
	// LimitOption bounds concurrency in a mapping call, a stream or a scope.
	LimitOption interface {
		MapOption
		ScopeOption
	}
	// ProgressOption reports progress of a mapping call, a stream, a scope
	// or a pool.
	ProgressOption interface {
		MapOption
		ScopeOption
		PoolOption
	}
)

type (
	callOpt     struct{ o Option }
	nameOpt     struct{ o Option }
	limitOpt    struct{ o Option }
	progressOpt struct{ o Option }
	streamOpt   struct{ o Option }
	scopeOpt    struct{ o Option }
	poolOpt     struct{ o Option }
	loopOpt     struct{ o Option }
)

func (x callOpt) setting() Option { return x.o }
func (callOpt) task()             {}
func (callOpt) stream()           {}
func (callOpt) mapping()          {}
func (callOpt) call()             {}

func (x nameOpt) setting() Option { return x.o }
func (nameOpt) task()             {}
func (nameOpt) scope()            {}
func (nameOpt) pool()             {}
func (nameOpt) loop()             {}

func (x limitOpt) setting() Option { return x.o }
func (limitOpt) stream()           {}
func (limitOpt) mapping()          {}
func (limitOpt) scope()            {}

func (x progressOpt) setting() Option { return x.o }
func (progressOpt) stream()           {}
func (progressOpt) mapping()          {}
func (progressOpt) scope()            {}
func (progressOpt) pool()             {}

func (x streamOpt) setting() Option { return x.o }
func (streamOpt) stream()           {}

func (x scopeOpt) setting() Option { return x.o }
func (scopeOpt) scope()            {}

func (x poolOpt) setting() Option { return x.o }
func (poolOpt) pool()             {}

func (x loopOpt) setting() Option { return x.o }
func (loopOpt) loop()             {}

// Typed constructors, one per sharing set.

// Call makes a per-call option.
func Call(o Option) CallOption { return callOpt{o} }

// Named makes a Name option.
func Named(o Option) NameOption { return nameOpt{o} }

// Limited makes a Limit option.
func Limited(o Option) LimitOption { return limitOpt{o} }

// Progressing makes a Progress option.
func Progressing(o Option) ProgressOption { return progressOpt{o} }

// ForStream makes an option only streams accept.
func ForStream(o Option) StreamOption { return streamOpt{o} }

// ForScope makes an option only scopes accept.
func ForScope(o Option) ScopeOption { return scopeOpt{o} }

// ForPool makes an option only pools accept.
func ForPool(o Option) PoolOption { return poolOpt{o} }

// ForLoop makes an option only loops accept.
func ForLoop(o Option) LoopOption { return loopOpt{o} }
