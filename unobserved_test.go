package async

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"
)

// collect installs a handler that sends reports to a channel.
func collect(t *testing.T) <-chan UnobservedFailure {
	ch := make(chan UnobservedFailure, 16)
	prev := SetUnobservedHandler(func(u UnobservedFailure) { ch <- u })
	t.Cleanup(func() { SetUnobservedHandler(prev) })
	return ch
}

// waitReport collects garbage until a report arrives. The deadline only
// bounds a failing run; a passing run returns at the first report.
func waitReport(t *testing.T, ch <-chan UnobservedFailure) UnobservedFailure {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		runtime.GC()
		select {
		case u := <-ch:
			return u
		case <-deadline:
			t.Fatal("no unobserved-failure report")
		case <-time.After(time.Millisecond):
		}
	}
}

//go:noinline
func dropFailed(err error) {
	Rejected[int](err)
}

//go:noinline
func dropFailedTask(err error, done chan<- struct{}) {
	f := Go(bg, func(context.Context) (int, error) { return 0, err }, Name("lost"))
	<-f.t.doneChan() // settled, without observing it
	close(done)
}

func TestUnobservedFailureIsReported(t *testing.T) {
	ch := collect(t)
	boom := errors.New("nobody looked")
	dropFailed(boom)
	if u := waitReport(t, ch); u.Err != boom {
		t.Fatalf("reported %v", u.Err)
	}
	done := make(chan struct{})
	dropFailedTask(boom, done)
	<-done
	u := waitReport(t, ch)
	if u.Task != "lost" || !errors.Is(u.Err, boom) {
		t.Fatalf("reported %+v", u)
	}
}

func TestUnobservedReportHasSpawnSiteInDebugMode(t *testing.T) {
	defer SetDebug(SetDebug(true))
	ch := collect(t)
	done := make(chan struct{})
	dropFailedTask(errors.New("x"), done)
	<-done
	if u := waitReport(t, ch); !strings.Contains(string(u.Created), "dropFailedTask") {
		t.Fatalf("Created = %q; want the spawn site", u.Created)
	}
}

// armed reports whether a failed future would be reported if dropped now.
func armed[T any](f *Future[T]) bool {
	x := f.t.x.Load()
	return x != nil && x.fail != nil && !x.fail.observed.Load()
}

func TestObservedFailuresAreNotReported(t *testing.T) {
	boom := errors.New("boom")
	awaited := Rejected[int](boom)
	if !armed(awaited) {
		t.Fatal("a fresh failure is not watched")
	}
	awaited.Await(bg)
	peeked := Rejected[int](boom)
	peeked.Peek()
	caught := Rejected[int](boom)
	Catch(bg, caught, func(context.Context, error) (int, error) { return 0, nil }).Await(bg)
	raced := Rejected[int](boom)
	Race(bg, raced)
	for name, f := range map[string]*Future[int]{"Await": awaited, "Peek": peeked, "Catch": caught, "Race": raced} {
		if armed(f) {
			t.Errorf("a failure observed by %s is still reported", name)
		}
	}
}

func TestCancellationIsNotReported(t *testing.T) {
	f := Go(bg, func(ctx context.Context) (int, error) { <-ctx.Done(); return 0, ctx.Err() })
	f.Cancel()
	<-f.t.doneChan()
	if armed(f) {
		t.Fatal("a canceled task is reported as an unobserved failure")
	}
	if f.t.x.Load() != nil && f.t.x.Load().fail != nil {
		t.Fatal("a cleanup was attached to a canceled task")
	}
}

func TestSuccessIsNotWatched(t *testing.T) {
	f := Go(bg, value(1))
	<-f.t.doneChan()
	if x := f.t.x.Load(); x != nil && x.fail != nil {
		t.Fatal("a successful future carries a failure watch")
	}
}

func TestSetUnobservedHandlerReturnsPrevious(t *testing.T) {
	h := func(UnobservedFailure) {}
	prev := SetUnobservedHandler(h)
	if prev == nil {
		t.Fatal("the default handler is nil")
	}
	if got := SetUnobservedHandler(nil); got == nil {
		t.Fatal("previous handler lost")
	}
	if p := unobservedHandler.Load(); p != nil {
		t.Fatal("nil did not restore the default")
	}
	SetUnobservedHandler(prev)
}

//go:noinline
func dropNotSettled(t *testing.T, err error) {
	p := NewPromise[int]()
	ctx, cancel := context.WithCancel(bg)
	cancel()
	rs, _ := AllSettled(ctx, Resolved(1), p.Future())
	if rs[1].Err != ErrNotSettled {
		t.Errorf("result %+v; want ErrNotSettled", rs[1])
	}
	p.Reject(err) // fails later; nobody awaits it
}

// A future AllSettled reported as not settled is not taken charge of: if it
// later fails and nobody awaits it, the failure is reported.
func TestAllSettledLeavesPendingUnobserved(t *testing.T) {
	ch := collect(t)
	boom := errors.New("failed after the deadline")
	dropNotSettled(t, boom)
	if u := waitReport(t, ch); u.Err != boom {
		t.Fatalf("reported %v", u.Err)
	}
}
