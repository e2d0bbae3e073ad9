package asyncotel

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/goasync/async"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type harness struct {
	spans  *tracetest.InMemoryExporter
	reader *sdkmetric.ManualReader
	tp     *sdktrace.TracerProvider
	ended  *endCounter
}

// endCounter counts ended spans, so that a test can wait for a task's span
// to end: TaskEnded runs just after the task settles, possibly after its
// awaiter has resumed.
type endCounter struct {
	mu   sync.Mutex
	cond *sync.Cond
	n    int
}

func (c *endCounter) OnStart(context.Context, sdktrace.ReadWriteSpan) {}
func (c *endCounter) OnEnd(sdktrace.ReadOnlySpan) {
	c.mu.Lock()
	c.n++
	c.cond.Broadcast()
	c.mu.Unlock()
}
func (c *endCounter) Shutdown(context.Context) error   { return nil }
func (c *endCounter) ForceFlush(context.Context) error { return nil }

// waitSpans blocks until n spans have ended.
func (h *harness) waitSpans(n int) {
	h.ended.mu.Lock()
	for h.ended.n < n {
		h.ended.cond.Wait()
	}
	h.ended.mu.Unlock()
}

// install sets up an in-memory tracer and meter and installs an Observer
// for the test.
func install(t *testing.T) *harness {
	t.Helper()
	h := &harness{spans: tracetest.NewInMemoryExporter(), reader: sdkmetric.NewManualReader()}
	h.ended = &endCounter{}
	h.ended.cond = sync.NewCond(&h.ended.mu)
	h.tp = sdktrace.NewTracerProvider(sdktrace.WithSyncer(h.spans), sdktrace.WithSpanProcessor(h.ended))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(h.reader))
	obs, err := New(WithTracerProvider(h.tp), WithMeterProvider(mp))
	if err != nil {
		t.Fatal(err)
	}
	prev := async.SetObserver(obs)
	t.Cleanup(func() {
		async.SetObserver(prev)
		obs.Close()
		h.tp.Shutdown(context.Background())
		mp.Shutdown(context.Background())
	})
	return h
}

func (h *harness) span(t *testing.T, name string) tracetest.SpanStub {
	t.Helper()
	for _, s := range h.spans.GetSpans() {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no span %q among %d", name, len(h.spans.GetSpans()))
	return tracetest.SpanStub{}
}

func attr(s tracetest.SpanStub, key string) string {
	for _, a := range s.Attributes {
		if string(a.Key) == key {
			return a.Value.String()
		}
	}
	return ""
}

func TestSpansNestLinkAndCarryOutcomes(t *testing.T) {
	h := install(t)
	awaiting := signal("handler")
	release := make(chan struct{})
	go func() { <-awaiting; close(release) }() // fetch-ok is pending when handler starts waiting
	ctx, root := h.tp.Tracer("test").Start(context.Background(), "request")
	boom := errors.New("boom")
	_, err := async.Go(ctx, func(ctx context.Context) (int, error) {
		ok := async.Go(ctx, func(context.Context) (int, error) { <-release; return 1, nil }, async.Name("fetch-ok"))
		bad := async.Go(ctx, func(context.Context) (int, error) { return 0, boom }, async.Name("fetch-bad"))
		pan := async.Go(ctx, func(context.Context) (int, error) { panic("kaput") }, async.Name("fetch-panic"))
		async.AllSettled(ctx, ok, bad, pan)
		return async.Race(ctx, bad)
	}, async.Name("handler")).Await(ctx)
	root.End()
	if !errors.Is(err, boom) {
		t.Fatal(err)
	}
	h.waitSpans(5) // request, handler and its three children

	req, handler := h.span(t, "request"), h.span(t, "handler")
	if handler.Parent.SpanID() != req.SpanContext.SpanID() {
		t.Error("the task's span is not a child of the span in its context")
	}
	for _, name := range []string{"fetch-ok", "fetch-bad", "fetch-panic"} {
		if s := h.span(t, name); s.Parent.SpanID() != handler.SpanContext.SpanID() {
			t.Errorf("%s is not a child of handler's span", name)
		}
	}
	if s := h.span(t, "fetch-ok"); attr(s, "async.task.outcome") != "ok" || s.Status.Code == codes.Error {
		t.Errorf("fetch-ok: outcome %q, status %v", attr(s, "async.task.outcome"), s.Status)
	}
	if s := h.span(t, "fetch-bad"); attr(s, "async.task.outcome") != "error" || s.Status.Code != codes.Error || len(s.Events) == 0 {
		t.Errorf("fetch-bad: outcome %q, status %v, %d events; want error, Error, a recorded error", attr(s, "async.task.outcome"), s.Status, len(s.Events))
	}
	if s := h.span(t, "fetch-panic"); attr(s, "async.task.outcome") != "panic" || attr(s, "async.task.panic") != "kaput" || attr(s, "exception.stacktrace") == "" {
		t.Errorf("fetch-panic: outcome %q, panic %q", attr(s, "async.task.outcome"), attr(s, "async.task.panic"))
	}
	if attr(handler, "async.task.name") != "handler" || attr(handler, "async.task.outcome") != "error" {
		t.Errorf("handler: attributes %v", handler.Attributes)
	}
	// handler awaited its children (at least fetch-ok was pending): its span
	// links to theirs.
	linked := map[string]bool{}
	for _, l := range handler.Links {
		for _, name := range []string{"fetch-ok", "fetch-bad", "fetch-panic"} {
			if l.SpanContext.SpanID() == h.span(t, name).SpanContext.SpanID() {
				linked[name] = true
			}
		}
	}
	if !linked["fetch-ok"] {
		t.Errorf("handler's span has no link to fetch-ok, which it awaited (links: %v)", handler.Links)
	}
}

// signalling tells when a wait has begun, once the links are made.
type signalling struct {
	*Observer
	waiter   string // the span whose wait is signalled
	once     *sync.Once
	awaiting chan struct{}
}

func (s signalling) Awaiting(ctx context.Context, on []context.Context) {
	s.Observer.Awaiting(ctx, on)
	if span, ok := trace.SpanFromContext(ctx).(sdktrace.ReadOnlySpan); ok && span.Name() == s.waiter {
		s.once.Do(func() { close(s.awaiting) })
	}
}

// signal replaces the installed Observer with one that closes the channel
// returned when the span named waiter first waits.
func signal(waiter string) <-chan struct{} {
	sig := signalling{async.SetObserver(nil).(*Observer), waiter, new(sync.Once), make(chan struct{})}
	async.SetObserver(sig)
	return sig.awaiting
}

// All, from outside any task, links the caller's span to the span of each
// future it waits for: the futures are held until All is waiting.
func TestAllLinksToAwaitedTasks(t *testing.T) {
	h := install(t)
	awaiting := signal("caller")
	ctx, root := h.tp.Tracer("test").Start(context.Background(), "caller")
	release := make(chan struct{})
	slow := async.Go(ctx, func(context.Context) (int, error) { <-release; return 1, nil }, async.Name("slow"))
	other := async.Go(ctx, func(context.Context) (int, error) { <-release; return 2, nil }, async.Name("other"))
	go func() { <-awaiting; close(release) }()
	if _, err := async.All(ctx, slow, other); err != nil {
		t.Fatal(err)
	}
	root.End()
	h.waitSpans(3)
	caller := h.span(t, "caller")
	want := map[[8]byte]bool{h.span(t, "slow").SpanContext.SpanID(): true, h.span(t, "other").SpanContext.SpanID(): true}
	got := 0
	for _, l := range caller.Links {
		if want[l.SpanContext.SpanID()] {
			got++
		}
	}
	if got != 2 {
		t.Fatalf("All's caller links to %d of the 2 futures it awaited: %v", got, caller.Links)
	}
}

func TestMetrics(t *testing.T) {
	h := install(t)
	ctx := context.Background()
	p := async.NewPool(1, async.Name("metrics-pool"))
	release := make(chan struct{})
	busy := async.Submit(ctx, p, func(context.Context) (int, error) { <-release; return 1, nil })
	queued := async.Submit(ctx, p, func(context.Context) (int, error) { return 0, errors.New("bad") })

	var rm metricdata.ResourceMetrics
	if err := h.reader.Collect(ctx, &rm); err != nil {
		t.Fatal(err)
	}
	if q := gauge(rm, "async.pool.queued", "metrics-pool"); q != 1 {
		t.Errorf("async.pool.queued = %d; want 1", q)
	}
	if r := gauge(rm, "async.pool.running", "metrics-pool"); r != 1 {
		t.Errorf("async.pool.running = %d; want 1", r)
	}
	close(release)
	busy.Await(ctx)
	queued.Await(ctx)
	p.Close()
	h.waitSpans(2) // the metrics are recorded before the span ends

	rm = metricdata.ResourceMetrics{}
	if err := h.reader.Collect(ctx, &rm); err != nil {
		t.Fatal(err)
	}
	if n := sum(rm, "async.tasks.started", "metrics-pool"); n != 2 {
		t.Errorf("async.tasks.started = %d; want 2", n)
	}
	if n := sum(rm, "async.tasks.failed", "metrics-pool"); n != 1 {
		t.Errorf("async.tasks.failed = %d; want 1", n)
	}
	if n := histCount(rm, "async.task.duration", "metrics-pool"); n != 2 {
		t.Errorf("async.task.duration count = %d; want 2", n)
	}
}

func find(rm metricdata.ResourceMetrics, name string) *metricdata.Metrics {
	for _, sm := range rm.ScopeMetrics {
		for i := range sm.Metrics {
			if sm.Metrics[i].Name == name {
				return &sm.Metrics[i]
			}
		}
	}
	return nil
}

func has(set attribute.Set, key, value string) bool {
	v, ok := set.Value(attribute.Key(key))
	return ok && v.AsString() == value
}

// gauge returns the value of the newest pool named pool (pools of earlier
// runs of the test may not have been collected yet).
func gauge(rm metricdata.ResourceMetrics, name, pool string) int64 {
	v, newest := int64(-1), int64(-1)
	if m := find(rm, name); m != nil {
		for _, dp := range m.Data.(metricdata.Gauge[int64]).DataPoints {
			id, _ := dp.Attributes.Value("async.pool.id")
			if has(dp.Attributes, "async.pool.name", pool) && id.AsInt64() > newest {
				v, newest = dp.Value, id.AsInt64()
			}
		}
	}
	return v
}

func sum(rm metricdata.ResourceMetrics, name, task string) int64 {
	var n int64
	if m := find(rm, name); m != nil {
		for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
			if has(dp.Attributes, "async.task.name", task) {
				n += dp.Value
			}
		}
	}
	return n
}

func histCount(rm metricdata.ResourceMetrics, name, task string) uint64 {
	var n uint64
	if m := find(rm, name); m != nil {
		for _, dp := range m.Data.(metricdata.Histogram[float64]).DataPoints {
			if has(dp.Attributes, "async.task.name", task) {
				n += dp.Count
			}
		}
	}
	return n
}

func TestOutcome(t *testing.T) {
	for err, want := range map[error]string{
		nil: "ok", errors.New("x"): "error", async.ErrCanceled: "canceled", context.Canceled: "canceled",
		async.ErrTimeout: "timeout", context.DeadlineExceeded: "timeout", &async.PanicError{Value: 1}: "panic",
	} {
		if got := Outcome(err); got != want {
			t.Errorf("Outcome(%v) = %q; want %q", err, got, want)
		}
	}
}
