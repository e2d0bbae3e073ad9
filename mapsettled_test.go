package async

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

func TestMapSettledKeepsEveryOutcome(t *testing.T) {
	boom := errors.New("boom")
	in := []int{0, 1, 2, 3, 4, 5}
	for _, limit := range []int{1, 2, 8} {
		rs := MapSettled(bg, in, func(ctx context.Context, i int) (int, error) {
			switch i % 3 {
			case 1:
				return 0, fmt.Errorf("%d: %w", i, boom)
			case 2:
				if i == 5 {
					panic("five")
				}
			}
			return i * 10, nil
		}, Limit(limit))
		if len(rs) != len(in) {
			t.Fatalf("Limit(%d): %d results", limit, len(rs))
		}
		for i, r := range rs {
			var pe *PanicError
			switch {
			case i == 5:
				if !errors.As(r.Err, &pe) || pe.Value != "five" {
					t.Fatalf("Limit(%d): result %d = %+v; want the panic", limit, i, r)
				}
			case i%3 == 1:
				if !errors.Is(r.Err, boom) {
					t.Fatalf("Limit(%d): result %d = %+v; want boom", limit, i, r)
				}
			default:
				if r.Err != nil || r.Value != i*10 {
					t.Fatalf("Limit(%d): result %d = %+v", limit, i, r)
				}
			}
		}
	}
	if rs := MapSettled(bg, []int(nil), func(context.Context, int) (int, error) { return 0, nil }); len(rs) != 0 {
		t.Fatalf("MapSettled of nothing = %v", rs)
	}
}

// When ctx ends, the calls in flight see it and the elements not started get
// its end.
func TestMapSettledWhenContextEnds(t *testing.T) {
	cause := errors.New("deadline")
	ctx, cancel := context.WithCancelCause(bg)
	var started atomic.Int32
	rs := MapSettled(ctx, make([]int, 100), func(ctx context.Context, _ int) (int, error) {
		if started.Add(1) == 3 {
			cancel(cause)
			<-ctx.Done()
			return 0, context.Cause(ctx)
		}
		return 1, nil
	}, Limit(1))
	if started.Load() != 3 {
		t.Fatalf("%d calls started; want 3 (no more once ctx ended)", started.Load())
	}
	for i, r := range rs {
		switch {
		case i < 2:
			if r.Err != nil || r.Value != 1 {
				t.Fatalf("result %d = %+v", i, r)
			}
		default:
			if !errors.Is(r.Err, cause) {
				t.Fatalf("result %d = %+v; want the cause", i, r)
			}
			if i > 2 && !errors.Is(r.Err, context.Canceled) {
				t.Fatalf("result %d = %+v; want ctx's error", i, r)
			}
		}
	}
}

func TestMapSettledRetriesAndTimesOut(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var calls [3]atomic.Int32
		rs := MapSettled(bg, []int{0, 1, 2}, func(ctx context.Context, i int) (int, error) {
			n := calls[i].Add(1)
			switch i {
			case 1: // fails once, then succeeds
				if n == 1 {
					return 0, errors.New("once")
				}
			case 2: // always hangs
				<-ctx.Done()
				return 0, ctx.Err()
			}
			return i, nil
		}, Timeout(time.Second), Attempts(2))
		var re *RetryError
		if rs[0] != (Result[int]{Value: 0}) || rs[1] != (Result[int]{Value: 1}) ||
			!errors.As(rs[2].Err, &re) || re.Attempts != 2 || !errors.Is(rs[2].Err, ErrTimeout) {
			t.Fatalf("results %+v", rs)
		}
	})
}

func TestMapSettledInLoop(t *testing.T) {
	err := RunLoop(bg, func(ctx context.Context) error {
		rs := MapSettled(ctx, []int{1, 2, 3}, func(ctx context.Context, i int) (int, error) {
			if err := Sleep(ctx, time.Duration(4-i)*time.Second); err != nil {
				return 0, err
			}
			if i == 2 {
				return 0, errors.New("two")
			}
			return i, nil
		}, Limit(2))
		if rs[0].Value != 1 || rs[1].Err == nil || rs[2].Value != 3 {
			return fmt.Errorf("results %+v", rs)
		}
		return nil
	}, VirtualTime())
	if err != nil {
		t.Fatal(err)
	}
}

func FuzzMapSettled(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3}, uint8(2), uint8(0))
	f.Add([]byte{3, 3, 0, 1, 2, 2, 1}, uint8(1), uint8(4))
	f.Fuzz(func(t *testing.T, kinds []byte, limit, cancelAt uint8) {
		if len(kinds) > 64 {
			kinds = kinds[:64]
		}
		ctx, cancel := context.WithCancel(bg)
		defer cancel()
		boom := errors.New("boom")
		var started atomic.Int32
		rs := MapSettled(ctx, kinds, func(ctx context.Context, k byte) (int, error) {
			if int(started.Add(1)) == int(cancelAt) {
				cancel()
			}
			switch k % 4 {
			case 1:
				return 0, boom
			case 2:
				panic(k)
			case 3:
				return 0, Permanent(boom)
			}
			return int(k), nil
		}, Limit(int(limit%8)+1), Attempts(2), Backoff(0, 0))
		if len(rs) != len(kinds) {
			t.Fatalf("%d results for %d elements", len(rs), len(kinds))
		}
		for i, r := range rs {
			if errors.Is(r.Err, context.Canceled) && ctx.Err() != nil {
				continue // not started, or saw the end
			}
			var pe *PanicError
			switch kinds[i] % 4 {
			case 0:
				if r.Err != nil || r.Value != int(kinds[i]) {
					t.Fatalf("element %d (kind %d): %+v", i, kinds[i], r)
				}
			case 1, 3:
				if !errors.Is(r.Err, boom) {
					t.Fatalf("element %d (kind %d): %+v", i, kinds[i], r)
				}
			case 2:
				if !errors.As(r.Err, &pe) {
					t.Fatalf("element %d (kind %d): %+v", i, kinds[i], r)
				}
			}
		}
	})
}
