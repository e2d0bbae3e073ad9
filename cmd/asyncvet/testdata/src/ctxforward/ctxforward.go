package ctxforward

import (
	"context"
	"time"

	"github.com/goasync/async"
	"github.com/goasync/async/dist"
)

func work(ctx context.Context) (int, error) { return 1, nil }

// True positives.

func param(ctx context.Context) {
	f := async.Go(context.Background(), work) // want `context.Background\(\) passed to async.Go although ctx is in scope: pass ctx so cancellation reaches the task \(or context.WithoutCancel\(ctx\) if it must outlive it\)`
	f.Await(ctx)
}

func todo(ctx context.Context) error {
	return async.Sleep(context.TODO(), time.Second) // want `context.TODO\(\) passed to async.Sleep although ctx is in scope: pass ctx so the wait`
}

func await(ctx context.Context, f *async.Future[int]) {
	f.Await(context.Background()) // want `passed to Future.Await although ctx is in scope: pass ctx so the wait ends when ctx does`
}

func closure(ctx context.Context) {
	go func() {
		async.Sleep(context.Background(), time.Second) // want `although ctx is in scope`
	}()
}

func innermost(ctx context.Context) {
	inner, cancel := context.WithCancel(ctx)
	defer cancel()
	async.Sleep(context.Background(), time.Second) // want `passed to async.Sleep although ctx is in scope: pass ctx so the wait ends when ctx does`
	_ = inner
}

func outerParam(ctx context.Context) func(int) {
	return func(n int) {
		async.Go(context.Background(), work).Await(ctx) // want `passed to async.Go although ctx is in scope: pass ctx so cancellation reaches the task`
	}
}

func funcValue(ctx context.Context) {
	fetch := async.Func(func(ctx context.Context, id int) (int, error) { return id, nil })
	fetch(context.Background(), 1).Await(ctx) // want `passed to fetch although ctx is in scope`
}

func scoped(ctx context.Context) error {
	s := async.NewScope(context.Background()) // want `passed to async.NewScope although ctx is in scope`
	return s.Wait()
}

func distributed(ctx context.Context, c *dist.Client) {
	dist.Call[string, int](context.Background(), c, "resize", "img").Await(ctx) // want `passed to dist.Call although ctx is in scope`
}
