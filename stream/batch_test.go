package stream

import (
	"context"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/goasync/async"
)

func TestBatchBySize(t *testing.T) {
	for _, wait := range []time.Duration{0, time.Hour} {
		synctest.Test(t, func(t *testing.T) {
			got := slices.Collect(Batch(context.Background(), count(10), 3, wait))
			want := [][]int{{0, 1, 2}, {3, 4, 5}, {6, 7, 8}, {9}}
			if !slices.EqualFunc(got, want, slices.Equal) {
				t.Fatalf("maxWait %v: got %v", wait, got)
			}
		})
	}
}

func TestBatchMaxWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		// Items at 0s, 0.5s, then 3s, 3.2s, then 10s.
		in := timed(step{0, "a"}, step{500 * time.Millisecond, "b"}, step{2500 * time.Millisecond, "c"},
			step{200 * time.Millisecond, "d"}, step{6800 * time.Millisecond, "e"})
		type got struct {
			at    time.Duration
			batch []string
		}
		var gots []got
		for b := range Batch(context.Background(), in, 10, time.Second) {
			gots = append(gots, got{time.Since(start), b})
		}
		want := []got{
			{1 * time.Second, []string{"a", "b"}}, // 1s after its first item
			{4 * time.Second, []string{"c", "d"}}, // the clock starts at c, not at the last batch
			{10 * time.Second, []string{"e"}},     // the final partial batch, at the input's end
		}
		if len(gots) != len(want) {
			t.Fatalf("got %v", gots)
		}
		for i := range want {
			if gots[i].at != want[i].at || !slices.Equal(gots[i].batch, want[i].batch) {
				t.Fatalf("batch %d: %v at %v; want %v at %v", i, gots[i].batch, gots[i].at, want[i].batch, want[i].at)
			}
		}
	})
}

func TestBatchCtxEndYieldsPartial(t *testing.T) {
	for _, wait := range []time.Duration{0, time.Hour} {
		synctest.Test(t, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			in := func(yield func(int) bool) {
				for i := 0; ; i++ {
					if i == 4 {
						cancel()
						time.Sleep(time.Second) // the consumer notices
					}
					if !yield(i) {
						return
					}
				}
			}
			got := slices.Collect(Batch(ctx, in, 3, wait))
			if len(got) != 2 || !slices.Equal(got[0], []int{0, 1, 2}) || !slices.Equal(got[1][:1], []int{3}) {
				t.Fatalf("maxWait %v: got %v; want [0 1 2] then the partial batch from 3", wait, got)
			}
		})
	}
}

func TestBatchBreak(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		in := &counted{n: -1}
		for range Batch(context.Background(), in.seq, 5, time.Minute) {
			break
		}
		if !in.cleaned.Load() {
			t.Fatal("input still running after break")
		}
		if r := in.read.Load(); r > 2*5+1 { // the batch yielded, one full batch waiting, one item
			t.Fatalf("%d items read for one batch of 5 (at most one batch ahead)", r)
		}
	})
}

func TestBatchInputPanic(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		in := func(yield func(int) bool) {
			yield(1)
			yield(2)
			panic("broken input")
		}
		var got [][]int
		func() {
			defer func() {
				pe, ok := recover().(*async.PanicError)
				if !ok || pe.Value != "broken input" {
					t.Fatalf("recovered %v", pe)
				}
			}()
			for b := range Batch(context.Background(), in, 10, time.Second) {
				got = append(got, b)
			}
		}()
		if len(got) != 1 || !slices.Equal(got[0], []int{1, 2}) {
			t.Fatalf("items before the panic: %v", got)
		}
	})
}

func TestBatchBadInput(t *testing.T) {
	ctx := context.Background()
	var nilCtx context.Context
	mustPanic(t, "size 0", func() { Batch(ctx, count(1), 0, 0) })
	mustPanic(t, "maxWait -1s", func() { Batch(ctx, count(1), 1, -time.Second) })
	mustPanic(t, "nil Context", func() { Batch(nilCtx, count(1), 1, 0) })
	mustPanic(t, "nil input", func() { Batch[int](ctx, nil, 1, 0) })
}
