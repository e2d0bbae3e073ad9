package async

import (
	"context"
	"errors"
	"testing"
)

func TestAsCompletedYieldsInCompletionOrder(t *testing.T) {
	ps := make([]*Promise[int], 4)
	fs := make([]*Future[int], 4)
	for i := range ps {
		ps[i] = NewPromise[int]()
		fs[i] = ps[i].Future()
	}
	boom := errors.New("boom")
	order := []int{2, 0, 3, 1}
	next := make(chan struct{}, 1)
	go func() {
		for _, i := range order {
			<-next
			if i == 3 {
				ps[i].Reject(boom)
			} else {
				ps[i].Resolve(i)
			}
		}
	}()
	var got []int
	next <- struct{}{}
	for i, r := range AsCompleted(bg, fs...) {
		got = append(got, i)
		if i == 3 && r.Err != boom || i != 3 && r.Value != i {
			t.Fatalf("index %d yielded %+v", i, r)
		}
		if len(got) < len(order) {
			next <- struct{}{}
		}
	}
	for k := range order {
		if got[k] != order[k] {
			t.Fatalf("got %v; want %v", got, order)
		}
	}
}

func TestAsCompletedBreakLeavesNothing(t *testing.T) {
	p := NewPromise[int]()
	fs := []*Future[int]{Resolved(1), p.Future()}
	for i := range AsCompleted(bg, fs...) {
		if i != 0 {
			t.Fatalf("first yield was %d", i)
		}
		break
	}
	if p.Future().t.w1 != nil {
		t.Fatal("AsCompleted left a waiter after the consumer stopped")
	}
	p.Resolve(2)
}

func TestAsCompletedStopsWhenContextEnds(t *testing.T) {
	ctx, cancel := context.WithCancel(bg)
	defer cancel()
	p := NewPromise[int]()
	n := 0
	for range AsCompleted(ctx, Resolved(0), p.Future()) {
		n++
		cancel()
	}
	if n != 1 || ctx.Err() == nil {
		t.Fatalf("yielded %d; want 1 then stop", n)
	}
	if p.Future().t.w1 != nil {
		t.Fatal("waiter left behind")
	}
	p.Resolve(0)
}
