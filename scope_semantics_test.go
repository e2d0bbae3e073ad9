package async

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"testing/synctest"
)

// Run's own function failing under Supervise cancels its children: the
// owner failed, so their work is no longer wanted.
func TestRunSuperviseOwnerFailureCancelsChildren(t *testing.T) {
	boom := errors.New("owner failed")
	var childSaw error
	err := Run(bg, func(s *Scope) error {
		started := make(chan struct{})
		s.Go(func(ctx context.Context) error {
			close(started)
			<-ctx.Done()
			childSaw = context.Cause(ctx)
			return ctx.Err()
		})
		<-started
		return boom
	}, Supervise())
	if err != boom {
		t.Fatalf("Run = %v; want the owner's error alone (the child's is fallout)", err)
	}
	if childSaw != boom {
		t.Fatalf("the child's context ended with cause %v; want the owner's error", childSaw)
	}
}

// A supervised child's failure still does not cancel its siblings.
func TestSuperviseChildFailureDoesNotCancel(t *testing.T) {
	boom := errors.New("child failed")
	err := Run(bg, func(s *Scope) error {
		s.Go(func(context.Context) error { return boom })
		s.Go(func(ctx context.Context) error {
			if ctx.Err() != nil {
				return errors.New("sibling canceled")
			}
			return nil
		})
		return nil
	}, Supervise())
	if err != boom {
		t.Fatalf("Run = %v; want only the failing child's error", err)
	}
}

// Two children that return the same error value while the scope's context
// is live are two failures, even if the first one's cancel is recorded
// before the second is looked at.
func TestIndependentSameErrorsAreBothReported(t *testing.T) {
	same := errors.New("same")
	var calls atomic.Int32
	testHookFailing = func(s *Scope) {
		if calls.Add(1) == 1 {
			<-s.Context().Done() // let the other record its failure (and cancel) first
		}
	}
	defer func() { testHookFailing = nil }()
	err := Run(bg, func(s *Scope) error {
		both := make(chan struct{})
		var n atomic.Int32
		for range 2 {
			s.Go(func(context.Context) error {
				if n.Add(1) == 2 {
					close(both)
				}
				<-both // both return while the context is live
				return same
			})
		}
		return nil
	})
	var agg *AggregateError
	if !errors.As(err, &agg) || len(agg.Errors) != 2 || agg.Errors[0] != same || agg.Errors[1] != same {
		t.Fatalf("Wait = %v; want both failures", err)
	}
}

// An error returned once the context had ended, matching its cause, is still
// fallout.
func TestFalloutAfterTheEndIsLeftOut(t *testing.T) {
	boom := errors.New("boom")
	err := Run(bg, func(s *Scope) error {
		failed := make(chan struct{})
		s.Go(func(context.Context) error { defer close(failed); return boom })
		s.Go(func(ctx context.Context) error {
			<-failed
			<-ctx.Done()
			return context.Cause(ctx)
		})
		return nil
	})
	if err != boom {
		t.Fatalf("Wait = %v; want boom once", err)
	}
}

// If the parent context ended but every child returned nil, the work
// completed: Wait returns nil. If some child's error was fallout of that
// end, Wait returns the parent's error.
func TestParentEndedWithEveryChildSucceeding(t *testing.T) {
	ctx, cancel := context.WithCancelCause(bg)
	cause := errors.New("shutdown")
	err := Run(ctx, func(s *Scope) error {
		s.Go(func(context.Context) error { cancel(cause); return nil })
		s.Go(func(ctx context.Context) error { <-ctx.Done(); return nil })
		return nil
	})
	if err != nil {
		t.Fatalf("Wait = %v; want nil: every child returned nil", err)
	}

	ctx, cancel = context.WithCancelCause(bg)
	err = Run(ctx, func(s *Scope) error {
		s.Go(func(context.Context) error { cancel(cause); return nil })
		s.Go(func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() })
		return nil
	})
	if !errors.Is(err, context.Canceled) || !errors.Is(err, cause) {
		t.Fatalf("Wait = %v; want the parent's error with its cause (a child stopped short)", err)
	}

	ctx, cancel = context.WithCancelCause(bg)
	cancel(cause)
	err = Run(ctx, func(s *Scope) error {
		Spawn(s, func(context.Context) (int, error) { return 1, nil })
		return nil
	}, Limit(1))
	if err != nil && !errors.Is(err, cause) {
		t.Fatalf("Wait = %v; want nil, or the parent's error if the child was dropped", err)
	}
}

// TryGo keeps errgroup's contract: true only if fn starts without waiting for
// another child to finish.
func TestTryGoStartsOrRefuses(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := NewScope(bg, Limit(1))
		release := make(chan struct{})
		if !s.TryGo(func(context.Context) error { <-release; return nil }) {
			t.Fatal("TryGo refused with a free slot")
		}
		synctest.Wait()
		var ran atomic.Int32
		for range 3 {
			if s.TryGo(func(context.Context) error { ran.Add(1); return nil }) {
				t.Fatal("TryGo accepted fn while the only slot was busy (it would wait for a worker)")
			}
		}
		close(release)
		synctest.Wait() // the worker is idle again
		if !s.TryGo(func(context.Context) error { ran.Add(1); return nil }) {
			t.Fatal("TryGo refused with an idle worker")
		}
		if err := s.Wait(); err != nil {
			t.Fatal(err)
		}
		if ran.Load() != 1 {
			t.Fatalf("%d refused or accepted children ran; want 1", ran.Load())
		}
	})
}

// A task canceled before its parent ended keeps ErrCanceled as its
// context's cause, even if it first asks for it after the parent's end.
func TestCancelCauseSurvivesParentEnd(t *testing.T) {
	parent, cancel := context.WithCancelCause(bg)
	gone := errors.New("parent gone")
	canceled, ask := make(chan struct{}), make(chan struct{})
	f := Go(parent, func(ctx context.Context) (error, error) {
		close(canceled)
		<-ask
		return context.Cause(ctx), nil
	})
	<-canceled
	f.Cancel()
	cancel(gone)
	close(ask)
	if cause, _ := f.Await(bg); cause != ErrCanceled {
		t.Fatalf("the task's cause = %v; want ErrCanceled (Cancel came first)", cause)
	}
}
