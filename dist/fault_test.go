package dist

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/goasync/async"
	"github.com/goasync/async/dist/server"
)

const shortAckWait = 500 * time.Millisecond

// A worker killed with SIGKILL while its handler runs loses the task; the
// server delivers it again after the ack wait, another worker completes it,
// and the caller's future gets that worker's value.
func TestWorkerKilledMidTask(t *testing.T) {
	s := testServer(t)
	proc := startWorkerProc(t, s.URL(), shortAckWait)
	c := newClient(t, connect(t, s.URL()))

	f := Call[int, string](context.Background(), c, "hang", 7)
	id, _ := TaskID(f)
	if line := proc.next(t); line != "started "+id+" 1" {
		t.Fatalf("worker process said %q, want it to start %s", line, id)
	}
	proc.kill(t)

	runWorker(t, s.URL(), func(w *Worker) {
		Register(w, "hang", func(ctx context.Context, n int) (string, error) {
			task, _ := Current(ctx)
			return fmt.Sprintf("%d on attempt %d", n, task.Attempt), nil
		})
	}, AckWait(shortAckWait))
	v, err := await[string](t, f)
	if err != nil || v != "7 on attempt 2" {
		t.Fatalf("got %q, %v; want the second delivery's value", v, err)
	}
}

// A task whose worker keeps dying is dead-lettered after MaxAttempts
// deliveries instead of being delivered forever.
func TestKilledTooOftenIsDeadLettered(t *testing.T) {
	s := testServer(t)
	proc := startWorkerProc(t, s.URL(), shortAckWait)
	c := newClient(t, connect(t, s.URL()))

	f := Call[int, string](context.Background(), c, "hang", 1, MaxAttempts(1))
	if line := proc.next(t); !strings.HasPrefix(line, "started ") {
		t.Fatalf("worker process said %q", line)
	}
	proc.kill(t)
	var ran atomic.Int32
	runWorker(t, s.URL(), func(w *Worker) {
		Register(w, "hang", func(ctx context.Context, n int) (string, error) {
			ran.Add(1)
			return "ran", nil
		})
	}, AckWait(shortAckWait))
	_, err := await[string](t, f)
	if !errors.Is(err, ErrDeadLetter) {
		t.Fatalf("err = %v, want ErrDeadLetter", err)
	}
	if n := ran.Load(); n != 0 {
		t.Fatalf("handler ran %d times after MaxAttempts(1) was used up", n)
	}
}

// A handler that runs much longer than the ack wait is heartbeated, so the
// task is not delivered to the other idle worker meanwhile.
func TestLongHandlerIsNotRedelivered(t *testing.T) {
	s := testServer(t)
	const ackWait = 400 * time.Millisecond
	var runs atomic.Int32
	started := make(chan struct{}, 2)
	release := make(chan struct{})
	handler := func(ctx context.Context, n int) (int, error) {
		runs.Add(1)
		started <- struct{}{}
		<-release
		task, _ := Current(ctx)
		return task.Attempt, nil
	}
	for range 2 {
		runWorker(t, s.URL(), func(w *Worker) { Register(w, "long", handler) }, AckWait(ackWait))
	}
	c := newClient(t, connect(t, s.URL()))
	f := Call[int, int](context.Background(), c, "long", 0)
	<-started
	// Without heartbeats the task would be redelivered after each ack wait;
	// give it three of them (real time: the server's timers are not ours).
	time.Sleep(3 * ackWait)
	close(release)
	attempt, err := await[int](t, f)
	if err != nil || attempt != 1 || runs.Load() != 1 {
		t.Fatalf("attempt %d, err %v, handler runs %d; want one run of attempt 1", attempt, err, runs.Load())
	}
}

// Stopping the server with tasks queued and in flight, then starting it again
// on the same directory and port, loses nothing: clients and workers
// reconnect, handlers that finished while the server was away store their
// results, and queued tasks run.
func TestServerRestart(t *testing.T) {
	dir := t.TempDir()
	s1, err := server.Start(server.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	port := s1.Port()
	url := s1.URL()
	stopped := false
	defer func() {
		if !stopped {
			s1.Close()
		}
	}()

	const inFlight, total = 2, 12
	started := make(chan int, total+1)
	gate := make(chan struct{})
	stopWorker := runWorker(t, url, func(w *Worker) {
		Register(w, "square", func(ctx context.Context, n int) (int, error) {
			started <- n
			<-gate
			return n * n, nil
		})
	}, Concurrency(inFlight), AckWait(2*time.Second))
	c := newClient(t, connect(t, url))
	futures := make([]*async.Future[int], total)
	for i := range futures {
		var opts []CallOption
		if i == total-1 {
			opts = append(opts, Key("last")) // watched through its own key
		}
		futures[i] = Call[int, int](context.Background(), c, "square", i, opts...)
	}
	// Another client attaches to a queued task.
	id, _ := TaskID(futures[total-2])
	attached := Attach[int](context.Background(), newClient(t, connect(t, url)), id)
	for range inFlight {
		<-started
	}
	// Wait until every task is stored in the stream (acknowledged to the
	// client), so that "queued" means queued on the server.
	js, _ := c.nc.JetStream()
	for {
		info, err := js.StreamInfo(c.l.tasksStream)
		if err == nil && info.State.Msgs == total {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}

	s1.Close()
	stopped = true
	close(gate) // the in-flight handlers finish while the server is down
	// A call made while the server is down is published once it is back.
	during := Call[int, int](context.Background(), c, "square", 100)
	s2, err := server.Start(server.Options{Dir: dir, Port: port})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()

	for i, f := range futures {
		v, err := await[int](t, f)
		if err != nil || v != i*i {
			t.Fatalf("task %d: got %v, %v; want %d", i, v, err, i*i)
		}
	}
	if v, err := await[int](t, during); err != nil || v != 100*100 {
		t.Fatalf("call made during the outage: got %v, %v", v, err)
	}
	if v, err := await[int](t, attached); err != nil || v != (total-2)*(total-2) {
		t.Fatalf("attached: got %v, %v", v, err)
	}
	stopWorker()
	c.Close()
}

// A panic in a handler settles the future with a RemoteError that unwraps to
// an async.PanicError carrying the worker's stack.
func TestRemotePanic(t *testing.T) {
	s := testServer(t)
	runWorker(t, s.URL(), func(w *Worker) {
		Register(w, "explode", func(ctx context.Context, n int) (int, error) { panicInHandler(n); return 0, nil })
	})
	c := newClient(t, connect(t, s.URL()))
	_, err := await[int](t, Call[int, int](context.Background(), c, "explode", 3))
	var pe *async.PanicError
	if !errors.As(err, &pe) {
		t.Fatalf("err = %v, want an async.PanicError", err)
	}
	if pe.Value != "kaboom 3" || pe.Task != "explode" || !strings.Contains(string(pe.Stack), "panicInHandler") {
		t.Fatalf("PanicError value %v task %q stack:\n%s", pe.Value, pe.Task, pe.Stack)
	}
	var re *RemoteError
	if !errors.As(err, &re) || re.Worker == "" {
		t.Fatalf("err = %v, want a RemoteError naming the worker", err)
	}
}

func panicInHandler(n int) { panic(fmt.Sprintf("kaboom %d", n)) }

// Retry sends a failed task back to the queue with backoff until it
// succeeds; without Retry the first error is final.
func TestRetry(t *testing.T) {
	s := testServer(t)
	var calls sync.Map // key -> *atomic.Int32
	runWorker(t, s.URL(), func(w *Worker) {
		Register(w, "flaky", func(ctx context.Context, key string) (int, error) {
			v, _ := calls.LoadOrStore(key, new(atomic.Int32))
			n := v.(*atomic.Int32).Add(1)
			if n < 3 {
				return 0, fmt.Errorf("transient failure %d", n)
			}
			task, _ := Current(ctx)
			return task.Attempt, nil
		})
	})
	c := newClient(t, connect(t, s.URL()))

	attempt, err := await[int](t, Call[string, int](context.Background(), c, "flaky", "a", Retry(time.Millisecond, 5*time.Millisecond)))
	if err != nil || attempt != 3 {
		t.Fatalf("with Retry: got attempt %d, %v; want success on attempt 3", attempt, err)
	}
	_, err = await[int](t, Call[string, int](context.Background(), c, "flaky", "b"))
	var re *RemoteError
	if !errors.As(err, &re) || re.Message != "transient failure 1" {
		t.Fatalf("without Retry: err = %v, want the first failure", err)
	}
}

// After MaxAttempts failed attempts the task is dead-lettered: the future
// rejects with ErrDeadLetter (and the last failure), never hangs; Permanent
// errors are not retried.
func TestDeadLetterAfterMaxAttempts(t *testing.T) {
	s := testServer(t)
	var runs atomic.Int32
	runWorker(t, s.URL(), func(w *Worker) {
		Register(w, "poison", func(ctx context.Context, n int) (int, error) {
			runs.Add(1)
			if n == 1 {
				panic("always")
			}
			if n == 2 {
				return 0, async.Permanent(errors.New("bad input")) // the core's mark works too
			}
			return 0, errors.New("always fails")
		})
	})
	c := newClient(t, connect(t, s.URL()))

	_, err := await[int](t, Call[int, int](context.Background(), c, "poison", 0, MaxAttempts(3), Retry()))
	var re *RemoteError
	if !errors.Is(err, ErrDeadLetter) || !errors.As(err, &re) || re.Attempt != 3 || re.Message != "always fails" {
		t.Fatalf("err = %v, want ErrDeadLetter after attempt 3 with the last failure", err)
	}
	if n := runs.Swap(0); n != 3 {
		t.Fatalf("handler ran %d times, want 3", n)
	}

	_, err = await[int](t, Call[int, int](context.Background(), c, "poison", 1, MaxAttempts(2), Retry()))
	var pe *async.PanicError
	if !errors.Is(err, ErrDeadLetter) || !errors.As(err, &pe) {
		t.Fatalf("err = %v, want ErrDeadLetter and the last attempt's panic", err)
	}
	runs.Store(0)

	_, err = await[int](t, Call[int, int](context.Background(), c, "poison", 2, MaxAttempts(5), Retry()))
	if errors.Is(err, ErrDeadLetter) || !errors.As(err, &re) || re.Message != "bad input" || runs.Load() != 1 {
		t.Fatalf("Permanent: err = %v after %d runs, want one run and its error", err, runs.Load())
	}
}
