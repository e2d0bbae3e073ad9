package lockawait

import (
	"context"
	"iter"
	"sync"
	"time"

	"github.com/goasync/async"
	"github.com/goasync/async/stream"
)

func work(ctx context.Context) (int, error) { return 1, nil }

type cache struct {
	mu   sync.Mutex
	rw   sync.RWMutex
	data map[string]int
}

// True positives.

func (c *cache) deferredUnlock(ctx context.Context) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return async.Go(ctx, work).Await(ctx) // want `c.mu is locked \(line 24\) across Future.Await, which blocks until tasks settle: every other user of c.mu waits meanwhile, and a task that needs it deadlocks; unlock before awaiting`
}

func (c *cache) explicitUnlockAfter(ctx context.Context, f *async.Future[int]) {
	c.mu.Lock()
	v, _ := f.Await(ctx) // want `c.mu is locked \(line 30\) across Future.Await`
	c.data["k"] = v
	c.mu.Unlock()
}

func (c *cache) readLock(ctx context.Context, fs []*async.Future[int]) {
	c.rw.RLock()
	async.All(ctx, fs...) // want `c.rw is locked \(line 37\) across async.All`
	c.rw.RUnlock()
}

func combinators(ctx context.Context, mu *sync.Mutex, fs []*async.Future[int], s *async.Scope, q *async.Queue[int], e *async.Event) {
	mu.Lock()
	async.AllSettled(ctx, fs...)  // want `mu is locked \(line 43\) across async.AllSettled`
	async.Any(ctx, fs...)         // want `across async.Any`
	async.Race(ctx, fs...)        // want `across async.Race`
	s.Wait()                      // want `across Scope.Wait`
	q.Get(ctx)                    // want `across Queue.Get`
	q.Put(ctx, 1)                 // want `across Queue.Put`
	e.Wait(ctx)                   // want `across Event.Wait`
	async.Sleep(ctx, time.Second) // want `across async.Sleep`
	mu.Unlock()
}

type embedded struct {
	sync.Mutex
	n int
}

func (e *embedded) promoted(ctx context.Context, f *async.Future[int]) {
	e.Lock()
	e.n, _ = f.Await(ctx) // want `e is locked \(line 61\) across Future.Await`
	e.Unlock()
}

func stillHeldAfterBranch(ctx context.Context, mu *sync.Mutex, f *async.Future[int], c bool) {
	mu.Lock()
	if c {
		mu.Unlock()
		return
	}
	f.Await(ctx) // want `mu is locked \(line 67\) across Future.Await`
	mu.Unlock()
}

func inLoopBody(ctx context.Context, mu *sync.Mutex, fs []*async.Future[int]) {
	for _, f := range fs {
		mu.Lock()
		f.Await(ctx) // want `mu is locked`
		mu.Unlock()
	}
}

func inClosure(ctx context.Context, mu *sync.Mutex, f *async.Future[int]) {
	go func() {
		mu.Lock()
		defer mu.Unlock()
		f.Await(ctx) // want `mu is locked`
	}()
}

func inCondition(ctx context.Context, mu *sync.Mutex, f *async.Future[int]) {
	mu.Lock()
	defer mu.Unlock()
	if _, err := f.Await(ctx); err != nil { // want `mu is locked`
		return
	}
}

func (c *cache) streamUnderLock(ctx context.Context, in iter.Seq[int]) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for v := range stream.Batch(ctx, in, 10, time.Second) { // want `c.mu is locked \(line [0-9]+\) across ranging over stream.Batch, which blocks until tasks settle`
		c.data["n"] += len(v)
	}
	return stream.ForEach(ctx, in, func(context.Context, int) error { return nil }) // want `c.mu is locked \(line [0-9]+\) across stream.ForEach`
}
