package stream_test

import (
	"context"
	"fmt"
	"iter"
	"strings"
	"sync/atomic"
	"time"

	"github.com/goasync/async"
	"github.com/goasync/async/stream"
)

// lines stands in for a large input read item by item, such as a file.
func lines(n int) iter.Seq[string] {
	return func(yield func(string) bool) {
		for i := range n {
			if !yield(fmt.Sprintf("line %d", i)) {
				return
			}
		}
	}
}

func ExampleMap() {
	ctx := context.Background()
	// Up to 4 calls at once; at most 4+8 lines read ahead of the loop,
	// however long the input; results in input order.
	upper := stream.Map(ctx, lines(5), func(ctx context.Context, s string) (string, error) {
		return strings.ToUpper(s), nil
	}, async.Limit(4), async.Buffer(8))
	for s, err := range upper {
		if err != nil {
			fmt.Println("error:", err)
			break // cancels the calls in flight; they have returned when the loop ends
		}
		fmt.Println(s)
	}
	// Output:
	// LINE 0
	// LINE 1
	// LINE 2
	// LINE 3
	// LINE 4
}

func ExampleMap_failure() {
	ctx := context.Background()
	for n, err := range stream.Map(ctx, lines(100), func(ctx context.Context, s string) (int, error) {
		if s == "line 3" {
			return 0, fmt.Errorf("cannot parse %q", s)
		}
		return len(s), nil
	}, async.Limit(1)) {
		fmt.Println(n, err)
	}
	// Output:
	// 6 <nil>
	// 6 <nil>
	// 6 <nil>
	// 0 cannot parse "line 3"
}

func ExampleBatch() {
	ctx := context.Background()
	events := make(chan string)
	go func() {
		for _, e := range []string{"a", "b", "c", "d", "e"} {
			events <- e
		}
		close(events)
	}()
	// Batches of up to 2 events, or whatever arrived within a second of a
	// batch's first event; the last batch may be short.
	for batch := range stream.Batch(ctx, stream.FromChan(ctx, events), 2, time.Second) {
		fmt.Println(batch)
	}
	// Output:
	// [a b]
	// [c d]
	// [e]
}

func ExampleMerge() {
	ctx := context.Background()
	total := 0
	for s := range stream.Merge(ctx, lines(3), lines(2)) {
		total += len(s)
	}
	fmt.Println(total)
	// Output: 30
}

func ExampleForEach() {
	ctx := context.Background()
	var count atomic.Int64
	err := stream.ForEach(ctx, lines(1000), func(ctx context.Context, s string) error {
		count.Add(1)
		return nil
	}, async.Limit(4))
	fmt.Println(count.Load(), err)
	// Output: 1000 <nil>
}

func ExampleMapSettled() {
	ctx := context.Background()
	// Every line is parsed; a bad one is its own result and the stream
	// goes on.
	for r := range stream.MapSettled(ctx, lines(4), func(ctx context.Context, s string) (int, error) {
		if s == "line 2" {
			return 0, fmt.Errorf("cannot parse %q", s)
		}
		return len(s), nil
	}, async.Limit(2), async.Attempts(2), async.Backoff(0, 0)) {
		fmt.Println(r.Value, r.Err)
	}
	// Output:
	// 6 <nil>
	// 6 <nil>
	// 0 async: 2 attempts: cannot parse "line 2"
	// 6 <nil>
}

func ExampleBatchResults() {
	ctx := context.Background()
	parse := func(ctx context.Context, s string) (int, error) {
		if s == "line 7" {
			return 0, fmt.Errorf("cannot parse %q", s)
		}
		return len(s), nil
	}
	// Parse, batch by 3 (or 50 ms), write: one range statement. The first
	// failure stops every stage; no batch is written after it.
	for batch, err := range stream.BatchResults(ctx, stream.Map(ctx, lines(100), parse, async.Limit(4)), 3, 50*time.Millisecond) {
		if err != nil {
			fmt.Println("error:", err)
			break
		}
		fmt.Println("write", batch)
	}
	// Output:
	// write [6 6 6]
	// write [6 6 6]
	// error: cannot parse "line 7"
}
