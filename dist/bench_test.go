package dist

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/goasync/async"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// The benchmarks run an embedded server with file storage in this process,
// like the raw JetStream figures in shared/research/nats-jetstream-baseline.md:
// server, clients and 4 workers share the machine's cores. Each has a /raw
// sub-benchmark doing the same work with JetStream directly (work queue,
// 4 workers each with its own connection and 16 tasks in flight, each
// task's result written to a KV bucket and the write confirmed before the
// task's ack; the caller watches the results bucket). BenchmarkDistThroughput
// also runs /raw-guarded: raw with the two guarantees dist adds, each task
// published with a message id (the duplicate window drops a publication
// made again) and each result written create-only (kv.Create), so that
// their cost on the server is visible, and /async-dist-prefetch0: dist with
// workers that take tasks only for free slots (Prefetch(0)).

// benchWorkers run with the default options (Concurrency 16); the raw
// baseline's workers keep as many tasks in flight.
const (
	benchWorkers = 4
	rawInFlight  = 16
)

// payload is a 64-byte request, as in the raw baseline.
var payload = strings.Repeat("x", 62)

func BenchmarkDistThroughput(b *testing.B) {
	raw := func(b *testing.B, r *rawQueue) {
		b.ReportAllocs()
		b.ResetTimer()
		start, cpu := time.Now(), cpuTime()
		r.submitAll(b, b.N)
		r.waitResults(b, b.N)
		reportThroughput(b, start, cpu)
	}
	b.Run("raw", func(b *testing.B) { raw(b, newRawQueue(b)) })
	b.Run("raw-guarded", func(b *testing.B) { raw(b, newRawQueueWith(b, testServer(b).URL(), 0, true)) })
	dist := func(b *testing.B, opts ...WorkerOption) {
		c := echoFleet(b, opts...)
		futures := make([]*async.Future[string], b.N)
		b.ReportAllocs()
		b.ResetTimer()
		start, cpu := time.Now(), cpuTime()
		for i := range futures {
			futures[i] = Call[string, string](context.Background(), c, "echo", payload)
		}
		if _, err := async.All(context.Background(), futures...); err != nil {
			b.Fatal(err)
		}
		reportThroughput(b, start, cpu)
	}
	b.Run("async-dist", func(b *testing.B) { dist(b) })
	// Without prefetch, each worker asks only for as many tasks as it has
	// free slots: what the option gains, in the same run.
	b.Run("async-dist-prefetch0", func(b *testing.B) { dist(b, Prefetch(0)) })
}

// echoFleet starts a server and benchWorkers workers serving "echo", with
// opts, and returns a client of theirs.
func echoFleet(b *testing.B, opts ...WorkerOption) *Client {
	s := testServer(b)
	for range benchWorkers {
		runWorker(b, s.URL(), func(w *Worker) {
			Register(w, "echo", func(ctx context.Context, s string) (string, error) { return s, nil })
		}, opts...)
	}
	return newClient(b, connect(b, s.URL()))
}

// reportThroughput reports tasks a second and the process's CPU time per
// task (server, client and workers together), which varies less than
// throughput on a machine shared with other work.
func reportThroughput(b *testing.B, start time.Time, cpu0 time.Duration) {
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "tasks/s")
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-µs/task")
}

// cpuTime is the CPU time this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkDistLatency paces calls at 2,000 a second and reports the
// Call→Await latency percentiles.
func BenchmarkDistLatency(b *testing.B) {
	const rate = 2000
	b.Run("raw", func(b *testing.B) {
		r := newRawQueue(b)
		lat := make([]time.Duration, b.N)
		b.ResetTimer()
		pace(b.N, rate, func(i int) {
			r.submit(b, i)
		})
		r.waitResults(b, b.N)
		for i := range lat {
			lat[i] = r.done[i].Sub(r.sent[i])
		}
		reportLatency(b, lat)
	})
	b.Run("async-dist", func(b *testing.B) {
		c := echoFleet(b)
		lat := make([]time.Duration, b.N)
		var wg sync.WaitGroup
		b.ResetTimer()
		pace(b.N, rate, func(i int) {
			start := time.Now()
			f := Call[string, string](context.Background(), c, "echo", payload)
			wg.Go(func() {
				if _, err := f.Await(context.Background()); err != nil {
					b.Error(err)
				}
				lat[i] = time.Since(start)
			})
		})
		wg.Wait()
		reportLatency(b, lat)
	})
}

// BenchmarkDistRedelivery kills a worker process (SIGKILL) while its
// handler runs and reports how long after the first delivery the caller's
// future settled, completed by another worker, beyond the ack wait.
func BenchmarkDistRedelivery(b *testing.B) {
	const ackWait = 500 * time.Millisecond
	b.Run("async-dist", func(b *testing.B) {
		var total time.Duration
		for range b.N {
			total += redeliverOnce(b, ackWait)
		}
		b.ReportMetric(float64(total.Microseconds())/1000/float64(b.N), "ms-settled")
		b.ReportMetric(float64((total-time.Duration(b.N)*ackWait).Microseconds())/1000/float64(b.N), "ms-beyond-ackwait")
	})
}

func redeliverOnce(b *testing.B, ackWait time.Duration) time.Duration {
	b.StopTimer()
	s := testServer(b)
	proc := startWorkerProc(b, s.URL(), ackWait)
	c := newClient(b, connect(b, s.URL()))
	f := Call[int, string](context.Background(), c, "hang", 1)
	if line := proc.next(b); !strings.HasPrefix(line, "started ") {
		b.Fatalf("worker process said %q", line)
	}
	delivered := time.Now()
	b.StartTimer()
	proc.kill(b)
	runWorker(b, s.URL(), func(w *Worker) {
		Register(w, "hang", func(ctx context.Context, n int) (string, error) { return "done", nil })
	}, AckWait(ackWait))
	if _, err := f.Await(context.Background()); err != nil {
		b.Fatal(err)
	}
	return time.Since(delivered)
}

// pace calls fn(i) for i in [0, n) at rate calls a second, on schedule.
func pace(n, rate int, fn func(i int)) {
	interval := time.Second / time.Duration(rate)
	start := time.Now()
	for i := range n {
		next := start.Add(time.Duration(i) * interval)
		if d := time.Until(next); d > 0 {
			time.Sleep(d)
		}
		fn(i)
	}
}

func reportLatency(b *testing.B, lat []time.Duration) {
	b.StopTimer()
	slices.Sort(lat)
	q := func(p float64) float64 {
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds()) / 1000
	}
	b.ReportMetric(q(0.50), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
}

// rawQueue is the baseline: JetStream used directly for the same work.
type rawQueue struct {
	guarded bool // message ids on tasks, create-only result writes
	js      jetstream.JetStream
	mu      sync.Mutex
	sent    []time.Time
	done    []time.Time
	results atomic.Int64
	all     chan struct{}
	want    atomic.Int64
}

func newRawQueue(b *testing.B) *rawQueue { return newRawQueueOn(b, testServer(b).URL(), 0) }

// newRawQueueOn sets the baseline up on the server or cluster at url, its
// stream and bucket with replicas copies (0: the server's default); they
// are deleted at cleanup, so that the next run on a shared cluster starts
// afresh.
func newRawQueueOn(b *testing.B, url string, replicas int) *rawQueue {
	return newRawQueueWith(b, url, replicas, false)
}

// newRawQueueWith is newRawQueueOn, with dist's guarantees if guarded.
func newRawQueueWith(b *testing.B, url string, replicas int, guarded bool) *rawQueue {
	ctx := context.Background()
	nc := connect(b, url)
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(4096))
	if err != nil {
		b.Fatal(err)
	}
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "TASKS", Subjects: []string{"tasks.>"}, Retention: jetstream.WorkQueuePolicy, Storage: jetstream.FileStorage, Replicas: replicas}); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { // after the workers and the watch stop
		_ = js.DeleteStream(ctx, "TASKS")
		_ = js.DeleteKeyValue(ctx, "results")
	})
	if _, err := js.CreateOrUpdateConsumer(ctx, "TASKS", jetstream.ConsumerConfig{Durable: "workers", AckPolicy: jetstream.AckExplicitPolicy, AckWait: 30 * time.Second}); err != nil {
		b.Fatal(err)
	}
	kv, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "results", History: 1, Storage: jetstream.FileStorage, Replicas: replicas})
	if err != nil {
		b.Fatal(err)
	}
	r := &rawQueue{guarded: guarded, js: js, sent: make([]time.Time, b.N), done: make([]time.Time, b.N), all: make(chan struct{})}
	r.want.Store(int64(b.N))
	w, err := kv.WatchAll(ctx, jetstream.UpdatesOnly())
	if err != nil {
		b.Fatal(err)
	}
	var watchers sync.WaitGroup
	watchers.Go(func() {
		for e := range w.Updates() {
			if e == nil {
				continue
			}
			var i int
			fmt.Sscanf(e.Key(), "t%d", &i)
			r.mu.Lock()
			r.done[i] = time.Now()
			r.mu.Unlock()
			if r.results.Add(1) == r.want.Load() {
				close(r.all)
			}
		}
	})
	stop := make(chan struct{})
	var workers sync.WaitGroup
	for range benchWorkers {
		wnc := connect(b, url)
		wjs, _ := jetstream.New(wnc)
		cons, err := wjs.Consumer(ctx, "TASKS", "workers")
		if err != nil {
			b.Fatal(err)
		}
		wkv, err := wjs.KeyValue(ctx, "results")
		if err != nil {
			b.Fatal(err)
		}
		// rawInFlight handlers per worker, each writing a result and
		// acking its task once the write is confirmed: the same
		// concurrency and durability as a dist worker.
		workers.Go(func() {
			msgs := make(chan jetstream.Msg)
			var handlers sync.WaitGroup
			for range rawInFlight {
				handlers.Go(func() {
					for m := range msgs {
						id := string(m.Data()[:7])
						var err error
						if guarded {
							_, err = wkv.Create(ctx, id, m.Data())
						} else {
							_, err = wkv.Put(ctx, id, m.Data())
						}
						if err != nil {
							b.Error(err)
						}
						_ = m.Ack()
					}
				})
			}
			defer handlers.Wait()
			defer close(msgs)
			for {
				select {
				case <-stop:
					return
				default:
				}
				batch, err := cons.Fetch(rawInFlight, jetstream.FetchMaxWait(200*time.Millisecond))
				if err != nil {
					continue
				}
				for m := range batch.Messages() {
					msgs <- m
				}
			}
		})
	}
	b.Cleanup(func() {
		close(stop)
		workers.Wait()
		_ = w.Stop()
		watchers.Wait()
	})
	return r
}

func (r *rawQueue) submit(b *testing.B, i int) {
	data := fmt.Appendf(nil, "t%06d%s", i, payload[7:])
	r.mu.Lock()
	r.sent[i] = time.Now()
	r.mu.Unlock()
	for {
		msg := &nats.Msg{Subject: "tasks.default", Data: data}
		if r.guarded {
			msg.Header = nats.Header{"Nats-Msg-Id": []string{string(data[:7])}}
		}
		_, err := r.js.PublishMsgAsync(msg)
		if err == nil {
			return
		}
		<-r.js.PublishAsyncComplete()
	}
}

func (r *rawQueue) submitAll(b *testing.B, n int) {
	for i := range n {
		r.submit(b, i)
	}
}

func (r *rawQueue) waitResults(b *testing.B, n int) {
	select {
	case <-r.all:
	case <-time.After(2 * time.Minute):
		b.Fatalf("raw: %d of %d results", r.results.Load(), n)
	}
}

// BenchmarkDistPending makes b.N calls that wait for a worker that never
// comes and reports what each pending call costs the client's process: heap
// bytes, and goroutines in total.
func BenchmarkDistPending(b *testing.B) {
	s := testServer(b)
	c := newClient(b, connect(b, s.URL()), MaxQueued(1<<30))
	futures := make([]*async.Future[string], b.N)
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	goroutines := runtime.NumGoroutine()
	b.ResetTimer()
	for i := range futures {
		futures[i] = Call[string, string](context.Background(), c, "nobody", payload, WaitForWorker(), Timeout(time.Hour))
	}
	waitQueued(b, c, uint64(b.N))
	b.StopTimer()
	runtime.GC()
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/float64(b.N), "heap-B/call")
	b.ReportMetric(float64(runtime.NumGoroutine()-goroutines), "goroutines")
	c.Close()
	for _, f := range futures {
		_, _ = f.Await(context.Background()) // ErrClosed, observed
	}
}
