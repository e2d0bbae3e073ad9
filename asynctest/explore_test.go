package asynctest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/goasync/async"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// recorder is a testing.TB that records a failure instead of failing.
type recorder struct {
	testing.TB
	mu     sync.Mutex
	failed string
}

func (r *recorder) Fatalf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failed = fmt.Sprintf(format, args...)
}

func (r *recorder) Helper() {}

// account has a check-then-act bug: a withdrawal checks the balance, awaits
// something (a fraud check), then debits, so two withdrawals can both pass the
// check before either debits.
type account struct{ balance int }

func (a *account) withdraw(ctx context.Context, amount int) error {
	if a.balance < amount {
		return nil // refused
	}
	if err := async.Yield(ctx); err != nil { // stands in for awaiting a fraud check
		return err
	}
	a.balance -= amount
	return nil
}

func overdraw(ctx context.Context) error {
	a := &account{balance: 100}
	w1 := async.Go(ctx, func(ctx context.Context) (int, error) { return 0, a.withdraw(ctx, 80) })
	w2 := async.Go(ctx, func(ctx context.Context) (int, error) { return 0, a.withdraw(ctx, 50) })
	if _, _, err := async.All2(ctx, w1, w2); err != nil {
		return err
	}
	if a.balance < 0 {
		return fmt.Errorf("balance went negative: %d", a.balance)
	}
	return nil
}

func TestExploreFindsTheLostUpdate(t *testing.T) {
	rec := &recorder{TB: t}
	Explore(rec, 100, overdraw)
	if !strings.Contains(rec.failed, "balance went negative") || !strings.Contains(rec.failed, SeedEnv+"=") {
		t.Fatalf("Explore did not report the bug with a rerun command: %q", rec.failed)
	}
}

func TestExploreRerunsOneSeed(t *testing.T) {
	var seeds []int
	n := 0
	t.Setenv(SeedEnv, "7")
	Explore(t, 100, func(ctx context.Context) error { n++; return nil })
	if n != 1 {
		t.Fatalf("ran %d times with %s set; want 1", n, SeedEnv)
	}
	_ = seeds
}

func TestExplorePassesCorrectCode(t *testing.T) {
	Explore(t, 50, func(ctx context.Context) error {
		var mu sync.Mutex // not needed in the loop, but harmless
		total := 0
		fs := make([]*async.Future[int], 10)
		for i := range fs {
			fs[i] = async.Go(ctx, func(ctx context.Context) (int, error) {
				mu.Lock()
				total += i
				mu.Unlock()
				return i, async.Yield(ctx)
			})
		}
		_, err := async.All(ctx, fs...)
		if total != 45 {
			return fmt.Errorf("total %d", total)
		}
		return err
	})
}
