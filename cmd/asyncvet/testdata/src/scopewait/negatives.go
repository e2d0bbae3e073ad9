package scopewait

import (
	"context"

	"github.com/goasync/async"
)

// Near misses.

func waited(ctx context.Context) error {
	s := async.NewScope(ctx)
	s.Go(task)
	return s.Wait()
}

func deferred(ctx context.Context) error {
	s := async.NewScope(ctx)
	defer s.Wait()
	s.Go(task)
	if err := prepare(); err != nil {
		return err
	}
	return nil
}

func deferredLiteral(ctx context.Context) (err error) {
	s := async.NewScope(ctx)
	defer func() {
		if werr := s.Wait(); err == nil {
			err = werr
		}
	}()
	s.Go(task)
	return prepare()
}

func waitedInBothBranches(ctx context.Context, c bool) error {
	s := async.NewScope(ctx)
	s.Go(task)
	if c {
		s.Cancel()
		return s.Wait()
	}
	err := s.Wait()
	return err
}

func waitedInCondition(ctx context.Context) string {
	s := async.NewScope(ctx)
	s.Go(task)
	if err := s.Wait(); err != nil {
		return err.Error()
	}
	return ""
}

func panics(ctx context.Context) error {
	s := async.NewScope(ctx)
	if err := prepare(); err != nil {
		panic(err) // a panicking path is not reported
	}
	return s.Wait()
}

// Returned: the caller waits.
func returned(ctx context.Context) *async.Scope {
	s := async.NewScope(ctx)
	s.Go(task)
	return s
}

func returnedDirectly(ctx context.Context) *async.Scope {
	return async.NewScope(ctx)
}

type server struct{ scope *async.Scope }

// Stored: the owner waits (in Close, say).
func stored(ctx context.Context, srv *server) {
	srv.scope = async.NewScope(ctx)
	srv.scope.Go(task)
}

func storedLocalThenField(ctx context.Context, srv *server) {
	s := async.NewScope(ctx)
	srv.scope = s
}

// Handed to other code.
func handedOn(ctx context.Context) {
	s := async.NewScope(ctx)
	closeLater(s)
}

func closeLater(*async.Scope) {}

// Waited for by a goroutine that reports the result.
func waitedInGoroutine(ctx context.Context) <-chan error {
	s := async.NewScope(ctx)
	s.Go(task)
	errc := make(chan error, 1)
	go func() { errc <- s.Wait() }()
	return errc
}

// Sent to whoever waits.
func sent(ctx context.Context, ch chan<- *async.Scope) {
	s := async.NewScope(ctx)
	ch <- s
}

// Waited at the end of every loop iteration.
func perIteration(ctx context.Context, n int) error {
	for i := 0; i < n; i++ {
		s := async.NewScope(ctx)
		s.Go(task)
		if err := s.Wait(); err != nil {
			return err
		}
	}
	return nil
}

// async.Run waits by construction.
func run(ctx context.Context) error {
	return async.Run(ctx, func(s *async.Scope) error {
		s.Go(task)
		return nil
	})
}

// Handed to a helper that waits in a goroutine (as the library's own tests
// do).
func waitAsync(s *async.Scope, err *error) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		*err = s.Wait()
		close(done)
	}()
	return done
}

func helperWaits(ctx context.Context) error {
	s := async.NewScope(ctx)
	s.Go(func(ctx context.Context) error {
		s.Go(task)
		return nil
	})
	var err error
	done := waitAsync(s, &err)
	<-done
	return err
}
