package async

import (
	"context"
	"errors"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// A shadow is the debug registry's record of a function the library runs
// without a future of its own: a Scope.Go child, Run's function, a Pool.Go
// task, a Map or ForEach call. It stands in for a task so that Tasks, Dump
// and the console list the function, and so that what it waits on is
// charged to it rather than to the task that started it: its function
// runs with a context that names the shadow as its task.
type shadow struct {
	t   task // only its name, spawn site, debug record and error are used
	reg *registry
}

// debugRegistry returns the registry when debug mode is on, else nil.
func debugRegistry() *registry {
	if h := hooks.Load(); h != nil {
		if hs, ok := h.h.(*hookSet); ok {
			return hs.reg
		}
	}
	return nil
}

// newShadow records, in debug mode, a function started with parent as its
// context, named name, in the scope or pool kind named group. It returns
// nil outside debug mode, and in an event loop (whose tasks are real ones).
func newShadow(parent context.Context, name, kind, group string) *shadow {
	reg := debugRegistry()
	if reg == nil || loopOf(parent) != nil {
		return nil
	}
	// From newShadow's caller; formatting skips the library's frames.
	return reg.shadow(parent, name, kind, group, callers(3))
}

func (reg *registry) shadow(parent context.Context, name, kind, group string, created []uintptr) *shadow {
	sh := &shadow{reg: reg}
	x := sh.t.ext()
	x.name = name
	x.created = created
	x.dbg = reg.started(&sh.t, taskOfContext(parent))
	if kind != "" {
		reg.group(&sh.t, kind, group)
	}
	return sh
}

// shadowCalls returns call, or in debug mode call recording each call as a
// task named what (Map, ForEach) started where its caller called
// shadowCalls's caller.
func shadowCalls(ctx context.Context, what string, call func(context.Context, int) error) func(context.Context, int) error {
	reg := debugRegistry()
	if reg == nil || loopOf(ctx) != nil {
		return call
	}
	created := callers(3)
	return func(ctx context.Context, i int) error {
		sh := reg.shadow(ctx, what, "", "", created)
		return sh.run(ctx, func(ctx context.Context) error { return call(ctx, i) })
	}
}

// begin marks the function running and returns the context to run it with.
func (sh *shadow) begin(ctx context.Context) context.Context {
	if sh == nil {
		return ctx
	}
	sh.reg.running(&sh.t)
	return shadowCtx{ctx, &sh.t}
}

// end records the function's outcome.
func (sh *shadow) end(err error) {
	if sh == nil {
		return
	}
	sh.t.err = err
	sh.reg.settled(&sh.t)
}

// discard forgets a function that will never run and was never started
// (a TryGo that found no room).
func (sh *shadow) discard() {
	if sh != nil {
		sh.reg.forget(&sh.t)
	}
}

// errAbnormal is a shadow's outcome when its function panicked or called
// runtime.Goexit: the scope or pool reports the panic itself.
var errAbnormal = errors.New("async: panicked or called runtime.Goexit")

// run calls fn with the shadow's context and records its outcome.
func (sh *shadow) run(ctx context.Context, fn func(context.Context) error) error {
	if sh == nil {
		return fn(ctx)
	}
	returned := false
	defer func() {
		if !returned {
			sh.end(errAbnormal)
		}
	}()
	err := fn(sh.begin(ctx)) // begin runs again for Run's function: harmless
	returned = true
	sh.end(err)
	return err
}

// shadowCtx is the context of a shadowed function: its parent's, except
// that it names the shadow as its task.
type shadowCtx struct {
	context.Context
	t *task
}

func (c shadowCtx) Value(key any) any {
	if key == (taskKey{}) {
		return c.t
	}
	return c.Context.Value(key)
}

// blockBegin records, in debug mode, that whoever waits with ctx is
// blocked on something that is not a task: what says on what ("Sleep",
// `Queue.Get`), name names it if it has a name, d is how long it waits if
// known. Pass the result to blockEnd. With debug mode off it costs one
// atomic load and returns nil.
func blockBegin(ctx context.Context, what, name string, d time.Duration) *awaitRec {
	h := hooks.Load()
	if h == nil {
		return nil
	}
	hs, ok := h.h.(*hookSet)
	if !ok || hs.reg == nil {
		return nil
	}
	if name != "" {
		what += " " + strconv.Quote(name)
	}
	if d > 0 {
		what += " " + d.String()
	}
	rec := &awaitRec{waiter: taskOfContext(ctx), what: what, reg: hs.reg}
	hs.reg.awaitBegin(rec, nil)
	return rec
}

// blockEnd ends a wait that blockBegin recorded.
func blockEnd(rec *awaitRec) {
	if rec != nil {
		rec.reg.awaitEnd(rec)
	}
}

// lostFailures is what a scope's cleanup needs to report failures that
// nobody will see because the scope was dropped without Wait. It must not
// reference the scope.
type lostFailures struct {
	waited atomic.Bool
	mu     sync.Mutex
	name   string
	errs   []error
	stack  []byte
}

// noteLost keeps err for the report made if s is collected without Wait.
// Called with s.mu held.
func (s *Scope) noteLost(err error) {
	if s.lost == nil {
		s.lost = &lostFailures{name: s.name}
		if s.created != nil {
			s.lost.stack = formatStack(s.created)
		}
		runtime.AddCleanup(s, reportLost, s.lost)
	}
	s.lost.mu.Lock()
	s.lost.errs = append(s.lost.errs, err)
	s.lost.mu.Unlock()
}

func reportLost(l *lostFailures) {
	if l.waited.Load() {
		return
	}
	l.mu.Lock()
	errs := l.errs
	l.mu.Unlock()
	var err error
	switch len(errs) {
	case 0:
		return
	case 1:
		err = errs[0]
	default:
		err = &AggregateError{Errors: errs}
	}
	h := defaultUnobserved
	if p := unobservedHandler.Load(); p != nil {
		h = *p
	}
	h(UnobservedFailure{Task: l.name, Err: err, Created: l.stack})
}
