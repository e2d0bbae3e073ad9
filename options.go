package async

import (
	"fmt"
	"strings"
	"time"
)

// An Option configures a task, a scope, a pool or a mapping call. The same
// vocabulary is used everywhere; passing an option to a call it does not apply
// to panics at the call site.
type Option struct {
	kind     optKind
	n        int64
	s        string
	progress func(done, total int)
}

type optKind uint8

const (
	optName optKind = iota + 1
	optTimeout
	optLimit
	optSupervise
	optBacklog
	optProgress
	optUnordered
	optBuffer
	optSeed
	optVirtualTime
	optSlowTask
	numOptKinds
)

var optNames = [numOptKinds]string{
	optName: "Name", optTimeout: "Timeout", optLimit: "Limit", optSupervise: "Supervise",
	optBacklog: "Backlog", optProgress: "Progress", optUnordered: "Unordered", optBuffer: "Buffer",
	optSeed: "Seed", optVirtualTime: "VirtualTime", optSlowTask: "SlowTask",
}

// optSet is the set of option kinds a call accepts.
type optSet uint32

func optionsOf(kinds ...optKind) optSet {
	var s optSet
	for _, k := range kinds {
		s |= 1 << k
	}
	return s
}

// Name names a task, scope or pool. The name appears in errors, panic reports
// and unobserved-failure reports.
func Name(name string) Option { return Option{kind: optName, s: name} }

// Timeout gives a task a deadline d from its start. A task that ends because
// of it settles with an error matching both [ErrTimeout] and
// context.DeadlineExceeded. Timeout panics if d <= 0.
func Timeout(d time.Duration) Option {
	if d <= 0 {
		panic(fmt.Sprintf("async: Timeout(%v): duration must be positive", d))
	}
	return Option{kind: optTimeout, n: int64(d)}
}

// Limit bounds how many functions run at once. It panics if n < 1.
func Limit(n int) Option {
	if n < 1 {
		panic(fmt.Sprintf("async: Limit(%d): limit must be at least 1", n))
	}
	return Option{kind: optLimit, n: int64(n)}
}

// Supervise makes a scope collect its children's failures without cancelling
// their siblings.
func Supervise() Option { return Option{kind: optSupervise} }

// Backlog bounds how many tasks may wait in a pool's queue. It panics if n < 0.
func Backlog(n int) Option {
	if n < 0 {
		panic(fmt.Sprintf("async: Backlog(%d): backlog must not be negative", n))
	}
	return Option{kind: optBacklog, n: int64(n)}
}

// Progress registers fn to be told how many items are done out of total
// (total is -1 when unknown). Calls come from one goroutine at a time, in
// order. It panics if fn is nil.
func Progress(fn func(done, total int)) Option {
	if fn == nil {
		panic("async: Progress(nil)")
	}
	return Option{kind: optProgress, progress: fn}
}

// Unordered lets a stream yield results as they complete instead of in input
// order.
func Unordered() Option { return Option{kind: optUnordered} }

// Buffer sets how many finished results a stream may hold ahead of its
// consumer. It panics if n < 0.
func Buffer(n int) Option {
	if n < 0 {
		panic(fmt.Sprintf("async: Buffer(%d): buffer must not be negative", n))
	}
	return Option{kind: optBuffer, n: int64(n)}
}

// config is the parsed form of a call's options.
type config struct {
	name       string
	timeout    time.Duration
	limit      int
	supervise  bool
	backlog    int
	hasBacklog bool
	progress   func(done, total int)
	unordered  bool
	buffer     int
	hasBuffer  bool
	seed       int64
	hasSeed    bool
	virtual    bool
	slowTask   time.Duration
}

// parseOptions checks opts against the set a call accepts and returns the
// configuration. It panics, naming the call, on an option that does not apply.
func parseOptions(call string, allowed optSet, opts []Option) config {
	var c config
	for _, o := range opts {
		if o.kind == 0 || o.kind >= numOptKinds {
			panic(fmt.Sprintf("async: %s: zero Option (use the constructors such as async.Name)", call))
		}
		if allowed&(1<<o.kind) == 0 {
			panic(fmt.Sprintf("async: option %s does not apply to %s (it accepts %s)", optNames[o.kind], call, allowed))
		}
		switch o.kind {
		case optName:
			c.name = o.s
		case optTimeout:
			c.timeout = time.Duration(o.n)
		case optLimit:
			c.limit = int(o.n)
		case optSupervise:
			c.supervise = true
		case optBacklog:
			c.backlog, c.hasBacklog = int(o.n), true
		case optProgress:
			c.progress = o.progress
		case optUnordered:
			c.unordered = true
		case optBuffer:
			c.buffer, c.hasBuffer = int(o.n), true
		case optSeed:
			c.seed, c.hasSeed = o.n, true
		case optVirtualTime:
			c.virtual = true
		case optSlowTask:
			c.slowTask = time.Duration(o.n)
		}
	}
	return c
}

func (s optSet) String() string {
	var names []string
	for k := optName; k < numOptKinds; k++ {
		if s&(1<<k) != 0 {
			names = append(names, optNames[k])
		}
	}
	if len(names) == 0 {
		return "no options"
	}
	return strings.Join(names, ", ")
}
