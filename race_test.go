package async

import (
	"context"
	"errors"
	"testing"
)

func TestAnyFirstSuccess(t *testing.T) {
	boom := errors.New("boom")
	gate := make(chan struct{})
	slow := gated(gate, 2, nil)
	v, err := Any(bg, Rejected[int](boom), Go(bg, value(1)), slow)
	if v != 1 || err != nil {
		t.Fatal(v, err)
	}
	close(gate)
	slow.Await(bg)
}

func TestAnyAllFail(t *testing.T) {
	e1, e2, e3 := errors.New("e1"), errors.New("e2"), errors.New("e3")
	gate := make(chan struct{})
	f1 := gated(gate, 0, e1) // fails last, but is first in input order
	res := Go(bg, func(context.Context) (int, error) { return Any(bg, f1, Rejected[int](e2), Rejected[int](e3)) })
	close(gate)
	_, err := res.Await(bg)
	var agg *AggregateError
	if !errors.As(err, &agg) || len(agg.Errors) != 3 || agg.Errors[0] != e1 || agg.Errors[1] != e2 || agg.Errors[2] != e3 {
		t.Fatalf("got %v; want AggregateError [e1 e2 e3]", err)
	}
	for _, e := range []error{e1, e2, e3} {
		if !errors.Is(err, e) {
			t.Fatalf("errors.Is does not reach %v", e)
		}
	}
}

func TestAnyRaceOfNone(t *testing.T) {
	if _, err := Any[int](bg); err != ErrNoFutures {
		t.Fatal(err)
	}
	if _, err := Race[int](bg); err != ErrNoFutures {
		t.Fatal(err)
	}
}

func TestRace(t *testing.T) {
	boom := errors.New("boom")
	p := NewPromise[int]()
	gate := make(chan struct{})
	g := gated(gate, 0, boom)
	res := Go(bg, func(context.Context) (int, error) { return Race(bg, p.Future(), g) })
	close(gate)
	if _, err := res.Await(bg); err != boom {
		t.Fatalf("got %v; a failure can win a race", err)
	}
	p.Resolve(1)
	// Already settled futures: the first in input order wins.
	if v, err := Race(bg, NewPromise[int]().Future(), Resolved(7), Resolved(8)); v != 7 || err != nil {
		t.Fatal(v, err)
	}
}

func TestRaceContextEnds(t *testing.T) {
	ctx, cancel := context.WithCancel(bg)
	p := NewPromise[int]()
	res := Go(bg, func(context.Context) (int, error) { return Race(ctx, p.Future()) })
	cancel()
	if _, err := res.Await(bg); !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
	if p.Future().t.w1 != nil {
		t.Fatal("Race left its waiter behind")
	}
}
