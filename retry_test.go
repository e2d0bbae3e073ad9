package async

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// flaky returns a function that fails with err for its first fails calls,
// then returns v; calls counts them.
func flaky[T any](fails int, err error, v T, calls *atomic.Int32) func(context.Context) (T, error) {
	return func(context.Context) (T, error) {
		if int(calls.Add(1)) <= fails {
			var zero T
			return zero, err
		}
		return v, nil
	}
}

func TestRetrySucceedsAfterFailures(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var calls atomic.Int32
		v, err := Retry(bg, flaky(2, errors.New("flaky"), 7, &calls))
		if v != 7 || err != nil || calls.Load() != 3 {
			t.Fatalf("Retry = %v, %v after %d calls; want 7, nil after 3", v, err, calls.Load())
		}
	})
}

func TestRetryGivesUpWithTheLastError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var calls atomic.Int32
		boom := errors.New("boom")
		v, err := Retry(bg, flaky(10, boom, 7, &calls), Attempts(4))
		var re *RetryError
		if v != 0 || !errors.As(err, &re) || re.Attempts != 4 || re.Err != boom || !errors.Is(err, boom) || calls.Load() != 4 {
			t.Fatalf("Retry = %v, %v after %d calls; want a RetryError of 4 attempts wrapping boom", v, err, calls.Load())
		}
		if got, want := err.Error(), "async: 4 attempts: boom"; got != want {
			t.Fatalf("message %q; want %q", got, want)
		}
	})
}

func TestPermanentIsNotRetried(t *testing.T) {
	boom := errors.New("bad request")
	if Permanent(nil) != nil {
		t.Fatal("Permanent(nil) != nil")
	}
	p := Permanent(boom)
	if !errors.Is(p, boom) || p.Error() != boom.Error() || !IsPermanent(p) || IsPermanent(boom) {
		t.Fatal("Permanent does not wrap err, or IsPermanent is wrong")
	}
	if !IsPermanent(fmt.Errorf("call: %w", p)) || !IsPermanent(&TaskError{Task: "x", Err: p}) {
		t.Fatal("a wrapped Permanent error is no longer permanent")
	}
	var calls atomic.Int32
	_, err := Retry(bg, flaky(10, p, 0, &calls), Attempts(5))
	var re *RetryError
	if !errors.As(err, &re) || re.Attempts != 1 || !errors.Is(err, boom) || !IsPermanent(err) || calls.Load() != 1 {
		t.Fatalf("Retry = %v after %d calls; want one attempt", err, calls.Load())
	}
}

func TestRetryIf(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		transient, fatal := errors.New("503"), errors.New("404")
		var calls atomic.Int32
		only503 := RetryIf(func(err error) bool { return errors.Is(err, transient) })
		if _, err := Retry(bg, flaky(10, fatal, 0, &calls), only503); calls.Load() != 1 || !errors.Is(err, fatal) {
			t.Fatalf("a non-retryable error was retried: %d calls, %v", calls.Load(), err)
		}
		calls.Store(0)
		if v, err := Retry(bg, flaky(2, transient, 1, &calls), only503); v != 1 || err != nil || calls.Load() != 3 {
			t.Fatalf("a retryable error: %v, %v after %d calls", v, err, calls.Load())
		}
		// Permanent wins over RetryIf.
		calls.Store(0)
		always := RetryIf(func(error) bool { return true })
		if _, err := Retry(bg, flaky(10, Permanent(transient), 0, &calls), always); calls.Load() != 1 || err == nil {
			t.Fatalf("RetryIf overrode Permanent: %d calls", calls.Load())
		}
	})
}

func TestRetryDoesNotRetryPanics(t *testing.T) {
	var calls atomic.Int32
	_, err := Retry(bg, func(ctx context.Context) (int, error) {
		calls.Add(1)
		return Go(ctx, func(context.Context) (int, error) { panic("boom") }).Await(ctx)
	})
	var pe *PanicError
	if !errors.As(err, &pe) || calls.Load() != 1 {
		t.Fatalf("Retry = %v after %d calls; want the *PanicError after one", err, calls.Load())
	}
}

// The k-th retry waits between zero and min(initial·2^(k-1), max).
func TestRetryBackoffBounds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var at []time.Time
		_, err := Retry(bg, func(context.Context) (int, error) {
			at = append(at, time.Now())
			return 0, errors.New("again")
		}, Attempts(8), Backoff(time.Second, 10*time.Second))
		if len(at) != 8 || err == nil {
			t.Fatalf("%d attempts, %v", len(at), err)
		}
		var total time.Duration
		for k := 1; k < len(at); k++ {
			wait := at[k].Sub(at[k-1])
			bound := min(time.Second<<(k-1), 10*time.Second)
			if wait < 0 || wait > bound {
				t.Fatalf("wait %d = %v; want within [0, %v]", k, wait, bound)
			}
			total += wait
		}
		if total == 0 {
			t.Fatal("no retry waited at all")
		}
		// Backoff(0, 0) retries at once.
		start := time.Now()
		var calls atomic.Int32
		Retry(bg, flaky(10, errors.New("x"), 0, &calls), Attempts(3), Backoff(0, 0))
		if time.Since(start) != 0 || calls.Load() != 3 {
			t.Fatal("Backoff(0, 0) waited")
		}
	})
}

// ctx ending during a wait stops the retries: the error matches both the
// last failure and ctx's end with its cause.
func TestRetryStopsWhenContextEnds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		boom, cause := errors.New("boom"), errors.New("shutting down")
		ctx, cancel := context.WithCancelCause(bg)
		var calls atomic.Int32
		go func() {
			time.Sleep(150 * time.Millisecond) // within the backoff's bounds, past the first attempt
			cancel(cause)
		}()
		_, err := Retry(ctx, func(context.Context) (int, error) {
			calls.Add(1)
			return 0, boom
		}, Attempts(1000), Backoff(time.Second, time.Second))
		var re *RetryError
		if !errors.As(err, &re) || !errors.Is(err, boom) || !errors.Is(err, context.Canceled) || !errors.Is(err, cause) {
			t.Fatalf("Retry = %v; want the last failure and the end of ctx", err)
		}
		if int(calls.Load()) != re.Attempts || re.Attempts >= 1000 {
			t.Fatalf("%d calls, %d attempts reported", calls.Load(), re.Attempts)
		}
	})
}

// Timeout bounds each attempt; a timed-out attempt is retried.
func TestRetryTimeoutPerAttempt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var calls atomic.Int32
		v, err := Retry(bg, func(ctx context.Context) (string, error) {
			if calls.Add(1) < 3 {
				<-ctx.Done() // hangs until its attempt's deadline
				if context.Cause(ctx) != ErrTimeout {
					t.Errorf("attempt's cause = %v; want ErrTimeout", context.Cause(ctx))
				}
				return "", ctx.Err()
			}
			return "ok", nil
		}, Timeout(time.Second))
		if v != "ok" || err != nil || calls.Load() != 3 {
			t.Fatalf("Retry = %q, %v after %d calls", v, err, calls.Load())
		}
		calls.Store(0)
		_, err = Retry(bg, func(ctx context.Context) (string, error) {
			calls.Add(1)
			<-ctx.Done()
			return "", ctx.Err()
		}, Timeout(time.Second), Attempts(2))
		if !errors.Is(err, ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) || calls.Load() != 2 {
			t.Fatalf("Retry = %v after %d calls; want ErrTimeout after 2", err, calls.Load())
		}
	})
}

// 1,000 calls retried with a 1 h backoff under VirtualTime finish in
// virtual time, and a Seed reproduces the whole schedule.
func TestRetryUnderVirtualTime(t *testing.T) {
	run := func(seed int64) (time.Duration, []time.Duration) {
		var elapsed time.Duration
		var first []time.Duration // when element 0's attempts ran
		err := RunLoop(bg, func(ctx context.Context) error {
			start := Now(ctx)
			in := make([]int, 1000)
			calls := make([]int, len(in))
			for i := range in {
				in[i] = i
			}
			out, err := Map(ctx, in, func(ctx context.Context, i int) (int, error) {
				if i == 0 {
					first = append(first, Now(ctx).Sub(start))
				}
				calls[i]++
				if calls[i] < 3 {
					return 0, errors.New("transient")
				}
				return i * 2, nil
			}, Attempts(3), Backoff(time.Hour, time.Hour), Limit(1000))
			if err != nil {
				return err
			}
			for i, v := range out {
				if v != i*2 || calls[i] != 3 {
					return fmt.Errorf("element %d: %d after %d calls", i, v, calls[i])
				}
			}
			elapsed = Now(ctx).Sub(start)
			return nil
		}, VirtualTime(), Seed(seed))
		if err != nil {
			t.Fatal(err)
		}
		return elapsed, first
	}
	e1, s1 := run(1)
	e2, s2 := run(1)
	if e1 <= 0 || e1 > 2*time.Hour {
		t.Fatalf("virtual time elapsed %v; want within (0, 2h]", e1)
	}
	if e1 != e2 || fmt.Sprint(s1) != fmt.Sprint(s2) || len(s1) != 3 {
		t.Fatalf("the same seed gave different schedules: %v %v, %v %v", e1, s1, e2, s2)
	}
}

func TestGoAndFuncRetry(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var calls atomic.Int32
		f := Go(bg, flaky(2, errors.New("x"), "ok", &calls), Attempts(3), Backoff(time.Millisecond, time.Second))
		if v, err := f.Await(bg); v != "ok" || err != nil || calls.Load() != 3 {
			t.Fatalf("Go with Attempts = %v, %v after %d calls", v, err, calls.Load())
		}
		calls.Store(0)
		boom := errors.New("boom")
		f = Go(bg, flaky(5, boom, "ok", &calls), Attempts(2), Name("job"))
		_, err := f.Await(bg)
		var te *TaskError
		var re *RetryError
		if !errors.As(err, &te) || te.Task != "job" || !errors.As(err, &re) || re.Attempts != 2 || !errors.Is(err, boom) {
			t.Fatalf("Go = %v; want the task's name on a RetryError of 2 attempts", err)
		}
		// With a retry option, Timeout bounds each attempt, not the task.
		calls.Store(0)
		f = Go(bg, func(ctx context.Context) (string, error) {
			if calls.Add(1) == 1 {
				<-ctx.Done()
				return "", ctx.Err()
			}
			return "second", nil
		}, Timeout(time.Second), Attempts(2))
		if v, err := f.Await(bg); v != "second" || err != nil {
			t.Fatalf("Go with Timeout and Attempts = %v, %v", v, err)
		}
		calls.Store(0)
		// Each argument's first call fails: the two calls run at once, so a
		// counter shared between them would decide by their order.
		var mu sync.Mutex
		tries := map[int]int{}
		get := Func(func(ctx context.Context, x int) (int, error) {
			mu.Lock()
			tries[x]++
			first := tries[x] == 1
			mu.Unlock()
			if first {
				return 0, errors.New("first call")
			}
			return x, nil
		}, Attempts(2), Backoff(0, 0))
		a, b := get(bg, 1), get(bg, 2)
		if vs, err := All(bg, a, b); err != nil || vs[0] != 1 || vs[1] != 2 {
			t.Fatalf("Func with Attempts = %v, %v", vs, err)
		}
	})
}

func TestMapTimeoutAndAttempts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		in := []int{0, 1, 2, 3}
		var calls [4]atomic.Int32
		out, err := Map(bg, in, func(ctx context.Context, i int) (int, error) {
			if calls[i].Add(1) == 1 && i%2 == 1 {
				<-ctx.Done() // the odd ones hang on their first attempt
				return 0, ctx.Err()
			}
			return i * 10, nil
		}, Timeout(time.Second), Attempts(2))
		if err != nil || fmt.Sprint(out) != "[0 10 20 30]" {
			t.Fatalf("Map = %v, %v", out, err)
		}
		// Timeout alone: the call fails with ErrTimeout, and fails the Map.
		_, err = Map(bg, in, func(ctx context.Context, i int) (int, error) {
			if i == 2 {
				<-ctx.Done()
				return 0, ctx.Err()
			}
			return i, nil
		}, Timeout(time.Second))
		if !errors.Is(err, ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Map = %v; want ErrTimeout", err)
		}
		var re *RetryError
		if errors.As(err, &re) {
			t.Fatal("a call without retry options came back as a RetryError")
		}
		err = ForEach(bg, in, func(ctx context.Context, i int) error {
			<-ctx.Done()
			return ctx.Err()
		}, Timeout(time.Second), Attempts(2), Backoff(0, 0))
		if !errors.As(err, &re) || re.Attempts != 2 || !errors.Is(err, ErrTimeout) {
			t.Fatalf("ForEach = %v; want a RetryError of 2 timeouts", err)
		}
	})
}

func TestRetryOptionPanics(t *testing.T) {
	var nilCtx context.Context
	mustPanic(t, "Attempts(0)", func() { Attempts(0) })
	mustPanic(t, "Backoff(-1ns, 0s)", func() { Backoff(-1, 0) })
	mustPanic(t, "Backoff(2s, 1s)", func() { Backoff(2*time.Second, time.Second) })
	mustPanic(t, "RetryIf(nil)", func() { RetryIf(nil) })
	mustPanic(t, "Retry with nil function", func() { Retry[int](bg, nil) })
	mustPanic(t, "Retry with nil Context", func() { Retry(nilCtx, func(context.Context) (int, error) { return 0, nil }) })
}

// FuzzRetry checks the number of calls and the outcome against a model for
// random sequences of outcomes and attempt counts.
func FuzzRetry(f *testing.F) {
	f.Add([]byte{1, 1, 0}, uint8(3))
	f.Add([]byte{1, 2, 0}, uint8(5))
	f.Add([]byte{3}, uint8(2))
	f.Fuzz(func(t *testing.T, outcomes []byte, attempts uint8) {
		n := int(attempts%10) + 1
		boom := errors.New("boom")
		calls := 0
		v, err := Retry(bg, func(context.Context) (int, error) {
			k := byte(0)
			if calls < len(outcomes) {
				k = outcomes[calls] % 4
			}
			calls++
			switch k {
			case 1:
				return 0, boom
			case 2:
				return 0, Permanent(boom)
			case 3:
				return 0, &PanicError{Value: "p"}
			}
			return calls, nil
		}, Attempts(n), Backoff(0, 0))
		// The model: stop at the first success, permanent error or panic,
		// or after n calls.
		want, wantOK := 0, false
		for want < n {
			k := byte(0)
			if want < len(outcomes) {
				k = outcomes[want] % 4
			}
			want++
			if k != 1 {
				wantOK = k == 0
				break
			}
		}
		if calls != want {
			t.Fatalf("%d calls; want %d", calls, want)
		}
		var re *RetryError
		if wantOK != (err == nil) || wantOK && v != calls || !wantOK && (!errors.As(err, &re) || re.Attempts != calls) {
			t.Fatalf("Retry = %v, %v after %d calls", v, err, calls)
		}
	})
}

// In a loop on virtual time, a per-call Timeout runs on the loop's clock: the
// call's context reports the virtual deadline and ends as a deadline does.
func TestCallTimeoutOnVirtualTime(t *testing.T) {
	err := RunLoop(bg, func(ctx context.Context) error {
		start := Now(ctx)
		var deadlines []time.Duration
		calls := 0
		v, err := Retry(ctx, func(ctx context.Context) (int, error) {
			calls++
			d, ok := ctx.Deadline()
			if !ok {
				return 0, Permanent(errors.New("no deadline"))
			}
			deadlines = append(deadlines, d.Sub(start))
			if calls < 3 {
				err := Sleep(ctx, 2*time.Hour) // outlives its attempt
				if !errors.Is(ctx.Err(), context.DeadlineExceeded) || context.Cause(ctx) != ErrTimeout {
					return 0, Permanent(fmt.Errorf("attempt ended with %v, cause %v", ctx.Err(), context.Cause(ctx)))
				}
				return 0, err
			}
			return calls, nil
		}, Timeout(time.Hour), Backoff(0, 0))
		if v != 3 || err != nil {
			return fmt.Errorf("Retry = %v, %v", v, err)
		}
		if fmt.Sprint(deadlines) != "[1h0m0s 2h0m0s 3h0m0s]" {
			return fmt.Errorf("deadlines %v; want each attempt's, on the virtual clock", deadlines)
		}
		return nil
	}, VirtualTime())
	if err != nil {
		t.Fatal(err)
	}
}

// The largest durations neither overflow the bound nor the jitter.
func TestBackoffExtremes(t *testing.T) {
	p := &callPolicy{retry: true, attempts: 100, initial: time.Duration(math.MaxInt64), max: time.Duration(math.MaxInt64)}
	for _, k := range []int{1, 2, 63, 64, 99} {
		if d := p.delay(bg, k); d < 0 {
			t.Fatalf("delay(%d) = %v", k, d)
		}
	}
	p.initial, p.max = time.Nanosecond, time.Duration(math.MaxInt64)
	if d := p.delay(bg, 70); d < 0 {
		t.Fatalf("delay(70) = %v", d)
	}
}
