package async

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
)

func TestLazySharedRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var calls atomic.Int32
		gate := make(chan struct{})
		l := NewLazy(func(ctx context.Context) (string, error) {
			calls.Add(1)
			<-gate
			return "config", nil
		})
		var wg sync.WaitGroup
		results := make(chan string, 5)
		for range 5 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				v, err := l.Get(context.Background())
				if err != nil {
					t.Error(err)
				}
				results <- v
			}()
		}
		synctest.Wait()
		if n := calls.Load(); n != 1 {
			t.Fatalf("%d runs for 5 concurrent Gets, want 1", n)
		}
		close(gate)
		wg.Wait()
		for range 5 {
			if v := <-results; v != "config" {
				t.Fatalf("Get = %q", v)
			}
		}
		if v, err := l.Get(context.Background()); v != "config" || err != nil || calls.Load() != 1 {
			t.Fatalf("cached Get = %q, %v after %d runs", v, err, calls.Load())
		}
	})
}

func TestLazyRetriesFailure(t *testing.T) {
	boom := errors.New("boom")
	var calls int
	l := NewLazy(func(ctx context.Context) (int, error) {
		calls++
		if calls == 1 {
			return 0, boom
		}
		return 42, nil
	})
	if _, err := l.Get(context.Background()); !errors.Is(err, boom) {
		t.Fatalf("first Get = %v", err)
	}
	if v, err := l.Get(context.Background()); v != 42 || err != nil {
		t.Fatalf("second Get = %d, %v", v, err)
	}
	_, _ = l.Get(context.Background()) // cached: no third run
	if calls != 2 {
		t.Fatalf("%d runs, want 2", calls)
	}
}

func TestLazyFailureShared(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		boom := errors.New("boom")
		gate := make(chan struct{})
		var calls atomic.Int32
		l := NewLazy(func(ctx context.Context) (int, error) {
			calls.Add(1)
			<-gate
			return 0, boom
		})
		errs := make(chan error, 3)
		for range 3 {
			go func() {
				_, err := l.Get(context.Background())
				errs <- err
			}()
		}
		synctest.Wait()
		close(gate)
		for range 3 {
			if err := <-errs; !errors.Is(err, boom) {
				t.Fatalf("Get = %v", err)
			}
		}
		if calls.Load() != 1 {
			t.Fatalf("%d runs, want 1", calls.Load())
		}
	})
}

func TestLazyPanic(t *testing.T) {
	var calls int
	l := NewLazy(func(ctx context.Context) (int, error) {
		calls++
		if calls == 1 {
			panic("first time")
		}
		return 1, nil
	})
	_, err := l.Get(context.Background())
	var pe *PanicError
	if !errors.As(err, &pe) || pe.Value != "first time" {
		t.Fatalf("Get = %v, want a *PanicError", err)
	}
	if v, err := l.Get(context.Background()); v != 1 || err != nil {
		t.Fatalf("Get after a panic = %d, %v", v, err)
	}
}

func TestLazyGetGivesUpAlone(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		gate := make(chan struct{})
		runCtxEnded := make(chan bool, 1)
		l := NewLazy(func(ctx context.Context) (int, error) {
			<-gate
			runCtxEnded <- ctx.Err() != nil
			return 7, nil
		})
		cause := errors.New("impatient")
		short, cancel := context.WithCancelCause(context.Background())
		shortErr := make(chan error)
		go func() {
			_, err := l.Get(short)
			shortErr <- err
		}()
		synctest.Wait() // the impatient Get started the run
		patient := make(chan int)
		go func() {
			v, _ := l.Get(context.Background())
			patient <- v
		}()
		synctest.Wait()
		cancel(cause)
		if err := <-shortErr; !errors.Is(err, context.Canceled) || !errors.Is(err, cause) {
			t.Fatalf("impatient Get = %v", err)
		}
		close(gate)
		if v := <-patient; v != 7 {
			t.Fatalf("patient Get = %d", v)
		}
		if <-runCtxEnded {
			t.Fatal("the run's context ended when one of two Gets gave up")
		}
	})
}

func TestLazyAbandonedRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var running, overlap atomic.Int32
		var calls atomic.Int32
		l := NewLazy(func(ctx context.Context) (int, error) {
			if running.Add(1) > 1 {
				overlap.Store(1)
			}
			defer running.Add(-1)
			if calls.Add(1) == 1 {
				<-ctx.Done() // the first run only ends when cancelled
				return 0, ctx.Err()
			}
			return 9, nil
		})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() {
			_, err := l.Get(ctx)
			done <- err
		}()
		synctest.Wait()
		cancel() // the only waiter leaves: the run is cancelled
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Fatalf("Get = %v", err)
		}
		// A new Get is not handed the abandoned run's cancellation.
		if v, err := l.Get(context.Background()); v != 9 || err != nil {
			t.Fatalf("Get after an abandoned run = %d, %v", v, err)
		}
		if overlap.Load() != 0 {
			t.Fatal("two runs overlapped")
		}
	})
}

type lazyKey struct{}

func TestLazyRunContextValues(t *testing.T) {
	l := NewLazy(func(ctx context.Context) (any, error) { return ctx.Value(lazyKey{}), nil })
	ctx := context.WithValue(context.Background(), lazyKey{}, "v")
	if v, _ := l.Get(ctx); v != "v" {
		t.Fatalf("run saw value %v", v)
	}
}

func TestLazyEndedCtx(t *testing.T) {
	l := NewLazy(func(ctx context.Context) (int, error) {
		t.Error("run started for a Get whose ctx had ended")
		return 0, nil
	})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := l.Get(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Get = %v", err)
	}
}

func TestLazyBadInput(t *testing.T) {
	mustPanic(t, "NewLazy with nil function", func() { NewLazy[int](nil) })
	var nilCtx context.Context
	l := NewLazy(value(1))
	mustPanic(t, "nil Context", func() { _, _ = l.Get(nilCtx) })
}
