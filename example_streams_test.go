package async_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/goasync/async"
)

func ExampleMap() {
	ctx := context.Background()
	urls := []string{"/a", "/b", "/c", "/d"}

	// Slow: each request waits for the one before it.
	//
	//	for _, u := range urls {
	//		page, err := async.Go(ctx, func(ctx context.Context) (string, error) { return fetch(ctx, u) }).Await(ctx)
	//		...
	//	}
	//
	// Fast: all at once (at most 8 at a time), results in input order.
	pages, err := async.Map(ctx, urls, fetch, async.Limit(8))
	fmt.Println(pages, err)

	// The first failure cancels the requests still running and is returned.
	_, err = async.Map(ctx, []string{"/a", "/broken"}, fetch)
	fmt.Println(err)
	// Output:
	// [body of /a body of /b body of /c body of /d] <nil>
	// GET /broken: 503
}

func ExampleMap_progress() {
	ctx := context.Background()
	ids := make([]int, 1000)
	var last int
	_, err := async.Map(ctx, ids, func(ctx context.Context, id int) (int, error) {
		return id * 2, nil
	}, async.Progress(func(done, total int) {
		// Called from one goroutine at a time, with done increasing.
		last = done
		if done == total {
			fmt.Printf("%d/%d done\n", done, total)
		}
	}))
	fmt.Println(last, err)
	// Output:
	// 1000/1000 done
	// 1000 <nil>
}

func ExampleForEach() {
	ctx := context.Background()
	err := async.ForEach(ctx, []string{"/a", "/broken", "/c"}, func(ctx context.Context, u string) error {
		_, err := fetch(ctx, u)
		return err
	}, async.Limit(2))
	fmt.Println(err)
	// Output: GET /broken: 503
}

func ExampleQueue() {
	ctx := context.Background()
	q := async.NewQueue[string](2)

	done := make(chan struct{})
	go func() { // the consumer
		defer close(done)
		for job := range q.All(ctx) { // ends when q is closed and drained
			fmt.Println("got", job)
		}
	}()
	for _, job := range []string{"a", "b", "c"} {
		if err := q.Put(ctx, job); err != nil { // blocks while the queue is full
			fmt.Println(err)
		}
	}
	q.Close() // items already queued are still delivered
	<-done
	fmt.Println(q.Put(ctx, "d"))
	// Output:
	// got a
	// got b
	// got c
	// async: closed
}

func ExampleEvent() {
	ctx := context.Background()
	var ready async.Event
	f := async.Go(ctx, func(ctx context.Context) (string, error) {
		if err := ready.Wait(ctx); err != nil {
			return "", err
		}
		return "started after the event", nil
	})
	ready.Set()
	fmt.Println(f.Await(ctx))
	// Output: started after the event <nil>
}

func ExampleLazy() {
	ctx := context.Background()
	calls := 0
	config := async.NewLazy(func(ctx context.Context) (map[string]string, error) {
		calls++
		if calls == 1 {
			return nil, errors.New("config server unavailable")
		}
		return map[string]string{"region": "eu"}, nil
	})
	_, err := config.Get(ctx) // runs the function; the failure is not kept
	fmt.Println(err)
	c, err := config.Get(ctx) // runs it again, and keeps the result
	fmt.Println(c["region"], err)
	c, _ = config.Get(ctx) // cached
	fmt.Println(c["region"], calls)
	// Output:
	// config server unavailable
	// eu <nil>
	// eu 2
}
