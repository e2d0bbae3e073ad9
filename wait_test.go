package async

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// waiterCount is how many waiters t holds.
func waiterCount(t *task) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	switch t.w1.(type) {
	case nil:
	case *waiterPair:
		n += 2
	default:
		n++
	}
	if x := t.x.Load(); x != nil {
		n += len(x.more)
	}
	return n
}

// A combinator that panics on a nil or zero future later in its input must
// leave nothing subscribed on the pending futures before it: the panic is
// the caller's mistake, but the long-lived future should not keep the
// combinator's group (and, in a loop, wake the loop task that panicked).
func TestCombinatorPanicLeavesNoWaiter(t *testing.T) {
	for _, tc := range []struct {
		name string
		call func(fs ...*Future[int])
	}{
		{"All", func(fs ...*Future[int]) { All(bg, fs...) }},
		{"AllSettled", func(fs ...*Future[int]) { AllSettled(bg, fs...) }},
		{"Any", func(fs ...*Future[int]) { Any(bg, fs...) }},
		{"Race", func(fs ...*Future[int]) { Race(bg, fs...) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := NewPromise[int]()
			mustPanic(t, "future 1 is nil", func() { tc.call(p.Future(), nil) })
			mustPanic(t, "future 1 is a zero Future", func() { tc.call(p.Future(), new(Future[int])) })
			if n := waiterCount(&p.Future().t); n != 0 {
				t.Errorf("%s panicked on its input, and left %d waiter(s) on a pending future before the bad one", tc.name, n)
			}
			p.Resolve(1)
		})
	}
}

// Duplicates of one future settling
// during the pass.
func TestDuplicatesDuringThePass(t *testing.T) {
	p := NewPromise[int]()
	whilePassing(t, func(i int) {
		if i == 0 {
			p.Resolve(5) // settles between the two looks at p
		}
	})
	vals, err := All(bg, p.Future(), p.Future(), Resolved(7))
	if err != nil || !slices.Equal(vals, []int{5, 5, 7}) {
		t.Fatalf("All = %v, %v; want [5 5 7]", vals, err)
	}

	e := errors.New("e")
	q := NewPromise[int]()
	whilePassing(t, func(i int) {
		if i == 0 {
			q.Reject(e)
		}
	})
	_, err = Any(bg, q.Future(), q.Future())
	var agg *AggregateError
	if !errors.As(err, &agg) || len(agg.Errors) != 2 || agg.Errors[0] != e || agg.Errors[1] != e {
		t.Fatalf("Any = %v; want an AggregateError of e twice", err)
	}
	if q.Future().t.state.Load()&stHandled == 0 {
		t.Fatal("Any did not mark its failed input observed")
	}

	r := NewPromise[int]()
	whilePassing(t, func(i int) {
		if i == 1 {
			r.Resolve(9) // both subscriptions notify
		}
	})
	if v, err := Race(bg, r.Future(), r.Future()); v != 9 || err != nil {
		t.Fatalf("Race = %v, %v; want 9", v, err)
	}
	if n := waiterCount(&r.Future().t); n != 0 {
		t.Fatalf("%d waiters left on a settled future", n)
	}
}

// A duplicated pending future is unsubscribed twice when the
// context ends, leaving nothing.
func TestDuplicatesUnsubscribe(t *testing.T) {
	p := NewPromise[int]()
	ctx, cancel := context.WithCancel(bg)
	whilePassing(t, func(i int) {
		if i == 1 {
			cancel()
		}
	})
	if _, err := All(ctx, p.Future(), p.Future()); !errors.Is(err, context.Canceled) {
		t.Fatalf("All = %v; want context.Canceled", err)
	}
	if n := waiterCount(&p.Future().t); n != 0 {
		t.Fatalf("%d waiters left on a pending future after All gave up", n)
	}
	p.Resolve(1)
}

// Something setting a state bit (observe) between a task's
// look and its swap makes the swap retry; the task still settles without
// its lock, with its value.
func TestSettleRetriesAfterObserve(t *testing.T) {
	f := settleAround(t, value(42), func(f *Future[int]) { f.t.observe() })
	if s := f.t.state.Load(); s&stWatched != 0 || s&(stSettled|stReturned|stHandled) != stSettled|stReturned|stHandled {
		t.Fatalf("state %b: want settled and returned without the lock, handled", s)
	}
}

// Cancel between a task's look and its swap marks the task watched, so the
// swap fails and the task settles under its lock: its context ends with the
// cancel's reason, and the task still succeeds.
func TestSettleMeetsCancel(t *testing.T) {
	var taskCtx context.Context
	f := settleAround(t, func(ctx context.Context) (int, error) {
		taskCtx = ctx
		return 42, nil
	}, func(f *Future[int]) { f.Cancel() })
	if f.t.state.Load()&stSettled == 0 {
		t.Fatal("not settled")
	}
	select {
	case <-taskCtx.Done():
	default:
		t.Fatal("context of a canceled, returned task not done")
	}
	if taskCtx.Err() != context.Canceled {
		t.Fatalf("Err = %v", taskCtx.Err())
	}
}

// orderWaiter appends its name to a shared list when notified. In a
// synctest bubble it first sleeps: the fake clock moves only once every
// goroutine is blocked, so an Await that was told too early returns, and
// reads the list, before the name is on it.
type orderWaiter struct {
	name string
	log  *[]string
	mu   *sync.Mutex
}

func (w *orderWaiter) notify(*task) {
	time.Sleep(time.Second)
	w.mu.Lock()
	*w.log = append(*w.log, w.name)
	w.mu.Unlock()
}

// A task's first two waiters share a pair instead of the extension, and the
// order of notification stays what it was: waiters in the order they came,
// a blocked Await last, after every other waiter (so an AfterSettle hook
// has run, and every combinator has been told, when Await returns).
func TestWaiterPair(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup []string // "w<i>": a waiter subscribes; "await": an Await blocks
		want  []string // notified before the Await returned
		ext   bool     // the extension is needed
	}{
		{"waiter then await", []string{"w1", "await"}, []string{"w1"}, false},
		{"await then waiter", []string{"await", "w1"}, []string{"w1"}, false},
		{"two waiters", []string{"w1", "w2"}, []string{"w1", "w2"}, false},
		{"waiter, await, waiter", []string{"w1", "await", "w2"}, []string{"w1", "w2"}, true},
		{"await, waiter, waiter", []string{"await", "w1", "w2"}, []string{"w1", "w2"}, true},
		{"three waiters", []string{"w1", "w2", "w3"}, []string{"w1", "w2", "w3"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				p := NewPromise[int]()
				f := p.Future()
				var (
					mu       sync.Mutex
					log      []string
					seen     []string // the log when Await returned
					awaited  = make(chan struct{})
					awaiting bool
				)
				for _, s := range tc.setup {
					if s == "await" {
						awaiting = true
						go func() {
							defer close(awaited)
							if _, err := f.Await(bg); err != nil {
								t.Error(err)
							}
							mu.Lock()
							seen = slices.Clone(log)
							mu.Unlock()
						}()
						synctest.Wait() // blocked in Await, registered
						continue
					}
					if !f.t.subscribe(&orderWaiter{name: s, log: &log, mu: &mu}) {
						t.Fatal("subscribe on a pending future reported it settled")
					}
				}
				if n := waiterCount(&f.t); n != len(tc.setup) {
					t.Fatalf("%d waiters held, want %d", n, len(tc.setup))
				}
				if got := f.t.x.Load() != nil; got != tc.ext {
					t.Fatalf("extension made: %v, want %v", got, tc.ext)
				}
				p.Resolve(1)
				if !awaiting {
					seen = log
				} else {
					<-awaited
				}
				if !slices.Equal(seen, tc.want) {
					t.Fatalf("notified %v before Await returned, want %v", seen, tc.want)
				}
			})
		})
	}
}

// Leaving a pair leaves the other waiter in place, and notified.
func TestWaiterPairUnsubscribe(t *testing.T) {
	t.Run("await gives up", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			p := NewPromise[int]()
			ran := false
			p.AfterSettle(func() { ran = true })
			ctx, cancel := context.WithCancel(bg)
			done := make(chan error)
			go func() {
				_, err := p.Future().Await(ctx)
				done <- err
			}()
			synctest.Wait()
			if n := waiterCount(&p.f.t); n != 2 {
				t.Fatalf("%d waiters with a hook and a blocked Await, want 2", n)
			}
			cancel()
			if err := <-done; !errors.Is(err, context.Canceled) {
				t.Fatalf("Await = %v, want context.Canceled", err)
			}
			if n := waiterCount(&p.f.t); n != 1 {
				t.Fatalf("%d waiters after the Await gave up, want the hook alone", n)
			}
			p.Resolve(1)
			if !ran {
				t.Fatal("the hook did not run")
			}
		})
	})
	t.Run("combinator leaves", func(t *testing.T) {
		p := NewPromise[int]()
		ran := false
		p.AfterSettle(func() { ran = true })
		// Race subscribes to p, then sees the settled future and leaves.
		if v, err := Race(bg, p.Future(), Resolved(2)); err != nil || v != 2 {
			t.Fatalf("Race = %v, %v", v, err)
		}
		if n := waiterCount(&p.f.t); n != 1 {
			t.Fatalf("%d waiters after Race left, want the hook alone", n)
		}
		p.Resolve(1)
		if !ran {
			t.Fatal("the hook did not run")
		}
	})
}

// A waiter that comes after the first one left is told after those already
// on the extension's list: subscription order.
func TestOrderAfterFirstLeaves(t *testing.T) {
	p := NewPromise[int]()
	_ = p.Future().Done() // makes the extension
	var order []string
	stopA := p.AfterSettle(func() { order = append(order, "A") })
	p.AfterSettle(func() { order = append(order, "B") })
	stopA()
	p.AfterSettle(func() { order = append(order, "C") })
	p.Resolve(1)
	if !slices.Equal(order, []string{"B", "C"}) {
		t.Fatalf("hooks ran in order %v, want [B C] (subscription order)", order)
	}
}
