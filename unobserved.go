package async

import (
	"context"
	"errors"
	"log/slog"
	"runtime"
	"sync/atomic"
)

// UnobservedFailure describes a future that failed and was garbage-collected
// without anyone observing its error: nobody awaited or peeked it, and no
// combinator, Then or Catch took charge of it.
type UnobservedFailure struct {
	// Task is the task's name, if it has one.
	Task string
	// Err is the error nobody saw.
	Err error
	// Created is where the task was started, in debug mode only.
	Created []byte
}

// failure is what a cleanup needs to report a failed future; it must not
// reference the future, or the future would never be collected.
type failure struct {
	observed atomic.Bool
	report   UnobservedFailure
}

var unobservedHandler atomic.Pointer[func(UnobservedFailure)]

// SetUnobservedHandler sets the function told about unobserved failures and
// returns the previous one. It is called from a runtime goroutine some time
// after the future becomes unreachable, so it must not block for long. A nil
// h restores the default, which logs with log/slog at Error level.
//
// Failures caused by cancellation (errors matching context.Canceled) are not
// reported: whoever canceled the task already knows.
func SetUnobservedHandler(h func(UnobservedFailure)) (previous func(UnobservedFailure)) {
	var p *func(UnobservedFailure)
	if h != nil {
		p = &h
	}
	if old := unobservedHandler.Swap(p); old != nil {
		return *old
	}
	return defaultUnobserved
}

func defaultUnobserved(u UnobservedFailure) {
	args := []any{"err", u.Err}
	if u.Task != "" {
		args = append(args, "task", u.Task)
	}
	if u.Created != nil {
		args = append(args, "created", string(u.Created))
	}
	slog.Error("async: a task failed and nobody observed its error", args...)
}

// watchUnobserved arranges for t's failure to be reported if t is collected
// before anyone observes it. It runs only for failed futures, so successes
// cost nothing.
func (t *task) watchUnobserved() {
	if errors.Is(t.err, context.Canceled) {
		return
	}
	f := &failure{report: UnobservedFailure{Task: t.name(), Err: t.err, Created: t.createdStack()}}
	t.mu.Lock()
	t.ext().fail = f
	t.mu.Unlock()
	if t.state.Load()&stHandled != 0 { // observed while we were setting up
		return
	}
	runtime.AddCleanup(t, reportUnobserved, f)
}

func reportUnobserved(f *failure) {
	if f.observed.Load() {
		return
	}
	h := defaultUnobserved
	if p := unobservedHandler.Load(); p != nil {
		h = *p
	}
	h(f.report)
}
