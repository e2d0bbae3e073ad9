// Package asyncotel traces and measures goasync tasks with OpenTelemetry.
//
// Install it once, at start-up:
//
//	obs, err := asyncotel.New() // the global tracer and meter providers
//	if err != nil { ... }
//	defer obs.Close()
//	async.SetObserver(obs)
//
// Every task started from then on (async.Go, Func, Then, Catch, Spawn,
// Submit, ...) gets a span, a child of the span in the context it was started
// with, named after the task (or "async.task"). The span is in the task's
// context, so spans the task's function starts, and the spans of tasks it
// starts, are its children. When the task settles the span ends with the
// outcome: attribute async.task.outcome is ok, error, panic, canceled or
// timeout; errors are recorded on the span and set its status, and a panic
// adds its value and stack. Await and the combinators (All, Race, Any, ...)
// add a link from the waiting span to the span of each task awaited.
//
// Metrics: async.tasks.started and async.tasks.failed (counters),
// async.task.duration (histogram, seconds, from start to settlement), and for
// every live async.Pool the gauges async.pool.queued and async.pool.running.
// Task names become the async.task.name attribute, so keep them few (name
// tasks by what they do, not by their input).
package asyncotel

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/goasync/async"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
)

const instrumentation = "github.com/goasync/async/asyncotel"

// Observer is an [async.Observer] that makes spans and metrics for tasks.
// Make one with [New]; its methods are called by package async.
type Observer struct {
	tracer   trace.Tracer
	started  metric.Int64Counter
	failed   metric.Int64Counter
	duration metric.Float64Histogram
	gauges   metric.Registration
}

var _ async.Observer = (*Observer)(nil)

// An Option configures [New].
type Option func(*config)

type config struct {
	tp trace.TracerProvider
	mp metric.MeterProvider
}

// WithTracerProvider makes spans with tp instead of the global provider.
func WithTracerProvider(tp trace.TracerProvider) Option { return func(c *config) { c.tp = tp } }

// WithMeterProvider records metrics with mp instead of the global provider.
func WithMeterProvider(mp metric.MeterProvider) Option { return func(c *config) { c.mp = mp } }

// New returns an Observer for [async.SetObserver]. It returns an error only if
// an instrument cannot be made. Call Close when done with it, to stop
// reporting pool gauges.
func New(opts ...Option) (*Observer, error) {
	c := config{tp: otel.GetTracerProvider(), mp: otel.GetMeterProvider()}
	for _, o := range opts {
		o(&c)
	}
	meter := c.mp.Meter(instrumentation)
	o := &Observer{tracer: c.tp.Tracer(instrumentation)}
	var err error
	if o.started, err = meter.Int64Counter("async.tasks.started",
		metric.WithDescription("Tasks started."), metric.WithUnit("{task}")); err != nil {
		return nil, err
	}
	if o.failed, err = meter.Int64Counter("async.tasks.failed",
		metric.WithDescription("Tasks that settled with an error, a panic or a cancellation."), metric.WithUnit("{task}")); err != nil {
		return nil, err
	}
	if o.duration, err = meter.Float64Histogram("async.task.duration",
		metric.WithDescription("Time from a task's start to its settlement."), metric.WithUnit("s")); err != nil {
		return nil, err
	}
	queued, err := meter.Int64ObservableGauge("async.pool.queued",
		metric.WithDescription("Tasks waiting in a pool's queue."), metric.WithUnit("{task}"))
	if err != nil {
		return nil, err
	}
	running, err := meter.Int64ObservableGauge("async.pool.running",
		metric.WithDescription("Tasks running on a pool's workers."), metric.WithUnit("{task}"))
	if err != nil {
		return nil, err
	}
	o.gauges, err = meter.RegisterCallback(func(_ context.Context, m metric.Observer) error {
		for _, p := range async.Pools() {
			attrs := metric.WithAttributes(attribute.String("async.pool.name", p.Name), attribute.Int64("async.pool.id", int64(p.ID)))
			m.ObserveInt64(queued, int64(p.Stats.Queued), attrs)
			m.ObserveInt64(running, int64(p.Stats.Running), attrs)
		}
		return nil
	}, queued, running)
	if err != nil {
		return nil, err
	}
	return o, nil
}

// Close stops reporting the pool gauges. Spans and counters of tasks still
// running are still recorded.
func (o *Observer) Close() error { return o.gauges.Unregister() }

type stateKey struct{}

// taskState is what an Observer keeps in a task's context.
type taskState struct {
	name  string
	start time.Time
	span  trace.Span
}

// TaskStarted starts the task's span, as a child of the span in ctx, and
// returns ctx with the span in it.
func (o *Observer) TaskStarted(ctx context.Context, name string) context.Context {
	spanName := name
	if spanName == "" {
		spanName = "async.task"
	}
	ctx, span := o.tracer.Start(ctx, spanName, trace.WithSpanKind(trace.SpanKindInternal),
		trace.WithAttributes(attribute.String("async.task.name", name)))
	o.started.Add(ctx, 1, metric.WithAttributes(attribute.String("async.task.name", name)))
	return context.WithValue(ctx, stateKey{}, &taskState{name: name, start: time.Now(), span: span})
}

// TaskEnded ends the task's span with its outcome and records its metrics.
func (o *Observer) TaskEnded(ctx context.Context, err error) {
	st, ok := ctx.Value(stateKey{}).(*taskState)
	if !ok {
		return
	}
	outcome := Outcome(err)
	attrs := []attribute.KeyValue{attribute.String("async.task.name", st.name), attribute.String("async.task.outcome", outcome)}
	span := st.span
	span.SetAttributes(attrs[1])
	if err != nil {
		var pe *async.PanicError
		if errors.As(err, &pe) {
			span.SetAttributes(attribute.String("async.task.panic", fmt.Sprint(pe.Value)),
				attribute.String("exception.stacktrace", string(pe.Stack)))
			span.RecordError(err, trace.WithAttributes(attribute.String("exception.type", "panic")))
			span.SetStatus(codes.Error, "panic: "+fmt.Sprint(pe.Value))
		} else {
			span.RecordError(err)
			span.SetStatus(codes.Error, err.Error())
		}
		o.failed.Add(ctx, 1, metric.WithAttributes(attrs...))
	}
	o.duration.Record(ctx, time.Since(st.start).Seconds(), metric.WithAttributes(attrs...))
	span.End()
}

// Awaiting links the span of whoever waits (the span in ctx) to the span of
// each task it awaits.
func (o *Observer) Awaiting(ctx context.Context, on []context.Context) {
	span := trace.SpanFromContext(ctx)
	if !span.IsRecording() {
		return
	}
	for _, c := range on {
		if sc := trace.SpanContextFromContext(c); sc.IsValid() {
			span.AddLink(trace.Link{SpanContext: sc, Attributes: []attribute.KeyValue{attribute.Bool("async.awaited", true)}})
		}
	}
}

// Outcome classifies a task's error as the async.task.outcome attribute
// does: "ok" for nil, "panic" for an [async.PanicError], "canceled" for
// [async.ErrCanceled] or context.Canceled, "timeout" for [async.ErrTimeout]
// or context.DeadlineExceeded, and "error" otherwise.
func Outcome(err error) string {
	var pe *async.PanicError
	switch {
	case err == nil:
		return "ok"
	case errors.As(err, &pe):
		return "panic"
	case errors.Is(err, async.ErrTimeout) || errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, async.ErrCanceled) || errors.Is(err, context.Canceled):
		return "canceled"
	}
	return "error"
}
