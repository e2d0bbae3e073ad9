package stream

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/goasync/async"
)

// seq2 yields 0..n-1 with nil errors, and failAt's item as an error.
func seq2(n, failAt int, boom error) iter2 {
	return func(yield func(int, error) bool) {
		for i := range n {
			if i == failAt {
				yield(0, boom)
				return
			}
			if !yield(i, nil) {
				return
			}
		}
	}
}

type iter2 = func(yield func(int, error) bool)

// The pipeline Map → BatchResults → sink is one range statement; the first
// failure stops every stage, and no batch reaches the sink after it.
func TestPipelineFailureStopsEveryStage(t *testing.T) {
	for _, wait := range []time.Duration{0, time.Hour} {
		synctest.Test(t, func(t *testing.T) {
			boom := errors.New("bad line")
			in := &counted{n: -1}
			var got [][]int
			var gotErr error
			for b, err := range BatchResults(context.Background(), Map(context.Background(), in.seq, func(ctx context.Context, x int) (int, error) {
				if x == 23 {
					return 0, boom
				}
				return x, nil
			}, async.Limit(4)), 10, wait) {
				if gotErr != nil {
					t.Fatalf("maxWait %v: yielded %v, %v after the failure", wait, b, err)
				}
				if err != nil {
					gotErr = err
					continue
				}
				got = append(got, b)
			}
			if gotErr != boom {
				t.Fatalf("maxWait %v: error %v; want the failure", wait, gotErr)
			}
			if !in.cleaned.Load() {
				t.Fatal("the input was still open after the pipeline ended")
			}
			// Whatever was yielded is the input in order, before the failure.
			flat := slices.Concat(got...)
			for i, v := range flat {
				if v != i || v >= 23 {
					t.Fatalf("maxWait %v: batches %v", wait, got)
				}
			}
		})
	}
}

func TestBatchResultsBreakStopsUpstream(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		in := &counted{n: -1}
		for b, err := range BatchResults(context.Background(), Map(context.Background(), in.seq, func(ctx context.Context, x int) (int, error) { return x, nil }), 5, time.Second) {
			if err != nil || len(b) == 0 {
				t.Fatal(b, err)
			}
			break
		}
		if !in.cleaned.Load() {
			t.Fatal("input still running after break")
		}
	})
}

func TestBatchResultsContextEnd(t *testing.T) {
	for _, wait := range []time.Duration{0, time.Hour} {
		synctest.Test(t, func(t *testing.T) {
			cause := errors.New("shutdown")
			ctx, cancel := context.WithCancelCause(context.Background())
			in := func(yield func(int, error) bool) {
				for i := 0; ; i++ {
					if i == 4 {
						cancel(cause)
						time.Sleep(time.Second) // the consumer notices
					}
					if !yield(i, nil) {
						return
					}
				}
			}
			var got [][]int
			var gotErr error
			for b, err := range BatchResults(ctx, in, 3, wait) {
				if err != nil {
					gotErr = err
					continue
				}
				got = append(got, b)
			}
			if !errors.Is(gotErr, context.Canceled) || !errors.Is(gotErr, cause) {
				t.Fatalf("maxWait %v: error %v; want ctx's end", wait, gotErr)
			}
			if len(got) != 1 || !slices.Equal(got[0], []int{0, 1, 2}) {
				t.Fatalf("maxWait %v: batches %v; want only [0 1 2] (the held item is dropped)", wait, got)
			}
		})
	}
}

func TestBatchResultsInputPanic(t *testing.T) {
	for _, wait := range []time.Duration{0, time.Hour} {
		synctest.Test(t, func(t *testing.T) {
			in := func(yield func(int, error) bool) {
				yield(1, nil)
				panic("broken input")
			}
			var last error
			for _, err := range BatchResults(context.Background(), in, 10, wait) {
				last = err
			}
			var pe *async.PanicError
			if !errors.As(last, &pe) || pe.Value != "broken input" {
				t.Fatalf("maxWait %v: last error %v; want the input's panic", wait, last)
			}
		})
	}
	// A panic in the consumer's loop body is not caught.
	defer func() {
		if r := recover(); r != "body" {
			t.Fatalf("recovered %v; want the loop body's panic", r)
		}
	}()
	for range BatchResults(context.Background(), seq2(5, -1, nil), 2, 0) {
		panic("body")
	}
}

func TestBatchResultsMaxWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		in := func(yield func(string, error) bool) {
			for _, s := range []struct {
				d time.Duration
				v string
			}{{0, "a"}, {500 * time.Millisecond, "b"}, {2500 * time.Millisecond, "c"}} {
				time.Sleep(s.d)
				if !yield(s.v, nil) {
					return
				}
			}
		}
		var at []time.Duration
		var got [][]string
		for b, err := range BatchResults(context.Background(), in, 10, time.Second) {
			if err != nil {
				t.Fatal(err)
			}
			at = append(at, time.Since(start))
			got = append(got, b)
		}
		if fmt.Sprint(got) != "[[a b] [c]]" || at[0] != time.Second || at[1] != 3*time.Second {
			t.Fatalf("batches %v at %v", got, at)
		}
	})
}

// FuzzBatchResults: for any size, failure position and cut mode, the batches
// concatenate to the items before the failure, in order, each at most size
// long, and the failure comes last, once.
func FuzzBatchResults(f *testing.F) {
	f.Add(uint8(10), uint8(3), uint8(7), false)
	f.Add(uint8(100), uint8(7), uint8(255), true)
	f.Fuzz(func(t *testing.T, n, size, failAt uint8, timed bool) {
		boom := errors.New("boom")
		wait := time.Duration(0)
		if timed {
			wait = time.Hour
		}
		sz := int(size%16) + 1
		var flat []int
		var errs []error
		for b, err := range BatchResults(context.Background(), seq2(int(n), int(failAt), boom), sz, wait) {
			if len(errs) > 0 {
				t.Fatal("yielded after the failure")
			}
			if err != nil {
				errs = append(errs, err)
				continue
			}
			if len(b) == 0 || len(b) > sz {
				t.Fatalf("batch of %d with size %d", len(b), sz)
			}
			flat = append(flat, b...)
		}
		fails := int(failAt) < int(n)
		if fails != (len(errs) == 1) {
			t.Fatalf("errors %v for n %d, failAt %d", errs, n, failAt)
		}
		for i, v := range flat {
			if v != i {
				t.Fatalf("items %v out of order", flat)
			}
		}
		if !fails && len(flat) != int(n) || fails && len(flat) > int(failAt) {
			t.Fatalf("%d items for n %d, failAt %d", len(flat), n, failAt)
		}
	})
}
