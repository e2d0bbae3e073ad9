package dist

import (
	"context"
	"encoding/json"
	"errors"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/goasync/async"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Cancel on the future ends the running handler's context on the worker that
// has it; the future rejects with async.ErrCanceled.
func TestCancelReachesRunningHandler(t *testing.T) {
	s := testServer(t)
	started := make(chan struct{})
	stopped := make(chan error, 1)
	runWorker(t, s.URL(), func(w *Worker) {
		Register(w, "wait", func(ctx context.Context, n int) (int, error) {
			close(started)
			<-ctx.Done()
			stopped <- context.Cause(ctx)
			return 0, ctx.Err()
		})
	})
	c := newClient(t, connect(t, s.URL()))
	f := Call[int, int](context.Background(), c, "wait", 0)
	<-started
	f.Cancel()
	if _, err := f.Await(context.Background()); !errors.Is(err, async.ErrCanceled) {
		t.Fatalf("err = %v, want ErrCanceled", err)
	}
	if cause := <-stopped; !errors.Is(cause, context.Canceled) {
		t.Fatalf("handler context cause = %v, want a cancellation", cause)
	}
	// Another client attaching to the task sees the cancellation too.
	id, _ := TaskID(f)
	c2 := newClient(t, connect(t, s.URL()))
	if _, err := await[int](t, Attach[int](context.Background(), c2, id)); !errors.Is(err, async.ErrCanceled) {
		t.Fatalf("Attach: err = %v, want ErrCanceled", err)
	}
}

// Ending the call's context cancels the task like Cancel does, and the future
// rejects with the context's error.
func TestCallContextEndCancels(t *testing.T) {
	s := testServer(t)
	started := make(chan struct{})
	stopped := make(chan struct{})
	runWorker(t, s.URL(), func(w *Worker) {
		Register(w, "wait", func(ctx context.Context, n int) (int, error) {
			close(started)
			<-ctx.Done()
			close(stopped)
			return 0, ctx.Err()
		})
	})
	c := newClient(t, connect(t, s.URL()))
	ctx, cancel := context.WithCancel(context.Background())
	f := Call[int, int](ctx, c, "wait", 0)
	<-started
	cancel()
	if _, err := f.Await(context.Background()); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	<-stopped
}

// A canceled task that is still queued is dropped: no worker runs it.
func TestCancelSkipsQueuedTask(t *testing.T) {
	s := testServer(t)
	c := newClient(t, connect(t, s.URL()))
	doomed := Call[string, string](context.Background(), c, "echo", "doomed", WaitForWorker())
	marker := Call[string, string](context.Background(), c, "echo", "marker", WaitForWorker())
	waitQueued(t, c, 2)
	doomed.Cancel()
	if _, err := doomed.Await(context.Background()); !errors.Is(err, async.ErrCanceled) {
		t.Fatalf("err = %v, want ErrCanceled", err)
	}
	waitQueued(t, c, 1)

	var (
		mu   sync.Mutex
		seen []string
	)
	runWorker(t, s.URL(), func(w *Worker) {
		Register(w, "echo", func(ctx context.Context, s string) (string, error) {
			mu.Lock()
			seen = append(seen, s)
			mu.Unlock()
			return s, nil
		})
	}, Concurrency(1)) // one at a time, in queue order: the doomed task would come first
	if v, err := await[string](t, marker); err != nil || v != "marker" {
		t.Fatalf("marker: %v, %v", v, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 1 || seen[0] != "marker" {
		t.Fatalf("handler saw %q, want only the marker", seen)
	}
}

// waitQueued waits until the task stream holds n tasks (cancel requests
// aside).
func waitQueued(t testing.TB, c *Client, n uint64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		info, err := c.tasks.Info(context.Background(), jetstream.WithSubjectFilter(c.l.ns+".task.>"))
		if err == nil {
			var got uint64
			for _, k := range info.State.Subjects {
				got += k
			}
			if got == n {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("task stream never held %d tasks (%v)", n, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// The Timeout travels with the task: the handler's context has the deadline
// and ends at it, and the future rejects with async.ErrTimeout.
func TestTimeoutTravels(t *testing.T) {
	s := testServer(t)
	deadlines := make(chan time.Time, 1)
	runWorker(t, s.URL(), func(w *Worker) {
		Register(w, "slow", func(ctx context.Context, n int) (int, error) {
			d, _ := ctx.Deadline()
			deadlines <- d
			<-ctx.Done()
			return 0, ctx.Err()
		})
	})
	c := newClient(t, connect(t, s.URL()))
	before := time.Now()
	_, err := await[int](t, Call[int, int](context.Background(), c, "slow", 0, Timeout(300*time.Millisecond)))
	if !errors.Is(err, async.ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want ErrTimeout", err)
	}
	if d := <-deadlines; d.Before(before.Add(300*time.Millisecond)) || d.After(time.Now()) {
		t.Fatalf("handler deadline %v not the call's (%v + 300ms)", d, before)
	}
}

// A task whose deadline passed while it was queued is not started: with its
// caller gone, the worker that takes it stores a timeout; with its caller
// alive, the caller settles it at the deadline and drops it from the queue.
func TestExpiredTaskIsNotStarted(t *testing.T) {
	s := testServer(t)
	gone := newClient(t, connect(t, s.URL()))
	f := Call[int, int](context.Background(), gone, "count", 1, Timeout(100*time.Millisecond), WaitForWorker())
	id, _ := TaskID(f)
	waitQueued(t, gone, 1)
	gone.Close() // the caller is gone; its task stays queued
	if _, err := f.Await(context.Background()); !errors.Is(err, ErrClosed) {
		t.Fatalf("closed client's future: %v, want ErrClosed", err)
	}
	if _, err := await[int](t, Call[int, int](context.Background(), gone, "count", 1, WaitForWorker())); !errors.Is(err, ErrClosed) {
		t.Fatalf("Call after Close: %v, want ErrClosed", err)
	}

	c := newClient(t, connect(t, s.URL()))
	alive := Call[int, int](context.Background(), c, "count", 2, Timeout(100*time.Millisecond), WaitForWorker())
	// alive was called after f, so when it times out both deadlines have passed.
	if _, err := await[int](t, alive); !errors.Is(err, async.ErrTimeout) {
		t.Fatalf("live caller: err = %v, want ErrTimeout at the deadline with no worker", err)
	}

	var runs atomic.Int32
	runWorker(t, s.URL(), func(w *Worker) {
		Register(w, "count", func(ctx context.Context, n int) (int, error) { runs.Add(1); return n, nil })
	})
	_, err := await[int](t, Attach[int](context.Background(), c, id))
	var re *RemoteError
	if !errors.Is(err, async.ErrTimeout) || !errors.As(err, &re) || re.Worker == "" {
		t.Fatalf("Attach to the expired task: %v, want a worker's ErrTimeout", err)
	}
	if v, err := await[int](t, Call[int, int](context.Background(), c, "count", 3)); v != 3 || err != nil {
		t.Fatalf("marker: %v, %v", v, err)
	}
	if n := runs.Load(); n != 1 {
		t.Fatalf("handler ran %d times, want only for the marker", n)
	}
}

// Calls with one Key make one task: the handler runs once and every future
// gets its result, including calls made after it finished.
func TestKeyDeduplicates(t *testing.T) {
	s := testServer(t)
	c1 := newClient(t, connect(t, s.URL()))
	c2 := newClient(t, connect(t, s.URL()))
	f1 := Call[int, int](context.Background(), c1, "once", 5, Key("order-17"), WaitForWorker())
	f2 := Call[int, int](context.Background(), c2, "once", 6, Key("order-17"), WaitForWorker())
	other := Call[int, int](context.Background(), c2, "once", 7, Key("order-18"), WaitForWorker())
	var runs atomic.Int32
	runWorker(t, s.URL(), func(w *Worker) {
		Register(w, "once", func(ctx context.Context, n int) (int, error) { runs.Add(1); return n * 10, nil })
	})
	v1, err1 := await[int](t, f1)
	v2, err2 := await[int](t, f2)
	// The two calls publish concurrently from two clients: whichever reaches
	// the stream first runs, and both futures get its result.
	if err1 != nil || err2 != nil || v1 != v2 || (v1 != 50 && v1 != 60) {
		t.Fatalf("got %v, %v and %v, %v; want the same result (50 or 60) twice", v1, err1, v2, err2)
	}
	if v, err := await[int](t, other); v != 70 || err != nil {
		t.Fatalf("other key: %v, %v", v, err)
	}
	v3, err3 := await[int](t, Call[int, int](context.Background(), c1, "once", 8, Key("order-17")))
	if err3 != nil || v3 != v1 {
		t.Fatalf("later call: %v, %v; want the stored %v", v3, err3, v1)
	}
	if n := runs.Load(); n != 2 {
		t.Fatalf("handler ran %d times, want 2 (one per key)", n)
	}
	id1, _ := TaskID(f1)
	id2, _ := TaskID(f2)
	if id1 != id2 {
		t.Fatalf("task ids %q and %q differ", id1, id2)
	}
}

// A name no worker serves fails fast with ErrNoWorker, unless the caller
// chooses to wait; the waiting task runs when a worker starts.
func TestNoWorker(t *testing.T) {
	s := testServer(t)
	c := newClient(t, connect(t, s.URL()))
	_, err := await[int](t, Call[int, int](context.Background(), c, "nobody", 1))
	if !errors.Is(err, ErrNoWorker) || !strings.Contains(err.Error(), "nobody") {
		t.Fatalf("err = %v, want ErrNoWorker naming the function", err)
	}
	f := Call[int, int](context.Background(), c, "nobody", 2, WaitForWorker())
	runWorker(t, s.URL(), func(w *Worker) {
		Register(w, "nobody", func(ctx context.Context, n int) (int, error) { return n + 1, nil })
	})
	if v, err := await[int](t, f); v != 3 || err != nil {
		t.Fatalf("waiting call: %v, %v", v, err)
	}
	// A stopped worker withdraws its entry.
	c2 := newClient(t, connect(t, s.URL()))
	stop := runWorker(t, s.URL(), func(w *Worker) {
		Register(w, "brief", func(ctx context.Context, n int) (int, error) { return n, nil })
	})
	stop()
	if _, err := await[int](t, Call[int, int](context.Background(), c2, "brief", 1)); !errors.Is(err, ErrNoWorker) {
		t.Fatalf("after the worker stopped: %v, want ErrNoWorker", err)
	}
}

// Bad input fails at once with a clear error; programmer errors panic.
func TestBadInput(t *testing.T) {
	if _, err := NewClient(nil); err == nil {
		t.Error("NewClient(nil) returned no error")
	}
	if _, err := NewWorker(nil); err == nil {
		t.Error("NewWorker(nil) returned no error")
	}
	s := testServer(t)
	c := newClient(t, connect(t, s.URL()))
	for _, name := range []string{"", "a.b", "a b", "*"} {
		if _, err := await[int](t, Call[int, int](context.Background(), c, name, 1)); !errors.Is(err, ErrInvalidName) {
			t.Errorf("Call(%q): %v, want ErrInvalidName", name, err)
		}
	}
	_, err := await[int](t, Call[func(), int](context.Background(), c, "f", func() {}))
	var ute *json.UnsupportedTypeError
	if !errors.As(err, &ute) {
		t.Errorf("unencodable request: %v, want the codec's error", err)
	}
	if _, err := await[int](t, Attach[int](context.Background(), c, "no spaces")); !errors.Is(err, ErrInvalidName) {
		t.Errorf("Attach with a bad id: %v", err)
	}

	w, err := NewWorker(connect(t, s.URL()))
	if err != nil {
		t.Fatal(err)
	}
	fn := func(ctx context.Context, n int) (int, error) { return n, nil }
	Register(w, "ok", fn)
	mustPanic(t, "async: dist.Register(\"\")", func() { Register(w, "", fn) })
	mustPanic(t, "already registered", func() { Register(w, "ok", fn) })
	mustPanic(t, "nil function", func() { Register[int, int](w, "nil", nil) })
	//lint:ignore SA1012 testing the nil check
	mustPanic(t, "nil Context", func() { Call[int, int](nil, c, "ok", 1) })
	mustPanic(t, "must be positive", func() { Timeout(0) })
	mustPanic(t, "at least 1", func() { MaxAttempts(0) })
	mustPanic(t, "at least 1", func() { Concurrency(0) })
	if err := (&Worker{}).run0(); err == nil {
		t.Error("Run with nothing registered returned no error")
	}
	twice, err := NewWorker(connect(t, s.URL()))
	if err != nil {
		t.Fatal(err)
	}
	Register(twice, "t", fn)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- twice.Run(ctx) }()
	waitAdvertised(t, twice.nc, twice)
	mustPanic(t, "called twice", func() { _ = twice.Run(ctx) })
	mustPanic(t, "after Worker.Run", func() { Register(twice, "late", fn) })
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
}

func (w *Worker) run0() error { return w.Run(context.Background()) }

func mustPanic(t *testing.T, want string, fn func()) {
	t.Helper()
	defer func() {
		r := recover()
		if r == nil || !strings.Contains(r.(string), want) || !strings.HasPrefix(r.(string), "async:") {
			t.Errorf("panic %v, want one containing %q", r, want)
		}
	}()
	fn()
}

// Attach from another client, after the caller's client closed, awaits the
// same task; attaching after it finished gets the stored result.
func TestAttachAfterRestart(t *testing.T) {
	s := testServer(t)
	c1 := newClient(t, connect(t, s.URL()))
	f := Call[string, string](context.Background(), c1, "upper", "abc", WaitForWorker())
	id, ok := TaskID(f)
	if !ok {
		t.Fatal("no task id")
	}
	c1.Close()
	c2 := newClient(t, connect(t, s.URL()))
	g := Attach[string](context.Background(), c2, id)
	if got, ok := TaskID(g); !ok || got != id {
		t.Fatalf("TaskID(Attach) = %q, %v", got, ok)
	}
	runWorker(t, s.URL(), func(w *Worker) {
		Register(w, "upper", func(ctx context.Context, s string) (string, error) { return strings.ToUpper(s), nil })
	})
	if v, err := await[string](t, g); v != "ABC" || err != nil {
		t.Fatalf("Attach: %v, %v", v, err)
	}
	if v, err := await[string](t, Attach[string](context.Background(), c2, id)); v != "ABC" || err != nil {
		t.Fatalf("Attach after the end: %v, %v", v, err)
	}
	// Ending an Attach's context stops waiting and leaves the task alone.
	ctx, cancel := context.WithCancel(context.Background())
	h := Attach[string](ctx, c2, "unknown.1")
	cancel()
	if _, err := h.Await(context.Background()); !errors.Is(err, context.Canceled) {
		t.Fatalf("canceled Attach: %v", err)
	}
}

type upperCodec struct{}

func (upperCodec) Name() string { return "upper-json" }
func (upperCodec) Marshal(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	return []byte(strings.ToUpper(string(b))), err
}
func (upperCodec) Unmarshal(data []byte, v any) error { return json.Unmarshal(data, v) }

// A pluggable codec encodes requests and responses; a worker with another
// codec refuses the task instead of misreading it.
func TestCodec(t *testing.T) {
	s := testServer(t)
	runWorker(t, s.URL(), func(w *Worker) {
		Register(w, "id", func(ctx context.Context, s string) (string, error) { return s + "x", nil })
	}, Encoding(upperCodec{}), Namespace("UP"))
	runWorker(t, s.URL(), func(w *Worker) {
		Register(w, "id", func(ctx context.Context, s string) (string, error) { return s, nil })
	}, Namespace("PLAIN"))
	up := newClient(t, connect(t, s.URL()), Encoding(upperCodec{}), Namespace("UP"))
	if v, err := await[string](t, Call[string, string](context.Background(), up, "id", "a")); v != "AX" || err != nil {
		t.Fatalf("custom codec: %q, %v; want AX", v, err)
	}
	mixed := newClient(t, connect(t, s.URL()), Namespace("PLAIN"), Encoding(upperCodec{}))
	_, err := await[string](t, Call[string, string](context.Background(), mixed, "id", "a"))
	var re *RemoteError
	if !errors.As(err, &re) || !strings.Contains(re.Message, "codec") {
		t.Fatalf("codec mismatch: %v", err)
	}
}

// When Run's context ends, the worker stops taking tasks but lets running
// handlers finish and store their results before Run returns.
func TestRunDrainsOnShutdown(t *testing.T) {
	s := testServer(t)
	started := make(chan struct{})
	release := make(chan struct{})
	var handlerCtxErr error
	stop := runWorker(t, s.URL(), func(w *Worker) {
		Register(w, "drain", func(ctx context.Context, n int) (int, error) {
			close(started)
			<-release
			handlerCtxErr = ctx.Err()
			return n + 1, nil
		})
	})
	c := newClient(t, connect(t, s.URL()))
	f := Call[int, int](context.Background(), c, "drain", 41)
	<-started
	stopped := make(chan struct{})
	go func() { stop(); close(stopped) }()
	// A Run that did not drain would return now; give it time to show it
	// (this wait cannot make a correct Run fail).
	select {
	case <-stopped:
		t.Fatal("Run returned while a handler was running")
	case <-f.Done():
		t.Fatal("future settled before the handler finished")
	case <-time.After(200 * time.Millisecond):
	}
	close(release)
	<-stopped
	if v, err := await[int](t, f); v != 42 || err != nil {
		t.Fatalf("got %v, %v; want the drained handler's 42", v, err)
	}
	if handlerCtxErr != nil {
		t.Fatalf("handler context ended on shutdown: %v", handlerCtxErr)
	}
}

// Many goroutines calling at once share the check for a live worker, and all
// get their results.
func TestConcurrentCalls(t *testing.T) {
	s := testServer(t)
	runWorker(t, s.URL(), func(w *Worker) {
		Register(w, "inc", func(ctx context.Context, n int) (int, error) { return n + 1, nil })
	}, Concurrency(8))
	c := newClient(t, connect(t, s.URL()))
	const n = 200
	futures := make([]*async.Future[int], n)
	var wg sync.WaitGroup
	for i := range futures {
		wg.Go(func() { futures[i] = Call[int, int](context.Background(), c, "inc", i) })
	}
	wg.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	got, err := async.All(ctx, futures...)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range got {
		if v != i+1 {
			t.Fatalf("result %d = %d", i, v)
		}
	}
}

// A handler that calls runtime.Goexit fails its task instead of losing it,
// and the worker goes on serving.
func TestHandlerGoexit(t *testing.T) {
	s := testServer(t)
	runWorker(t, s.URL(), func(w *Worker) {
		Register(w, "exit", func(ctx context.Context, n int) (int, error) {
			if n == 0 {
				runtime.Goexit()
			}
			return n, nil
		})
	}, Concurrency(1))
	c := newClient(t, connect(t, s.URL()))
	for range 3 {
		_, err := await[int](t, Call[int, int](context.Background(), c, "exit", 0, Retry()))
		var re *RemoteError
		if !errors.As(err, &re) || !strings.Contains(re.Message, "Goexit") || errors.Is(err, ErrDeadLetter) {
			t.Fatalf("err = %v, want a RemoteError about Goexit, not retried", err)
		}
	}
	if v, err := await[int](t, Call[int, int](context.Background(), c, "exit", 7)); v != 7 || err != nil {
		t.Fatalf("after Goexits: %v, %v", v, err)
	}
}

// A cancel request that comes after a worker has checked for one and before
// the task counts as running (a redelivered or keyed task looks for a
// stored result in between) still ends the handler's context.
func TestCancelBetweenCheckAndStart(t *testing.T) {
	s := testServer(t)
	hook := func(w *Worker, id string) {
		w.onCancel(&nats.Msg{Subject: w.l.cancelPrefix() + id})
	}
	beforeRunning.Store(&hook)
	t.Cleanup(func() { beforeRunning.Store(nil) })
	sawCancel := make(chan bool, 1)
	runWorker(t, s.URL(), func(wk *Worker) {
		Register(wk, "job", func(ctx context.Context, n int) (int, error) {
			sawCancel <- ctx.Err() != nil
			return n, nil
		})
	})
	c := newClient(t, connect(t, s.URL()))
	f := Call[int, int](context.Background(), c, "job", 1)
	if !<-sawCancel {
		t.Fatal("the handler started with a live context after a cancel request for its task")
	}
	_, _ = await[int](t, f)
}
