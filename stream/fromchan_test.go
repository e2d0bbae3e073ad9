package stream

import (
	"context"
	"slices"
	"testing"
	"testing/synctest"
)

func TestFromChanUntilClose(t *testing.T) {
	ch := make(chan int, 3)
	ch <- 1
	ch <- 2
	ch <- 3
	close(ch)
	if got := slices.Collect(FromChan(context.Background(), ch)); !slices.Equal(got, []int{1, 2, 3}) {
		t.Fatalf("got %v", got)
	}
}

func TestFromChanStopsAtCtxEnd(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		ch := make(chan int)
		got := make(chan []int)
		go func() { got <- slices.Collect(FromChan(ctx, ch)) }()
		ch <- 1
		synctest.Wait()
		cancel()
		if v := <-got; !slices.Equal(v, []int{1}) {
			t.Fatalf("got %v", v)
		}
		// An ended ctx wins over values waiting in the channel.
		buffered := make(chan int, 1)
		buffered <- 2
		for v := range FromChan(ctx, buffered) {
			t.Fatalf("yielded %d after ctx ended", v)
		}
	})
}

func TestFromChanBreak(t *testing.T) {
	ch := make(chan int, 2)
	ch <- 1
	ch <- 2
	for range FromChan(context.Background(), ch) {
		break
	}
	if len(ch) != 1 {
		t.Fatalf("%d left in the channel, want 1", len(ch))
	}
}

func TestFromChanBadInput(t *testing.T) {
	var nilCtx context.Context
	mustPanic(t, "nil Context", func() { FromChan(nilCtx, make(chan int)) })
	mustPanic(t, "nil channel", func() { FromChan[int](context.Background(), nil) })
}
