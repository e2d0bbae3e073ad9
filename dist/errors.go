package dist

import (
	"errors"
	"fmt"
	"strings"
)

var (
	// ErrNoWorker is the error of a call to a function that no live worker
	// has registered, unless the call asked to [WaitForWorker].
	ErrNoWorker = errors.New("async: dist: no worker serves this function")

	// ErrDeadLetter matches the error of a task given up after
	// [MaxAttempts] deliveries. The error is a [*RemoteError] that also
	// unwraps to the last attempt's failure, when there was one.
	ErrDeadLetter = errors.New("async: dist: task dead-lettered")

	// ErrClosed is the error of futures still pending when their [Client]
	// is closed. Their tasks go on; [Attach] from another client awaits
	// them.
	ErrClosed = errors.New("async: dist: client closed")

	// ErrInvalidName is the error of a call with a function name that is
	// empty or not made of letters, digits, '-' and '_'.
	ErrInvalidName = errors.New("async: dist: invalid function name")
)

// RemoteError is the error of a task that failed on a worker, or was settled
// as failed on its behalf (dead-lettered, timed out, canceled). errors.Is and
// errors.As see through it: a remote panic unwraps to an [*async.PanicError]
// whose Stack is the worker's stack text, a timeout to [async.ErrTimeout], a
// cancellation to [async.ErrCanceled], and a dead letter to [ErrDeadLetter].
type RemoteError struct {
	// Task is the function name, TaskID the task's id.
	Task, TaskID string
	// Worker names the worker that reported the failure; empty when a
	// client settled the task (a timeout or cancellation nobody ran).
	Worker string
	// Attempt is the delivery that failed, counting from 1 (0 if the task
	// never ran).
	Attempt int
	// Message is the remote error's text (err.Error() on the worker).
	Message string
	causes  []error
}

func (e *RemoteError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "async: dist: task %q (%s)", e.Task, e.TaskID)
	if e.Worker != "" {
		fmt.Fprintf(&b, " on worker %s", e.Worker)
	}
	if e.Attempt > 0 {
		fmt.Fprintf(&b, ", attempt %d", e.Attempt)
	}
	b.WriteString(": ")
	b.WriteString(e.Message)
	return b.String()
}

// Unwrap returns what the failure matches: an [*async.PanicError] for a
// panic, and sentinel errors such as [ErrDeadLetter] or [async.ErrTimeout].
func (e *RemoteError) Unwrap() []error { return e.causes }

// permanent marks an error that Retry must not retry.
type permanent struct{ err error }

func (p *permanent) Error() string { return p.err.Error() }
func (p *permanent) Unwrap() error { return p.err }

// Permanent wraps err so that a call with [Retry] does not retry it: the
// future settles with it at once. Permanent(nil) is nil.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanent{err}
}
