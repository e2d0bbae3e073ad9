// Package asynctest finds ordering bugs in code that runs in an event loop
// (see async.RunLoop) by running it under many reproducible interleavings.
package asynctest

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"

	"github.com/goasync/async"
)

// SeedEnv names the environment variable that makes Explore run one seed
// only, to reproduce a failure it reported.
const SeedEnv = "ASYNCTEST_SEED"

// Explore runs fn in async.RunLoop once per seed 1..runs, with
// async.Seed(seed) and async.VirtualTime(), so each run interleaves the loop
// tasks differently but reproducibly, and sleeping costs no real time. At the
// first run whose fn returns an error (or whose loop task fails unobserved),
// Explore fails the test, naming the seed and the command that reruns just
// that seed (ASYNCTEST_SEED=n go test -run '^TestName$' ...), and stops.
func Explore(t testing.TB, runs int, fn func(ctx context.Context) error) {
	t.Helper()
	if runs < 1 {
		panic(fmt.Sprintf("async: asynctest.Explore(runs=%d): need at least one run", runs))
	}
	if fn == nil {
		panic("async: asynctest.Explore with nil function")
	}
	first, last := int64(1), int64(runs)
	if s := os.Getenv(SeedEnv); s != "" {
		seed, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			t.Fatalf("asynctest: %s=%q is not a number", SeedEnv, s)
			return
		}
		first, last = seed, seed
	}
	for seed := first; seed <= last; seed++ {
		err := async.RunLoop(context.Background(), fn, async.Seed(seed), async.VirtualTime())
		if err != nil {
			t.Fatalf("asynctest: seed %d of %d failed: %v\nrerun it alone with:\n\t%s=%d go test -run '^%s$' .",
				seed, runs, err, SeedEnv, seed, t.Name())
			return
		}
	}
}
