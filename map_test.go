package async

import (
	"bytes"
	"context"
	"errors"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

func TestMapOrder(t *testing.T) {
	// Calls finish in reverse order: call i waits for call i+1 to finish.
	const n = 6
	finished := make([]chan struct{}, n+1)
	for i := range finished {
		finished[i] = make(chan struct{})
	}
	close(finished[n])
	in := []int{0, 1, 2, 3, 4, 5}
	out, err := Map(context.Background(), in, func(ctx context.Context, i int) (string, error) {
		<-finished[i+1]
		close(finished[i])
		return strings.Repeat("x", i), nil
	}, Limit(n))
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range out {
		if s != strings.Repeat("x", i) {
			t.Fatalf("out[%d] = %q", i, s)
		}
	}
}

func TestMapEmpty(t *testing.T) {
	out, err := Map(context.Background(), nil, func(context.Context, int) (int, error) {
		t.Error("fn called")
		return 0, nil
	})
	if err != nil || out == nil || len(out) != 0 {
		t.Fatalf("Map(nil) = %v, %v; want an empty slice and nil", out, err)
	}
	if err := ForEach(context.Background(), []int{}, func(context.Context, int) error { return errors.New("x") }); err != nil {
		t.Fatal(err)
	}
}

// inflight counts concurrent calls and remembers the maximum.
type inflight struct {
	now, max atomic.Int32
}

func (f *inflight) enter() {
	n := f.now.Add(1)
	for {
		m := f.max.Load()
		if n <= m || f.max.CompareAndSwap(m, n) {
			return
		}
	}
}

func (f *inflight) leave() { f.now.Add(-1) }

func TestMapLimit(t *testing.T) {
	for _, tc := range []struct {
		name  string
		opts  []MapOption
		limit int
	}{
		{"Limit(3)", []MapOption{Limit(3)}, 3},
		{"Limit(1)", []MapOption{Limit(1)}, 1},
		{"default", nil, runtime.GOMAXPROCS(0)},
		{"Limit above len", []MapOption{Limit(100)}, 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var fl inflight
				release := make(chan struct{})
				done := make(chan error)
				go func() {
					_, err := Map(context.Background(), make([]int, 20), func(ctx context.Context, _ int) (int, error) {
						fl.enter()
						defer fl.leave()
						<-release
						return 1, nil
					}, tc.opts...)
					done <- err
				}()
				synctest.Wait() // every call that could start has started and blocks
				if got := fl.now.Load(); int(got) != tc.limit {
					t.Errorf("%d calls in flight, want %d", got, tc.limit)
				}
				close(release)
				if err := <-done; err != nil {
					t.Fatal(err)
				}
				if got := fl.max.Load(); int(got) > tc.limit {
					t.Errorf("max %d in flight, want <= %d", got, tc.limit)
				}
			})
		})
	}
}

func TestMapFirstFailure(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		boom := errors.New("boom")
		var started, returned atomic.Int32
		var causes sync.Map
		out, err := Map(context.Background(), []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, func(ctx context.Context, i int) (int, error) {
			started.Add(1)
			defer returned.Add(1)
			if i == 1 {
				// Fail once the other two calls are in flight.
				for started.Load() < 3 {
					runtime.Gosched()
				}
				return 0, boom
			}
			<-ctx.Done()
			causes.Store(i, context.Cause(ctx))
			return 0, errors.New("fallout") // must not be reported
		}, Limit(3))
		if !errors.Is(err, boom) || out != nil {
			t.Fatalf("Map = %v, %v; want nil, boom", out, err)
		}
		if s, r := started.Load(), returned.Load(); s != 3 || r != 3 {
			t.Fatalf("%d calls started, %d returned before Map returned; want 3 and 3", s, r)
		}
		causes.Range(func(k, v any) bool {
			if v != boom {
				t.Errorf("call %v saw cause %v, want boom", k, v)
			}
			return true
		})
	})
}

func TestForEachFirstFailure(t *testing.T) {
	boom := errors.New("boom")
	var calls atomic.Int32
	err := ForEach(context.Background(), make([]int, 100), func(ctx context.Context, _ int) error {
		calls.Add(1)
		return boom
	}, Limit(1))
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
	if calls.Load() != 1 {
		t.Fatalf("%d calls after the first failure with Limit(1), want 1", calls.Load())
	}
}

func TestForEachAll(t *testing.T) {
	var sum atomic.Int64
	in := make([]int, 1000)
	for i := range in {
		in[i] = i
	}
	if err := ForEach(context.Background(), in, func(_ context.Context, v int) error {
		sum.Add(int64(v))
		return nil
	}, Limit(4)); err != nil {
		t.Fatal(err)
	}
	if sum.Load() != 999*1000/2 {
		t.Fatalf("sum %d", sum.Load())
	}
}

func TestMapPanic(t *testing.T) {
	for _, limit := range []int{1, 4} {
		_, err := Map(context.Background(), []int{0, 1, 2, 3}, func(ctx context.Context, i int) (int, error) {
			if i == 2 {
				panicInMap()
			}
			return i, nil
		}, Limit(limit))
		var pe *PanicError
		if !errors.As(err, &pe) {
			t.Fatalf("Limit(%d): err = %v, want a *PanicError", limit, err)
		}
		if pe.Value != "kaboom" || !bytes.Contains(pe.Stack, []byte("panicInMap")) {
			t.Fatalf("Limit(%d): PanicError %v with stack\n%s", limit, pe.Value, pe.Stack)
		}
	}
}

func panicInMap() { panic("kaboom") }

func TestMapGoexitOnWorker(t *testing.T) {
	// The call on one of Map's own goroutines calls Goexit; the one on the
	// caller's goroutine waits to be cancelled.
	_, err := Map(context.Background(), []int{0, 1}, func(ctx context.Context, i int) (int, error) {
		if !bytes.Contains(debug.Stack(), []byte("forEachIndex(")) {
			runtime.Goexit()
		}
		<-ctx.Done()
		return 0, ctx.Err()
	}, Limit(2))
	if !errors.Is(err, ErrGoexit) {
		t.Fatalf("err = %v, want ErrGoexit", err)
	}
}

func TestMapGoexitOnCaller(t *testing.T) {
	// Goexit on the caller's goroutine ends the caller, as it would without
	// Map, but only after Map's other calls have returned.
	var otherReturned atomic.Bool
	otherStarted := make(chan struct{})
	exited := make(chan bool)
	go func() {
		defer func() { exited <- otherReturned.Load() }()
		_, _ = Map(context.Background(), []int{0, 1}, func(ctx context.Context, i int) (int, error) {
			if bytes.Contains(debug.Stack(), []byte("forEachIndex(")) {
				<-otherStarted
				runtime.Goexit()
			}
			close(otherStarted)
			<-ctx.Done()
			otherReturned.Store(true)
			return 0, ctx.Err()
		}, Limit(2))
		t.Error("Map returned after Goexit on the caller")
	}()
	if !<-exited {
		t.Fatal("the caller exited before Map's other call returned")
	}
}

func TestMapParentCanceled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cause := errors.New("shutting down")
		ctx, cancel := context.WithCancelCause(context.Background())
		var started atomic.Int32
		done := make(chan error)
		go func() {
			_, err := Map(ctx, make([]int, 50), func(ctx context.Context, _ int) (int, error) {
				started.Add(1)
				<-ctx.Done()
				return 0, ctx.Err()
			}, Limit(2))
			done <- err
		}()
		synctest.Wait()
		cancel(cause)
		err := <-done
		if !errors.Is(err, context.Canceled) || !errors.Is(err, cause) {
			t.Fatalf("err = %v, want context.Canceled and the cause", err)
		}
		if started.Load() != 2 {
			t.Fatalf("%d calls started, want 2", started.Load())
		}
	})
}

func TestMapParentAlreadyCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Map(ctx, []int{1, 2, 3}, func(context.Context, int) (int, error) {
		t.Error("fn called with an ended context")
		return 0, nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
}

func TestMapRealFailureAfterParentEnd(t *testing.T) {
	// An error that is not the context's own is reported as is, even if the
	// parent has ended meanwhile.
	ctx, cancel := context.WithCancel(context.Background())
	boom := errors.New("boom")
	_, err := Map(ctx, []int{1}, func(context.Context, int) (int, error) {
		cancel()
		return 0, boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want boom", err)
	}
}

func TestMapProgress(t *testing.T) {
	const n = 500
	var (
		mu       sync.Mutex // held by fn; TryLock failing means two calls overlap
		reports  []int
		problems []string
	)
	_, err := Map(context.Background(), make([]int, n), func(context.Context, int) (int, error) {
		return 0, nil
	}, Limit(4), Progress(func(done, total int) {
		if !mu.TryLock() {
			problems = append(problems, "concurrent Progress calls")
			return
		}
		defer mu.Unlock()
		if total != n || done > total {
			problems = append(problems, "bad total")
		}
		if len(reports) > 0 && done <= reports[len(reports)-1] {
			problems = append(problems, "not increasing")
		}
		reports = append(reports, done)
	}))
	if err != nil {
		t.Fatal(err)
	}
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	if reports[0] != 0 || reports[len(reports)-1] != n {
		t.Fatalf("first report %d, last %d; want 0 and %d", reports[0], reports[len(reports)-1], n)
	}
}

func TestMapBadInput(t *testing.T) {
	ctx := context.Background()
	id := func(_ context.Context, v int) (int, error) { return v, nil }
	mustPanic(t, "nil function", func() { _, _ = Map[int, int](ctx, nil, nil) })
	var nilCtx context.Context
	mustPanic(t, "nil Context", func() { _, _ = Map(nilCtx, []int{1}, id) })
	mustPanic(t, "Limit(0)", func() { _, _ = Map(ctx, []int{1}, id, Limit(0)) })
	mustPanic(t, "Map: nil option", func() { _, _ = Map(ctx, []int{1}, id, nil) })
	mustPanic(t, "nil function", func() { _ = ForEach[int](ctx, nil, nil) })
}

// FuzzMap drives Map with random mixes of successes, failures, panics and
// slow calls that honour cancellation, under random limits, and checks
// ordering, the limit, that the reported failure is a real one, and that no
// call outlives Map. It runs in a synctest bubble, so "slow" costs no time.
func FuzzMap(f *testing.F) {
	f.Add(uint8(2), []byte{0, 0, 0, 0})
	f.Add(uint8(3), []byte{0, 3, 1, 3, 0})
	f.Add(uint8(1), []byte{2, 0})
	f.Add(uint8(8), []byte{3, 3, 3, 3, 1, 3, 3})
	f.Fuzz(func(t *testing.T, limit uint8, actions []byte) {
		synctest.Test(t, func(t *testing.T) { fuzzMap(t, limit, actions) })
	})
}

func fuzzMap(t *testing.T, limit uint8, actions []byte) {
	if len(actions) > 200 {
		actions = actions[:200]
	}
	lim := int(limit%8) + 1
	const (
		succeed = iota
		fail
		panics
		slow // succeeds after an hour of bubble time, unless cancelled
		numActions
	)
	anyFailure := false
	for i := range actions {
		actions[i] %= numActions
		if actions[i] == fail || actions[i] == panics {
			anyFailure = true
		}
	}
	in := make([]int, len(actions))
	for i := range in {
		in[i] = i
	}
	var (
		fl                inflight
		started, returned atomic.Int32
		failedAt          sync.Map // index -> its error, for failures
	)
	out, err := Map(context.Background(), in, func(ctx context.Context, i int) (int, error) {
		started.Add(1)
		fl.enter()
		defer func() {
			fl.leave()
			returned.Add(1)
		}()
		switch actions[i] {
		case fail:
			e := errors.New("fail " + strconv.Itoa(i))
			failedAt.Store(e, true)
			return 0, e
		case panics:
			panic(i)
		case slow:
			select {
			case <-ctx.Done():
				return 0, ctx.Err()
			case <-time.After(time.Hour):
			}
		}
		return i * 3, nil
	}, Limit(lim))
	if s, r := started.Load(), returned.Load(); s != r {
		t.Fatalf("%d calls started but %d returned when Map returned", s, r)
	}
	if m := fl.max.Load(); int(m) > lim {
		t.Fatalf("%d calls in flight with Limit(%d)", m, lim)
	}
	if !anyFailure {
		if err != nil {
			t.Fatalf("err = %v with no failing call", err)
		}
		for i, v := range out {
			if v != i*3 {
				t.Fatalf("out[%d] = %d", i, v)
			}
		}
		return
	}
	if out != nil {
		t.Fatal("results returned with an error")
	}
	var pe *PanicError
	if errors.As(err, &pe) {
		i, ok := pe.Value.(int)
		if !ok || actions[i] != panics {
			t.Fatalf("PanicError for %v, which did not panic", pe.Value)
		}
		return
	}
	if _, ok := failedAt.Load(err); !ok {
		t.Fatalf("err = %v is not one of the failures", err)
	}
}
