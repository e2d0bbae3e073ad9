package async_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"sync/atomic"
	"time"

	"github.com/goasync/async"
)

// download stands in for a slow call such as an HTTP request.
func download(ctx context.Context, name string) (string, error) {
	if err := async.Sleep(ctx, time.Millisecond); err != nil {
		return "", err
	}
	if name == "broken" {
		return "", fmt.Errorf("download %s: 503", name)
	}
	return "page " + name, nil
}

func ExampleRun() {
	ctx := context.Background()
	names := []string{"a", "b", "c"}
	pages := make([]string, len(names))
	err := async.Run(ctx, func(s *async.Scope) error {
		for i, name := range names {
			s.Go(func(ctx context.Context) error {
				page, err := download(ctx, name)
				pages[i] = page
				return err
			})
		}
		return nil
	})
	fmt.Println(pages, err)

	// A failure cancels the siblings; their cancellation errors are
	// fallout, so Wait reports the failure alone.
	err = async.Run(ctx, func(s *async.Scope) error {
		s.Go(func(ctx context.Context) error {
			_, err := download(ctx, "broken")
			return err
		})
		s.Go(func(ctx context.Context) error {
			return async.Sleep(ctx, time.Hour) // canceled by the failure
		})
		return nil
	})
	fmt.Println(err)
	// Output:
	// [page a page b page c] <nil>
	// download broken: 503
}

func ExampleScope_Start() {
	err := async.Run(context.Background(), func(s *async.Scope) error {
		var addr string
		// Start returns once the server listens: no race with the client.
		err := s.Start(func(ctx context.Context, ready func()) error {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				return err
			}
			addr = ln.Addr().String()
			ready()
			stop := context.AfterFunc(ctx, func() { ln.Close() })
			defer stop()
			for {
				conn, err := ln.Accept()
				if err != nil {
					return ctx.Err() // closed by the scope's end: fallout
				}
				fmt.Fprintln(conn, "hello")
				conn.Close()
			}
		})
		if err != nil {
			return err
		}
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			return err
		}
		defer conn.Close()
		line, err := bufio.NewReader(conn).ReadString('\n')
		fmt.Print(line)
		s.Cancel() // done with the server
		return err
	})
	fmt.Println(err)
	// Output:
	// hello
	// <nil>
}

func ExampleLimit() {
	var running, most atomic.Int32
	err := async.Run(context.Background(), func(s *async.Scope) error {
		for range 20 {
			// Blocks while 2 children run and 2 more wait for a worker.
			s.Go(func(ctx context.Context) error {
				n := running.Add(1)
				defer running.Add(-1)
				for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
				}
				return async.Sleep(ctx, time.Millisecond)
			})
		}
		return nil
	}, async.Limit(2))
	fmt.Println(err, most.Load() <= 2)
	// Output: <nil> true
}

func ExampleSpawn() {
	ctx := context.Background()
	err := async.Run(ctx, func(s *async.Scope) error {
		a := async.Spawn(s, func(ctx context.Context) (string, error) { return download(ctx, "a") })
		b := async.Spawn(s, func(ctx context.Context) (string, error) { return download(ctx, "b") })
		pa, pb, err := async.All2(ctx, a, b)
		fmt.Println(pa, "+", pb)
		return err
	})
	fmt.Println(err)
	// Output:
	// page a + page b
	// <nil>
}

func ExampleSupervise() {
	err := async.Run(context.Background(), func(s *async.Scope) error {
		for _, name := range []string{"a", "broken", "c", "broken"} {
			s.Go(func(ctx context.Context) error {
				_, err := download(ctx, name) // siblings are not canceled
				return err
			})
		}
		return nil
	}, async.Supervise())
	var agg *async.AggregateError
	if errors.As(err, &agg) {
		fmt.Println(len(agg.Errors), "failures")
	}
	// Output: 2 failures
}

func ExamplePool() {
	ctx := context.Background()
	p := async.NewPool(2, async.Backlog(16))
	fs := make([]*async.Future[string], 3)
	for i := range fs {
		fs[i] = async.Submit(ctx, p, func(ctx context.Context) (string, error) {
			return fmt.Sprintf("thumbnail %d", i), nil
		})
	}
	for _, f := range fs {
		v, err := f.Await(ctx)
		fmt.Println(v, err)
	}
	if err := p.Close(); err != nil { // waits for every accepted task
		fmt.Println(err)
	}
	fmt.Printf("%+v\n", p.Stats())
	// Output:
	// thumbnail 0 <nil>
	// thumbnail 1 <nil>
	// thumbnail 2 <nil>
	// {Workers:0 Running:0 Queued:0 Completed:3 Failed:0 Panicked:0}
}
