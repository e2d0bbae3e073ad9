package awaitloop

import (
	"context"

	"github.com/goasync/async"
)

// Near misses.

// Started in the loop, awaited after it: the fix itself.
func awaitedAfterLoop(ctx context.Context, ids []int) ([]int, error) {
	fs := make([]*async.Future[int], len(ids))
	for i, id := range ids {
		fs[i] = async.Go(ctx, func(ctx context.Context) (int, error) { return fetch(ctx, id) })
	}
	return async.All(ctx, fs...)
}

// Awaiting futures that were all started before the loop.
func awaitedInOrder(ctx context.Context, fs []*async.Future[int]) int {
	total := 0
	for _, f := range fs {
		v, _ := f.Await(ctx)
		total += v
	}
	return total
}

// Each iteration needs the previous one's result: a cursor.
func paginate(ctx context.Context, pages int) error {
	cursor := 0
	for i := 0; i < pages; i++ {
		next, err := async.Go(ctx, func(ctx context.Context) (int, error) { return fetch(ctx, cursor) }).Await(ctx)
		if err != nil {
			return err
		}
		cursor = next
	}
	return nil
}

// The loop's condition depends on the results.
func untilDone(ctx context.Context, limit int) {
	done := false
	for i := 0; i < limit && !done; i++ {
		v, _ := async.Go(ctx, func(ctx context.Context) (int, error) { return fetch(ctx, i) }).Await(ctx)
		done = v > 10
	}
}

// A failover loop: try the next mirror only if this one failed.
func failover(ctx context.Context, mirrors []int) (int, error) {
	var last error
	for _, m := range mirrors {
		v, err := async.Go(ctx, func(ctx context.Context) (int, error) { return fetch(ctx, m) }).Await(ctx)
		if err == nil {
			return v, nil
		}
		last = err
	}
	return 0, last
}

// A search that stops at the first hit.
func search(ctx context.Context, ids []int) int {
	found := -1
	for _, id := range ids {
		v, _ := async.Go(ctx, func(ctx context.Context) (int, error) { return fetch(ctx, id) }).Await(ctx)
		if v == 42 {
			found = id
			break
		}
	}
	return found
}

// The task writes to a variable outside the loop: concurrent tasks would
// race.
func sharedState(ctx context.Context, ids []int) int {
	sum := 0
	for _, id := range ids {
		async.Go(ctx, func(ctx context.Context) (int, error) {
			sum += id
			return sum, nil
		}).Await(ctx)
	}
	return sum
}

// Retry and polling loops with only a condition.
func retry(ctx context.Context) (int, error) {
	for {
		v, err := async.Go(ctx, func(ctx context.Context) (int, error) { return fetch(ctx, 1) }).Await(ctx)
		if err == nil {
			return v, nil
		}
	}
}

// A stream: values arrive one by one.
func stream(ctx context.Context, ch <-chan int) {
	for id := range ch {
		async.Go(ctx, func(ctx context.Context) (int, error) { return fetch(ctx, id) }).Await(ctx)
	}
}

// Awaited in a goroutine or a deferred call: not this loop's iteration.
func deferredAwaits(ctx context.Context, ids []int) {
	for _, id := range ids {
		f := async.Go(ctx, func(ctx context.Context) (int, error) { return fetch(ctx, id) })
		defer f.Await(ctx)
		go func() { f.Await(ctx) }()
	}
}

// Batches: All per iteration is a deliberate batch boundary.
func batches(ctx context.Context, groups [][]int) {
	for _, g := range groups {
		fs := make([]*async.Future[int], len(g))
		for i, id := range g {
			fs[i] = async.Go(ctx, func(ctx context.Context) (int, error) { return fetch(ctx, id) })
		}
		async.All(ctx, fs...)
	}
}

// Already settled futures are not tasks.
func resolved(ctx context.Context, ids []int) {
	for _, id := range ids {
		async.Resolved(id).Await(ctx)
	}
}
