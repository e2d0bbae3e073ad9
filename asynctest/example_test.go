package asynctest_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/goasync/async"
	"github.com/goasync/async/asynctest"
)

type inventory struct{ stock int }

// reserve has a lost-update bug: it reads the stock, awaits, then writes back.
func (inv *inventory) reserve(ctx context.Context, n int) error {
	s := inv.stock
	if err := async.Yield(ctx); err != nil { // e.g. awaiting a price lookup
		return err
	}
	inv.stock = s - n
	return nil
}

// reporter stands in for the *testing.T a real test passes to Explore.
type reporter struct{ testing.TB }

func (reporter) Helper()      {}
func (reporter) Name() string { return "TestReserve" }
func (reporter) Fatalf(format string, args ...any) {
	fmt.Printf(format+"\n", args...)
}

// In a test, Explore runs a scenario under 100 seeded interleavings and fails
// the test at the first that breaks it, with the command to rerun that seed.
func ExampleExplore() {
	scenario := func(ctx context.Context) error {
		inv := &inventory{stock: 10}
		a := async.Go(ctx, func(ctx context.Context) (int, error) { return 0, inv.reserve(ctx, 3) })
		b := async.Go(ctx, func(ctx context.Context) (int, error) { return 0, inv.reserve(ctx, 4) })
		if _, _, err := async.All2(ctx, a, b); err != nil {
			return err
		}
		if inv.stock != 3 {
			return fmt.Errorf("stock %d, want 3: an update was lost", inv.stock)
		}
		return nil
	}
	asynctest.Explore(reporter{}, 100, scenario) // in a test: asynctest.Explore(t, 100, scenario)
}
