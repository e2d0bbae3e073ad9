package async

import (
	"context"
	"errors"
	"fmt"
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

// With a context that has already ended, every future already settled is
// still yielded, every time (a select between the two would drop some at
// random), in a loop task too.
func TestAsCompletedYieldsSettledBeforeAnEndedContext(t *testing.T) {
	ctx, cancel := context.WithCancel(bg)
	cancel()
	pending := NewPromise[int]()
	fs := []*Future[int]{Resolved(0), pending.Future(), Rejected[int](errors.New("boom")), Resolved(3)}
	count := func(ctx context.Context) int {
		n := 0
		for i := range AsCompleted(ctx, fs...) {
			if i == 1 {
				t.Errorf("yielded the pending future")
			}
			n++
		}
		return n
	}
	for range 1000 {
		if n := count(ctx); n != 3 {
			t.Fatalf("yielded %d futures; want the 3 settled ones", n)
		}
	}
	err := RunLoop(bg, func(lctx context.Context) error {
		ended, stop := context.WithCancel(lctx)
		stop()
		for range 100 {
			if n := count(ended); n != 3 {
				return fmt.Errorf("in a loop: yielded %d futures; want 3", n)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	pending.Resolve(1)
}
