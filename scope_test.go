package async

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

var (
	errA = errors.New("a failed")
	errB = errors.New("b failed")
	errC = errors.New("c failed")
)

// returned reports whether ch is closed, without blocking.
func returned(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// waitAsync calls s.Wait in a goroutine; the channel closes when it returns.
func waitAsync(s *Scope, err *error) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		*err = s.Wait()
		close(done)
	}()
	return done
}

func TestScopeWaitWaitsForEveryChildAndGrandchild(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := NewScope(bg)
		release := make(chan struct{})
		var finished atomic.Int32
		for range 3 {
			s.Go(func(ctx context.Context) error {
				<-release
				// A grandchild started while Wait is already waiting.
				s.Go(func(context.Context) error {
					<-release
					finished.Add(1)
					return nil
				})
				finished.Add(1)
				return nil
			})
		}
		var err error
		done := waitAsync(s, &err)
		synctest.Wait()
		if returned(done) {
			t.Fatal("Wait returned while children were blocked")
		}
		close(release)
		<-done
		if err != nil {
			t.Fatal(err)
		}
		if n := finished.Load(); n != 6 {
			t.Fatalf("Wait returned after %d of 6 children", n)
		}
	})
}

func TestScopeWaitWithNoChildren(t *testing.T) {
	if err := NewScope(bg).Wait(); err != nil {
		t.Fatal(err)
	}
	if err := Run(bg, func(*Scope) error { return nil }); err != nil {
		t.Fatal(err)
	}
}

func TestScopeFailureCancelsSiblings(t *testing.T) {
	s := NewScope(bg)
	started := make(chan struct{})
	var sawCause error
	s.Go(func(ctx context.Context) error {
		close(started)
		<-ctx.Done()
		sawCause = context.Cause(ctx)
		return ctx.Err() // fallout
	})
	s.Go(func(ctx context.Context) error {
		<-started
		return errA
	})
	err := s.Wait()
	if err != errA {
		t.Fatalf("Wait = %v; want exactly errA", err)
	}
	if sawCause != errA {
		t.Fatalf("sibling saw cause %v; want errA", sawCause)
	}
	if context.Cause(s.Context()) != errA {
		t.Fatalf("scope cause after Wait = %v", context.Cause(s.Context()))
	}
}

func TestScopeFalloutForms(t *testing.T) {
	// Every way a child commonly reports that it was canceled is fallout.
	forms := map[string]func(ctx context.Context) error{
		"Err":        func(ctx context.Context) error { return ctx.Err() },
		"Cause":      func(ctx context.Context) error { return context.Cause(ctx) },
		"wrapped":    func(ctx context.Context) error { return fmt.Errorf("fetch: %w", ctx.Err()) },
		"Sleep":      func(ctx context.Context) error { return Sleep(ctx, time.Hour) },
		"awaitChild": func(ctx context.Context) error { _, err := Go(ctx, sleepy).Await(ctx); return err },
	}
	for name, form := range forms {
		t.Run(name, func(t *testing.T) {
			err := Run(bg, func(s *Scope) error {
				started := make(chan struct{})
				s.Go(func(ctx context.Context) error {
					close(started)
					<-ctx.Done()
					return form(ctx)
				})
				<-started
				return errA
			})
			if err != errA {
				t.Fatalf("Run = %v; want exactly errA", err)
			}
		})
	}
}

func sleepy(ctx context.Context) (int, error) {
	<-ctx.Done()
	return 0, ctx.Err()
}

func TestScopeRealFailureAfterCancellationIsKept(t *testing.T) {
	err := Run(bg, func(s *Scope) error {
		started := make(chan struct{})
		s.Go(func(ctx context.Context) error {
			close(started)
			<-ctx.Done()
			return errB // not caused by the cancellation: a real failure
		})
		<-started
		return errA
	})
	var agg *AggregateError
	if !errors.As(err, &agg) || len(agg.Errors) != 2 || agg.Errors[0] != errA || agg.Errors[1] != errB {
		t.Fatalf("Run = %v; want [errA errB]", err)
	}
	if !errors.Is(err, errA) || !errors.Is(err, errB) {
		t.Fatal("errors.Is does not reach every failure")
	}
}

func TestScopeFailuresInOrder(t *testing.T) {
	// Supervised, so that nothing is fallout; each child fails after the
	// previous one was recorded.
	s := NewScope(bg, Supervise())
	errs := []error{errC, errA, errB}
	prev := make(chan struct{})
	close(prev)
	for _, e := range errs {
		wait := prev
		next := make(chan struct{})
		s.Go(func(context.Context) error {
			<-wait
			defer close(next)
			return e
		})
		prev = next
	}
	<-prev
	err := s.Wait()
	var agg *AggregateError
	if !errors.As(err, &agg) {
		t.Fatalf("Wait = %v; want *AggregateError", err)
	}
	// close(next) runs before the scope records the failure, so only the
	// set is certain here; order is checked below with recorded handshakes.
	if len(agg.Errors) != 3 {
		t.Fatalf("Wait = %v; want 3 errors", err)
	}
	for _, e := range errs {
		if !errors.Is(err, e) {
			t.Fatalf("Wait = %v; missing %v", err, e)
		}
	}
}

func TestScopeFailureOrderIsRecordingOrder(t *testing.T) {
	s := NewScope(bg, Supervise())
	for _, e := range []error{errC, errA, errB} {
		s.Go(func(context.Context) error { return e })
		waitRecorded(t, s, e)
	}
	err := s.Wait()
	var agg *AggregateError
	if !errors.As(err, &agg) || len(agg.Errors) != 3 || agg.Errors[0] != errC || agg.Errors[1] != errA || agg.Errors[2] != errB {
		t.Fatalf("Wait = %v; want [errC errA errB]", err)
	}
}

// waitRecorded blocks until s has recorded e (a test-only peek at the
// scope's state; the order of recording is what Wait reports).
func waitRecorded(t *testing.T, s *Scope, e error) {
	t.Helper()
	for {
		s.mu.Lock()
		n := len(s.errs)
		last := error(nil)
		if n > 0 {
			last = s.errs[n-1]
		}
		s.mu.Unlock()
		if last == e {
			return
		}
		runtime.Gosched()
	}
}

func TestScopeFirstFailureIsTheCause(t *testing.T) {
	s := NewScope(bg)
	s.Go(func(context.Context) error { return errA })
	waitRecorded(t, s, errA)
	s.Go(func(context.Context) error { return errB }) // after cancellation, still real
	err := s.Wait()
	var agg *AggregateError
	if !errors.As(err, &agg) || agg.Errors[0] != errA || agg.Errors[1] != errB {
		t.Fatalf("Wait = %v", err)
	}
	if context.Cause(s.Context()) != agg.Errors[0] {
		t.Fatalf("cause %v is not the first failure", context.Cause(s.Context()))
	}
}

func TestScopeSupervise(t *testing.T) {
	s := NewScope(bg, Supervise())
	failed := make(chan struct{})
	var siblingErr error
	s.Go(func(context.Context) error {
		defer close(failed)
		return errA
	})
	s.Go(func(ctx context.Context) error {
		<-failed
		waitRecorded(t, s, errA)
		siblingErr = ctx.Err() // still running, context live
		return errB
	})
	err := s.Wait()
	if siblingErr != nil {
		t.Fatalf("sibling's context ended (%v) in a supervised scope", siblingErr)
	}
	var agg *AggregateError
	if !errors.As(err, &agg) || len(agg.Errors) != 2 || agg.Errors[0] != errA || agg.Errors[1] != errB {
		t.Fatalf("Wait = %v; want [errA errB]", err)
	}
}

func TestScopeParentCanceled(t *testing.T) {
	cause := errors.New("shutting down")
	parent, cancel := context.WithCancelCause(bg)
	s := NewScope(parent)
	started := make(chan struct{})
	s.Go(func(ctx context.Context) error {
		close(started)
		<-ctx.Done()
		return ctx.Err()
	})
	<-started
	cancel(cause)
	err := s.Wait()
	if !errors.Is(err, context.Canceled) || !errors.Is(err, cause) {
		t.Fatalf("Wait = %v; want the parent's error and cause", err)
	}
}

func TestScopeParentDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		parent, cancel := context.WithTimeout(bg, time.Second)
		defer cancel()
		err := Run(parent, func(s *Scope) error {
			s.Go(func(ctx context.Context) error { return Sleep(ctx, time.Hour) })
			return nil
		})
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Run = %v; want DeadlineExceeded", err)
		}
	})
}

func TestScopeParentCanceledButRealFailure(t *testing.T) {
	parent, cancel := context.WithCancel(bg)
	err := Run(parent, func(s *Scope) error {
		cancel()
		s.Go(func(ctx context.Context) error { return errA })
		return s.Context().Err() // fallout
	})
	if err != errA {
		t.Fatalf("Run = %v; want errA", err)
	}
}

func TestScopeCancel(t *testing.T) {
	s := NewScope(bg)
	started := make(chan struct{})
	var cause error
	s.Go(func(ctx context.Context) error {
		close(started)
		<-ctx.Done()
		cause = context.Cause(ctx)
		return ctx.Err()
	})
	<-started
	s.Cancel()
	s.Cancel() // idempotent
	if err := s.Wait(); err != nil {
		t.Fatalf("Wait after Cancel = %v; want nil (fallout only)", err)
	}
	if cause != ErrCanceled {
		t.Fatalf("child saw cause %v; want ErrCanceled", cause)
	}
}

func TestScopeCancelKeepsRealFailures(t *testing.T) {
	err := Run(bg, func(s *Scope) error {
		s.Cancel()
		s.Go(func(ctx context.Context) error { <-ctx.Done(); return errA })
		return nil
	})
	if err != errA {
		t.Fatalf("Run = %v; want errA", err)
	}
}

func TestScopePanicBecomesPanicError(t *testing.T) {
	err := Run(bg, func(s *Scope) error {
		s.Go(func(context.Context) error { panickingChild(); return nil })
		return nil
	})
	var pe *PanicError
	if !errors.As(err, &pe) {
		t.Fatalf("Run = %v; want *PanicError", err)
	}
	if pe.Value != "child blew up" {
		t.Fatalf("panic value %v", pe.Value)
	}
	if !strings.Contains(string(pe.Stack), "panickingChild") {
		t.Fatalf("stack is not the child's:\n%s", pe.Stack)
	}
}

//go:noinline
func panickingChild() { panic("child blew up") }

func TestScopePanicIsNeverFallout(t *testing.T) {
	err := Run(bg, func(s *Scope) error {
		s.Cancel()
		s.Go(func(ctx context.Context) error { panic(ctx.Err()) })
		return nil
	})
	var pe *PanicError
	if !errors.As(err, &pe) {
		t.Fatalf("Run = %v; want the panic", err)
	}
}

func TestRunFunctionIsAChild(t *testing.T) {
	t.Run("error", func(t *testing.T) {
		var sibling error
		err := Run(bg, func(s *Scope) error {
			s.Go(func(ctx context.Context) error { <-ctx.Done(); sibling = context.Cause(ctx); return ctx.Err() })
			return errA
		})
		if err != errA || sibling != errA {
			t.Fatalf("Run = %v, sibling saw %v; want errA, errA", err, sibling)
		}
	})
	t.Run("panic", func(t *testing.T) {
		err := Run(bg, func(s *Scope) error {
			s.Go(func(ctx context.Context) error { <-ctx.Done(); return nil })
			panic("owner blew up")
		})
		var pe *PanicError
		if !errors.As(err, &pe) || pe.Value != "owner blew up" {
			t.Fatalf("Run = %v", err)
		}
	})
	t.Run("Goexit", func(t *testing.T) {
		var childDone atomic.Bool
		var runReturned atomic.Bool
		done := make(chan struct{})
		go func() {
			defer close(done)
			Run(bg, func(s *Scope) error {
				s.Go(func(ctx context.Context) error {
					<-ctx.Done()
					childDone.Store(true)
					return nil
				})
				runtime.Goexit()
				return nil
			})
			runReturned.Store(true)
		}()
		<-done
		if !childDone.Load() {
			t.Fatal("goroutine exited before the scope's child returned")
		}
		if runReturned.Load() {
			t.Fatal("Run returned after Goexit")
		}
	})
}

func TestScopeGoexitInChild(t *testing.T) {
	for _, lim := range []int{0, 1} {
		t.Run(fmt.Sprint("limit", lim), func(t *testing.T) {
			var opts []ScopeOption
			if lim > 0 {
				opts = append(opts, Limit(lim))
			}
			var after atomic.Bool
			err := Run(bg, func(s *Scope) error {
				s.Go(func(context.Context) error { runtime.Goexit(); return nil })
				s.Go(func(context.Context) error { after.Store(true); return nil })
				return nil
			}, append(opts, Supervise())...)
			if !errors.Is(err, ErrGoexit) {
				t.Fatalf("Run = %v; want ErrGoexit", err)
			}
			if !after.Load() {
				t.Fatal("the child after Goexit did not run (lost its worker?)")
			}
		})
	}
}

func TestScopeName(t *testing.T) {
	err := Run(bg, func(s *Scope) error {
		s.Go(func(context.Context) error { return errA })
		return nil
	}, Name("fetch"))
	var te *TaskError
	if !errors.As(err, &te) || te.Task != "fetch" || !errors.Is(err, errA) {
		t.Fatalf("Run = %v; want TaskError fetch wrapping errA", err)
	}
	err = Run(bg, func(s *Scope) error {
		s.Go(func(context.Context) error { panic("x") })
		return nil
	}, Name("fetch"))
	var pe *PanicError
	if !errors.As(err, &pe) || pe.Task != "fetch" {
		t.Fatalf("Run = %v; want PanicError of fetch", err)
	}
	err = Run(bg, func(s *Scope) error {
		_, err := Spawn(s, failing[int](errB)).Await(bg)
		if !errors.As(err, &te) || te.Task != "fetch" {
			t.Errorf("spawned future's error %v is not named", err)
		}
		return nil
	}, Name("fetch"))
	if !errors.As(err, &te) || te.Task != "fetch" || !errors.Is(err, errB) {
		t.Fatalf("Run = %v", err)
	}
}

func TestSpawn(t *testing.T) {
	for _, lim := range []int{0, 2} {
		t.Run(fmt.Sprint("limit", lim), func(t *testing.T) {
			var opts []ScopeOption
			if lim > 0 {
				opts = append(opts, Limit(lim))
			}
			var sum int
			err := Run(bg, func(s *Scope) error {
				fs := make([]*Future[int], 10)
				for i := range fs {
					fs[i] = Spawn(s, value(i))
				}
				vs, err := All(s.Context(), fs...)
				for _, v := range vs {
					sum += v
				}
				return err
			}, opts...)
			if err != nil || sum != 45 {
				t.Fatalf("Run = %v, sum %d", err, sum)
			}
		})
	}
}

func TestSpawnFailureIsScopeFailureAndObserved(t *testing.T) {
	reports := collect(t)
	var f *Future[int]
	err := Run(bg, func(s *Scope) error {
		f = Spawn(s, failing[int](errA))
		return nil
	})
	if err != errA {
		t.Fatalf("Run = %v; want errA", err)
	}
	if _, ferr := f.Await(bg); ferr != errA {
		t.Fatalf("future = %v", ferr)
	}
	// Drop it unobserved by the caller: the scope took charge.
	dropSpawnedFailure()
	runtime.GC()
	runtime.GC()
	select {
	case u := <-reports:
		t.Fatalf("a spawned failure was reported as unobserved: %v", u.Err)
	default:
	}
	if f.t.state.Load()&stHandled == 0 {
		t.Fatal("spawned future is not marked handled")
	}
}

//go:noinline
func dropSpawnedFailure() {
	_ = Run(bg, func(s *Scope) error {
		Spawn(s, failing[int](errB))
		return nil
	})
}

func TestSpawnCancelIsNotAScopeFailure(t *testing.T) {
	err := Run(bg, func(s *Scope) error {
		f := Spawn(s, sleepy)
		f.Cancel()
		_, err := f.Await(bg)
		if !errors.Is(err, ErrCanceled) {
			t.Errorf("canceled future = %v", err)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Run = %v; want nil", err)
	}
}

func TestSpawnPanic(t *testing.T) {
	err := Run(bg, func(s *Scope) error {
		_, err := Spawn(s, func(context.Context) (int, error) { panic("spawned") }).Await(bg)
		var pe *PanicError
		if !errors.As(err, &pe) {
			t.Errorf("future = %v", err)
		}
		return nil
	})
	var pe *PanicError
	if !errors.As(err, &pe) || pe.Value != "spawned" {
		t.Fatalf("Run = %v", err)
	}
}

func TestScopeStart(t *testing.T) {
	t.Run("ready", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			s := NewScope(bg)
			readyNow := make(chan struct{})
			stop := make(chan struct{})
			var err error
			started := make(chan struct{})
			go func() {
				err = s.Start(func(ctx context.Context, ready func()) error {
					<-readyNow
					ready()
					ready() // harmless
					<-stop
					return errB // after ready: the scope's failure
				})
				close(started)
			}()
			synctest.Wait()
			if returned(started) {
				t.Fatal("Start returned before ready")
			}
			close(readyNow)
			<-started
			if err != nil {
				t.Fatalf("Start = %v; want nil", err)
			}
			close(stop)
			if werr := s.Wait(); werr != errB {
				t.Fatalf("Wait = %v; want errB", werr)
			}
		})
	})
	t.Run("error before ready", func(t *testing.T) {
		s := NewScope(bg)
		if err := s.Start(func(context.Context, func()) error { return errA }); err != errA {
			t.Fatalf("Start = %v; want errA", err)
		}
		if err := s.Wait(); err != nil {
			t.Fatalf("Wait = %v; Start's caller already has the error", err)
		}
	})
	t.Run("nil before ready", func(t *testing.T) {
		s := NewScope(bg)
		if err := s.Start(func(context.Context, func()) error { return nil }); !errors.Is(err, ErrNotReady) {
			t.Fatalf("Start = %v; want ErrNotReady", err)
		}
		if err := s.Wait(); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("panic before ready", func(t *testing.T) {
		s := NewScope(bg)
		err := s.Start(func(context.Context, func()) error { panic("no listener") })
		var pe *PanicError
		if !errors.As(err, &pe) {
			t.Fatalf("Start = %v; want *PanicError", err)
		}
		if err := s.Wait(); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("panic after ready", func(t *testing.T) {
		s := NewScope(bg)
		if err := s.Start(func(_ context.Context, ready func()) error { ready(); panic("late") }); err != nil {
			t.Fatal(err)
		}
		var pe *PanicError
		if err := s.Wait(); !errors.As(err, &pe) {
			t.Fatalf("Wait = %v", err)
		}
	})
	t.Run("listener", func(t *testing.T) {
		// The use case: start a server, then use it.
		err := Run(bg, func(s *Scope) error {
			var addr string
			if err := s.Start(func(ctx context.Context, ready func()) error {
				addr = "127.0.0.1:0"
				ready()
				<-ctx.Done()
				return nil
			}); err != nil {
				return err
			}
			if addr == "" {
				return errors.New("Start returned before the server was ready")
			}
			s.Cancel()
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

func TestScopeUseAfterWaitPanics(t *testing.T) {
	s := NewScope(bg)
	s.Go(func(context.Context) error { return errA })
	first := s.Wait()
	if second := s.Wait(); second != first {
		t.Fatalf("second Wait = %v; first %v", second, first)
	}
	mustPanic(t, "Scope.Go after Scope.Wait returned", func() { s.Go(func(context.Context) error { return nil }) })
	mustPanic(t, "Scope.TryGo after Scope.Wait returned", func() { s.TryGo(func(context.Context) error { return nil }) })
	mustPanic(t, "Spawn after Scope.Wait returned", func() { Spawn(s, value(1)) })
	mustPanic(t, "Scope.Start after Scope.Wait returned", func() {
		_ = s.Start(func(context.Context, func()) error { return nil })
	})
	if s.Context().Err() == nil {
		t.Fatal("scope context still live after Wait")
	}
}

func TestScopeConcurrentWaits(t *testing.T) {
	s := NewScope(bg)
	release := make(chan struct{})
	s.Go(func(context.Context) error { <-release; return errA })
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() { errs[i] = s.Wait() })
	}
	close(release)
	wg.Wait()
	for _, err := range errs {
		if err != errA {
			t.Fatalf("Waits = %v", errs)
		}
	}
}

func TestScopeBadInput(t *testing.T) {
	s := NewScope(bg)
	defer s.Wait()
	var nilScope *Scope
	var zero Scope
	var nilCtx context.Context
	mustPanic(t, "NewScope with nil Context", func() { NewScope(nilCtx) })
	mustPanic(t, "Run with nil function", func() { _ = Run(bg, nil) })
	mustPanic(t, "Run with nil Context", func() { _ = Run(nilCtx, func(*Scope) error { return nil }) })
	mustPanic(t, "Scope.Go with nil function", func() { s.Go(nil) })
	mustPanic(t, "Scope.TryGo with nil function", func() { s.TryGo(nil) })
	mustPanic(t, "Spawn with nil function", func() { Spawn[int](s, nil) })
	mustPanic(t, "Scope.Start with nil function", func() { _ = s.Start(nil) })
	mustPanic(t, "Spawn on nil *Scope", func() { Spawn(nilScope, value(1)) })
	mustPanic(t, "Scope.Go on nil *Scope", func() { nilScope.Go(func(context.Context) error { return nil }) })
	mustPanic(t, "Scope.Wait on nil *Scope", func() { _ = nilScope.Wait() })
	mustPanic(t, "zero Scope", func() { zero.Go(func(context.Context) error { return nil }) })
	mustPanic(t, "Limit(0)", func() { NewScope(bg, Limit(0)) })
	mustPanic(t, "NewScope: nil option", func() { NewScope(bg, nil) })
}

func TestScopeCopyIsFlaggedByVet(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go vet")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool")
	}
	dir, err := filepath.Abs(filepath.Join("testdata", "vetcopy"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(goTool, "vet", ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-buildvcs=false")
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("go vet accepted copies of Scope and Pool:\n%s", out)
	}
	for _, want := range []string{"copies lock value to copied: github.com/goasync/async.Scope",
		"copies lock value to pool: github.com/goasync/async.Pool",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("go vet output lacks %q:\n%s", want, out)
		}
	}
}
