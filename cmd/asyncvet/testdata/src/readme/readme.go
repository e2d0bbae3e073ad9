// Package readme holds the README's examples: every line the README marks
// as a mistake carries a want, and nothing else may be reported (no false
// positives on the documentation).
package readme

import (
	"context"
	"errors"
	"iter"
	"slices"
	"sync"
	"time"

	"github.com/goasync/async"
	"github.com/goasync/async/dist"
	"github.com/goasync/async/stream"
)

type (
	User  struct{}
	Order struct{}
	Item  struct{}
	Image struct{}
	Thumb struct{}
)

type apiClient struct{}

func (apiClient) User(ctx context.Context, id int) (User, error)      { return User{}, nil }
func (apiClient) Orders(ctx context.Context, id int) ([]Order, error) { return nil, nil }
func (apiClient) Item(ctx context.Context, id int) (Item, error)      { return Item{}, nil }
func (apiClient) Save(ctx context.Context, id int) (struct{}, error)  { return struct{}{}, nil }
func (apiClient) Touch(ctx context.Context, id int) error             { return nil }
func fetcher(id int) func(context.Context) (Item, error)              { return nil }
func save(ctx context.Context) (int, error)                           { return 0, nil }
func task(ctx context.Context) error                                  { return nil }
func prepare() error                                                  { return nil }
func use(...any)                                                      {}

var api apiClient

// The 30-second example (section quick).
func quick(ctx context.Context, id int) error {
	user := async.Go(ctx, func(ctx context.Context) (User, error) { return api.User(ctx, id) })
	orders := async.Go(ctx, func(ctx context.Context) ([]Order, error) { return api.Orders(ctx, id) })
	u, os, err := async.All2(ctx, user, orders)
	if err != nil {
		return err
	}
	use(u, os)
	return nil
}

// Section scopes.
func scopes(ctx context.Context, urls []string) ([]string, error) {
	pages := make([]string, len(urls))
	fetch := func(ctx context.Context, url string) (string, error) { return url, nil }
	err := async.Run(ctx, func(s *async.Scope) error {
		for i, url := range urls {
			s.Go(func(ctx context.Context) error {
				page, err := fetch(ctx, url)
				pages[i] = page
				return err
			})
		}
		return nil
	}, async.Limit(8))
	return pages, err
}

// Section dist.
func distCall(ctx context.Context, c *dist.Client, img Image) error {
	f := dist.Call[Image, Thumb](ctx, c, "resize", img)
	thumb, err := f.Await(ctx)
	use(thumb)
	return err
}

// Section asyncvet: one example per check, the mistake and its fix.

func unawaited(ctx context.Context) error {
	async.Go(ctx, save)      // want `the future from async.Go is discarded`
	f := async.Go(ctx, save) // want `stored in f but never awaited`
	defer f.Cancel()
	_, err := async.Go(ctx, save).Await(ctx)
	return err
}

func awaitloop(ctx context.Context, ids []int) error {
	for _, id := range ids {
		it, err := async.Go(ctx, fetcher(id)).Await(ctx) // want `sequential await in a loop`
		if err != nil {
			return err
		}
		use(it)
	}
	items, err := async.Map(ctx, ids, api.Item)
	use(items)
	return err
}

type cache struct {
	mu   sync.Mutex
	data map[int]Item
}

func (c *cache) lockawait(ctx context.Context, id int) (Item, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return async.Go(ctx, fetcher(id)).Await(ctx) // want `c.mu is locked \(line \d+\) across Future.Await`
}

func (c *cache) lockawaitFixed(ctx context.Context, id int) (Item, error) {
	it, err := async.Go(ctx, fetcher(id)).Await(ctx)
	if err != nil {
		return Item{}, err
	}
	c.mu.Lock()
	c.data[id] = it
	c.mu.Unlock()
	return it, nil
}

func blocking(ctx context.Context, ids iter.Seq[int]) error {
	return async.RunLoop(ctx, func(ctx context.Context) error {
		time.Sleep(time.Second)                    // want `time.Sleep blocks the event loop`
		err := stream.ForEach(ctx, ids, api.Touch) // want `stream.ForEach blocks the event loop`
		err = async.ForEach(ctx, slices.Collect(ids), api.Touch)
		_ = err
		return async.Sleep(ctx, time.Second)
	})
}

func ctxforward(ctx context.Context, id int) (Item, error) {
	return async.Go(context.Background(), fetcher(id)).Await(ctx) // want `pass ctx so cancellation reaches the task`
}

func ctxforwardFixed(ctx context.Context, id int) (Item, error) {
	return async.Go(ctx, fetcher(id)).Await(ctx)
}

func scopewait(ctx context.Context) error {
	s := async.NewScope(ctx) // want `s.Wait is not called on every path`
	s.Go(task)
	if err := prepare(); err != nil {
		return err
	}
	return s.Wait()
}

func scopewaitFixed(ctx context.Context) error {
	return async.Run(ctx, func(s *async.Scope) error {
		s.Go(task)
		return prepare()
	})
}

var errIgnored = errors.New("x")

func ignored(ctx context.Context) {
	async.Go(ctx, save) //asyncvet:ignore unawaited fire and forget: the save is best effort
	_ = errIgnored
}
