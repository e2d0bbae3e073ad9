package stream

import (
	"context"
	"errors"
	"iter"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/goasync/async"
)

// timed yields each value after its delay since the previous one.
func timed(steps ...struct {
	d time.Duration
	v string
}) iter.Seq[string] {
	return func(yield func(string) bool) {
		for _, s := range steps {
			time.Sleep(s.d)
			if !yield(s.v) {
				return
			}
		}
	}
}

type step = struct {
	d time.Duration
	v string
}

func TestMergeInterleaves(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := timed(step{1 * time.Second, "a1"}, step{2 * time.Second, "a3"})
		b := timed(step{2 * time.Second, "b2"}, step{2 * time.Second, "b4"})
		got := slices.Collect(Merge(context.Background(), a, b))
		if !slices.Equal(got, []string{"a1", "b2", "a3", "b4"}) {
			t.Fatalf("got %v; want items in the order they were produced", got)
		}
	})
}

func TestMergeAll(t *testing.T) {
	got := slices.Collect(Merge(context.Background(), count(100), count(50), count(0)))
	if len(got) != 150 {
		t.Fatalf("%d items", len(got))
	}
	slices.Sort(got)
	want := append(slices.Collect(count(100)), slices.Collect(count(50))...)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatal("items lost or duplicated")
	}
	if got := slices.Collect(Merge[int](context.Background())); len(got) != 0 {
		t.Fatal("Merge of nothing yielded")
	}
}

func TestMergeBreak(t *testing.T) {
	a, b := &counted{n: -1}, &counted{n: -1}
	n := 0
	for range Merge(context.Background(), a.seq, b.seq) {
		if n++; n == 10 {
			break
		}
	}
	if !a.cleaned.Load() || !b.cleaned.Load() {
		t.Fatal("an input was still running when the range statement returned")
	}
}

func TestMergeCtxEnds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		a := &counted{n: -1}
		n := 0
		for range Merge(ctx, a.seq) {
			if n++; n == 3 {
				cancel()
			}
			if n > 3+1 {
				t.Fatal("Merge went on after ctx ended")
			}
		}
		if !a.cleaned.Load() {
			t.Fatal("input still running")
		}
	})
}

func TestMergeInputPanic(t *testing.T) {
	other := &counted{n: -1}
	bad := func(yield func(int) bool) {
		yield(-1)
		panic(errors.New("bad input"))
	}
	defer func() {
		pe, ok := recover().(*async.PanicError)
		if !ok || pe.Error() == "" || !errors.Is(pe, pe.Value.(error)) {
			t.Fatalf("recovered %v, want a *async.PanicError", pe)
		}
		if !other.cleaned.Load() {
			t.Fatal("the other input was still running")
		}
	}()
	for range Merge(context.Background(), other.seq, bad) {
	}
	t.Fatal("no panic")
}

func TestMergeBadInput(t *testing.T) {
	var nilCtx context.Context
	mustPanic(t, "nil Context", func() { Merge(nilCtx, count(1)) })
	mustPanic(t, "nil input", func() { Merge(context.Background(), count(1), nil) })
}
