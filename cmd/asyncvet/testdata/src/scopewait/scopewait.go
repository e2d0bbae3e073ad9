package scopewait

import (
	"context"
	"errors"

	"github.com/goasync/async"
)

func task(ctx context.Context) error { return nil }

func prepare() error { return nil }

// True positives.

func earlyReturn(ctx context.Context) error {
	s := async.NewScope(ctx) // want `s.Wait is not called on every path: the return on line 21 is reached without it; the scope's children would outlive the function and their failures would be lost: call Wait before returning \(defer s.Wait\(\) counts\), or use async.Run`
	s.Go(task)
	if err := prepare(); err != nil {
		s.Cancel()
		return err
	}
	return s.Wait()
}

func never(ctx context.Context) {
	s := async.NewScope(ctx) // want `s.Wait is not called on every path: the end of the function is reached without it`
	s.Go(task)
}

func discarded(ctx context.Context) {
	async.NewScope(ctx) // want `the scope from async.NewScope is discarded, so nothing can wait for it`
}

func blank(ctx context.Context) {
	_ = async.NewScope(ctx) // want `the scope from async.NewScope is assigned to _`
}

func onlyInOneBranch(ctx context.Context, c bool) error {
	var s = async.NewScope(ctx) // want `scope's children would outlive`
	s.Go(task)
	if c {
		return s.Wait()
	}
	return nil
}

func waitInLoopBodyOnly(ctx context.Context, n int) error {
	s := async.NewScope(ctx) // want `s.Wait is not called on every path`
	for i := 0; i < n; i++ {
		if i == 3 {
			return s.Wait()
		}
	}
	return errors.New("not found")
}

func spawnedOnly(ctx context.Context) (int, error) {
	s := async.NewScope(ctx) // want `s.Wait is not called on every path`
	f := async.Spawn(s, func(ctx context.Context) (int, error) { return 1, nil })
	return f.Await(ctx)
}

func inClosure(ctx context.Context) func() {
	return func() {
		s := async.NewScope(ctx) // want `s.Wait is not called on every path`
		s.Go(func(ctx context.Context) error {
			s.Go(task) // a child starting a sibling is not "someone else waits"
			return nil
		})
	}
}
