package dist

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/goasync/async"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Each test here reproduces a failure seen with a separately started
// nats-server process; they run against one (realServer).

// A request bigger than the server's maximum payload fails at once with
// ErrTooLarge, instead of being published again and again.
func TestCallTooLarge(t *testing.T) {
	url := realServer(t)
	c := newClient(t, connect(t, url))
	f := Call[string, int](context.Background(), c, "echo", strings.Repeat("A", 2<<20), WaitForWorker())
	_, err := await[int](t, f)
	if !errors.Is(err, ErrTooLarge) || !errors.Is(err, nats.ErrMaxPayload) {
		t.Fatalf("err = %v, want ErrTooLarge and nats.ErrMaxPayload", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "2097") || !strings.Contains(msg, "1048576") {
		t.Fatalf("error %q does not name the size and the limit", msg)
	}
}

// A result, or a panic value, bigger than the server accepts settles the
// caller's future with ErrTooLarge, and the worker goes on serving.
func TestResultTooLarge(t *testing.T) {
	url := realServer(t)
	runWorker(t, url, func(w *Worker) {
		Register(w, "big", func(ctx context.Context, n int) (string, error) { return strings.Repeat("B", n), nil })
		Register(w, "bigpanic", func(ctx context.Context, n int) (string, error) { panic(strings.Repeat("P", n)) })
	}, Concurrency(1))
	c := newClient(t, connect(t, url))
	for range 5 {
		_, err := await[string](t, Call[int, string](context.Background(), c, "big", 2<<20))
		var re *RemoteError
		if !errors.As(err, &re) || !errors.Is(err, ErrTooLarge) {
			t.Fatalf("err = %v, want a *RemoteError matching ErrTooLarge", err)
		}
	}
	_, err := await[string](t, Call[int, string](context.Background(), c, "bigpanic", 2<<20))
	var pe *async.PanicError
	if !errors.As(err, &pe) {
		t.Fatalf("err = %v, want a *async.PanicError", err)
	}
	if n := len(pe.Value.(string)); n > maxText+100 {
		t.Fatalf("panic value of %d bytes reached the caller; want it capped near %d", n, maxText)
	}
	if !strings.Contains(err.Error(), "panicked") {
		t.Fatalf("error %q does not say the task panicked", err)
	}
	// The worker is healthy: a normal call succeeds.
	if v, err := await[string](t, Call[int, string](context.Background(), c, "big", 3)); err != nil || v != "BBB" {
		t.Fatalf("normal call after the big ones: %q, %v", v, err)
	}
}

// syncBuffer is a log destination that tests read while a worker writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Task messages whose id cannot be a task id are dropped at once (Term) and
// logged; they never hold a slot, so a worker with one slot still serves,
// and nothing is stored under a wildcard key.
func TestHostileTaskIDs(t *testing.T) {
	url := realServer(t)
	var logs syncBuffer
	runWorker(t, url, func(w *Worker) {
		Register(w, "echo", func(ctx context.Context, s string) (string, error) { return s, nil })
	}, Concurrency(1), Logger(slog.New(slog.NewTextHandler(&logs, nil))))
	nc := connect(t, url)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	bad := []string{"a b", "x..y", ".lead", "trail.", "tab\there", strings.Repeat("z", 5000), "*", ">", "a.*", "a.>", ""}
	for i := range 5 { // about 5×Concurrency of them jammed a worker for good
		for _, id := range bad {
			m := nats.NewMsg(newLayout("ASYNC").taskSubject("echo"))
			m.Data = []byte(`"x"`)
			if id != "" || i > 0 {
				m.Header.Set(hdrID, id+strings.Repeat("*", i)) // distinct: not dropped as duplicates
			}
			m.Header.Set(hdrCodec, "json")
			if _, err := js.PublishMsg(context.Background(), m); err != nil {
				t.Fatalf("publishing id %.20q: %v", id, err)
			}
		}
	}
	c := newClient(t, connect(t, url))
	if v, err := await[string](t, Call[string, string](context.Background(), c, "echo", "fine")); err != nil || v != "fine" {
		t.Fatalf("call after hostile ids: %q, %v", v, err)
	}
	waitQueued(t, c, 0)
	keys, err := c.results.ListKeys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for k := range keys.Keys() {
		if !validTaskID(k) {
			t.Errorf("result stored under %q", k)
		}
	}
	if !strings.Contains(logs.String(), "invalid id") {
		t.Fatalf("dropped messages were not logged; log:\n%s", logs.String())
	}
}

// panicky is a type whose decoding panics.
type panicky struct{}

func (*panicky) UnmarshalJSON([]byte) error { panic("decoder exploded") }

// A codec that panics while decoding a request, or a result, fails that
// future with an *async.PanicError; neither process dies.
func TestDecodePanic(t *testing.T) {
	url := realServer(t)
	runWorker(t, url, func(w *Worker) {
		Register(w, "take", func(ctx context.Context, p panicky) (int, error) { return 1, nil })
		Register(w, "give", func(ctx context.Context, n int) (int, error) { return n, nil })
	}, Concurrency(1))
	c := newClient(t, connect(t, url))
	_, err := await[int](t, Call[int, int](context.Background(), c, "take", 1))
	var pe *async.PanicError
	if !errors.As(err, &pe) || !strings.Contains(err.Error(), "decoder exploded") {
		t.Fatalf("worker-side decode: err = %v, want an *async.PanicError", err)
	}
	if strings.Contains(err.Error(), "Goexit") {
		t.Fatalf("error %q blames runtime.Goexit", err)
	}
	_, err = await[panicky](t, Call[int, panicky](context.Background(), c, "give", 1))
	if !errors.As(err, &pe) || !strings.Contains(err.Error(), "decoder exploded") {
		t.Fatalf("client-side decode: err = %v, want an *async.PanicError", err)
	}
	if v, err := await[int](t, Call[int, int](context.Background(), c, "give", 5)); err != nil || v != 5 {
		t.Fatalf("call after the panics: %v, %v", v, err)
	}
}

// A cancel message forged for a task that is not running yet makes the
// worker store "canceled" as the task's outcome before it acks the task:
// the caller hears ErrCanceled instead of waiting forever.
func TestForgedCancelSettles(t *testing.T) {
	url := realServer(t)
	busy, release := make(chan struct{}), make(chan struct{})
	w, err := NewWorker(connect(t, url), Concurrency(1))
	if err != nil {
		t.Fatal(err)
	}
	Register(w, "echo", func(ctx context.Context, s string) (string, error) {
		if s == "first" {
			close(busy)
			<-release
		}
		return s, nil
	})
	serve(t, w)
	<-w.Ready()
	c := newClient(t, connect(t, url))
	first := Call[string, string](context.Background(), c, "echo", "first")
	<-busy // the worker's one slot is taken: the next task waits in the queue
	f := Call[string, string](context.Background(), c, "echo", "x")
	id, _ := TaskID(f)
	forger := connect(t, url)
	if err := forger.Publish(c.l.cancelPrefix()+id, nil); err != nil {
		t.Fatal(err)
	}
	if err := forger.Flush(); err != nil {
		t.Fatal(err)
	}
	eventually(t, func() bool {
		w.mu.Lock()
		defer w.mu.Unlock()
		return w.canceled.has(id)
	}, func() string { return "the worker never heard the forged cancel" })
	close(release)
	if v, err := await[string](t, first); err != nil || v != "first" {
		t.Fatalf("first: %q, %v", v, err)
	}
	if _, err := await[string](t, f); !errors.Is(err, async.ErrCanceled) {
		t.Fatalf("err = %v, want ErrCanceled (the forged cancel)", err)
	}
}

// Plain calls' ids cannot be guessed: two calls share nothing but the
// client's prefix.
func TestTaskIDsAreRandom(t *testing.T) {
	url := realServer(t)
	c := newClient(t, connect(t, url))
	a, _ := TaskID(Call[int, int](context.Background(), c, "x", 1, WaitForWorker()))
	b, _ := TaskID(Call[int, int](context.Background(), c, "x", 2, WaitForWorker()))
	pa, pb := strings.TrimPrefix(a, c.id+"."), strings.TrimPrefix(b, c.id+".")
	if len(pa) != 16 || len(pb) != 16 || pa == pb || !validTaskID(a) {
		t.Fatalf("ids %q and %q: want the client's prefix and 16 distinct random characters", a, b)
	}
}

// Forged cancels cost a worker bounded memory.
func TestForgedCancelsAreBounded(t *testing.T) {
	url := realServer(t)
	nc := connect(t, url)
	w, err := NewWorker(nc)
	if err != nil {
		t.Fatal(err)
	}
	Register(w, "echo", func(ctx context.Context, s string) (string, error) { return s, nil })
	serve(t, w)
	<-w.Ready()
	forger := connect(t, url)
	const n = 3 * maxCanceled
	for i := range n {
		if err := forger.Publish(w.l.cancelPrefix()+"forged."+strings.Repeat("x", i%7)+"."+itoa(i), nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := forger.Flush(); err != nil {
		t.Fatal(err)
	}
	// A cancel sent after the forged ones, on the worker's own
	// connection's order, marks when they have all arrived.
	last := "forged.last"
	if err := forger.Publish(w.l.cancelPrefix()+last, nil); err != nil {
		t.Fatal(err)
	}
	_ = forger.Flush()
	eventually(t, func() bool {
		w.mu.Lock()
		seen, size := w.canceled.has(last), w.canceled.len()
		w.mu.Unlock()
		if size > maxCanceled {
			t.Fatalf("worker remembers %d cancels, want at most %d", size, maxCanceled)
		}
		return seen
	}, func() string { return "the last cancel never arrived" })
}

func itoa(i int) string { return strconv.Itoa(i) }

// Pending calls cost no goroutine each: 10,000 calls waiting for a worker
// add a handful of goroutines to the client's process.
func TestPendingCallsShareGoroutines(t *testing.T) {
	url := realServer(t)
	c := newClient(t, connect(t, url))
	before := runtime.NumGoroutine()
	const n = 10_000
	fs := make([]*async.Future[int], n)
	for i := range fs {
		fs[i] = Call[int, int](context.Background(), c, "nobody", i, WaitForWorker(), Timeout(time.Hour))
	}
	k := Call[int, int](context.Background(), c, "nobody", -1, WaitForWorker(), Key("one"))
	a := Attach[int](context.Background(), c, "some.other.task")
	waitQueued(t, c, n+1)
	if extra := runtime.NumGoroutine() - before; extra > 20 {
		t.Fatalf("%d pending calls added %d goroutines, want at most 20", n+2, extra)
	}
	c.Close()
	for _, f := range append(fs, k, a) {
		if _, err := await[int](t, f); !errors.Is(err, ErrClosed) {
			t.Fatalf("after Close: err = %v, want ErrClosed", err)
		}
	}
}

// A connection closed for good ends Run with an error, instead of leaving
// it serving nothing.
func TestRunEndsWhenConnectionCloses(t *testing.T) {
	url := realServer(t)
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	w, err := NewWorker(nc)
	if err != nil {
		t.Fatal(err)
	}
	Register(w, "echo", func(ctx context.Context, s string) (string, error) { return s, nil })
	done := make(chan error, 1)
	go func() { done <- w.Run(context.Background()) }()
	<-w.Ready()
	nc.Close()
	select {
	case err := <-done:
		if !errors.Is(err, nats.ErrConnectionClosed) {
			t.Fatalf("Run returned %v, want an error matching nats.ErrConnectionClosed", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return after its connection was closed")
	}
}

// realServer starts a separate nats-server process for one test and
// returns its URL: these failures were found against one.
func realServer(t *testing.T) string { return startServerProc(t).URL() }

// A results watch that stops delivering (seen once on a cluster after a
// stream leader change) loses no call: the client's sweep finds the stored
// outcome of a call pending too long, settles it, and restarts its watches
// after the last result they delivered, which settles the others too.
func TestSweepRecoversMissedResults(t *testing.T) {
	prev := sweepEvery
	sweepEvery = 50 * time.Millisecond
	t.Cleanup(func() { sweepEvery = prev })
	url := realServer(t)
	release := make(chan struct{})
	runWorker(t, url, func(w *Worker) {
		Register(w, "echo", func(ctx context.Context, s string) (string, error) {
			<-release
			return s, nil
		})
	})
	c := newClient(t, connect(t, url))
	fs := make([]*async.Future[string], 5)
	for i := range fs {
		fs[i] = Call[string, string](context.Background(), c, "echo", strconv.Itoa(i))
	}
	c.mu.Lock()
	dead := c.own
	c.mu.Unlock()
	dead.stop() // the watch delivers nothing more
	close(release)
	for i, f := range fs {
		if v, err := await[string](t, f); err != nil || v != strconv.Itoa(i) {
			t.Fatalf("call %d: %q, %v", i, v, err)
		}
	}
	if c.swept.Load() == 0 {
		t.Fatal("the calls settled, but not through the sweep")
	}
	// The sweep settles what it finds, then replaces the watch.
	eventually(t, func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.own != dead
	}, func() string { return "the stalled watch was not replaced" })
}

// An Attach made while the server is away waits instead of failing: the
// watch of every result starts once the server is back, and the outcome
// stored then settles the future.
func TestAttachWhileServerAway(t *testing.T) {
	proc := startServerProc(t)
	c := newClient(t, connect(t, proc.URL()))
	proc.Kill()
	f := Attach[string](context.Background(), c, "some.task")
	proc.Restart()
	nc := connect(t, proc.URL())
	deadline := time.Now().Add(30 * time.Second)
	for {
		if time.Now().After(deadline) {
			t.Fatal("could not store an outcome within 30s of the restart")
		}
		stored, err := storeOutcome(nc, c.l, "some.task", valueRecord([]byte(`"later"`)), apiTimeout)
		if stored {
			break
		}
		if err == nil {
			t.Fatal("an outcome was stored for some.task before this test stored one")
		}
		time.Sleep(50 * time.Millisecond) // the server's JetStream is still starting
	}
	if v, err := await[string](t, f); err != nil || v != "later" {
		t.Fatalf("Attach = %q, %v; want the outcome stored after the server came back", v, err)
	}
}
