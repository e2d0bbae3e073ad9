package asyncotel_test

import (
	"context"
	"fmt"

	"github.com/goasync/async"
	"github.com/goasync/async/asyncotel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// Each task becomes a span, a child of the span in its context.
func Example() {
	spans := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans))
	defer tp.Shutdown(context.Background())
	obs, err := asyncotel.New(asyncotel.WithTracerProvider(tp))
	if err != nil {
		panic(err)
	}
	defer obs.Close()
	defer async.SetObserver(async.SetObserver(obs))

	ctx, span := tp.Tracer("example").Start(context.Background(), "request")
	user, err := async.Go(ctx, func(ctx context.Context) (string, error) {
		return "ada", nil
	}, async.Name("load-user")).Await(ctx)
	span.End()
	tp.ForceFlush(ctx)

	fmt.Println(user, err)
	for _, s := range spans.GetSpans() {
		if s.Name == "load-user" {
			fmt.Println(s.Name, "is a child of request:", s.Parent.SpanID() == span.SpanContext().SpanID())
		}
	}
	// Output:
	// ada <nil>
	// load-user is a child of request: true
}
