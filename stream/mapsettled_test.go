package stream

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/goasync/async"
)

func TestMapSettledYieldsEveryOutcome(t *testing.T) {
	boom := errors.New("boom")
	for _, unordered := range []bool{false, true} {
		opts := []async.StreamOption{async.Limit(3)}
		if unordered {
			opts = append(opts, async.Unordered())
		}
		seen := make(map[int]async.Result[int])
		i := 0
		for r := range MapSettled(context.Background(), count(30), func(ctx context.Context, x int) (int, error) {
			switch x % 5 {
			case 1:
				return 0, fmt.Errorf("%d: %w", x, boom)
			case 2:
				panic(x)
			}
			return x, nil
		}, opts...) {
			key := i
			if unordered {
				switch {
				case r.Err == nil:
					key = r.Value
				default:
					key = -1 - i // errors carry no index; count them
				}
			}
			seen[key] = r
			i++
		}
		if i != 30 {
			t.Fatalf("unordered=%v: %d results; want 30", unordered, i)
		}
		if unordered {
			continue
		}
		for x := range 30 {
			r := seen[x]
			var pe *PanicError
			switch x % 5 {
			case 1:
				if !errors.Is(r.Err, boom) {
					t.Fatalf("result %d = %+v", x, r)
				}
			case 2:
				if !errors.As(r.Err, &pe) || pe.Value != x {
					t.Fatalf("result %d = %+v; want its panic", x, r)
				}
			default:
				if r.Err != nil || r.Value != x {
					t.Fatalf("result %d = %+v", x, r)
				}
			}
		}
	}
}

// PanicError is async's, named here for the tests.
type PanicError = async.PanicError

func TestMapSettledStopsReadingWhenContextEnds(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c := &counted{n: -1}
	n := 0
	for r := range MapSettled(ctx, c.seq, func(ctx context.Context, x int) (int, error) {
		if x == 10 {
			cancel()
		}
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
		return x, nil
	}, async.Limit(2), async.Buffer(0)) {
		_ = r
		n++
	}
	if ctx.Err() == nil || !c.cleaned.Load() {
		t.Fatal("the stream ended without ctx ending, or left its input open")
	}
	if int64(n) != c.read.Load() {
		t.Fatalf("%d results for %d items read: each item read gets its result", n, c.read.Load())
	}
}

func TestMapSettledInputPanicIsTheLastResult(t *testing.T) {
	in := func(yield func(int) bool) {
		yield(1)
		panic("input")
	}
	var last async.Result[int]
	n := 0
	for r := range MapSettled(context.Background(), in, func(ctx context.Context, x int) (int, error) { return x, nil }, async.Limit(1)) {
		last = r
		n++
	}
	var pe *PanicError
	if !errors.As(last.Err, &pe) || pe.Value != "input" || n != 2 {
		t.Fatalf("%d results, last %+v; want the item and then the input's panic", n, last)
	}
}

func TestStreamTimeoutAndAttempts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var calls [4]atomic.Int32
		var got []int
		for v, err := range Map(context.Background(), count(4), func(ctx context.Context, x int) (int, error) {
			if calls[x].Add(1) == 1 && x%2 == 0 {
				<-ctx.Done()
				return 0, ctx.Err()
			}
			return x, nil
		}, async.Timeout(time.Second), async.Attempts(2)) {
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, v)
		}
		if fmt.Sprint(got) != "[0 1 2 3]" {
			t.Fatalf("got %v", got)
		}
		err := ForEach(context.Background(), count(4), func(ctx context.Context, x int) error {
			if x == 3 {
				<-ctx.Done()
				return ctx.Err()
			}
			return nil
		}, async.Timeout(time.Second))
		if !errors.Is(err, async.ErrTimeout) {
			t.Fatalf("ForEach = %v; want ErrTimeout", err)
		}
		var re *async.RetryError
		rs := MapSettled(context.Background(), count(2), func(ctx context.Context, x int) (int, error) {
			return 0, errors.New("always")
		}, async.Attempts(3), async.Backoff(time.Millisecond, time.Second))
		for r := range rs {
			if !errors.As(r.Err, &re) || re.Attempts != 3 {
				t.Fatalf("result %+v; want a RetryError of 3 attempts", r)
			}
		}
	})
}

// FuzzMapSettled: every item read gets exactly one result, in input order
// unless Unordered, each the outcome its kind makes.
func FuzzMapSettled(f *testing.F) {
	f.Add([]byte{0, 1, 2, 0, 1}, uint8(2), false)
	f.Add([]byte{2, 2, 2, 0}, uint8(1), true)
	f.Fuzz(func(t *testing.T, kinds []byte, limit uint8, unordered bool) {
		if len(kinds) > 200 {
			kinds = kinds[:200]
		}
		boom := errors.New("boom")
		in := func(yield func(int) bool) {
			for i := range kinds {
				if !yield(i) {
					return
				}
			}
		}
		opts := []async.StreamOption{async.Limit(int(limit%8) + 1), async.Buffer(int(limit % 5))}
		if unordered {
			opts = append(opts, async.Unordered())
		}
		seen := make([]int, len(kinds))
		n := 0
		for r := range MapSettled(context.Background(), in, func(ctx context.Context, i int) (int, error) {
			switch kinds[i] % 3 {
			case 1:
				return i, fmt.Errorf("%d: %w", i, boom)
			case 2:
				panic(i)
			}
			return i, nil
		}, opts...) {
			var i int
			var pe *PanicError
			switch {
			case r.Err == nil:
				i = r.Value
			case errors.As(r.Err, &pe):
				i = pe.Value.(int)
			case errors.Is(r.Err, boom):
				i = r.Value
			default:
				t.Fatalf("unexpected result %+v", r)
			}
			if !unordered && i != n {
				t.Fatalf("result %d is item %d's: out of order", n, i)
			}
			if got, want := r.Err != nil, kinds[i]%3 != 0; got != want {
				t.Fatalf("item %d (kind %d): %+v", i, kinds[i], r)
			}
			seen[i]++
			n++
		}
		for i, c := range seen {
			if c != 1 {
				t.Fatalf("item %d has %d results", i, c)
			}
		}
	})
}
