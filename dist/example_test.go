package dist_test

import (
	"context"
	"fmt"

	"github.com/goasync/async"
	"github.com/goasync/async/dist"
	"github.com/goasync/async/dist/server"
	"github.com/nats-io/nats.go"
)

// A worker serves "double"; a client calls it and awaits the future like
// any other.
func Example() {
	srv, err := server.Start(server.Options{}) // or use an existing NATS server
	if err != nil {
		panic(err)
	}
	defer srv.Close()

	// The worker side, usually on other machines.
	wconn, _ := nats.Connect(srv.URL())
	defer wconn.Close()
	w, _ := dist.NewWorker(wconn)
	dist.Register(w, "double", func(ctx context.Context, n int) (int, error) { return 2 * n, nil })
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- w.Run(ctx) }()
	defer func() { stop(); <-done }()

	// The calling side.
	cconn, _ := nats.Connect(srv.URL())
	defer cconn.Close()
	c, _ := dist.NewClient(cconn)
	defer c.Close()
	futures := []*async.Future[int]{
		dist.Call[int, int](context.Background(), c, "double", 1, dist.WaitForWorker()),
		dist.Call[int, int](context.Background(), c, "double", 2, dist.WaitForWorker()),
	}
	got, err := async.All(context.Background(), futures...)
	fmt.Println(got, err)
	// Output: [2 4] <nil>
}

// Ready says when a worker serves, so calls made then need no
// WaitForWorker; Stats counts a function's tasks.
func ExampleWorker_Ready() {
	srv, err := server.Start(server.Options{})
	if err != nil {
		panic(err)
	}
	defer srv.Close()
	wconn, _ := nats.Connect(srv.URL())
	defer wconn.Close()
	w, _ := dist.NewWorker(wconn)
	dist.Register(w, "greet", func(ctx context.Context, name string) (string, error) { return "hello " + name, nil })
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- w.Run(ctx) }()
	defer func() { stop(); <-done }()
	<-w.Ready()

	cconn, _ := nats.Connect(srv.URL())
	defer cconn.Close()
	c, _ := dist.NewClient(cconn)
	defer c.Close()
	// Stats before the call: right after a call settles, its task may
	// still be counted for a moment (the worker acknowledges a task after
	// storing its outcome, and the server then removes it from the queue).
	st, err := c.Stats(ctx, "greet")
	fmt.Println(st.Queued, st.DeadLettered, err)
	fmt.Println(dist.Call[string, string](ctx, c, "greet", "dist").Await(ctx))
	// Output:
	// 0 0 <nil>
	// hello dist <nil>
}
