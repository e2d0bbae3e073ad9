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
	"github.com/nats-io/nats.go"
)

// idOf is f's task id.
func idOf[T any](t *testing.T, f *async.Future[T]) string {
	t.Helper()
	id, ok := TaskID(f)
	if !ok {
		t.Fatal("TaskID: not a dist call")
	}
	return id
}

// runLog records which worker ran which task, at which attempt.
type runLog struct {
	mu   sync.Mutex
	runs map[string][]string // task id → "<worker>#<attempt>" per run
}

func (l *runLog) add(ctx context.Context, worker string) {
	task, _ := Current(ctx)
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.runs == nil {
		l.runs = map[string][]string{}
	}
	l.runs[task.ID] = append(l.runs[task.ID], fmt.Sprintf("%s#%d", worker, task.Attempt))
}

// only returns the one run of task id, failing the test if it ran another
// number of times.
func (l *runLog) only(t *testing.T, id string) string {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	if r := l.runs[id]; len(r) != 1 {
		t.Fatalf("task %s ran %d times (%v), want once", id, len(r), r)
	}
	return l.runs[id][0]
}

// heartbeats counts the in-progress acknowledgments the server receives,
// per stream sequence of the task, and signals once the tasks at want
// distinct sequences have had at least n each.
type heartbeats struct {
	mu     sync.Mutex
	counts map[uint64]int
	want   int
	n      int
	done   chan struct{} // closed once enough were seen
	closed bool
}

func watchHeartbeats(t *testing.T, url string, want, n int) *heartbeats {
	h := &heartbeats{counts: map[uint64]int{}, want: want, n: n, done: make(chan struct{})}
	nc := connect(t, url)
	if _, err := nc.Subscribe("$JS.ACK.>", func(m *nats.Msg) {
		if string(m.Data) != "+WPI" {
			return
		}
		_, seq, ok := ackPosition(m.Subject)
		if !ok {
			return
		}
		h.mu.Lock()
		defer h.mu.Unlock()
		h.counts[seq]++
		enough := 0
		for _, c := range h.counts {
			if c >= h.n {
				enough++
			}
		}
		if enough == h.want && !h.closed {
			close(h.done)
			h.closed = true
		}
	}); err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	return h
}

// A prefetched task waits for a slot with its ack wait kept alive: it is
// heartbeated like a running one, so the server never delivers it again,
// and every task runs once, at its first attempt.
func TestPrefetchedTasksAreHeartbeated(t *testing.T) {
	s := testServer(t)
	const ackWait = 300 * time.Millisecond
	var log runLog
	started := make(chan struct{}, 3)
	release := make(chan struct{})
	runWorker(t, s.URL(), func(w *Worker) {
		Register(w, "job", func(ctx context.Context, n int) (string, error) {
			log.add(ctx, "A")
			started <- struct{}{}
			<-release
			return fmt.Sprint("A", n), nil
		})
	}, Concurrency(1), Prefetch(2), AckWait(ackWait))
	free := sync.OnceFunc(func() { close(release) })
	t.Cleanup(free) // before the worker stops, if the test fails
	// Each task's stream sequence is heartbeated at least every
	// ackWait/3; four heartbeats of each of the three tasks mean that
	// more than an ack wait has passed since the last one was delivered.
	beats := watchHeartbeats(t, s.URL(), 3, 4)
	c := newClient(t, connect(t, s.URL()))
	var ids []string
	futures := make([]*async.Future[string], 3)
	for i := range futures {
		f := Call[int, string](context.Background(), c, "job", i)
		futures[i] = f
		ids = append(ids, idOf(t, f))
	}
	<-started // one runs, two wait on the worker
	select {
	case <-beats.done:
	case <-time.After(30 * time.Second):
		beats.mu.Lock()
		defer beats.mu.Unlock()
		t.Fatalf("heartbeats per task sequence: %v; want 3 tasks with 4 each", beats.counts)
	}
	// A second worker would get any task the server delivered again.
	runWorker(t, s.URL(), func(w *Worker) {
		Register(w, "job", func(ctx context.Context, n int) (string, error) {
			log.add(ctx, "B")
			return fmt.Sprint("B", n), nil
		})
	}, Prefetch(0), AckWait(ackWait))
	free()
	for i, f := range futures {
		if v, err := await[string](t, f); err != nil || v != fmt.Sprint("A", i) {
			t.Fatalf("task %d: %q, %v; want A%d", i, v, err, i)
		}
		if r := log.only(t, ids[i]); r != "A#1" {
			t.Fatalf("task %d ran as %s, want A#1", i, r)
		}
	}
}

// A stopping worker hands its prefetched tasks back to the queue at once,
// without running them and without waiting for its running handlers or
// for their ack wait: another worker runs them while the first one still
// drains. The handed-back delivery counts as an attempt.
func TestPrefetchedTasksGoBackOnStop(t *testing.T) {
	url := realServer(t)
	const ackWait = time.Minute // longer than await waits: no expiry can rescue a task
	var log runLog
	started := make(chan struct{}, 1)
	release := make(chan struct{})
	stopA := runWorker(t, url, func(w *Worker) {
		Register(w, "job", func(ctx context.Context, n int) (string, error) {
			log.add(ctx, "A")
			started <- struct{}{}
			<-release
			return fmt.Sprint("A", n), nil
		})
	}, Concurrency(1), Prefetch(2), AckWait(ackWait), DrainTimeout(time.Minute))
	free := sync.OnceFunc(func() { close(release) })
	t.Cleanup(free) // before the worker stops, if the test fails
	c := newClient(t, connect(t, url))
	first := Call[int, string](context.Background(), c, "job", 0)
	<-started
	f1 := Call[int, string](context.Background(), c, "job", 1)
	f2 := Call[int, string](context.Background(), c, "job", 2)
	var st Stats
	var err error
	eventually(t, func() bool {
		st, err = c.Stats(context.Background(), "job")
		return err == nil && st.Running == 3 && st.Queued == 0
	}, func() string { return fmt.Sprintf("Stats = %+v, %v; want 3 taken by the worker", st, err) })

	stopped := make(chan struct{})
	go func() {
		stopA() // returns once the running handler has finished
		close(stopped)
	}()
	runWorker(t, url, func(w *Worker) {
		Register(w, "job", func(ctx context.Context, n int) (string, error) {
			log.add(ctx, "B")
			return fmt.Sprint("B", n), nil
		})
	}, Prefetch(0), AckWait(ackWait))
	for i, f := range []*async.Future[string]{f1, f2} {
		if v, err := await[string](t, f); err != nil || v != fmt.Sprint("B", i+1) {
			t.Fatalf("prefetched task %d: %q, %v; want B%d", i+1, v, err, i+1)
		}
	}
	select {
	case <-stopped:
		t.Fatal("the first worker stopped before its running handler returned")
	default:
	}
	free()
	<-stopped
	if v, err := await[string](t, first); err != nil || v != "A0" {
		t.Fatalf("running task: %q, %v; want A0 (a drained handler stores its result)", v, err)
	}
	for id, want := range map[string]string{idOf(t, first): "A#1", idOf(t, f1): "B#2", idOf(t, f2): "B#2"} {
		if r := log.only(t, id); r != want {
			t.Fatalf("task %s ran as %s, want %s", id, r, want)
		}
	}
}

// With Prefetch(0) a busy worker takes nothing more: the next task goes to
// an idle worker, never behind a long handler.
func TestPrefetchZeroLeavesTasksToIdleWorkers(t *testing.T) {
	s := testServer(t)
	started := make(chan struct{}, 1)
	release := make(chan struct{})
	runWorker(t, s.URL(), func(w *Worker) {
		Register(w, "job", func(ctx context.Context, n int) (string, error) {
			started <- struct{}{}
			<-release
			return "busy", nil
		})
	}, Concurrency(1), Prefetch(0))
	free := sync.OnceFunc(func() { close(release) })
	t.Cleanup(free) // before the worker stops, if the test fails
	c := newClient(t, connect(t, s.URL()))
	busy := Call[int, string](context.Background(), c, "job", 0)
	<-started
	runWorker(t, s.URL(), func(w *Worker) {
		Register(w, "job", func(ctx context.Context, n int) (string, error) { return "idle", nil })
	})
	for i := range 20 {
		if v, err := await[string](t, Call[int, string](context.Background(), c, "job", i)); err != nil || v != "idle" {
			t.Fatalf("call %d: %q, %v; want the idle worker's answer", i, v, err)
		}
	}
	free()
	if v, err := await[string](t, busy); err != nil || v != "busy" {
		t.Fatalf("first call: %q, %v; want the busy worker's answer", v, err)
	}
}

// Under load, with workers prefetching and one of them stopping midway,
// every task runs exactly once and every call settles with its own value.
func TestPrefetchLosesAndRepeatsNothing(t *testing.T) {
	url := realServer(t)
	const n = 600
	var log runLog
	var ran atomic.Int32
	halfway := make(chan struct{})
	echo := func(name string) func(*Worker) {
		return func(w *Worker) {
			Register(w, "job", func(ctx context.Context, i int) (int, error) {
				log.add(ctx, name)
				if ran.Add(1) == n/3 {
					close(halfway)
				}
				return i, nil
			})
		}
	}
	stop := runWorker(t, url, echo("A"), Concurrency(2), Prefetch(6))
	runWorker(t, url, echo("B"), Concurrency(3), Prefetch(3))
	runWorker(t, url, echo("C"), Concurrency(1)) // prefetches 1
	c := newClient(t, connect(t, url))
	futures := make([]*async.Future[int], n)
	ids := make([]string, n)
	for i := range futures {
		f := Call[int, int](context.Background(), c, "job", i)
		futures[i], ids[i] = f, idOf(t, f)
	}
	<-halfway
	stop()
	for i, f := range futures {
		if v, err := await[int](t, f); err != nil || v != i {
			t.Fatalf("call %d: %d, %v", i, v, err)
		}
		log.only(t, ids[i])
	}
	log.mu.Lock()
	defer log.mu.Unlock()
	var b strings.Builder
	for _, r := range log.runs {
		b.WriteString(r[0][:1])
	}
	if w := b.String(); !strings.Contains(w, "B") || !strings.Contains(w, "C") {
		t.Fatalf("runs per worker %q: want B and C to have run tasks", w)
	}
}

// A task canceled while it is prefetched never runs, however long it waits
// for a slot: the cancel is not kept only among the worker's recent cancel
// requests, which forget (after a while, or when many others come: here, a
// flood of them).
func TestCanceledPrefetchedTaskNeverRuns(t *testing.T) {
	s := testServer(t)
	var log runLog
	var w *Worker
	started := make(chan struct{}, 1)
	release := make(chan struct{})
	runWorker(t, s.URL(), func(wk *Worker) {
		w = wk
		Register(w, "job", func(ctx context.Context, n int) (int, error) {
			log.add(ctx, "A")
			if n == 0 {
				started <- struct{}{}
				<-release
			}
			return n, nil
		})
	}, Concurrency(1), Prefetch(1))
	free := sync.OnceFunc(func() { close(release) })
	t.Cleanup(free) // before the worker stops, if the test fails
	c := newClient(t, connect(t, s.URL()))
	busy := Call[int, int](context.Background(), c, "job", 0)
	<-started
	doomed := Call[int, int](context.Background(), c, "job", 1)
	id := idOf(t, doomed)
	eventually(t, func() bool { return w.nwaiting.Load() == 1 },
		func() string { return "the second task was never prefetched" })
	doomed.Cancel()
	if _, err := await[int](t, doomed); !errors.Is(err, async.ErrCanceled) {
		t.Fatalf("canceled task: %v, want ErrCanceled", err)
	}
	// Many other cancel requests come while the task waits.
	flood := connect(t, s.URL())
	for i := range maxCanceled + 1 {
		if err := flood.Publish(w.l.cancelPrefix()+"other."+itoa(i), nil); err != nil {
			t.Fatal(err)
		}
	}
	last := "other." + itoa(maxCanceled)
	if err := flood.Flush(); err != nil {
		t.Fatal(err)
	}
	eventually(t, func() bool {
		w.mu.Lock()
		defer w.mu.Unlock()
		return w.canceled.has(last)
	}, func() string { return "the last cancel request never arrived" })
	free()
	if v, err := await[int](t, busy); err != nil || v != 0 {
		t.Fatalf("first task: %d, %v", v, err)
	}
	// The prefetched task is settled (acked) once it has had its slot.
	cons, err := c.js.Consumer(context.Background(), c.l.tasksStream, "job")
	if err != nil {
		t.Fatal(err)
	}
	var pending int
	eventually(t, func() bool {
		info, err := cons.Info(context.Background())
		if err != nil {
			return false
		}
		pending = info.NumAckPending
		return pending == 0
	}, func() string { return fmt.Sprintf("%d tasks still unacknowledged", pending) })
	log.mu.Lock()
	defer log.mu.Unlock()
	if r := log.runs[id]; len(r) != 0 {
		t.Fatalf("the canceled task ran: %v", r)
	}
}
