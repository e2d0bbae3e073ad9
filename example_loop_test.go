package async_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"time"

	"github.com/goasync/async"
)

// In a loop, only one task runs at a time, so loop tasks share state without
// locks; they switch only where they wait.
func ExampleRunLoop() {
	err := async.RunLoop(context.Background(), func(ctx context.Context) error {
		hits := map[string]int{} // no mutex: one loop task at a time
		var fs []*async.Future[int]
		for _, page := range []string{"/", "/about", "/", "/"} {
			fs = append(fs, async.Go(ctx, func(ctx context.Context) (int, error) {
				if err := async.Sleep(ctx, 10*time.Millisecond); err != nil { // gives the loop up
					return 0, err
				}
				hits[page]++
				return hits[page], nil
			}))
		}
		if _, err := async.All(ctx, fs...); err != nil {
			return err
		}
		fmt.Println(hits["/"], hits["/about"])
		return nil
	})
	fmt.Println(err)
	// Output:
	// 3 1
	// <nil>
}

// Seed and VirtualTime make a run reproducible and let it sleep for free.
func ExampleRunLoop_virtualTime() {
	async.RunLoop(context.Background(), func(ctx context.Context) error {
		start := async.Now(ctx)
		reminders := []*async.Future[string]{
			async.Go(ctx, func(ctx context.Context) (string, error) { return "stand-up", async.Sleep(ctx, 24*time.Hour) }),
			async.Go(ctx, func(ctx context.Context) (string, error) { return "retro", async.Sleep(ctx, 14*24*time.Hour) }),
		}
		for i, r := range async.AsCompleted(ctx, reminders...) {
			fmt.Println(i, r.Value, async.Now(ctx).Sub(start))
		}
		return nil
	}, async.VirtualTime(), async.Seed(1))
	// Output:
	// 0 stand-up 24h0m0s
	// 1 retro 336h0m0s
}

// Offload runs CPU-heavy work outside the loop, so other loop tasks go on.
func ExampleOffload() {
	async.RunLoop(context.Background(), func(ctx context.Context) error {
		digest := async.Offload(ctx, func(ctx context.Context) ([32]byte, error) {
			data := make([]byte, 1<<20)
			return sha256.Sum256(data), nil // runs on another goroutine
		})
		ticks := async.Go(ctx, func(ctx context.Context) (int, error) {
			n := 0
			for { // other loop tasks keep running while the hash is computed
				n++
				if err := async.Yield(ctx); err != nil || isDone(digest) {
					return n, err
				}
			}
		})
		sum, err := digest.Await(ctx) // gives the loop up while the hash runs
		n, _ := ticks.Await(ctx)
		fmt.Printf("%x %v the loop stayed responsive: %v\n", sum[:4], err, n > 0)
		return nil
	})
	// Output: 30e14955 <nil> the loop stayed responsive: true
}

func isDone[T any](f *async.Future[T]) bool {
	_, done := f.Peek()
	return done
}
