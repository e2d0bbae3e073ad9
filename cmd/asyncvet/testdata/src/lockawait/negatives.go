package lockawait

import (
	"context"
	"iter"
	"sync"

	"github.com/goasync/async"
	"github.com/goasync/async/stream"
)

// Near misses.

// The fix: copy out, unlock, await, lock again to publish.
func (c *cache) unlockFirst(ctx context.Context) (int, error) {
	c.mu.Lock()
	key := len(c.data)
	c.mu.Unlock()
	v, err := async.Go(ctx, func(ctx context.Context) (int, error) { return key, nil }).Await(ctx)
	c.mu.Lock()
	c.data["k"] = v
	c.mu.Unlock()
	return v, err
}

// Unlocked on every path before the await.
func unlockedInBothBranches(ctx context.Context, mu *sync.Mutex, f *async.Future[int], c bool) {
	mu.Lock()
	if c {
		mu.Unlock()
	} else {
		mu.Unlock()
	}
	f.Await(ctx)
}

// Locked on one path only: not reported (only locks held on every path).
func conditionalLock(ctx context.Context, mu *sync.Mutex, f *async.Future[int], c bool) {
	if c {
		mu.Lock()
	}
	f.Await(ctx)
	if c {
		mu.Unlock()
	}
}

// Awaited inside a goroutine started under the lock: the goroutine does not
// hold it.
func goroutineUnderLock(ctx context.Context, mu *sync.Mutex, f *async.Future[int]) {
	mu.Lock()
	defer mu.Unlock()
	go func() {
		f.Await(ctx)
	}()
}

// A function literal made under the lock runs later, without it.
func callbackUnderLock(ctx context.Context, mu *sync.Mutex, f *async.Future[int]) func() {
	mu.Lock()
	defer mu.Unlock()
	return func() { f.Await(ctx) }
}

// Starting work under the lock does not block.
func startUnderLock(ctx context.Context, mu *sync.Mutex) *async.Future[int] {
	mu.Lock()
	defer mu.Unlock()
	return async.Go(ctx, work)
}

// Non-blocking peeks are fine.
func peekUnderLock(mu *sync.Mutex, f *async.Future[int]) bool {
	mu.Lock()
	defer mu.Unlock()
	_, done := f.Peek()
	return done
}

// A different lock was released: only the one still held counts, and here
// none is.
func twoLocks(ctx context.Context, a, b *sync.Mutex, f *async.Future[int]) {
	a.Lock()
	b.Lock()
	b.Unlock()
	a.Unlock()
	f.Await(ctx)
}

// The await is after the loop whose body balances the lock.
func afterLoop(ctx context.Context, mu *sync.Mutex, fs []*async.Future[int]) {
	for range fs {
		mu.Lock()
		mu.Unlock()
	}
	async.All(ctx, fs...)
}

// Unlocked in every case of a switch.
func switchUnlock(ctx context.Context, mu *sync.Mutex, f *async.Future[int], n int) {
	mu.Lock()
	switch n {
	case 0:
		mu.Unlock()
	default:
		mu.Unlock()
	}
	f.Await(ctx)
}

// A critical section in a function literal called in place: the lock is
// released before the await.
func criticalSectionLiteral(ctx context.Context, mu *sync.Mutex, f *async.Future[int], data map[int]int) {
	func() {
		mu.Lock()
		defer mu.Unlock()
		data[0] = 1
	}()
	f.Await(ctx)
}

// Read lock released before the await.
func readUnlocked(ctx context.Context, rw *sync.RWMutex, f *async.Future[int]) {
	rw.RLock()
	rw.RUnlock()
	f.Await(ctx)
}

// Unlocked on the path that awaits.
func unlockedOnThisPath(ctx context.Context, mu *sync.Mutex, f *async.Future[int], c bool) {
	mu.Lock()
	if c {
		mu.Unlock()
		f.Await(ctx)
	} else {
		mu.Unlock()
	}
}

// Not a sync mutex: a type of its own with Lock and Unlock methods.
type gate struct{}

func (gate) Lock()   {}
func (gate) Unlock() {}

func ownLockType(ctx context.Context, g gate, f *async.Future[int]) {
	g.Lock()
	f.Await(ctx)
	g.Unlock()
}

// A select case unlocks, the other returns.
func selectUnlock(ctx context.Context, mu *sync.Mutex, f *async.Future[int], ch chan int) {
	mu.Lock()
	select {
	case <-ch:
		mu.Unlock()
	case <-ctx.Done():
		mu.Unlock()
		return
	}
	f.Await(ctx)
}

// Ranging over a plain sequence, or a stream after unlocking, holds no lock
// across a wait.
func (c *cache) streamAfterUnlock(ctx context.Context, in iter.Seq[int]) {
	c.mu.Lock()
	for v := range in {
		c.data["v"] = v
	}
	c.mu.Unlock()
	for v := range stream.Merge(ctx, in) {
		_ = v
	}
}
