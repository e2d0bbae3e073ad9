// Package option holds the option vocabulary shared by package async and its
// subpackages (stream, ...). Users see these types as async.Option; the
// constructors live in package async.
package option

import (
	"context"
	"fmt"
	"strings"
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

// Set is the set of option kinds a call accepts.
type Set uint32

// Of returns the set of the given kinds.
func Of(kinds ...Kind) Set {
	var s Set
	for _, k := range kinds {
		s |= 1 << k
	}
	return s
}

func (s Set) String() string {
	var out []string
	for k := Name; k < numKinds; k++ {
		if s&(1<<k) != 0 {
			out = append(out, names[k])
		}
	}
	if len(out) == 0 {
		return "no options"
	}
	return strings.Join(out, ", ")
}

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

// Parse checks opts against the set call accepts and returns the
// configuration. It panics, naming call, on a zero option or one that does
// not apply, so the mistake is reported at the call site.
func Parse(call string, allowed Set, opts []Option) Config {
	var c Config
	for _, o := range opts {
		if o.kind == 0 || o.kind >= numKinds {
			panic(fmt.Sprintf("async: %s: zero Option (use the constructors such as async.Name)", call))
		}
		if allowed&(1<<o.kind) == 0 {
			panic(fmt.Sprintf("async: option %s does not apply to %s (it accepts %s)", o.kind, call, allowed))
		}
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
