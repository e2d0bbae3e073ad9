package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/goasync/async"
)

// loopDemos shows the cooperative event loop: shared state without locks, a
// task that blocks the loop being reported, and a seeded run reproducing an
// ordering bug.
func loopDemos() {
	step("event loop: 1000 tasks share a map without locks", func() string {
		hits := map[int]int{}
		err := async.RunLoop(context.Background(), func(ctx context.Context) error {
			fs := make([]*async.Future[int], 1000)
			for i := range fs {
				fs[i] = async.Go(ctx, func(ctx context.Context) (int, error) {
					hits[i%10]++ // no mutex: one loop task runs at a time
					if err := async.Yield(ctx); err != nil {
						return 0, err
					}
					hits[i%10]++
					return i, nil
				})
			}
			_, err := async.All(ctx, fs...)
			return err
		})
		total := 0
		for _, n := range hits {
			total += n
		}
		return fmt.Sprintf("%d updates, none lost, err=%v (run it under -race: no report)", total, err)
	})

	step("event loop: a task that blocks the loop is reported", func() string {
		prev := slog.Default()
		slog.SetDefault(slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
			ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
				if a.Key == slog.TimeKey {
					return slog.Attr{} // keep the tour's output short
				}
				return a
			},
		})))
		defer slog.SetDefault(prev)
		fmt.Print("   ")
		err := async.RunLoop(context.Background(), func(ctx context.Context) error {
			_, err := async.Go(ctx, func(ctx context.Context) (int, error) {
				//asyncvet:ignore blocking this demo blocks the loop on purpose
				time.Sleep(150 * time.Millisecond) // blocks the loop: should be async.Sleep or Offload
				return 0, nil
			}, async.Name("resize-images")).Await(ctx)
			return err
		}, async.SlowTask(100*time.Millisecond))
		return fmt.Sprintf("warned above; err=%v", err)
	})

	step("event loop: a seed reproduces an interleaving that loses an update", func() string {
		// Two withdrawals check the balance, await, then debit: some
		// interleavings overdraw. Find a seed that does, then replay it.
		scenario := func(ctx context.Context) error {
			balance := 100
			withdraw := func(amount int) func(context.Context) (int, error) {
				return func(ctx context.Context) (int, error) {
					if balance < amount {
						return 0, nil
					}
					if err := async.Yield(ctx); err != nil { // e.g. awaiting a fraud check
						return 0, err
					}
					balance -= amount
					return amount, nil
				}
			}
			_, _, err := async.All2(ctx, async.Go(ctx, withdraw(80)), async.Go(ctx, withdraw(50)))
			if err == nil && balance < 0 {
				return fmt.Errorf("balance %d", balance)
			}
			return err
		}
		for seed := int64(1); seed <= 100; seed++ {
			first := async.RunLoop(context.Background(), scenario, async.Seed(seed))
			if first == nil {
				continue
			}
			again := async.RunLoop(context.Background(), scenario, async.Seed(seed))
			return fmt.Sprintf("seed %d: %v; replayed with the same seed: %v", seed, first, again)
		}
		return "no seed of 100 broke it"
	})
}
