package async

import (
	"context"
	"errors"
	"runtime"
	"strconv"
	"testing"
)

func TestThen(t *testing.T) {
	f := Then(bg, Go(bg, value(21)), func(_ context.Context, v int) (string, error) {
		return strconv.Itoa(v * 2), nil
	})
	if v, err := f.Await(bg); v != "42" || err != nil {
		t.Fatal(v, err)
	}
}

func TestThenPassesFailureUntouched(t *testing.T) {
	boom := errors.New("boom")
	ran := false
	f := Then(bg, Rejected[int](boom), func(context.Context, int) (int, error) { ran = true; return 0, nil })
	if _, err := f.Await(bg); err != boom || ran {
		t.Fatalf("got %v (ran=%v); want the original error, fn not run", err, ran)
	}
	p := Go(bg, func(context.Context) (int, error) { panic("bad") })
	g := Then(bg, p, func(context.Context, int) (int, error) { return 0, nil })
	_, perr := p.Await(bg)
	if _, err := g.Await(bg); err != perr {
		t.Fatalf("a panic should pass through as the same *PanicError: %v vs %v", err, perr)
	}
}

func TestThenCallbackPanics(t *testing.T) {
	f := Then(bg, Resolved(1), func(context.Context, int) (int, error) { panic("in then") })
	var pe *PanicError
	if _, err := f.Await(bg); !errors.As(err, &pe) || pe.Value != "in then" {
		t.Fatalf("got %v", err)
	}
}

func TestCatch(t *testing.T) {
	boom := errors.New("boom")
	f := Catch(bg, Rejected[int](boom), func(_ context.Context, err error) (int, error) {
		if err != boom {
			return 0, errors.New("wrong error")
		}
		return -1, nil
	})
	if v, err := f.Await(bg); v != -1 || err != nil {
		t.Fatal(v, err)
	}
	ran := false
	g := Catch(bg, Resolved(5), func(context.Context, error) (int, error) { ran = true; return 0, nil })
	if v, err := g.Await(bg); v != 5 || err != nil || ran {
		t.Fatal(v, err, ran)
	}
}

// A long chain waiting on a pending future parks no goroutines.
func TestThenChainParksNoGoroutines(t *testing.T) {
	p := NewPromise[int]()
	before := runtime.NumGoroutine()
	f := p.Future()
	for range 10000 {
		f = Then(bg, f, func(_ context.Context, v int) (int, error) { return v + 1, nil })
	}
	if n := runtime.NumGoroutine(); n > before+10 {
		t.Fatalf("a pending chain of 10k Then holds %d goroutines", n-before)
	}
	p.Resolve(0)
	if v, err := f.Await(bg); v != 10000 || err != nil {
		t.Fatal(v, err)
	}
}

func TestThenCanceledBeforeStart(t *testing.T) {
	p := NewPromise[int]()
	ran := make(chan bool, 1)
	f := Then(bg, p.Future(), func(context.Context, int) (int, error) { ran <- true; return 1, nil })
	f.Cancel()
	if _, err := f.Await(bg); !errors.Is(err, ErrCanceled) || !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v", err)
	}
	p.Resolve(1)
	select {
	case <-ran:
		t.Fatal("Then ran after its future was canceled")
	default:
	}

	ctx, cancel := context.WithCancel(bg)
	q := NewPromise[int]()
	g := Catch(ctx, q.Future(), func(context.Context, error) (int, error) { return 0, nil })
	cancel()
	if _, err := g.Await(bg); !errors.Is(err, context.Canceled) || errors.Is(err, ErrCanceled) {
		t.Fatalf("got %v; want the context's error", err)
	}
	q.Resolve(0)
}

func TestThenMisuse(t *testing.T) {
	var nilCtx context.Context
	mustPanic(t, "nil Context", func() { Then(nilCtx, Resolved(1), func(context.Context, int) (int, error) { return 0, nil }) })
	mustPanic(t, "nil *Future", func() { Then(bg, (*Future[int])(nil), func(context.Context, int) (int, error) { return 0, nil }) })
	mustPanic(t, "nil function", func() { Then[int, int](bg, Resolved(1), nil) })
	mustPanic(t, "nil function", func() { Catch[int](bg, Resolved(1), nil) })
}
