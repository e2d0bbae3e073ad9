package async

import (
	"context"
	"errors"
	"slices"
	"testing"
	"testing/synctest"
	"time"
)

// gated returns a future that settles with fn's outcome once release is closed.
func gated[T any](release <-chan struct{}, v T, err error) *Future[T] {
	return Go(bg, func(context.Context) (T, error) { <-release; return v, err })
}

func TestAllInInputOrder(t *testing.T) {
	gates := make([]chan struct{}, 5)
	fs := make([]*Future[int], 5)
	for i := range fs {
		gates[i] = make(chan struct{})
		fs[i] = gated(gates[i], i*10, nil)
	}
	for _, i := range []int{3, 0, 4, 1, 2} { // settle out of order
		close(gates[i])
		fs[i].Await(bg)
	}
	got, err := All(bg, fs...)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range got {
		if v != i*10 {
			t.Fatalf("got %v; want input order", got)
		}
	}
}

// TestAllSettledAndPending: All takes the values of the futures settled when
// it is called in its first pass and those of the others once they settle;
// every value lands at its own index, a future given twice at both.
func TestAllSettledAndPending(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		gates := make([]chan struct{}, 5)
		fs := make([]*Future[int], 5)
		for i := range fs {
			gates[i] = make(chan struct{})
			fs[i] = gated(gates[i], i*10, nil)
		}
		for _, i := range []int{0, 2, 4} {
			close(gates[i])
			fs[i].Await(bg)
		}
		var got []int
		var err error
		done := make(chan struct{})
		go func() {
			defer close(done)
			got, err = All(bg, append(fs, fs[1], fs[2])...)
		}()
		synctest.Wait() // All is blocked on 1 and 3
		close(gates[3])
		close(gates[1])
		<-done
		if err != nil {
			t.Fatal(err)
		}
		want := []int{0, 10, 20, 30, 40, 10, 20}
		if !slices.Equal(got, want) {
			t.Fatalf("got %v, want %v", got, want)
		}
	})
}

func TestAllFailsFastWithoutCancelling(t *testing.T) {
	boom := errors.New("boom")
	slow := NewPromise[int]()
	fs := []*Future[int]{slow.Future(), Rejected[int](boom), Resolved(1)}
	if _, err := All(bg, fs...); err != boom {
		t.Fatalf("got %v; want the failure", err)
	}
	if _, done := slow.Future().Peek(); done {
		t.Fatal("All settled a future it was given")
	}
	// The failure found while waiting, not only one already settled.
	gate := make(chan struct{})
	g := gated(gate, 0, boom)
	res := Go(bg, func(context.Context) ([]int, error) { return All(bg, slow.Future(), g) })
	close(gate)
	if _, err := res.Await(bg); err != boom {
		t.Fatalf("got %v", err)
	}
	slow.Resolve(0)
	if slow.Future().t.w1 != nil {
		t.Fatal("All left its waiter on a future after returning")
	}
}

func TestAllOfNone(t *testing.T) {
	got, err := All[int](bg)
	if got == nil || len(got) != 0 || err != nil {
		t.Fatalf("All() = %#v, %v; want []int{}, nil", got, err)
	}
}

func TestAllContextEnds(t *testing.T) {
	p := NewPromise[int]()
	ctx, cancel := context.WithCancel(bg)
	cancel()
	if _, err := All(ctx, p.Future()); !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v", err)
	}
	if p.Future().t.w1 != nil {
		t.Fatal("waiter left behind")
	}
	p.Resolve(1)
}

func TestAllSettled(t *testing.T) {
	boom := errors.New("boom")
	rs, err := AllSettled(bg, Resolved(1), Rejected[int](boom), Go(bg, value(3)))
	if err != nil {
		t.Fatal(err)
	}
	if rs[0].Value != 1 || rs[1].Err != boom || rs[2].Value != 3 || rs[0].Err != nil || rs[2].Err != nil {
		t.Fatalf("got %+v", rs)
	}
	ctx, cancel := context.WithCancel(bg)
	cancel()
	p := NewPromise[int]()
	if rs, err := AllSettled(ctx, p.Future()); !errors.Is(err, context.Canceled) || len(rs) != 1 || rs[0].Err != ErrNotSettled {
		t.Fatalf("got %v, %v; want ErrNotSettled and ctx error", rs, err)
	}
	p.Resolve(0)
}

// When ctx ends first, the settled futures' outcomes are kept and the pending
// ones are left to be awaited later.
func TestAllSettledPartialOnDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		boom := errors.New("boom")
		ctx, cancel := context.WithTimeoutCause(bg, time.Second, errDeadline)
		defer cancel()
		slow := Go(bg, func(ctx context.Context) (int, error) {
			if err := Sleep(ctx, time.Hour); err != nil {
				return 0, err
			}
			return 2, nil
		})
		rs, err := AllSettled(ctx, Resolved(1), slow, Rejected[int](boom))
		if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, errDeadline) {
			t.Fatalf("err = %v; want the deadline with its cause", err)
		}
		if len(rs) != 3 || rs[0] != (Result[int]{Value: 1}) || rs[1].Err != ErrNotSettled || rs[2].Err != boom {
			t.Fatalf("results = %+v", rs)
		}
		if v, err := slow.Await(bg); v != 2 || err != nil { // untouched: still running
			t.Fatalf("the pending future then settled with %v, %v", v, err)
		}
	})
}

var errDeadline = errors.New("deadline")

func TestAll2All3(t *testing.T) {
	a, b, c, err := All3(bg, Go(bg, value(1)), Go(bg, value("two")), Resolved(3.0))
	if a != 1 || b != "two" || c != 3.0 || err != nil {
		t.Fatal(a, b, c, err)
	}
	boom := errors.New("boom")
	if _, _, err := All2(bg, Resolved(1), Rejected[string](boom)); err != boom {
		t.Fatal(err)
	}
}

func TestCombinatorsMarkFuturesObserved(t *testing.T) {
	boom := errors.New("boom")
	p := NewPromise[int]()
	All(bg, Rejected[int](boom), p.Future())
	p.Reject(boom) // fails after All returned: All took charge of it
	if x := p.Future().t.x.Load(); x != nil && x.fail != nil && !x.fail.observed.Load() {
		t.Fatal("a future given to All is reported as unobserved")
	}
	if p.Future().t.state.Load()&stHandled == 0 {
		t.Fatal("All did not take charge of its futures")
	}
}

func TestCombinatorMisuse(t *testing.T) {
	var nilCtx context.Context
	mustPanic(t, "nil Context", func() { All(nilCtx, Resolved(1)) })
	mustPanic(t, "All: future 1 is nil", func() { All(bg, Resolved(1), nil) })
	mustPanic(t, "future 0 is nil", func() { AllSettled[int](bg, nil) })
	mustPanic(t, "future 1 is nil", func() { All2[int, int](bg, Resolved(1), nil) })
	mustPanic(t, "zero Future", func() { Race(bg, new(Future[int])) })
	mustPanic(t, "All: future 2 is a zero Future", func() { All(bg, Resolved(1), Resolved(2), new(Future[int])) })
	mustPanic(t, "All: future 3 is nil", func() { All(bg, Resolved(1), Resolved(2), Go(bg, value(3)), nil) })
	mustPanic(t, "future 12 is nil", func() {
		fs := make([]*Future[int], 13)
		for i := range 12 {
			fs[i] = Resolved(i)
		}
		Any(bg, fs...)
	})
}

// whilePassing runs hook(i) in the combinators' pass, after it subscribed to
// the future at index i, until the test ends.
func whilePassing(t *testing.T, hook func(i int)) {
	waitHookSubscribed.Store(&hook)
	t.Cleanup(func() { waitHookSubscribed.Store(nil) })
}

func TestSettledFailureWinsOverOneDuringThePass(t *testing.T) {
	early, late := errors.New("settled before All"), errors.New("failed during All's pass")
	p := NewPromise[int]()
	whilePassing(t, func(i int) {
		if i == 0 {
			p.Reject(late) // notifies All's group before the pass reaches index 1
		}
	})
	if _, err := All(bg, p.Future(), Rejected[int](early)); err != early {
		t.Fatalf("All = %v; want the failure that had settled before All (input order), not one during its pass", err)
	}
	q := NewPromise[int]()
	whilePassing(t, func(i int) {
		if i == 0 {
			q.Resolve(7)
		}
	})
	ok := NewPromise[int]()
	ok.Resolve(1)
	if v, err := Any(bg, q.Future(), ok.Future()); v != 1 || err != nil {
		t.Fatalf("Any = %v, %v; want the success that had settled before Any: 1, nil", v, err)
	}
}

func TestFailureDuringThePassDecides(t *testing.T) {
	boom := errors.New("boom")
	p, q := NewPromise[int](), NewPromise[int]()
	whilePassing(t, func(i int) {
		if i == 0 {
			p.Reject(boom)
		}
	})
	if _, err := All(bg, p.Future(), q.Future(), Resolved(3)); err != boom {
		t.Fatalf("All = %v; want the failure of a future subscribed to in the pass", err)
	}
	if s := q.Future().t.state.Load(); s&stHandled == 0 {
		t.Fatal("a pending future after the failure is not marked observed")
	}
	q.Reject(errors.New("later")) // observed: not reported
}

func TestValuesAfterThePendingOne(t *testing.T) {
	p := NewPromise[int]()
	whilePassing(t, func(i int) {
		if i == 1 {
			p.Resolve(2)
		}
	})
	vals, err := All(bg, Resolved(1), p.Future(), Resolved(3), Resolved(4))
	if err != nil || !slices.Equal(vals, []int{1, 2, 3, 4}) {
		t.Fatalf("All = %v, %v; want [1 2 3 4], nil", vals, err)
	}
}
