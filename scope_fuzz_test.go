package async

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// FuzzScope runs random trees of children (errors, panics, cancellations,
// Cancel, parent cancellation, Spawn, TryGo, Start, limits, supervision)
// in virtual time and checks that Wait never returns early, never drops a
// real failure, never reports cancellation fallout as a failure, and that
// the first failure is the scope's cause.
func FuzzScope(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9})
	f.Add([]byte{1, 0x11, 3, 3, 3, 1, 9, 9})
	f.Add([]byte{0x82, 5, 5, 5, 0x21, 2, 3, 4, 0x41, 1})
	f.Add([]byte{3, 5, 6, 9, 2, 5, 0x55, 0x19, 7, 3, 3})
	f.Add([]byte{0x43, 8, 8, 8, 0x18, 0x28, 4, 1, 0x61, 0x71})
	f.Fuzz(func(t *testing.T, prog []byte) {
		synctest.Test(t, func(t *testing.T) { runScopeProgram(t, prog) })
	})
}

// A scopeProgram reads a fuzzer's bytes as a tree of children.
type scopeProgram struct {
	prog []byte
	pos  int

	s       *Scope
	limited bool
	parent  context.CancelCauseFunc

	started, finished atomic.Int64
	ids               atomic.Int64
	canceled          atomic.Bool // Scope.Cancel was called
	parentCanceled    atomic.Bool

	mu       sync.Mutex
	failures map[any]bool // real failures: error values and panic values
	futures  []spawnCheck
	starts   []startCheck
	children []tracked // every child handed to the scope
}

// tracked is a child handed to the scope, for telling whether some work
// stopped short: a child that never started, or whose error was fallout.
// A spawned child canceled through its future, or a Start child whose
// early return went to Start's caller, is not the scope's to count unless
// it never started.
type tracked struct {
	o        *outcome
	notScope bool
}

func (p *scopeProgram) track(o *outcome, notScope bool) {
	p.mu.Lock()
	p.children = append(p.children, tracked{o, notScope})
	p.mu.Unlock()
}

// stoppedShort reports whether some child surely never started or stopped
// because the scope's context ended (must), and whether one may have (may:
// a child canceled through its future whose parent ended first, so that its
// error is the parent's, counts as the scope's).
func (p *scopeProgram) stoppedShort() (must, may bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.children {
		c.o.mu.Lock()
		if !c.o.set || c.o.fallout && !c.notScope {
			must = true
		}
		if c.o.fallout {
			may = true
		}
		c.o.mu.Unlock()
	}
	return must, must || may
}

type spawnCheck struct {
	f    *Future[int]
	want *outcome // filled in by the child when it returns
}

type startCheck struct {
	got  error
	want *outcome
}

// outcome is what a child returned, as the child saw it.
type outcome struct {
	mu      sync.Mutex
	set     bool
	err     error
	panic   any
	fallout bool
}

func (o *outcome) record(err error, p any, fallout bool) {
	o.mu.Lock()
	o.set, o.err, o.panic, o.fallout = true, err, p, fallout
	o.mu.Unlock()
}

func (p *scopeProgram) next() byte {
	if p.pos >= len(p.prog) {
		return 0
	}
	b := p.prog[p.pos]
	p.pos++
	return b
}

func (p *scopeProgram) nextLocked() byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.next()
}

func (p *scopeProgram) real(v any) {
	p.mu.Lock()
	p.failures[v] = true
	p.mu.Unlock()
}

func runScopeProgram(t *testing.T, prog []byte) {
	if len(prog) > 200 {
		prog = prog[:200]
	}
	p := &scopeProgram{prog: prog, failures: map[any]bool{}}
	cfg := p.next()
	var opts []ScopeOption
	if lim := int(cfg & 3); lim > 0 {
		opts = append(opts, Limit(lim))
		p.limited = true
	}
	supervise := cfg&4 != 0
	if supervise {
		opts = append(opts, Supervise())
	}
	named := cfg&8 != 0
	if named {
		opts = append(opts, Name("fuzz"))
	}
	parent, cancel := context.WithCancelCause(bg)
	defer cancel(nil)
	p.parent = cancel
	p.s = NewScope(parent, opts...)

	top := 1 + int(p.next()%8)
	for range top {
		p.launch(0, true)
	}
	err := p.s.Wait()

	// Never early: every child that started has finished.
	if s, f := p.started.Load(), p.finished.Load(); s != f {
		t.Fatalf("Wait returned with %d of %d started children unfinished", s-f, s)
	}

	p.mu.Lock()
	want := p.failures
	p.mu.Unlock()
	var got []error
	var agg *AggregateError
	switch {
	case err == nil:
	case errors.As(err, &agg) && agg == err:
		got = agg.Errors
	default:
		got = []error{err}
	}
	if len(want) == 0 {
		// Only the parent's cancellation may show, only if Cancel did not
		// end the scope first, and only if some work stopped short: if
		// every child returned nil, the work completed.
		parentGone, canceled := p.parentCanceled.Load(), p.canceled.Load()
		must, may := p.stoppedShort()
		switch {
		case parentGone && !canceled && (must || may && err != nil):
			if !errors.Is(err, context.Canceled) || len(got) != 1 {
				t.Fatalf("parent canceled, a child stopped short, no real failure, but Wait = %v", err)
			}
		case parentGone && !canceled:
			if err != nil {
				t.Fatalf("parent canceled, every child returned nil, but Wait = %v", err)
			}
		case parentGone:
			if err != nil && !errors.Is(err, context.Canceled) {
				t.Fatalf("parent canceled, no real failure, but Wait = %v", err)
			}
		default:
			if err != nil {
				t.Fatalf("no real failure, but Wait = %v", err)
			}
		}
	} else {
		if len(got) != len(want) {
			t.Fatalf("Wait reported %d failures; %d happened: %v", len(got), len(want), err)
		}
		seen := map[any]bool{}
		for _, e := range got {
			k := failureKey(e, named)
			if !want[k] {
				t.Fatalf("Wait reported %v, which is not a real failure (fallout?)", e)
			}
			if seen[k] {
				t.Fatalf("Wait reported %v twice", e)
			}
			seen[k] = true
		}
		if !supervise && !p.canceled.Load() && !p.parentCanceled.Load() {
			if cause := context.Cause(p.s.Context()); cause != got[0] {
				t.Fatalf("the first failure %v is not the scope's cause %v", got[0], cause)
			}
		}
	}

	// Spawned futures carry what their function returned.
	for _, c := range p.futures {
		r, done := c.f.Peek()
		if !done {
			t.Fatal("a spawned future is pending after Wait")
		}
		o := c.want
		o.mu.Lock()
		switch {
		case !o.set: // never started: dropped by the limit
			if !errors.Is(r.Err, context.Canceled) {
				t.Errorf("dropped spawned child settled with %v", r.Err)
			}
		case o.panic != nil:
			var pe *PanicError
			if !errors.As(r.Err, &pe) || pe.Value != o.panic {
				t.Errorf("spawned child panicked %v; future %v", o.panic, r.Err)
			}
		case o.err == nil:
			if r.Err != nil || r.Value != 1 {
				t.Errorf("spawned child succeeded; future %+v", r)
			}
		default:
			if !errors.Is(r.Err, o.err) {
				t.Errorf("spawned child returned %v; future %v", o.err, r.Err)
			}
		}
		o.mu.Unlock()
	}
	// Start returned what its function returned before ready.
	for _, c := range p.starts {
		o := c.want
		o.mu.Lock()
		if o.set && o.panic == nil && o.err != nil && !errors.Is(c.got, o.err) {
			t.Errorf("Start = %v; its function returned %v before ready", c.got, o.err)
		}
		o.mu.Unlock()
	}
}

// failureKey maps a reported failure back to the value the child produced.
func failureKey(err error, named bool) any {
	var pe *PanicError
	if errors.As(err, &pe) {
		return pe.Value
	}
	if named {
		var te *TaskError
		if errors.As(err, &te) {
			return te.Err
		}
	}
	return err
}

// launch starts one child described by the program. fromRoot is true on the
// test's goroutine, which may block in Go; children of a limited scope use
// TryGo, since a child blocked in Go holds a worker.
func (p *scopeProgram) launch(depth int, fromRoot bool) {
	op := p.nextLocked()
	how := (op >> 4) % 4 // 0 Go, 1 Spawn, 2 Start, 3 TryGo
	if !fromRoot && p.limited {
		how = 3
	}
	d := time.Duration(1+op%7) * time.Millisecond
	id := p.ids.Add(1)
	body, o := p.child(op%10, d, id, depth)
	switch how {
	case 0:
		p.track(o, false)
		p.s.Go(func(ctx context.Context) error { return body(ctx, nil) })
	case 1:
		p.track(o, op&0x80 != 0)
		f := Spawn(p.s, func(ctx context.Context) (int, error) {
			if err := body(ctx, nil); err != nil {
				return 0, err
			}
			return 1, nil
		})
		p.mu.Lock()
		p.futures = append(p.futures, spawnCheck{f, o})
		p.mu.Unlock()
		if op&0x80 != 0 {
			f.Cancel() // a canceled spawned child is not a scope failure
		}
	case 2:
		early := op&0x80 != 0
		p.track(o, early)
		err := p.s.Start(func(ctx context.Context, ready func()) error {
			if !early {
				ready()
			}
			return body(ctx, nil)
		})
		if early {
			// What the function returned went to Start, not to the scope.
			p.mu.Lock()
			delete(p.failures, o.key())
			p.starts = append(p.starts, startCheck{err, o})
			p.mu.Unlock()
		}
	case 3:
		if p.s.TryGo(func(ctx context.Context) error { return body(ctx, nil) }) {
			p.track(o, false)
		}
	}
}

// key is the real failure o recorded, or nil.
func (o *outcome) key() any {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.fallout {
		return nil
	}
	if o.panic != nil {
		return o.panic
	}
	return o.err
}

// child returns a child's function and the record of what it returned.
func (p *scopeProgram) child(op byte, d time.Duration, id int64, depth int) (func(context.Context, any) error, *outcome) {
	o := &outcome{}
	return func(ctx context.Context, _ any) (err error) {
		p.started.Add(1)
		defer p.finished.Add(1)
		interrupted := Sleep(ctx, d) != nil
		switch op {
		case 0: // success, or the context's error if interrupted
			if interrupted {
				err = ctx.Err()
				o.record(err, nil, true)
				return err
			}
			o.record(nil, nil, false)
			return nil
		case 1, 9: // a real failure; 9 fails even after cancellation
			if interrupted && op == 1 {
				err = fmt.Errorf("child %d: %w", id, context.Cause(ctx))
				o.record(err, nil, true)
				return err
			}
			err = fmt.Errorf("child %d failed", id)
			p.real(err)
			o.record(err, nil, false)
			return err
		case 2: // a panic (never fallout)
			v := fmt.Sprintf("child %d panicked", id)
			p.real(v)
			o.record(nil, v, false)
			panic(v)
		case 3, 4: // a long wait that only cancellation cuts short
			if !interrupted {
				interrupted = Sleep(ctx, time.Hour) != nil
			}
			if interrupted {
				if op == 3 {
					err = context.Cause(ctx)
				} else {
					err = fmt.Errorf("wrapped: %w", ctx.Err())
				}
				o.record(err, nil, true)
				return err
			}
			o.record(nil, nil, false)
			return nil
		case 5, 8: // start grandchildren
			if depth < 3 {
				n := 1 + int(p.nextLocked()%3)
				for range n {
					p.launch(depth+1, false)
				}
			}
			o.record(nil, nil, false)
			return nil
		case 6: // cancel the scope
			p.canceled.Store(true)
			p.s.Cancel()
			o.record(nil, nil, false)
			return nil
		case 7: // cancel the parent
			p.parentCanceled.Store(true)
			p.parent(errors.New("parent gone"))
			o.record(nil, nil, false)
			return nil
		}
		return nil
	}, o
}
