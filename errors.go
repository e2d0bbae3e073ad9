package async

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/goasync/async/internal/ctxerr"
)

// kindError is a sentinel error that also matches a context error, so that a
// canceled task's error satisfies both errors.Is(err, ErrCanceled) and
// errors.Is(err, context.Canceled).
type kindError struct {
	msg  string
	also error
}

func (e *kindError) Error() string        { return e.msg }
func (e *kindError) Is(target error) bool { return target == e.also }

var (
	// ErrCanceled is the cause of a task context ended by [Future.Cancel]. A
	// task that returns because of it settles with an error matching both
	// ErrCanceled and context.Canceled; errors.Is(ErrCanceled,
	// context.Canceled) is true.
	ErrCanceled error = &kindError{"async: canceled", context.Canceled}

	// ErrTimeout is the cause of a task context ended by its [Timeout]. A
	// task that returns because of it settles with an error matching both
	// ErrTimeout and context.DeadlineExceeded. A deadline of the caller's own
	// context does not match ErrTimeout.
	ErrTimeout error = &kindError{"async: timeout", context.DeadlineExceeded}

	// ErrNoFutures is returned by [Any] and [Race] when given no futures.
	ErrNoFutures = errors.New("async: no futures")

	// ErrNotSettled is the error of a future's place in [AllSettled]'s
	// results when ctx ended before that future settled. It is not the
	// future's outcome: the future is untouched and may still be awaited.
	ErrNotSettled = errors.New("async: not settled")

	// ErrGoexit is the error of a task whose function called runtime.Goexit
	// (for example through testing.T.FailNow) instead of returning.
	ErrGoexit = errors.New("async: task called runtime.Goexit")
)

// AggregateError holds several failures, in a documented order (input order
// for [Any]). errors.Is and errors.As reach each of them.
type AggregateError struct {
	Errors []error
}

func (e *AggregateError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "async: %d errors", len(e.Errors))
	for i, err := range e.Errors {
		fmt.Fprintf(&b, "\n  [%d] %v", i, err)
	}
	return b.String()
}

// Unwrap returns the errors, so errors.Is and errors.As examine each one.
func (e *AggregateError) Unwrap() []error { return e.Errors }

// ctxError is the error returned when a caller's context ends before what it
// waits for. It matches ctx.Err() and, when set, the context's cause.
func ctxError(ctx context.Context) error { return ctxerr.Of(ctx) }

// tagged marks err with a sentinel kind (ErrCanceled, ErrTimeout).
type tagged struct{ kind, err error }

func (e *tagged) Error() string   { return e.kind.Error() + ": " + e.err.Error() }
func (e *tagged) Unwrap() []error { return []error{e.kind, e.err} }

// TaskError is the error of a named task: it carries the task's name and
// wraps what the task returned.
type TaskError struct {
	Task string
	Err  error
}

func (e *TaskError) Error() string { return fmt.Sprintf("async: task %q: %v", e.Task, e.Err) }

// Unwrap returns the task's own error.
func (e *TaskError) Unwrap() error { return e.Err }
