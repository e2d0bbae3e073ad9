package dist

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/goasync/async"
)

// A call made once Ready is closed needs no WaitForWorker.
func TestReady(t *testing.T) {
	url := realServer(t)
	w, err := NewWorker(connect(t, url))
	if err != nil {
		t.Fatal(err)
	}
	Register(w, "echo", func(ctx context.Context, s string) (string, error) { return s, nil })
	select {
	case <-w.Ready():
		t.Fatal("Ready before Run")
	default:
	}
	serve(t, w)
	<-w.Ready()
	c := newClient(t, connect(t, url))
	if v, err := await[string](t, Call[string, string](context.Background(), c, "echo", "hi")); err != nil || v != "hi" {
		t.Fatalf("call right after Ready: %q, %v", v, err)
	}
}

// Handlers still running when the drain timeout passes are canceled and
// their tasks go back to the queue, where another worker completes them.
func TestDrainTimeoutHandsTasksBack(t *testing.T) {
	url := realServer(t)
	started := make(chan struct{})
	stop := runWorker(t, url, func(w *Worker) {
		Register(w, "slow", func(ctx context.Context, n int) (string, error) {
			if t, _ := Current(ctx); t.Attempt == 1 {
				close(started)
				<-ctx.Done() // only the drain timeout ends this
				return "", ctx.Err()
			}
			return "second worker", nil
		})
	}, DrainTimeout(50*time.Millisecond))
	c := newClient(t, connect(t, url))
	f := Call[int, string](context.Background(), c, "slow", 1)
	<-started
	stop() // returns once the drain timeout has canceled the handler
	runWorker(t, url, func(w *Worker) {
		Register(w, "slow", func(ctx context.Context, n int) (string, error) { return "second worker", nil })
	})
	if v, err := await[string](t, f); err != nil || v != "second worker" {
		t.Fatalf("got %q, %v; want the task completed by the second worker", v, err)
	}
}

// A worker asking for another AckWait than the one its function's queue
// is served with fails to start, naming both.
func TestAckWaitConflict(t *testing.T) {
	url := realServer(t)
	runWorker(t, url, func(w *Worker) {
		Register(w, "echo", func(ctx context.Context, s string) (string, error) { return s, nil })
	}, AckWait(time.Second))
	w, err := NewWorker(connect(t, url), AckWait(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	Register(w, "echo", func(ctx context.Context, s string) (string, error) { return s, nil })
	err = w.Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "AckWait 1s") || !strings.Contains(err.Error(), "2s") {
		t.Fatalf("Run = %v, want an error naming both ack waits", err)
	}
}

// Stats counts queued, running and dead-lettered tasks.
func TestStats(t *testing.T) {
	url := realServer(t)
	c := newClient(t, connect(t, url))
	for i := range 3 {
		Call[int, int](context.Background(), c, "later", i, WaitForWorker())
	}
	waitQueued(t, c, 3)
	st, err := c.Stats(context.Background(), "later")
	if err != nil || st.Queued != 3 || st.Running != 0 || st.DeadLettered != 0 {
		t.Fatalf("Stats = %+v, %v; want 3 queued", st, err)
	}

	runWorker(t, url, func(w *Worker) {
		Register(w, "flaky", func(ctx context.Context, n int) (int, error) { return 0, errors.New("always") })
	})
	_, err = await[int](t, Call[int, int](context.Background(), c, "flaky", 1, Retry(), MaxAttempts(2)))
	if !errors.Is(err, ErrDeadLetter) || !strings.Contains(err.Error(), "dead-lettered after 2 attempts") {
		t.Fatalf("err = %v, want a dead letter that says after how many attempts", err)
	}
	eventually(t, func() bool {
		st, err = c.Stats(context.Background(), "flaky")
		return err == nil && st.DeadLettered == 1
	}, func() string { return fmt.Sprintf("Stats = %+v, %v; want 1 dead-lettered", st, err) })
	if _, err := c.Stats(context.Background(), "bad name"); !errors.Is(err, ErrInvalidName) {
		t.Fatalf("Stats(bad name) = %v, want ErrInvalidName", err)
	}
}

// MaxQueued bounds the queue: a call beyond it fails at once.
func TestMaxQueued(t *testing.T) {
	url := realServer(t)
	c := newClient(t, connect(t, url), MaxQueued(2))
	a := Call[int, int](context.Background(), c, "later", 1, WaitForWorker())
	b := Call[int, int](context.Background(), c, "later", 2, WaitForWorker())
	waitQueued(t, c, 2)
	_, err := await[int](t, Call[int, int](context.Background(), c, "later", 3, WaitForWorker()))
	if !errors.Is(err, ErrQueueFull) {
		t.Fatalf("third call: err = %v, want ErrQueueFull", err)
	}
	for _, f := range []*async.Future[int]{a, b} {
		if _, done := f.Peek(); done {
			t.Fatal("a queued call settled")
		}
	}
}

// ResultTTL sets the results bucket's retention.
func TestResultTTL(t *testing.T) {
	url := realServer(t)
	c := newClient(t, connect(t, url), ResultTTL(time.Hour))
	st, err := c.results.Status(context.Background())
	if err != nil || st.TTL() != time.Hour {
		t.Fatalf("results TTL = %v, %v; want 1h", st.TTL(), err)
	}
	for _, bad := range []func(){func() { ResultTTL(0) }, func() { MaxQueued(0) }, func() { DrainTimeout(-1) }, func() { Logger(nil) }} {
		func() {
			defer func() {
				if r := recover(); r == nil || !strings.HasPrefix(r.(string), "async: dist.") {
					t.Errorf("recovered %v, want an async: dist. panic", r)
				}
			}()
			bad()
		}()
	}
}

// In debug mode a call is listed in async.Tasks (and so in Dump and the
// console) as a task named after its function, waiting for a worker, then
// running on the named worker.
func TestCallInTaskRegistry(t *testing.T) {
	prev := async.SetDebug(true)
	defer async.SetDebug(prev)
	url := realServer(t)
	c := newClient(t, connect(t, url))
	release := make(chan struct{})
	f := Call[int, int](context.Background(), c, "traced", 1, WaitForWorker())
	waiting := func(want string) {
		t.Helper()
		eventually(t, func() bool {
			for _, ti := range async.Tasks() {
				if ti.Name == "traced" && strings.Contains(ti.Waiting, want) {
					return true
				}
			}
			return false
		}, func() string { return fmt.Sprintf("no task named traced waiting on %q in %+v", want, async.Tasks()) })
	}
	waiting("queued for a worker of traced")
	runWorker(t, url, func(w *Worker) {
		Register(w, "traced", func(ctx context.Context, n int) (int, error) {
			<-release
			return n, nil
		})
	}, WorkerName("w-traced"))
	waiting("running on worker w-traced")
	close(release)
	if v, err := await[int](t, f); err != nil || v != 1 {
		t.Fatalf("got %v, %v", v, err)
	}
}
