package ctxforward

import (
	"context"
	"time"

	"github.com/goasync/async"
)

// Near misses.

// No context in scope: a root context is the only choice.
func noContext() {
	ctx := context.Background()
	async.Sleep(ctx, time.Second)
}

func noContextAtAll() {
	async.Sleep(context.Background(), time.Second)
}

// Deliberately detached: says so.
func detached(ctx context.Context) {
	async.Go(context.WithoutCancel(ctx), work).Await(ctx)
}

// Forwarded.
func forwarded(ctx context.Context) {
	async.Go(ctx, work).Await(ctx)
}

// A derived context is fine.
func derived(ctx context.Context) {
	short, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	async.Sleep(short, time.Second)
}

// Not the library.
func other(ctx context.Context) {
	time.AfterFunc(time.Second, func() {})
	use(context.Background())
}

func use(context.Context) {}

// The context is declared after the call: not in scope yet.
func declaredLater() {
	async.Sleep(context.Background(), time.Second)
	ctx := context.Background()
	_ = ctx
}

// A blank parameter cannot be passed.
func blankParam(_ context.Context) {
	async.Sleep(context.Background(), time.Second)
}

// A package-level context is not "in scope" in the sense that matters:
// nothing cancels it on behalf of this call.
var rootCtx = context.Background()

func packageLevel() {
	async.Sleep(context.Background(), time.Second)
	_ = rootCtx
}

// A local context made for another purpose (a worker's lifetime) is not
// the caller's: only parameters count.
func localContext() {
	workerCtx, stop := context.WithCancel(context.Background())
	defer stop()
	go func() { async.Sleep(workerCtx, time.Second) }()
	async.Go(context.Background(), work).Await(context.Background())
}

// Unexported helpers of the library are its own business; here, a
// same-package function that is not the library.
func unexported(ctx context.Context) {
	helper(context.Background())
}

func helper(context.Context) {}
