package dist

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/goasync/async/dist/server"
	"github.com/nats-io/nats.go"
	"go.uber.org/goleak"
)

// The test binary doubles as a worker process for the tests that kill a
// worker with SIGKILL: with envWorker set, TestMain runs a worker instead of
// the tests.
const (
	envWorker  = "ASYNC_DIST_TEST_WORKER"  // the NATS URL to serve
	envAckWait = "ASYNC_DIST_TEST_ACKWAIT" // the worker's AckWait
)

func TestMain(m *testing.M) {
	if url := os.Getenv(envWorker); url != "" {
		os.Exit(workerProcess(url))
	}
	goleak.VerifyTestMain(m)
}

// workerProcess serves "hang": the handler prints "started <id> <attempt>"
// and blocks until the process is killed.
func workerProcess(url string) int {
	ackWait, err := time.ParseDuration(os.Getenv(envAckWait))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	nc, err := nats.Connect(url)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	w, err := NewWorker(nc, AckWait(ackWait), Concurrency(1), WorkerName("doomed"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	var mu sync.Mutex
	Register(w, "hang", func(ctx context.Context, n int) (string, error) {
		t, _ := Current(ctx)
		mu.Lock()
		fmt.Printf("started %s %d\n", t.ID, t.Attempt)
		mu.Unlock()
		select {} // until SIGKILL
	})
	go func() {
		// Ready once the worker has advertised "hang".
		for {
			if k, err := w.nc.JetStream(); err == nil {
				if kv, err := k.KeyValue(w.l.workers); err == nil {
					if _, err := kv.Get(w.workerKey("hang")); err == nil {
						fmt.Println("ready")
						return
					}
				}
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	if err := w.Run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	return 0
}

// testServer starts an in-process server for one test.
func testServer(t testing.TB) *server.Server {
	t.Helper()
	s, err := server.Start(server.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// connect opens a connection that reconnects forever, closed at cleanup.
func connect(t testing.TB, url string) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(url, nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

func newClient(t testing.TB, nc *nats.Conn, opts ...ClientOption) *Client {
	t.Helper()
	c, err := NewClient(nc, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// runWorker makes a worker on its own connection, lets register add
// functions, runs it until cleanup (or until the returned stop is called),
// and returns once the worker is advertised.
func runWorker(t testing.TB, url string, register func(*Worker), opts ...WorkerOption) (stop func()) {
	t.Helper()
	nc := connect(t, url)
	w, err := NewWorker(nc, opts...)
	if err != nil {
		t.Fatal(err)
	}
	register(w)
	stop = serve(t, w)
	waitAdvertised(t, nc, w)
	return stop
}

// serve runs w until cleanup, or until the returned stop is called, and
// reports an error from Run.
func serve(t testing.TB, w *Worker) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Worker.Run: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// eventually polls cond until it holds; if it does not within 10 seconds,
// the test fails with failure's message, which may read what cond saw.
func eventually(t testing.TB, cond func() bool, failure func() string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal(failure())
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// waitAdvertised waits until the worker's functions are in the workers
// bucket, so calls do not fail with ErrNoWorker.
func waitAdvertised(t testing.TB, nc *nats.Conn, w *Worker) {
	t.Helper()
	js, err := nc.JetStream()
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for name := range w.handlers {
		for {
			kv, err := js.KeyValue(w.l.workers)
			if err == nil {
				if _, err = kv.Get(w.workerKey(name)); err == nil {
					break
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("worker never advertised %q: %v", name, err)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
}

// await waits for f with a generous bound, so a bug fails the test rather
// than hanging the suite.
func await[T any](t testing.TB, f interface {
	Await(context.Context) (T, error)
}) (T, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	v, err := f.Await(ctx)
	if ctx.Err() != nil {
		t.Fatalf("future did not settle within 30s")
	}
	return v, err
}

// workerProc is a worker in a child process, to be killed with SIGKILL.
type workerProc struct {
	cmd   *exec.Cmd
	lines *bufio.Scanner
}

func startWorkerProc(t testing.TB, url string, ackWait time.Duration) *workerProc {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), envWorker+"="+url, envAckWait+"="+ackWait.String())
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &workerProc{cmd: cmd, lines: bufio.NewScanner(out)}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	if line := p.next(t); line != "ready" {
		t.Fatalf("worker process said %q, want ready", line)
	}
	return p
}

func (p *workerProc) next(t testing.TB) string {
	t.Helper()
	if !p.lines.Scan() {
		t.Fatalf("worker process output ended: %v", p.lines.Err())
	}
	return strings.TrimSpace(p.lines.Text())
}

func (p *workerProc) kill(t testing.TB) {
	t.Helper()
	if err := p.cmd.Process.Kill(); err != nil { // SIGKILL on Unix
		t.Fatal(err)
	}
	_ = p.cmd.Wait()
	_, _ = io.Copy(io.Discard, strings.NewReader(""))
}
